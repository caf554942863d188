"""Forms described as data: which inputs a page shows and how each is read.

A :class:`Field` names its form input, its label, the dotted core path it
writes (``"addresses.visiting.city"`` reaches into the JSON column) and its
kind. :func:`read` turns a submitted form into core values plus one clear
message per bad field; nothing is written until every field is valid.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from polycrm.core import browse, lookups
from polycrm.core import limits
from polycrm.core.errors import CoreError
from polycrm.core.models import Customer, User
from polycrm.core.workspace import Workspace, get_path

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")
_MONEY_LIMIT = Decimal(10) ** 14  # Numeric(18, 4) keeps 14 digits before the point


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    path: str
    kind: str = "text"  # text, email, tel, url, textarea, money, date, checkbox, select
    required: bool = False
    max_length: int = 255
    # For selects: a lookup kind, or "customer" / "user" for records.
    choices: str | None = None
    group: str | None = None
    hint: str | None = None
    autocomplete: str | None = None
    # For selects of fixed words (not records or lookup entries): (value, label) pairs.
    options: tuple[tuple[str, str], ...] = ()

    @property
    def input_id(self) -> str:
        return "f-" + self.name


@dataclass
class Choice:
    value: str
    label: str


def choices(ws: Workspace, field: Field, *, exclude: int | None = None, selected: str = "") -> list[Choice]:
    """The options of a select, the empty choice first.

    The current value is always offered, even when the list would not show
    it (a closed customer, an inactive user, beyond the picker's limit), so
    saving a form never clears a reference the user did not touch.
    """
    options = _options(ws, field, exclude)
    # An id beyond any id column names nothing (and cannot be a query parameter).
    key = limits.id_in_range(selected) if selected and selected.isdigit() else None
    if key is not None and all(o.value != selected for o in options):
        if field.choices in ("customer", "user"):
            label = browse.names(ws, Customer if field.choices == "customer" else User, {key}).get(key)
        else:
            label = browse.lookup_names(ws, {key}).get(key)
        if label is not None:
            options.append(Choice(selected, label))
    return options


def _options(ws: Workspace, field: Field, exclude: int | None) -> list[Choice]:
    options = [Choice("", "—")]
    if field.options:
        return options + [Choice(v, label) for v, label in field.options]
    if field.choices == "customer":
        for r in browse.customer_choices(ws, exclude=exclude):
            label = f"{r['name']} ({r['number']})" if r["number"] else r["name"]
            options.append(Choice(str(r["id"]), label))
    elif field.choices == "user":
        options += [Choice(str(u.id), f"{u.name} {u.surname}".strip() or u.username) for u in browse.active_users(ws)]
    else:
        options += [Choice(str(e.id), e.name) for e in lookups.items(ws, field.choices)]
    return options


def initial(fields: Sequence[Field], obj: Any) -> dict[str, str]:
    """What the inputs show for an existing record (or defaults)."""
    shown: dict[str, str] = {}
    for f in fields:
        value = get_path(obj, f.path) if obj is not None else None
        shown[f.name] = display(f, value)
    return shown


def display(field: Field, value: Any) -> str:
    if value is None:
        return ""
    if field.kind == "checkbox":
        return "1" if value else ""
    if field.kind == "money" and isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return str(value)


def format_decimal(value: Decimal | None) -> str:
    """A number without trailing zeros beyond two decimals (12.5 -> 12.50)."""
    if value is None:
        return ""
    q = value.quantize(Decimal("0.01")) if value == value.quantize(Decimal("0.01")) else value.normalize()
    return f"{q:f}"


def format_amount(value: Decimal | None, currency: str | None = None) -> str:
    """A number for reading: thousands grouped with commas, at least two
    decimals, then the currency code if known (14995 -> "14,995.00 DKK")."""
    if value is None:
        return ""
    text = format_decimal(value)
    negative = text.startswith("-")
    whole, _, fraction = text.lstrip("-").partition(".")
    shown = ("-" if negative else "") + f"{int(whole):,}" + ("." + fraction if fraction else "")
    return f"{shown} {currency}" if currency else shown


def read(
    ws: Workspace, fields: Iterable[Field], form: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """Parse a submitted form: (core values, errors by field name, raw input)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    raw: dict[str, str] = {}
    for f in fields:
        text = form.get(f.name)
        text = text.strip() if isinstance(text, str) else ""
        raw[f.name] = text
        try:
            values[f.path] = _parse(ws, f, text)
        except ValueError as exc:
            errors[f.name] = str(exc)
    return values, errors, raw


def parse_field(ws: Workspace, f: Field, text: str) -> Any:
    """One input's core value; ValueError with the message to show."""
    return _parse(ws, f, text)


def _parse(ws: Workspace, f: Field, text: str) -> Any:
    if f.kind == "checkbox":
        return text.lower() in ("1", "on", "true", "yes")
    if not text:
        if f.required:
            raise ValueError(f"{f.label} is required.")
        return None
    if len(text) > f.max_length:
        raise ValueError(f"{f.label} can be at most {f.max_length} characters.")
    if f.kind == "email" and not _EMAIL.match(text):
        raise ValueError(f"{f.label} must be an e-mail address like name@example.com.")
    if f.kind == "money":
        return parse_money(text, f.label)
    if f.kind == "date":
        return parse_date(text, f.label)
    if f.kind == "select":
        return _parse_choice(ws, f, text)
    return text


def parse_money(text: str, label: str) -> Decimal:
    cleaned = text.replace(" ", "").replace("\u00a0", "")
    if "," in cleaned and ("." not in cleaned or cleaned.rindex(",") > cleaned.rindex(".")):
        # A decimal comma as Danish users type it, with dots grouping thousands (1.249,50).
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif "," in cleaned:
        cleaned = cleaned.replace(",", "")  # commas grouping thousands (1,249.50)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{label} must be a number, e.g. 1250.50.") from None
    if not value.is_finite() or abs(value) >= _MONEY_LIMIT:
        raise ValueError(f"{label} is out of range.")
    if value < 0:
        raise ValueError(f"{label} cannot be negative.")
    return value.quantize(Decimal("0.0001"))


def parse_date(text: str, label: str) -> dt.date:
    for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{label} must be a date like 2026-03-31.")


def _parse_choice(ws: Workspace, f: Field, text: str) -> Any:
    if f.options:
        if text not in {v for v, _ in f.options}:
            raise ValueError(f"Choose a {f.label.lower()} from the list.")
        return text
    try:
        key = int(text)
    except ValueError:
        raise ValueError(f"Choose a {f.label.lower()} from the list.") from None
    if f.choices == "customer":
        found = ws.get(Customer, key)
        ok = found is not None and not found.deleted
    elif f.choices == "user":
        found = ws.get(User, key)
        # An inactive user is not offered, but one already assigned may stay.
        ok = found is not None and not found.deleted
    else:
        try:
            ok = lookups.ref(ws, f.choices, key, f.name) is not None
        except CoreError:
            ok = False
    if not ok:
        raise ValueError(f"The chosen {f.label.lower()} does not exist; choose one from the list.")
    return key


def grouped(fields: Sequence[Field]) -> list[tuple[str | None, list[Field]]]:
    """Consecutive fields sharing a group, for one fieldset each."""
    groups: list[tuple[str | None, list[Field]]] = []
    for f in fields:
        if groups and groups[-1][0] == f.group:
            groups[-1][1].append(f)
        else:
            groups.append((f.group, [f]))
    return groups
