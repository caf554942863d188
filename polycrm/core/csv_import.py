"""Importing records from a CSV file in steps (the browser's import pages), one
flow for every importable kind (:data:`TARGETS`: customers, contacts).

1. :func:`store_upload` keeps the file's bytes in the blob store and a
   ``Record`` of kind ``csv_upload`` for the uploading user (its name, blob
   hash, row count, the kind it is for), so the later steps read it on the
   server again.
2. :func:`suggest_mapping` maps each column to a field of the kind by its header.
3. :func:`check` tests rows with the kind's own core service (each row created
   in a savepoint that is rolled back at once, so nothing is kept) and flags
   possible duplicates. What a row must not share with an earlier row of the
   same file (a customer number) is compared in Python, so a file can be
   checked a part at a time, each part in its own transaction (the import
   job's progress, :mod:`polycrm.core.import_jobs`). Duplicates: a customer
   number another live customer or an earlier row has is an error (the
   customer service's rule); an e-mail address (case ignored) of a live
   record of the kind or of an earlier row is a possible duplicate (customers
   and contacts alike).
4. :func:`run` writes the rows through the path of ``polycrm load`` (customers:
   :class:`polycrm.core.bulk.CustomerBatches`; contacts: the contact service,
   row by row) in the caller's one transaction: a row that breaks a rule
   raises, located at its line, and nothing is written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from polycrm.core import browse, contacts, customers, limits
from polycrm.core.bulk import CustomerBatches
from polycrm.core.derived import fold
from polycrm.core.errors import CoreError, Invalid, NotFound, located
from polycrm.core.models import Contact, Customer, Record
from polycrm.core.records import RecordService
from polycrm.core.workspace import Workspace

KIND = "csv_upload"
UPLOADS = RecordService(KIND, "CSV upload")
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000

# Field tables: core path (or a pseudo path the kind's prepare step resolves) -> (label, header words).
CUSTOMER_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": ("Name", ("name", "company", "customer", "customer name", "company name", "navn", "firma")),
    "number": ("Customer number", ("number", "customer number", "customer no", "no", "nr", "kundenummer", "kundenr",
                                    "account number", "id")),
    "email": ("E-mail", ("email", "e-mail", "mail", "e-mail address", "email address")),
    "phone": ("Phone", ("phone", "telephone", "tel", "telefon", "phone number")),
    "cellphone": ("Mobile", ("mobile", "cellphone", "cell", "mobil", "mobile phone")),
    "www": ("Website", ("www", "website", "web", "url", "homepage")),
    "vat": ("VAT number", ("vat", "vat number", "cvr", "vat no", "tax id")),
    "addresses.visiting.street": ("Street", ("street", "address", "adresse", "vej", "street address")),
    "addresses.visiting.number": ("House number", ("house number", "husnummer", "street number")),
    "addresses.visiting.zip": ("Postal code", ("zip", "postal code", "postcode", "zip code", "postnr", "postnummer")),
    "addresses.visiting.city": ("City", ("city", "town", "by", "bynavn")),
    "addresses.visiting.country": ("Country", ("country", "land")),
    "description": ("Description", ("description", "notes", "note", "comment", "beskrivelse")),
}

CONTACT_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": ("First name", ("first name", "firstname", "given name", "fornavn")),
    "surname": ("Last name", ("last name", "lastname", "surname", "family name", "efternavn")),
    "full_name": ("Full name (split at the last space)", ("name", "full name", "contact", "contact name", "person",
                                                          "navn")),
    "email": ("E-mail", ("email", "e-mail", "mail", "e-mail address", "email address")),
    "phone": ("Phone", ("phone", "telephone", "tel", "telefon", "phone number", "direct phone")),
    "cellphone": ("Mobile", ("mobile", "cellphone", "cell", "mobil", "mobile phone")),
    "jobtitle": ("Job title", ("job title", "title", "position", "stilling", "role")),
    "department": ("Department", ("department", "afdeling")),
    "street": ("Street", ("street", "address", "adresse", "vej")),
    "zip": ("Postal code", ("zip", "postal code", "postcode", "zip code", "postnr", "postnummer")),
    "city": ("City", ("city", "town", "by", "bynavn")),
    "customer.number": ("Customer number", ("customer number", "customer no", "kundenummer", "kundenr",
                                            "account number", "company number")),
    "customer.name": ("Customer name", ("customer", "company", "company name", "customer name", "account",
                                        "firma", "kunde")),
}


@dataclass
class Upload:
    record: Record
    headers: list[str]
    rows: list[list[str]]


@dataclass
class RowCheck:
    line: int  # the row's line in the file (the header is line 1)
    values: dict[str, Any]  # as mapped from the file (what the preview shows)
    error: str | None = None
    duplicate: str | None = None


@dataclass
class Preview:
    checks: list[RowCheck] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for c in self.checks if c.error)

    @property
    def duplicates(self) -> int:
        return sum(1 for c in self.checks if c.duplicate and not c.error)


@dataclass
class Seen:
    """What earlier rows of the file had: the keys no two rows may share, and e-mails."""

    unique: dict[str, str] = field(default_factory=dict)  # folded key -> "Good One (line 2)"
    emails: dict[str, str] = field(default_factory=dict)  # folded e-mail -> "line 2"


class ServiceWriter:
    """Writes rows one by one through a core service's create (the load path of
    every kind but customers), each refusal located at its row."""

    def __init__(self, ws: Workspace, create: Callable[[Workspace, dict[str, Any]], Any]) -> None:
        self.ws, self.create = ws, create

    def add(self, values: dict[str, Any], where: str) -> None:
        try:
            self.create(self.ws, values)
        except CoreError as exc:
            raise located(exc, where) from None

    def finish(self) -> None:
        self.ws.session.flush()

    def release(self) -> None:
        pass


@dataclass(frozen=True)
class Target:
    """One importable kind: its fields, required columns, duplicate rule and write path."""

    key: str  # the URL segment and list: "customers"
    noun: str  # "customer"
    plural: str
    fields: dict[str, tuple[str, tuple[str, ...]]]
    required: tuple[str, ...]  # one of these fields must be mapped
    required_message: str
    model: type  # live rows of this model with the same e-mail are possible duplicates
    label: Callable[[Any], str]  # names such a row in the message
    # Turns mapped values into the service's values, a batch at a time; a CoreError per refused row.
    prepare: Callable[[Workspace, list[dict[str, Any]]], list[dict[str, Any] | CoreError]]
    create: Callable[[Workspace, dict[str, Any]], Any]  # the service's create (the check)
    writer: Callable[[Workspace], Any]  # add(values, where), finish(), release()
    # In-file unique key: (field, fold) -- a second row with the same folded value is refused.
    unique: tuple[str, Callable[[str], str], str] | None = None  # (field, fold, what it is called)

    def label_of(self, path: str) -> str:
        return self.fields[path][0]


def _customer_prepare(ws: Workspace, batch: list[dict[str, Any]]) -> list[dict[str, Any] | CoreError]:
    return [{**values, "name": values.get("name", "")} for values in batch]


def _contact_prepare(ws: Workspace, batch: list[dict[str, Any]]) -> list[dict[str, Any] | CoreError]:
    """Split full names and find each row's customer by number (else by name), one query each per batch."""
    numbers = {customers.folded_number(v["customer.number"]) for v in batch if v.get("customer.number")}
    names = {fold(v["customer.name"]) for v in batch if v.get("customer.name") and not v.get("customer.number")}
    by_number: dict[str, Customer] = {}
    if numbers:
        for c in ws.scalars(select(Customer).where(customers.folded(Customer.number).in_(numbers),
                                                   Customer.deleted.is_(False)).order_by(Customer.id)):
            by_number.setdefault(customers.folded_number(c.number), c)
    by_name: dict[str, list[Customer]] = {}
    if names:
        for c in ws.scalars(select(Customer).where(Customer.name_folded.in_(names), Customer.deleted.is_(False))
                            .order_by(Customer.id)):
            by_name.setdefault(c.name_folded, []).append(c)
    home: list[int | None] = []
    out: list[dict[str, Any] | CoreError] = []
    for values in batch:
        values = dict(values)
        full = values.pop("full_name", None)
        if full and not values.get("name") and not values.get("surname"):
            first, _, last = full.rpartition(" ")
            values["name"], values["surname"] = (first, last) if first else (last, "")
        values.setdefault("name", "")
        number, name = values.pop("customer.number", None), values.pop("customer.name", None)
        customer = None
        if number:
            customer = by_number.get(customers.folded_number(number))
            if customer is None:
                out.append(NotFound(f"no customer has the number {number}", field="customer.number"))
                continue
        elif name:
            found = by_name.get(fold(name), [])
            if not found:
                out.append(NotFound(f"no customer is named {name}", field="customer.name"))
                continue
            if len(found) > 1:
                out.append(Invalid(f"{len(found)} customers are named {name}: map a customer number column instead",
                                   field="customer.name"))
                continue
            customer = found[0]
        if customer is not None:
            values["customer_id"] = customer.id
        # A contact belongs to its customer's profile (as one added on the customer page), else the user's.
        profile_id = customer.profile_id if customer is not None else None
        if profile_id is None:
            if not home:
                home.append(browse.home_profile_id(ws, ws.user_id))
            profile_id = home[0]
        values["profile_id"] = profile_id
        out.append(values)
    return out


