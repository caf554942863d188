"""Building blocks for the groups whose entities are core :class:`Record` rows
of their own kind (missions, contracts, objects, templates, BankID, ...).

Not a group itself (its name starts with ``_``): readers, writers and
filters that several of those groups share, on top of the face's
:mod:`~polycrm.faces.cirrus.views`, :mod:`~polycrm.faces.cirrus.writers`
and :mod:`~polycrm.faces.cirrus.entity`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from polycrm.core import budgets, lookups
from polycrm.core import query as q
from polycrm.core.models import Record, TenantScoped
from polycrm.core.workspace import get_path
from polycrm.faces.cirrus import wire
from polycrm.faces.cirrus.entity import Entity
from polycrm.faces.cirrus.errors import ApiError, FieldError, invalid
from polycrm.faces.cirrus.handlers import Call
from polycrm.faces.cirrus.schemas import MODELS
from polycrm.faces.cirrus.views import Ctx, Reader, View, render
from polycrm.faces.cirrus.writers import Writer, Writes

RECORD_KIND = q.entity_kind(Record)


def record_entity(label: str, kind: str, view: View, **kw: Any) -> Entity:
    """An entity kept as :class:`Record` rows of one kind."""
    return Entity(label=label, model=Record, view=view, scope=(q.Criterion("eq", "kind", kind),),
                  defaults={"kind": kind, "active": True}, **kw)


# -- readers ---------------------------------------------------------------------
def created(ctx: Ctx, obj: Any) -> Any:
    return obj.created_at


def updated(ctx: Ctx, obj: Any) -> Any:
    return obj.changed_at


def extra(name: str, default: Any = None) -> Reader:
    return lambda ctx, obj: (obj.extra or {}).get(name, default)


def ref_in(model: type[TenantScoped], path: str, view: View) -> Reader:
    """A referenced row whose id is kept at ``path`` (a column or ``extra.x``)."""

    def read(ctx: Ctx, obj: Any) -> Any:
        target = ctx.loader.get(model, get_path(obj, path))
        return render(ctx, view, target) if target is not None and not target.deleted else None

    return read


# -- writers -----------------------------------------------------------------------
def _ref_id(value: Any) -> Any:
    if isinstance(value, Mapping):
        return value.get("id")
    return value


def to_ref(path: str, model: type[TenantScoped], label: str, *, kind: str | None = None,
           code: str | None = None) -> Writer:
    """An ``{"id": n}`` reference (or a bare id; null or id 0 clear it).

    ``kind``/``code`` narrow what may be referenced (a Record kind, or a Lookup
    kind and its code); anything else is a 404 naming the field.
    """

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        id_ = _ref_id(value)
        if not id_:
            out.changes[path] = None
            return
        target = ctx.ws.get(model, id_, include_deleted=False)
        if target is None or (kind is not None and target.kind != kind) \
                or (code is not None and target.code != code):
            raise FieldError(f"{label} {id_} not found", 404)
        out.changes[path] = int(id_)

    write.path = path  # type: ignore[attr-defined]
    return write


def to_date(path: str) -> Writer:
    """A date (``YYYY-MM-DD``), kept as ISO text; null clears it."""

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        day = wire.parse_date(value) if isinstance(value, str) else None
        if value is not None and day is None:
            raise FieldError(f"{value!r} is not a 'date'")
        out.changes[path] = day.isoformat() if day else None

    return write


def to_datetime(path: str) -> Writer:
    """A date-time (ISO 8601, a plain date taken as midnight), kept as naive UTC ISO text."""

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        if value is None:
            out.changes[path] = None
            return
        text = str(value)
        moment = wire.parse_datetime(text)
        if moment is None and (day := wire.parse_date(text)) is not None:
            moment = wire.parse_datetime(day.isoformat() + "T00:00:00")
        if moment is None:
            raise FieldError(f"{value!r} is not a 'date-time'")
        out.changes[path] = moment.replace(microsecond=0).isoformat()

    return write


def to_int(path: str) -> Writer:
    return lambda ctx, obj, value, out: out.changes.__setitem__(path, None if value is None else int(value))


def to_lookup_list(path: str, kind: str, label: str) -> Writer:
    """``[{"id": n}, ...]`` of lookup entries, kept as a list of ids."""

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        ids = []
        for item in value or []:
            id_ = _ref_id(item)
            if id_ is None:
                continue
            if lookups.get(ctx.ws, kind, id_) is None:
                raise FieldError(f"{label} {id_} not found", 404)
            ids.append(int(id_))
        out.changes[path] = list(dict.fromkeys(ids))

    return write


# -- filters -------------------------------------------------------------------------
def f_csv(path: str, cast: str = "str") -> Any:
    """A comma-separated id list (already parsed, or raw text); empty means no filter."""

    def build(value: Any) -> list[q.Criterion]:
        ids = csv_ids(value)
        return [q.Criterion("in", path, ids, cast)] if ids else []

    return build


def csv_ids(value: Any) -> list[int]:
    """Ids from a list, or from text separated by commas or blanks; items that are
    not ids (or beyond the integer range) cannot match anything and are dropped."""
    if value is None:
        return []
    if isinstance(value, list):
        return [int(v) for v in value]
    parts = re.split(r"[,\s]+", str(value))
    return [int(p) for p in parts if p.isascii() and p.isdigit() and int(p) <= wire.INT_MAX]


def schema_only(schema: dict[str, Any], path: str | None = None) -> Writer:
    """A writer that only adds keywords to a body field's schema (for custom
    handlers); ``path`` says where the value is kept (its length limit)."""

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        return None

    write.schema = schema  # type: ignore[attr-defined]
    write.path = path  # type: ignore[attr-defined]
    return write


def with_schema(writer: Writer, schema: dict[str, Any]) -> Writer:
    writer.schema = schema  # type: ignore[attr-defined]
    return writer


# -- pages of arbitrary rows ------------------------------------------------------------
def page_of(call: Call, model: type[TenantScoped], criteria: Sequence[q.Criterion], view: View,
            sort: Sequence[q.Sort] = ()) -> dict[str, Any]:
    """The page envelope of the rows of ``model`` meeting ``criteria``."""
    query = call.query
    try:
        page = q.search(call.ws, model, list(criteria), sort=list(sort),
                        page=query.get("page") or 1, per_page=query.get("per_page") or 10)
    except q.PageOutOfRange:
        raise invalid({"page": f"page {query.get('page')} is out of range"}) from None
    return {
        "page": page.page, "pages": page.pages, "per_page": page.per_page, "total": page.total,
        "items": [render(call.ctx, view, obj) for obj in page.items],
    }


# -- plain data in a wire model's shape -------------------------------------------------------
def shaped(schema: str, data: Any) -> Any:
    """``data`` (a dict kept as JSON) as the model ``schema``: its fields in
    order, each coerced to its type (missing ones null, nested models too)."""
    if not isinstance(data, Mapping):
        return None
    out: dict[str, Any] = {}
    for name, t in MODELS[schema].items():
        value = data.get(name)
        if wire.is_list(t):
            inner = wire.item_type(t)
            items = value if isinstance(value, list) else []
            out[name] = [shaped(inner, v) if inner in MODELS else wire.coerce(inner, v) for v in items]
        elif t in MODELS:
            out[name] = shaped(t, value)
        else:
            out[name] = wire.coerce(t, value)
    return out


def month_in_path(call: Call) -> tuple[int, int]:
    """The ``year`` and ``month`` of a budget path, checked (both errors at once)."""
    year, month = call.path["year"], call.path["month"]
    errors = {}
    if not 1900 <= year <= 9999:
        errors["year"] = f"{year} is not a year between 1900 and 9999"
    if not 1 <= month <= 12:
        errors["month"] = f"{month} is not a month (1-12)"
    if errors:
        raise invalid(errors)
    return year, month


@dataclass(frozen=True)
class MonthlyBudget:
    """The budget of one owner (an account, a user) for one month, at
    ``.../{owner}/budget/{year}/{month}``: get, put (create or change) and delete.

    Each amount the body names is kept (null counts as 0); a new budget
    starts every amount at 0.
    """

    kind: str                   # budgets.ACCOUNT, budgets.USER
    owners: Entity              # finds the owner named in the path
    owner_key: str              # that path parameter: "accountid", "userid"
    label: str                  # "account", "user": in the 404 message
    view: View
    amounts: tuple[str, ...]

    def _owner_and_month(self, call: Call) -> tuple[int, int, int]:
        owner = self.owners.find(call.ctx, call.path[self.owner_key])
        return owner.id, *month_in_path(call)

    def _existing(self, call: Call) -> Record:
        owner_id, year, month = self._owner_and_month(call)
        row = budgets.find(call.ws, self.kind, owner_id, year, month)
        if row is None:
            raise ApiError(404, f"No budget for {self.label} {call.path[self.owner_key]} in {budgets.period(year, month)}")
        return row

    def get(self, call: Call) -> dict:
        return render(call.ctx, self.view, self._existing(call))

    def put(self, call: Call) -> dict:
        owner_id, year, month = self._owner_and_month(call)
        body = call.body or {}
        amounts = {key: body[key] or 0 for key in self.amounts if key in body}
        row = budgets.save(call.ws, self.kind, owner_id, year, month, amounts,
                           defaults=dict.fromkeys(self.amounts, 0))
        return render(call.ctx, self.view, row)

    def delete(self, call: Call) -> dict:
        budgets.remove(call.ws, self._existing(call))
        return {}
