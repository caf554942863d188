"""Importing customers from a CSV file, in steps (the browser's import page).

1. :func:`store_upload` keeps the file's bytes in the blob store and a
   ``Record`` of kind ``csv_upload`` for the uploading user (its name, blob
   hash, headers), so the later steps read it on the server again.
2. :func:`suggest_mapping` maps each column to a customer field by its header.
3. :func:`preview` checks every row with the customer service's rules (each in
   a savepoint, all rolled back afterwards, so later rows see earlier ones, as
   in a real load) and flags possible duplicates: a customer number another
   customer or an earlier row has is an error (the service's rule); an e-mail
   address (case ignored) of a live customer or an earlier row is flagged.
4. :func:`run` writes the rows through :class:`polycrm.core.bulk.CustomerBatches`,
   the path of ``polycrm load``, in the caller's one transaction: a row that
   breaks a rule raises and nothing is written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from polycrm.core import customers
from polycrm.core.bulk import CustomerBatches
from polycrm.core.errors import CoreError, Invalid, NotFound
from polycrm.core.models import Customer, Record
from polycrm.core.records import RecordService
from polycrm.core.workspace import Workspace

KIND = "csv_upload"
UPLOADS = RecordService(KIND, "CSV upload")
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000

# Core path -> (label, header words that mean it, folded).
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
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


@dataclass
class Upload:
    record: Record
    headers: list[str]
    rows: list[list[str]]


@dataclass
class RowCheck:
    line: int  # the row's line in the file (the header is line 1)
    values: dict[str, Any]
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


def store_upload(ws: Workspace, user_id: int, filename: str, data: bytes) -> Upload:
    headers, rows = parse(data)
    if ws.blobs is None:
        raise Invalid("this server has no file store", field="file")
    sha = ws.blobs.put(data)
    record = UPLOADS.create(ws, {"user_id": user_id, "name": (filename or "upload.csv")[:255],
                                 "extra": {"sha256": sha, "rows": len(rows)}})
    return Upload(record, headers, rows)


def load_upload(ws: Workspace, user_id: int, upload_id: Any) -> Upload:
    """The user's own stored upload, or :class:`NotFound`."""
    record = ws.get(Record, upload_id, include_deleted=False)
    if record is None or record.kind != KIND or record.user_id != user_id:
        raise NotFound(f"upload {upload_id} not found")
    headers, rows = parse(ws.blobs.get(str((record.extra or {}).get("sha256"))))
    return Upload(record, headers, rows)


def suggest_mapping(headers: Sequence[str]) -> list[str]:
    """The field each column most likely is (by its header), "" for none; a field once."""
    taken: set[str] = set()
    out = []
    for header in headers:
        folded = _fold(header)
        match = next((path for path, (label, words) in FIELDS.items()
                      if path not in taken and (folded in words or folded == _fold(label) or folded == _fold(path))),
                     "")
        if match:
            taken.add(match)
        out.append(match)
    return out


def check_mapping(mapping: Sequence[str]) -> None:
    used = [m for m in mapping if m]
    unknown = [m for m in used if m not in FIELDS]
    if unknown:
        raise Invalid(f"unknown field {unknown[0]}", field="mapping")
    twice = next((m for m in used if used.count(m) > 1), None)
    if twice:
        raise Invalid(f"{FIELDS[twice][0]} is chosen for more than one column", field="mapping")
    if "name" not in used:
        raise Invalid("choose the column that holds the name", field="mapping")


def _values(row: Sequence[str], mapping: Sequence[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for index, path in enumerate(mapping):
        if path and index < len(row) and row[index].strip():
            values[path] = row[index].strip()
    values.setdefault("name", "")
    return values


def _message(exc: CoreError) -> str:
    if isinstance(exc, customers.NumberTaken):
        return f"customer number {exc.number} is already used by {exc.holder.name}"
    return exc.message


def preview(ws: Workspace, upload: Upload, mapping: Sequence[str]) -> Preview:
    """Every row checked by the customer service, nothing kept (module docstring)."""
    check_mapping(mapping)
    result = Preview()
    emails: dict[str, str] = {}
    wanted = {v["email"].casefold() for v in (_values(r, mapping) for r in upload.rows) if v.get("email")}
    if wanted:
        stmt = select(Customer.email, Customer.name).where(func.lower(Customer.email).in_(wanted),
                                                           Customer.deleted.is_(False))
        emails = {str(r["email"]).casefold(): f"customer {r['name']}" for r in ws.rows(stmt)}
    outer = ws.session.begin_nested()
    try:
        for offset, row in enumerate(upload.rows):
            values = _values(row, mapping)
            check = RowCheck(offset + 2, values)
            email = str(values.get("email") or "").casefold()
            if email and email in emails:
                check.duplicate = f"same e-mail as {emails[email]}"
            try:
                with ws.atomic():
                    customers.create(ws, values)
            except CoreError as exc:
                check.error = _message(exc)
            if email and email not in emails:
                emails[email] = f"line {check.line}"
            result.checks.append(check)
    finally:
        outer.rollback()
    return result


def run(ws: Workspace, user_id: int, upload: Upload, mapping: Sequence[str], *, skip_lines: set[int]) -> int:
    """Write every row but ``skip_lines`` through the load path; returns how many.
    A refused row raises (located at its line) and the caller rolls back."""
    check_mapping(mapping)
    batches = CustomerBatches(ws)
    written = 0
    try:
        for offset, row in enumerate(upload.rows):
            if offset + 2 in skip_lines:
                continue
            batches.add(_values(row, mapping), f"line {offset + 2}")
            written += 1
        batches.finish()
    except BaseException:
        batches.release()
        raise
    UPLOADS.delete(ws, upload.record)
    return written
