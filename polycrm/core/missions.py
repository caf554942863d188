"""Missions: campaigns a team works through, and what they are connected to.

A mission is a :class:`Record` of kind ``mission``. Each connection is a
:class:`Link` of kind ``mission`` (source = the mission record, target = the
connected row, ``value`` = the result as text, "0" open / "1" done); other
faces' mission filters read the same links.
"""

from __future__ import annotations

from typing import Any

from polycrm.core import links
from polycrm.core import query as q
from polycrm.core.errors import NotFound
from polycrm.core.models import Activity, Contact, Customer, Document, Link, Order, Product, Record, TenantScoped, User
from polycrm.core.records import RecordService
from polycrm.core.workspace import Workspace

KIND = "mission"
LINK = "mission"
RECORD = q.entity_kind(Record)
SERVICE = RecordService(KIND, "mission")
# Connection type (as the API names it) -> the core model it connects to.
CONNECTION_TYPES: dict[str, type[TenantScoped]] = {
    "account": Customer, "activity": Activity, "article": Product, "order": Order, "user": User,
    "contact": Contact, "file": Document,
}


def connection_model(connection_type: str) -> type[TenantScoped] | None:
    """The model of a connection type; plural spellings (``accounts``) are accepted."""
    name = connection_type.lower()
    return CONNECTION_TYPES.get(name) or (CONNECTION_TYPES.get(name[:-1]) if name.endswith("s") else None)


def type_of(target_kind: str) -> str:
    for name, model in CONNECTION_TYPES.items():
        if q.entity_kind(model) == target_kind:
            return name
    return target_kind


def connection_criteria(mission_id: int, model: type[TenantScoped] | None = None, *, result: int | None = None,
                        other_ids: list[int] | None = None) -> list[q.Criterion]:
    """Criteria on :class:`Link` for a mission's connections (of one type)."""
    found = [q.Criterion("eq", "kind", LINK), q.Criterion("eq", "source_kind", RECORD),
             q.Criterion("eq", "source_id", mission_id)]
    if model is not None:
        found.append(q.Criterion("eq", "target_kind", q.entity_kind(model)))
    if result is not None:
        found.append(q.Criterion("eq", "value", str(int(result))))
    if other_ids:
        found.append(q.Criterion("in", "target_id", other_ids))
    return found


def connection(ws: Workspace, mission_id: int, model: type[TenantScoped], other_id: int) -> Link | None:
    found = q.every(ws, Link, connection_criteria(mission_id, model, other_ids=[other_id]))
    return found[0] if found else None


def connect(ws: Workspace, mission_id: int, model: type[TenantScoped], other_id: int, result: int | None) -> Link:
    """Connect a row to a mission (or set the result of its connection)."""
    if ws.get(model, other_id, include_deleted=False) is None:
        raise NotFound(f"{type_of(q.entity_kind(model)).capitalize()} {other_id} not found", field="connectid")
    current = connection(ws, mission_id, model, other_id)
    value = str(int(result)) if result is not None else (current.value if current is not None else "0")
    links.link(ws, LINK, RECORD, mission_id, q.entity_kind(model), other_id, value)
    found = connection(ws, mission_id, model, other_id)
    assert found is not None
    return found


def mission_ids_connected_to(model: type[TenantScoped], ids: list[int]) -> q.Criterion:
    """Missions (Record rows) connected to any of the rows."""
    return q.Criterion("linked", "id", q.LinkedTo(LINK, q.entity_kind(model), tuple(ids), listed_is_source=True))


def activity_criteria(mission_id: int, *, result: int | None = None, type_ids: list[int] | None = None,
                      user_ids: list[int] | None = None, start: Any = None, end: Any = None) -> list[q.Criterion]:
    """A mission's activity connections, narrowed by the connected activity's fields."""
    found = connection_criteria(mission_id, Activity, result=result)
    if type_ids:
        found.append(q.Criterion("in", "target_id->activity.type_id", type_ids))
    if user_ids:
        found.append(q.Criterion("in", "target_id->activity.user_id", user_ids))
    if start is not None:
        found.append(q.Criterion("from", "target_id->activity.start", start))
    if end is not None:
        found.append(q.Criterion("to", "target_id->activity.start", end))
    return found


def latest_activity(ws: Workspace, mission_id: int, customer_id: int) -> Activity | None:
    """The account's most recent activity among the mission's activity connections."""
    ids = [link.target_id for link in q.every(ws, Link, connection_criteria(mission_id, Activity))]
    if not ids:
        return None
    rows = q.every(ws, Activity, [q.Criterion("eq", "customer_id", customer_id), q.Criterion("in", "id", ids)],
                   sort=[q.Sort("start", descending=True)])
    return rows[0] if rows else None


def progress_totals(ws: Workspace, mission_id: int, account_ids: list[int] | None = None) -> tuple[int, int]:
    """(open, completed) account connections of a mission."""
    rows = q.every(ws, Link, connection_criteria(mission_id, Customer, other_ids=account_ids))
    done = sum(1 for link in rows if link.value == "1")
    return len(rows) - done, done
