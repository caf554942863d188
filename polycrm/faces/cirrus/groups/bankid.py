"""bankid (#192–#196): the sandbox BankID signing flow and signature relations.

The flow itself is :mod:`polycrm.core.bankid`; the deprecated endpoints of the
integrations group (#125–#127) serve the same signatures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from polycrm.core import bankid
from polycrm.core import query as q
from polycrm.core.models import Link, Record
from polycrm.faces.cirrus.entity import Entity
from polycrm.faces.cirrus.handlers import Call, custom
from polycrm.faces.cirrus.views import View, attr, render
from polycrm.faces.cirrus.groups._personnummer import PATTERN, person_number
from polycrm.faces.cirrus.groups._records import created, page_of, schema_only, updated
from polycrm.faces.cirrus.schemas import MODELS, define

define("BankIdUser", {"personalnumber": "str", "name": "str", "givenname": "str", "surname": "str"})
define("BankIdDevice", {"ipaddress": "str"})
define("BankIdCert", {"notbefore": "str", "notafter": "str"})
define("BankIdCompletion", {"user": "BankIdUser", "device": "BankIdDevice", "cert": "BankIdCert",
                            "signature": "str", "ocspresponse": "str"})
define("BankIdSignature", {
    "id": "int", "message": "str", "status": "str", "orderref": "str", "personalnumber": "str",
    "autostarttoken": "str", "hintcode": "str", "completiondata": "BankIdCompletion",
})
define("BankIdRelation", {"id": "int", "signature": "int", "type": "str", "otherid": "int",
                          "created": "datetime", "updated": "datetime"})


def _from_dict(schema: str, nested: Mapping[str, View] | None = None) -> View:
    """A view of a plain dict (completion data is kept as JSON)."""
    nested = nested or {}

    def reader(name: str):
        if name in nested:
            return lambda ctx, d: render(ctx, nested[name], d.get(name)) if isinstance(d.get(name), Mapping) else None
        return lambda ctx, d: d.get(name)

    return View(schema, {name: reader(name) for name in MODELS[schema]})


COMPLETION = _from_dict("BankIdCompletion", {"user": _from_dict("BankIdUser"), "device": _from_dict("BankIdDevice"),
                                             "cert": _from_dict("BankIdCert")})


def _state(name: str):
    return lambda ctx, r: (r.extra or {}).get(name)


SIGNATURE = View("BankIdSignature", {
    "id": attr("id"), "message": lambda ctx, r: bankid.message(r), "status": _state("status"),
    "orderref": _state("orderref"), "personalnumber": attr("number"), "autostarttoken": _state("autostarttoken"),
    "hintcode": _state("hintcode"),
    "completiondata": lambda ctx, r: render(ctx, COMPLETION, r.extra["completiondata"])
    if isinstance((r.extra or {}).get("completiondata"), Mapping) else None,
})
RELATION = View("BankIdRelation", {
    "id": attr("id"), "signature": attr("source_id"), "type": lambda ctx, link: bankid.relation_type(link),
    "otherid": attr("target_id"), "created": created, "updated": updated,
})


COMPLETE_WORDS = ("complete", "completed")
CANCEL_WORDS = ("cancel", "cancelled", "canceled", "failed")
STATUSES = [bankid.PENDING, *COMPLETE_WORDS, *CANCEL_WORDS]

# Custom handlers: the entity only carries the body's schema keywords.
UPDATE_BODY = Entity("Signature", Record, SIGNATURE, writers={"status": schema_only({"enum": STATUSES})})
RELATION_BODY = Entity("Signature relation", Link, SIGNATURE,
                       writers={"type": schema_only({"enum": list(bankid.RELATION_TYPES)})})
START_BODY = Entity("Signature", Record, SIGNATURE, writers={
    "personalnumber": schema_only({"pattern": PATTERN}),
    "abstract": schema_only({"pattern": r"\S"}, "extra.abstract"),
})


# -- the flow --------------------------------------------------------------------------
def start(call: Call) -> dict:
    body = call.body or {}
    number = person_number(body["personalnumber"], "personalnumber") if body.get("personalnumber") else None
    record = bankid.start(call.ws, abstract=body.get("abstract") or "", digest=body.get("digest"),
                          personalnumber=number, requirement=body.get("requirement"),
                          nonce=body.get("nonce"), user_id=call.ctx.user_id)
    return render(call.ctx, SIGNATURE, record)


def status(call: Call) -> dict:
    return render(call.ctx, SIGNATURE, bankid.check(call.ws, bankid.find(call.ws, call.path["id"])))


def cancel(call: Call) -> dict:
    return render(call.ctx, SIGNATURE, bankid.cancel(call.ws, bankid.find(call.ws, call.path["id"])))




def _completion(value: Any) -> Any:
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, Mapping) else None


def update(call: Call) -> dict:
    """Set the nonce, and/or finish the request: status complete or cancel."""
    body = call.body or {}
    record = bankid.find(call.ws, call.path["id"])
    wanted = body.get("status") or ""
    if body.get("nonce") is not None:
        bankid.set_nonce(call.ws, record, body["nonce"])
    if wanted in COMPLETE_WORDS:
        bankid.complete(call.ws, record, _completion(body.get("completiondata")))
    elif wanted in CANCEL_WORDS:
        bankid.cancel(call.ws, record, body.get("errorcode"))
    return render(call.ctx, SIGNATURE, record)


# -- relations -----------------------------------------------------------------------------
def relate(call: Call) -> dict:
    body = call.body or {}
    link = bankid.relate(call.ws, body["signature"], body["type"], body["otherid"])
    return render(call.ctx, RELATION, link)


def relations(call: Call) -> dict:
    query = call.query
    if query.get("signatureid") is not None:
        bankid.find(call.ws, query["signatureid"])
    crit = bankid.relation_criteria(signature_id=query.get("signatureid"), relation_type=query.get("type"),
                                    other_id=query.get("otherid"))
    return page_of(call, Link, crit, RELATION, [q.Sort("id")])


BINDINGS = {
    "post_bankid_collection": custom(start, "object", SIGNATURE, START_BODY),
    "post_bankid_relation_collection": custom(relate, "object", RELATION, RELATION_BODY),
    "get_bankid_relation_collection": custom(relations, "page", RELATION,
                                             handles=["type", "otherid", "signatureid"]),
    "put_bankid_item": custom(update, "object", SIGNATURE, UPDATE_BODY),
    # A status check moves a pending signature on: it writes.
    "get_bankid_item": custom(status, "object", SIGNATURE, writes=True),
}
