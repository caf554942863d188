"""A sandbox BankID signing flow (RP API v5 vocabulary).

A signature is a :class:`Record` of kind ``bankid_signature``; its state is
in ``extra``. It starts ``pending`` with hint code ``outstandingTransaction``;
each status check moves a pending signature on (the first check finds the
user signing: ``userSign``) until it reaches the last step; checks after that
change nothing, so polling does not fill the change feed. The client then
completes it (``complete``, with completion data derived from the request) or
cancels it (``failed`` with hint code ``userCancel``). A finished signature
does not change any more.

Relations of a signature to other records (orders) are links of kind
``bankid`` (source = the signature, target = the record).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from typing import Any

from polycrm.core import links, personnummer
from polycrm.core import query as q
from polycrm.core.errors import Conflict, Invalid, NotFound
from polycrm.core.models import Link, Order, Record, TenantScoped
from polycrm.core.workspace import Workspace

KIND = "bankid_signature"
LINK = "bankid"
RECORD = q.entity_kind(Record)
PENDING, COMPLETE, FAILED = "pending", "complete", "failed"
HINT_STEPS = ("outstandingTransaction", "userSign")
MESSAGES = {
    "outstandingTransaction": "Start your BankID app.",
    "userSign": "Enter your security code in the BankID app and select Identify or Sign.",
    "userCancel": "Action cancelled.",
    COMPLETE: "The signature is complete.",
}
# What a signature may be related to, by the API's type name.
RELATION_TYPES: dict[str, type[TenantScoped]] = {"order": Order}
_NAMESPACE = uuid.UUID("6a1c0f7e-2b7d-4a8e-8f0e-4d2b9c3e5a10")


def start(ws: Workspace, *, abstract: str, digest: str | None = None, personalnumber: str | None = None,
          requirement: Any = None, nonce: str | None = None, user_id: int | None = None) -> Record:
    """Initiate a signing request."""
    if not (abstract or "").strip():
        raise Invalid("the text to sign (abstract) can not be empty", field="abstract")
    number = personnummer.validate(personalnumber, "personalnumber") if personalnumber else None
    record = ws.create(Record, {"kind": KIND, "user_id": user_id, "name": abstract[:255], "number": number, "extra": {
        "abstract": abstract, "digest": digest, "requirement": requirement, "nonce": nonce,
        "status": PENDING, "hintcode": HINT_STEPS[0]}})
    ws.flush()
    order_ref = uuid.uuid5(_NAMESPACE, f"order:{record.id}:{record.created_at.isoformat()}")
    ws.update(record, {"extra.orderref": str(order_ref),
                       "extra.autostarttoken": str(uuid.uuid5(_NAMESPACE, f"autostart:{order_ref}"))})
    return record


def find(ws: Workspace, signature_id: int) -> Record:
    record = ws.get(Record, signature_id, include_deleted=False)
    if record is None or record.kind != KIND:
        raise NotFound(f"Signature {signature_id} not found")
    return record


def check(ws: Workspace, record: Record) -> Record:
    """A status check: a pending signature moves one step on, and stays at the last."""
    extra = record.extra or {}
    hint = extra.get("hintcode")
    if extra.get("status") == PENDING and hint in HINT_STEPS[:-1]:
        ws.update(record, {"extra.hintcode": HINT_STEPS[HINT_STEPS.index(hint) + 1]})
    return record


def set_nonce(ws: Workspace, record: Record, nonce: str) -> Record:
    """Replace the request's nonce (the client's value echoed back on completion); any state allows it."""
    ws.update(record, {"extra.nonce": nonce})
    return record


def _require_pending(record: Record) -> None:
    if (record.extra or {}).get("status") != PENDING:
        raise Conflict(f"Signature {record.id} is already {record.extra.get('status')}")


def complete(ws: Workspace, record: Record, completiondata: Any = None) -> Record:
    """Finish a pending signature as signed; the completion data is derived unless given."""
    _require_pending(record)
    extra = record.extra or {}
    number = record.number or "".join(ch for ch in str(extra.get("orderref")) if ch.isdigit())[:12]
    signed_at = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    data = completiondata if isinstance(completiondata, dict) else None
    if data is None:
        someone = personnummer.person(number) if record.number else None
        given = someone.name if someone else "Test"
        surname = someone.surname if someone else "Person"
        seal = hashlib.sha256(f"{extra.get('orderref')}:{extra.get('abstract')}:{extra.get('digest')}".encode())
        data = {
            "user": {"personalnumber": record.number, "name": f"{given} {surname}", "givenname": given,
                     "surname": surname},
            "device": {"ipaddress": "127.0.0.1"},
            "cert": {"notbefore": signed_at.date().isoformat(),
                     "notafter": (signed_at.date() + dt.timedelta(days=730)).isoformat()},
            "signature": base64.b64encode(seal.digest()).decode(),
            "ocspresponse": base64.b64encode(hashlib.sha256(seal.digest()).digest()).decode(),
        }
    ws.update(record, {"extra.status": COMPLETE, "extra.hintcode": None, "extra.completiondata": data,
                       "extra.completed_at": signed_at.isoformat()})
    return record


def cancel(ws: Workspace, record: Record, errorcode: str | None = None) -> Record:
    _require_pending(record)
    ws.update(record, {"extra.status": FAILED, "extra.hintcode": "userCancel",
                       "extra.errorcode": errorcode or "cancelled"})
    return record


def message(record: Record) -> str | None:
    extra = record.extra or {}
    return MESSAGES.get(extra.get("status") if extra.get("status") == COMPLETE else extra.get("hintcode"))


# -- relations ---------------------------------------------------------------------
def relate(ws: Workspace, signature_id: int, relation_type: str, other_id: int) -> Link:
    record = find(ws, signature_id)
    model = RELATION_TYPES.get(relation_type)
    if model is None:
        raise Invalid(f"{relation_type!r} is not one of {list(RELATION_TYPES)}", field="type")
    if ws.get(model, other_id, include_deleted=False) is None:
        raise NotFound(f"{relation_type.capitalize()} {other_id} not found", field="otherid")
    target_kind = q.entity_kind(model)
    links.link(ws, LINK, RECORD, record.id, target_kind, other_id)
    found = q.every(ws, Link, relation_criteria(signature_id=record.id, relation_type=relation_type, other_id=other_id))
    return found[0]


def relation_criteria(*, signature_id: int | None = None, relation_type: str | None = None,
                      other_id: int | None = None) -> list[q.Criterion]:
    found = [q.Criterion("eq", "kind", LINK), q.Criterion("eq", "source_kind", RECORD)]
    if relation_type is not None:
        found.append(q.Criterion("eq", "target_kind", q.entity_kind(RELATION_TYPES[relation_type])))
    if signature_id is not None:
        found.append(q.Criterion("eq", "source_id", signature_id))
    if other_id is not None:
        found.append(q.Criterion("eq", "target_id", other_id))
    return found


def relation_type(link: Link) -> str:
    for name, model in RELATION_TYPES.items():
        if q.entity_kind(model) == link.target_kind:
            return name
    return link.target_kind
