"""Helpers the handlers of several vendor pages share: syncs, rows, lists, error names."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from polycrm.core import changes, lookups
from polycrm.core.errors import CoreError, Invalid
from polycrm.core.models import Customer, TenantScoped
from polycrm.faces.microbizz import wire
from polycrm.faces.microbizz.commands import Call
from polycrm.faces.microbizz.fields import FieldMap
from polycrm.faces.microbizz.maps import SIMPLE_LIST

# The arguments every ...ByLastChange sync reads (see :meth:`Call.since`).
SYNC_ARGUMENTS = ("changedate", "changetime", "resumekey")


def sync_page(
    call: Call,
    model: type[TenantScoped],
    filters: dict[str, Any],
    where: Callable[..., Sequence[Any]],
    *,
    paginate: bool = True,
    columns: Sequence[str] | None = None,
) -> tuple[list[Any], str | None, dict[str, Any]]:
    """One page of a ...ByLastChange sync, the key to the next (if any) and
    the filters in force (from the request, or from the resumekey).

    The rows are mappings of every column, or with ``columns`` (which must
    name ``id``) tuples of those columns (:meth:`FieldMap.render_rows`)."""
    if call.has("resumekey"):
        since, after_id, saved = wire.decode_resumekey(call.raw("resumekey"), call.name)
        # The key comes back from the client: it may only carry this command's
        # own switches, so it can't widen what the sync reads.
        if saved.keys() != filters.keys() or not all(isinstance(v, bool) for v in saved.values()):
            raise wire.CommandError("Invalid resumekey")
        filters = saved
    else:
        since, after_id = call.since(), 0
    limit = call.settings.sync_page_size if paginate else None
    fetch = limit + 1 if limit else None  # one more than a page: is there another page?
    if columns is None:
        rows = changes.changed_since(call.ws, model, since, after_id=after_id, limit=fetch, where=where(**filters))
    else:
        rows = changes.changed_rows(
            call.ws, model, columns, since, after_id=after_id, limit=fetch, where=where(**filters)
        )
    if limit is None or len(rows) <= limit:
        return rows, None, filters
    rows = rows[:limit]
    last_id = rows[-1]["id"] if columns is None else rows[-1][columns.index("id")]
    return rows, wire.encode_resumekey(call.name, since, last_id, filters), filters


def rows_of(objs: Sequence[TenantScoped]) -> list[dict[str, Any]]:
    """ORM objects as row mappings for the field maps."""
    out = []
    for obj in objs:
        out.append({c.key: getattr(obj, c.key) for c in type(obj).__mapper__.column_attrs})
    return out


def existing_customer(call: Call, key: str = "customerid", *, required: bool = True) -> Customer | None:
    customer_id = call.id(key, required=required)
    if customer_id is None:
        return None
    customer = call.ws.get(Customer, customer_id)
    if customer is None:
        raise wire.CommandError(f"Unknown {key}: {customer_id}")
    return customer


def lookup_list(call: Call, kind: str, fieldmap: FieldMap = SIMPLE_LIST) -> list[dict[str, Any]]:
    entries = lookups.items(call.ws, kind)
    return fieldmap.many(rows_of(entries), call.ctx)


def service_error(exc: CoreError, names: Mapping[str, str], patch: Mapping[str, Any], creating: bool) -> Exception:
    """A core service error in the Microbizz voice, naming the wire field
    (``names``: core field -> wire field, e.g. ``name`` -> ``product.title``);
    a required field a new record lacks is "Missing field"."""
    field = names.get(exc.field or "")
    if field is None:
        return exc
    if creating and isinstance(exc, Invalid) and not str(patch.get(exc.field) or "").strip():
        return wire.missing(field)
    detail = exc.message[len(exc.field) + 1:] if exc.message.startswith(exc.field + " ") else exc.message
    return wire.CommandError(f"Invalid value for {field}: {detail}")
