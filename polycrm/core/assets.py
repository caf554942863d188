"""Installed base: objects (assets), contracts, and how they relate.

Objects and contracts are :class:`Record` rows of kinds ``object`` and
``contract``. An object placed under a contract is a :class:`Link` of kind
``contract_object`` (source = the contract, target = the object, ``value`` =
where it is installed). A contract with an end date, a number of reminder
days and a responsible user has one reminder: an :class:`Activity` for that
user on ``end - reminderdays``, linked with kind ``contract_reminder``
(source = the contract, target = the activity); it moves when the contract
changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from polycrm.core import links, lookups
from polycrm.core import query as q
from polycrm.core.models import Activity, Contact, Customer, Link, Record
from polycrm.core.records import RecordService
from polycrm.core.workspace import Workspace

OBJECT = "object"
CONTRACT = "contract"
CONTRACT_OBJECT = "contract_object"
CONTRACT_REMINDER = "contract_reminder"
RECORD = q.entity_kind(Record)
ACTIVITY = q.entity_kind(Activity)
OBJECTS = RecordService(OBJECT, "object")
CONTRACTS = RecordService(CONTRACT, "contract")


# -- contract <-> object -------------------------------------------------------
def placement(ws: Workspace, contract_id: int, object_id: int) -> Link | None:
    """The live link placing an object under a contract, if any."""
    found = q.every(ws, Link, placement_criteria(contract_id=contract_id, object_id=object_id))
    return found[0] if found else None


def place(ws: Workspace, contract_id: int, object_id: int, location: str | None) -> Link:
    """Place an object under a contract (or move it within it)."""
    links.link(ws, CONTRACT_OBJECT, RECORD, contract_id, RECORD, object_id)
    found = placement(ws, contract_id, object_id)
    assert found is not None
    ws.update(found, {"value": location})
    return found


def placement_criteria(*, contract_id: int | None = None, object_id: int | None = None,
                       location: str | None = None) -> list[q.Criterion]:
    """Criteria on :class:`Link` for the placements of a contract and/or an object."""
    found = [q.Criterion("eq", "kind", CONTRACT_OBJECT), q.Criterion("eq", "source_kind", RECORD),
             q.Criterion("eq", "target_kind", RECORD)]
    if contract_id is not None:
        found.append(q.Criterion("eq", "source_id", contract_id))
    if object_id is not None:
        found.append(q.Criterion("eq", "target_id", object_id))
    if location:
        found.append(q.Criterion("like", "value", location))
    return found


def contracts_with_objects(ids: list[int]) -> q.Criterion:
    """Contracts (Record rows) that hold at least one of the objects."""
    return q.Criterion("linked", "id", q.LinkedTo(CONTRACT_OBJECT, RECORD, tuple(ids), listed_is_source=True))


# -- object relations ------------------------------------------------------------
RELATION_TYPES = ("contract", "manufacturer")


def relations(ws: Workspace, obj: Record, relation_type: str | None = None) -> list[tuple[str, int]]:
    """``(type, other id)`` of an object: the contracts it is placed under and its manufacturer."""
    found: list[tuple[str, int]] = []
    if relation_type in (None, "contract"):
        for link in q.every(ws, Link, placement_criteria(object_id=obj.id), sort=[q.Sort("source_id")]):
            if ws.get(Record, link.source_id, include_deleted=False) is not None:
                found.append(("contract", link.source_id))
    if relation_type in (None, "manufacturer") and obj.customer_id:
        if ws.get(Customer, obj.customer_id, include_deleted=False) is not None:
            found.append(("manufacturer", obj.customer_id))
    return found


def relation_page(ws: Workspace, obj: Record, relation_type: str | None, page: int, per_page: int) -> q.Page:
    """One page of :func:`relations` (the same paging rules as :func:`polycrm.core.query.search`)."""
    rows = relations(ws, obj, relation_type)
    if page < 1 or (page > 1 and (page - 1) * per_page >= len(rows)):
        raise q.PageOutOfRange(f"page {page} is out of range")
    return q.Page(items=rows[(page - 1) * per_page:page * per_page], total=len(rows), page=page, per_page=per_page)


# -- reminders -------------------------------------------------------------------------
def reminder_day(contract: Record) -> dt.date | None:
    extra = contract.extra or {}
    end, days = extra.get("end"), extra.get("reminderdays")
    if not end or days is None:
        return None
    return dt.date.fromisoformat(str(end)[:10]) - dt.timedelta(days=int(days))


def sync_reminder(ws: Workspace, contract: Record) -> Activity | None:
    """Create, move or close the contract's reminder activity to match the contract."""
    current = [a for a in (ws.get(Activity, i, include_deleted=False)
                           for i in links.targets(ws, CONTRACT_REMINDER, RECORD, contract.id, ACTIVITY)) if a]
    day = reminder_day(contract)
    if day is None or contract.user_id is None:
        for activity in current:
            ws.update(activity, {"closed": True})
        return None
    contact = ws.get(Contact, (contract.extra or {}).get("contact_id"))
    values: dict[str, Any] = {
        "date": day, "start": dt.datetime.combine(day, dt.time(9)), "user_id": contract.user_id,
        "description": f"Contract {contract.number or contract.id} ends {str(contract.extra['end'])[:10]}",
        "customer_id": contact.customer_id if contact is not None else contract.customer_id,
        "contact_id": contact.id if contact is not None else None,
    }
    if current:
        ws.update(current[0], values)
        return current[0]
    task = lookups.by_code(ws, "activity_type", "task")
    activity = ws.create(Activity, {**values, "type_id": task.id if task else None})
    ws.flush()
    links.link(ws, CONTRACT_REMINDER, RECORD, contract.id, ACTIVITY, activity.id)
    return activity


def reminder_criteria(contract_id: int, activity_id: int | None = None) -> list[q.Criterion]:
    found = [q.Criterion("eq", "kind", CONTRACT_REMINDER), q.Criterion("eq", "source_kind", RECORD),
             q.Criterion("eq", "source_id", contract_id), q.Criterion("eq", "target_kind", ACTIVITY)]
    if activity_id is not None:
        found.append(q.Criterion("eq", "target_id", activity_id))
    return found
