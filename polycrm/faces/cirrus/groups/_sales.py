"""Pieces shared by the sales groups (opportunities, orders, quotes, price
lists, leads and their small lists); not a group itself.

* reference views (``ContactRef``, ``OpportunityRef``) and writers for the
  ``{"id": n}`` references of request bodies;
* :func:`lookup_group`: the four operations (create, page, update, item) of
  a small list kept as core :class:`Lookup` rows of one kind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from polycrm.core import lookups
from polycrm.core import query as q
from polycrm.core.models import Customer, TenantScoped, User
from polycrm.faces.cirrus import wire
from polycrm.faces.cirrus.entity import f_eq, f_flag, f_like, lookup_entity
from polycrm.faces.cirrus.errors import FieldError
from polycrm.faces.cirrus.handlers import creating, item, paged, updating
from polycrm.faces.cirrus.views import USER_REF, Ctx, View, attr, ref
from polycrm.faces.cirrus.writers import Writer, Writes
from polycrm.faces.cirrus.groups.accounts import ACCOUNT_REF
from polycrm.faces.cirrus.schemas import MODELS, define

if "OpportunityRef" not in MODELS:
    define("OpportunityRef", {
        "id": "int", "title": "str", "description": "text", "estimatedenddate": "str",
        "account": "AccountRef", "user": "UserRef",
    })

CONTACT_REF = View("ContactRef", {
    "id": attr("id"), "name": attr("name"), "surname": attr("surname"), "title": attr("jobtitle"),
    "email": attr("email"), "officephone": attr("phone"), "cellphone": attr("cellphone"),
    "number": attr("extra.number"),
})
OPPORTUNITY_REF = View("OpportunityRef", {
    "id": attr("id"), "title": attr("title"), "description": attr("description"),
    "estimatedenddate": attr("estimated_end"),
    "account": ref(Customer, "customer_id", ACCOUNT_REF), "user": ref(User, "user_id", USER_REF),
})


def ref_id(value: Any) -> Any:
    """The id of a body reference: ``{"id": n}`` (or a bare id, leniently)."""
    if isinstance(value, Mapping):
        return value.get("id")
    return value


def to_ref(path: str, model: type[TenantScoped], label: str) -> Writer:
    """``{"id": n}`` naming a row of ``model``; null or id 0 clear the reference."""

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        id_ = ref_id(value)
        if not id_:
            out.changes[path] = None
            return
        if ctx.ws.get(model, id_, include_deleted=False) is None:
            raise FieldError(f"{label} {id_} not found", 404)
        out.changes[path] = int(id_)

    return write


def to_lookup_ref(path: str, kind: str, label: str) -> Writer:
    """``{"id": n}`` (or an id) naming an entry of a lookup list."""

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        id_ = ref_id(value)
        if not id_:
            out.changes[path] = None
            return
        try:
            key = int(id_)
        except (TypeError, ValueError):
            raise FieldError(f"{id_!r} is not an id") from None
        if lookups.get(ctx.ws, kind, key) is None:
            raise FieldError(f"{label} {key} not found", 404)
        out.changes[path] = key

    return write


def to_int(path: str, empty: int | None = None) -> Writer:
    """An integer (sent as a number or a numeric string); null stores ``empty``."""

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        if value in (None, ""):
            out.changes[path] = empty
            return
        try:
            out.changes[path] = int(str(value).strip())
        except ValueError:
            raise FieldError(f"{value!r} is not an integer") from None

    return write


def with_schema(writer: Writer, **keywords: Any) -> Writer:
    """The writer, declaring the JSON Schema keywords its body field must meet
    (added to the request schema the server validates and swagger.json shows)."""
    writer.schema = keywords  # type: ignore[attr-defined]
    return writer


def to_day(path: str) -> Writer:
    """A date (``YYYY-MM-DD``; the date part of a date-time is taken too); null clears it."""

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        if value in (None, ""):
            out.changes[path] = None
            return
        text = str(value)
        moment = wire.parse_datetime(text)
        day = moment.date() if moment is not None else wire.parse_date(text)
        if day is None:
            raise FieldError(f"{value!r} is not a 'date'")
        out.changes[path] = day if "." not in path else day.isoformat()

    return write


def to_moment(path: str) -> Writer:
    """A date-time (ISO 8601; a plain date is midnight UTC); null clears it."""

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        if value in (None, ""):
            out.changes[path] = None
            return
        text = str(value)
        moment = wire.parse_datetime(text)
        if moment is None and (day := wire.parse_date(text)) is not None:
            moment = dt.datetime.combine(day, dt.time())
        if moment is None:
            raise FieldError(f"{value!r} is not a 'date-time'")
        moment = moment.replace(microsecond=0)
        out.changes[path] = moment if "." not in path else moment.isoformat()

    return write


def to_number(path: str) -> Writer:
    """A number (sent as a number or a numeric string), kept as Decimal in a
    column and as a float in ``extra``; null clears it."""

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        if value in (None, ""):
            out.changes[path] = None
            return
        try:
            number = Decimal(str(value).strip())
        except ArithmeticError:
            raise FieldError(f"{value!r} is not a number") from None
        if not number.is_finite():
            raise FieldError(f"{value!r} is not a number")
        out.changes[path] = number if "." not in path else float(number)

    return write


def to_flag(path: str) -> Writer:
    """A 0/1 (or boolean) flag; null is 0."""

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        out.changes[path] = bool(value)

    return write


def to_bit(path: str) -> Writer:
    """A boolean kept as 0/1 in ``extra`` (so filters compare it the same on every database)."""

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        out.changes[path] = int(bool(value))

    return write


# -- small lists ---------------------------------------------------------------
def single_default(kind: str):
    """A ``prepare`` step: an entry saved as the default unsets the others.

    Every list entity now writes through the core lookups service, which keeps
    this rule itself (:func:`polycrm.core.lookups.unset_other_defaults`); the
    step stays for entities that still name it and asks the core to do it."""

    def prepare(ctx: Ctx, obj: Any, body: dict, out: Writes) -> None:
        if out.changes.get("is_default"):
            out.after.append(lambda ctx, saved: lookups.unset_other_defaults(ctx.ws, saved))

    return prepare


# Query filters and sort keys the small lists have in common.
LIST_FILTERS = {
    "name": f_like("name"), "default": f_flag("is_default"), "externalkey": f_eq("externalkey"),
    "sortorder": f_eq("sortorder"), "sort": f_eq("sortorder"),
}
LIST_SORTS = {
    "name": (q.Sort("name", mode="text"),), "id": (q.Sort("id"),), "sortorder": (q.Sort("sortorder"),),
    "sort": (q.Sort("sortorder"),),
}


def lookup_group(operation_ids: tuple[str, str, str, str], label: str, kind: str, view: View,
                 writers: dict[str, Writer], filters: dict | None = None, sorts: dict | None = None) -> dict:
    """Bindings of the create/page/update/item operations of one small list."""
    entity = lookup_entity(
        label, kind, view, writers=writers,
        filters={**LIST_FILTERS, **(filters or {})},
        sorts={**LIST_SORTS, **(sorts or {})},
    )
    create, page, update, get = operation_ids
    return {create: creating(entity), page: paged(entity), update: updating(entity), get: item(entity)}


__all__ = [
    "CONTACT_REF", "OPPORTUNITY_REF", "lookup_group", "ref_id", "single_default", "to_int",
    "to_bit", "to_day", "to_flag", "to_lookup_ref", "to_moment", "to_number", "to_ref", "with_schema",
]