TARGETS: dict[str, Target] = {
    "customers": Target(
        "customers", "customer", "customers", CUSTOMER_FIELDS, ("name",), "choose the column that holds the name",
        Customer, lambda c: f"customer {c.name}", _customer_prepare, customers.create, CustomerBatches,
        unique=("number", customers.folded_number, "customer number"),
    ),
    "contacts": Target(
        "contacts", "contact", "contacts", CONTACT_FIELDS, ("name", "full_name"),
        "choose the column that holds the first name or the full name",
        Contact, lambda c: f"contact {' '.join(p for p in (c.name, c.surname) if p)}", _contact_prepare,
        contacts.create, lambda ws: ServiceWriter(ws, contacts.create),
    ),
}


def target(key: str) -> Target:
    found = TARGETS.get(key)
    if found is None:
        raise NotFound(f"nothing to import as {key}")
    return found


def _fold(text: str) -> str:
    return " ".join(text.replace("_", " ").replace(".", " ").casefold().split())


def parse(data: bytes) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of a CSV file (UTF-8, with or without BOM, else Windows-1252;
    comma, semicolon or tab separated); :class:`Invalid` naming the problem."""
    if len(data) > MAX_BYTES:
        raise Invalid(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB", field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise Invalid("the file is not a CSV text file", field="file")
    sample = text[:4096]
    delimiter = max((",", ";", "\t"), key=lambda d: sample.split("\n", 1)[0].count(d))
    table = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
             if any(cell.strip() for cell in row)]
    if not table:
        raise Invalid("the file is empty", field="file")
    headers = [h.strip() for h in table[0]]
    if len(table) - 1 > MAX_ROWS:
        raise Invalid(f"the file has more than {MAX_ROWS} rows", field="file")
    if len(table) == 1:
        raise Invalid("the file has a header row but no rows", field="file")
    return headers, table[1:]


def store_upload(ws: Workspace, kind: Target, user_id: int, filename: str, data: bytes) -> Upload:
    headers, rows = parse(data)
    if ws.blobs is None:
        raise Invalid("this server has no file store", field="file")
    sha = ws.blobs.put(data)
    record = UPLOADS.create(ws, {"user_id": user_id, "name": (filename or "upload.csv")[:255],
                                 "extra": {"sha256": sha, "rows": len(rows), "target": kind.key}})
    return Upload(record, headers, rows)


def load_upload(ws: Workspace, kind: Target, user_id: int, upload_id: Any, *, lock: bool = False) -> Upload:
    """The user's own stored upload for this kind, or :class:`NotFound`. ``lock``: the
    row is locked until the transaction ends (an import takes it, so two imports of
    one upload cannot both write: the second finds it deleted)."""
    if lock:
        key = limits.id_in_range(upload_id)
        record = ws.session.get(Record, key, with_for_update=True, populate_existing=True) if key else None
        if record is not None and (record.tenant_id != ws.tenant_id or record.deleted):
            record = None
    else:
        record = ws.get(Record, upload_id, include_deleted=False)
    extra = (record.extra or {}) if record is not None else {}
    if (record is None or record.kind != KIND or record.user_id != user_id
            or extra.get("target", "customers") != kind.key):
        raise NotFound(f"upload {upload_id} not found")
    headers, rows = parse(ws.blobs.get(str(extra.get("sha256"))))
    return Upload(record, headers, rows)


def suggest_mapping(kind: Target, headers: Sequence[str]) -> list[str]:
    """The field each column most likely is (by its header), "" for none; a field once."""
    taken: set[str] = set()
    out = []
    for header in headers:
        folded = _fold(header)
        free = [(path, label, words) for path, (label, words) in kind.fields.items() if path not in taken]
        # A header word first, then a field's label, then its path ("Name" is a contact's full name).
        match = next((path for path, _, words in free if folded in words), "") \
            or next((path for path, label, _ in free if folded == _fold(label)), "") \
            or next((path for path, _, _ in free if folded == _fold(path)), "")
        if match:
            taken.add(match)
        out.append(match)
    return out


def check_mapping(kind: Target, mapping: Sequence[str]) -> None:
    used = [m for m in mapping if m]
    unknown = [m for m in used if m not in kind.fields]
    if unknown:
        raise Invalid(f"unknown field {unknown[0]}", field="mapping")
    twice = next((m for m in used if used.count(m) > 1), None)
    if twice:
        raise Invalid(f"{kind.label_of(twice)} is chosen for more than one column", field="mapping")
    if not any(r in used for r in kind.required):
        raise Invalid(kind.required_message, field="mapping")


def mapped(row: Sequence[str], mapping: Sequence[str]) -> dict[str, Any]:
    """A row's non-empty cells under the fields their columns are mapped to."""
    return {path: row[index].strip() for index, path in enumerate(mapping)
            if path and index < len(row) and row[index].strip()}


