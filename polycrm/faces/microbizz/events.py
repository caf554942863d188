"""Microbizz event hooks: the form fields a connected app's hook URL receives.

Called by the delivery side (:mod:`polycrm.platform.delivery`) for one
outbox event and one hook; it only reads. ``customer/event_customer_change``
sends ``object`` (the customer in the ``GetCustomerByID`` shape, as JSON
text) and ``previousobject`` (the same shape before the change; empty on
create); ``customer/event_person_attach`` sends ``object``, the
customer-person relation ``{customerid, personid, person}``;
``general/event_file_create`` / ``event_file_change`` send ``document`` (the
``GetDocumentsByCustomerID`` shape).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import orjson

from polycrm.core.models import Contact, Customer, Document
from polycrm.core.workspace import Workspace
from polycrm.faces.microbizz import wire
from polycrm.faces.microbizz.commands._shared import rows_of
from polycrm.faces.microbizz.commands.persons import person_out
from polycrm.faces.microbizz.fields import RenderContext
from polycrm.faces.microbizz.maps import CUSTOMER, DOCUMENT


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _typed(model: type, values: dict[str, Any]) -> dict[str, Any]:
    """Column values from JSON (as the outbox keeps them) typed back per column."""
    columns = model.__table__.columns
    out = {}
    for field, value in values.items():
        if field not in columns:
            continue
        try:
            kind = columns[field].type.python_type
        except NotImplementedError:
            kind = None
        if isinstance(value, str) and kind is dt.datetime:
            value = dt.datetime.fromisoformat(value)
        elif isinstance(value, str) and kind is dt.date:
            value = dt.date.fromisoformat(value)
        elif isinstance(value, str) and kind is Decimal:
            value = Decimal(value)
        out[field] = value
    return out


def _as_committed(model: type, obj: Any, event: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The row right after the event's change (its snapshot) and right before it."""
    row = rows_of([obj])[0]
    row.update(_typed(model, event.snapshot or {}))
    before = dict(row)
    before.update(_typed(model, {field: old for field, (old, _new) in (event.changes or {}).items()}))
    return row, before


def form_body(ws: Workspace, timezone: str, hook: str, event: Any) -> bytes | None:
    """The urlencoded body ``hook`` (``modcode/hook``) gets for an outbox event, or None
    when it does not hear that event. ``object`` and ``previousobject`` are the
    customer as committed by that change and before it (from the outbox snapshot)."""
    entity, op, record_id, changes = event.entity, event.op, event.record_id, event.changes or {}
    ctx = RenderContext(ws, wire.Clock(timezone))
    if hook == "customer/event_customer_change" and entity == "customer":
        customer = ws.get(Customer, record_id)
        if customer is None:
            return None
        row, before = _as_committed(Customer, customer, event)
        previous = "" if op == "created" else _json(CUSTOMER.to_wire(before, ctx))
        return urlencode({"object": _json(CUSTOMER.to_wire(row, ctx)), "previousobject": previous}).encode()
    if hook == "customer/event_person_attach" and entity == "contact":
        attached = op == "created" or (op == "updated" and "customer_id" in changes)
        contact = ws.get(Contact, record_id)
        if not attached or contact is None or not contact.customer_id:
            return None
        relation = {"customerid": contact.customer_id, "personid": contact.id,
                    "person": person_out(rows_of([contact])[0], ctx)}
        return urlencode({"object": _json(relation)}).encode()
    if entity == "document" and (
        (hook == "general/event_file_create" and op == "created")
        or (hook == "general/event_file_change" and op == "updated")
    ):
        document = ws.get(Document, record_id)
        if document is None:
            return None
        return urlencode({"document": _json(DOCUMENT.to_wire(rows_of([document])[0], ctx))}).encode()
    return None
