"""A person's list settings: the columns they chose and the views they saved.

Kept per user as :class:`~polycrm.core.models.Record` rows (no table of their
own), written through their :class:`~polycrm.core.records.RecordService`:

- kind ``list_columns``: ``name`` is the list (``"customers"``), ``extra.columns``
  the column keys in the order shown; one row per user and list;
- kind ``saved_view``: ``number`` is the list, ``name`` the view's name,
  ``extra.query`` the list's query string (search, filters, sort); a user's
  view names are unique per list (saving a name again replaces that view).

Rows of another user are never read or changed: every lookup narrows to the
acting user as well as the tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode

from polycrm.core import limits
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.models import Record
from polycrm.core.query import Criterion, Sort, every
from polycrm.core.records import RecordService
from polycrm.core.workspace import Workspace

COLUMNS_KIND = "list_columns"
VIEW_KIND = "saved_view"
VIEW_NAME_MAX = 100
QUERY_MAX = 2000
MAX_VIEWS = 50

COLUMNS = RecordService(COLUMNS_KIND, "column choice")
VIEWS = RecordService(VIEW_KIND, "saved view")


def _columns_row(ws: Workspace, user_id: int, list_key: str) -> Record | None:
    found = every(ws, Record, [Criterion("eq", "kind", COLUMNS_KIND), Criterion("eq", "user_id", user_id),
                               Criterion("eq", "name", list_key)], sort=(Sort("id"),), limit=1)
    return found[0] if found else None


def chosen_columns(ws: Workspace, user_id: int, list_key: str) -> list[str] | None:
    """The column keys a user chose for a list, or None when they never chose."""
    row = _columns_row(ws, user_id, list_key)
    if row is None:
        return None
    keys = (row.extra or {}).get("columns")
    return [str(k) for k in keys] if isinstance(keys, list) else None


def choose_columns(ws: Workspace, user_id: int, list_key: str, keys: Sequence[str], known: Sequence[str]) -> bool:
    """Remember the columns a user shows in a list (in ``known``'s order).

    At least one column stays; unknown keys are refused. Returns whether it changed.
    """
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise Invalid(f"unknown column {unknown[0]}", field="columns")
    chosen = [k for k in known if k in keys]
    if not chosen:
        raise Invalid("choose at least one column", field="columns")
    row = _columns_row(ws, user_id, list_key)
    if row is None:
        COLUMNS.create(ws, {"name": list_key, "user_id": user_id, "extra": {"columns": chosen}})
        return True
    return COLUMNS.update(ws, row, {"extra": {**(row.extra or {}), "columns": chosen}})


def views(ws: Workspace, user_id: int, list_key: str) -> list[Record]:
    """A user's saved views of a list, by name."""
    return every(ws, Record, [Criterion("eq", "kind", VIEW_KIND), Criterion("eq", "user_id", user_id),
                              Criterion("eq", "number", list_key)], sort=(Sort("name", mode="text"), Sort("id")))


def view_query(view: Record) -> str:
    return str((view.extra or {}).get("query") or "")


def save_view(ws: Workspace, user_id: int, list_key: str, name: str, query: str) -> Record:
    """Save (or replace, by name) a view: a list's query string without its page number."""
    name = (name or "").strip()
    if not name:
        raise Invalid("a saved view needs a name", field="name")
    if len(name) > VIEW_NAME_MAX:
        raise Invalid(f"a view name can be at most {VIEW_NAME_MAX} characters", field="name")
    kept = urlencode([(k, v) for k, v in parse_qsl(query or "", keep_blank_values=False) if k != "page"])
    if len(kept) > QUERY_MAX:
        raise Invalid("this view's filters are too long to save", field="query")
    existing = [v for v in views(ws, user_id, list_key)]
    same = next((v for v in existing if v.name.casefold() == name.casefold()), None)
    if same is not None:
        VIEWS.update(ws, same, {"name": name, "extra": {**(same.extra or {}), "query": kept}})
        return same
    if len(existing) >= MAX_VIEWS:
        raise Invalid(f"a list keeps at most {MAX_VIEWS} saved views; delete one first", field="name")
    return VIEWS.create(ws, {"name": name, "number": list_key, "user_id": user_id, "extra": {"query": kept}})


def delete_view(ws: Workspace, user_id: int, view_id: object) -> Record:
    """Delete one of the user's own saved views; another user's is not found."""
    key = limits.id_in_range(view_id)
    view = ws.get(Record, key, include_deleted=False) if key is not None else None
    if view is None or view.kind != VIEW_KIND or view.user_id != user_id:
        raise NotFound(f"saved view {view_id} not found")
    VIEWS.delete(ws, view)
    return view