def _message(exc: CoreError) -> str:
    if isinstance(exc, customers.NumberTaken):
        return f"customer number {exc.number} is already used by {exc.holder.name}"
    return exc.message


def _known_emails(ws: Workspace, kind: Target, rows: list[dict[str, Any]]) -> dict[str, str]:
    wanted = {v["email"].casefold() for v in rows if v.get("email")}
    if not wanted:
        return {}
    stmt = select(kind.model).where(func.lower(kind.model.email).in_(wanted), kind.model.deleted.is_(False))
    return {str(r.email).casefold(): kind.label(r) for r in ws.scalars(stmt.order_by(kind.model.id))}


def check(ws: Workspace, kind: Target, upload: Upload, mapping: Sequence[str], start: int = 0,
          stop: int | None = None, seen: Seen | None = None) -> list[RowCheck]:
    """Rows ``start`` to ``stop`` checked by the kind's service, nothing kept (module
    docstring); ``seen`` carries what the earlier rows had from one part to the next."""
    seen = seen if seen is not None else Seen()
    part = upload.rows[start:stop]
    shown = [mapped(row, mapping) for row in part]
    known = _known_emails(ws, kind, shown)
    out = []
    for offset, (values, prepared) in enumerate(zip(shown, kind.prepare(ws, shown))):
        row = RowCheck(start + offset + 2, values)
        email = str(values.get("email") or "").casefold()
        if email and (email in known or email in seen.emails):
            row.duplicate = f"same e-mail as {known.get(email) or seen.emails[email]}"
        if isinstance(prepared, CoreError):
            row.error = prepared.message
        else:
            row.error = _in_file(kind, seen, prepared, row.line)
            if row.error is None:
                nested = ws.session.begin_nested()
                try:
                    kind.create(ws, prepared)
                    ws.session.flush()
                except CoreError as exc:
                    row.error = _message(exc)
                finally:
                    nested.rollback()
        if email:
            seen.emails.setdefault(email, f"line {row.line}")
        out.append(row)
    return out


def _in_file(kind: Target, seen: Seen, values: dict[str, Any], line: int) -> str | None:
    """The error of a row sharing the kind's unique key with an earlier row; else notes its key."""
    if kind.unique is None:
        return None
    path, folder, called = kind.unique
    value = values.get(path)
    if not value:
        return None
    key = folder(str(value))
    if key in seen.unique:
        return f"{called} {value} is already used by {seen.unique[key]}"
    seen.unique[key] = f"{values.get('name') or 'the row'} on line {line}"
    return None


def preview(ws: Workspace, kind: Target, upload: Upload, mapping: Sequence[str]) -> Preview:
    """Every row checked (:func:`check`), nothing kept."""
    check_mapping(kind, mapping)
    return Preview(check(ws, kind, upload, mapping))


def run(ws: Workspace, kind: Target, upload: Upload, mapping: Sequence[str], *, skip_lines: set[int],
        batch: int = 500) -> int:
    """Write every row but ``skip_lines`` through the load path; returns how many.
    A refused row raises (located at its line) and the caller rolls back."""
    check_mapping(kind, mapping)
    writer = kind.writer(ws)
    written = 0
    try:
        for start in range(0, len(upload.rows), batch):
            part = [(start + offset + 2, mapped(row, mapping))
                    for offset, row in enumerate(upload.rows[start:start + batch])
                    if start + offset + 2 not in skip_lines]
            for (line, _), prepared in zip(part, kind.prepare(ws, [values for _, values in part])):
                if isinstance(prepared, CoreError):
                    raise located(prepared, f"line {line}")
                writer.add(prepared, f"line {line}")
                written += 1
        writer.finish()
    except BaseException:
        writer.release()
        raise
    UPLOADS.delete(ws, upload.record)
    return written
