"""integrations (#124–#132, under ``/integrations``): the field-sales services.

* ``address`` and ``creditcheck``: deterministic sandbox services computed from a
  Swedish personnummer (:mod:`polycrm.core.personnummer`); credit checks are kept.
* ``bankid`` (deprecated): the same signing flow as the bankid group.
* ``phones``: the phone catalogue (:mod:`polycrm.core.phones`).
"""

from __future__ import annotations

from polycrm.core import personnummer, phones
from polycrm.core.models import Record
from polycrm.faces.cirrus.entity import Entity
from polycrm.faces.cirrus.errors import invalid
from polycrm.faces.cirrus.handlers import Call, custom
from polycrm.faces.cirrus.views import ID_NAME, View, attr, render
from polycrm.faces.cirrus.groups import bankid as signing
from polycrm.faces.cirrus.groups._personnummer import PATTERN, person_number
from polycrm.faces.cirrus.groups._records import schema_only
from polycrm.faces.cirrus.schemas import define

define("PersonAddress", {"name": "str", "surname": "str", "street": "str", "city": "str", "zip": "str"})
define("CreditCheck", {"person_number": "str", "status": "str", "correlationid": "str", "checkdate": "datetime",
                       "outcome": "str"})
define("PhoneOptions", {"colours": "[IdName]", "sizes": "[IdName]"})
define("Phone", {"id": "int", "name": "str", "description": "str", "price": "num"})

PERSON_ADDRESS = View("PersonAddress", {n: attr(n) for n in ("name", "surname", "street", "city", "zip")})
CREDIT_CHECK = View("CreditCheck", {
    "person_number": attr("number"), "status": attr("extra.status"), "correlationid": attr("extra.correlationid"),
    "checkdate": attr("extra.checkdate"), "outcome": attr("extra.outcome"),
})
PHONE = View("Phone", {"id": attr("id"), "name": attr("name"), "description": attr("extra.description"),
                       "price": attr("extra.price")})
PHONE_OPTIONS = View("PhoneOptions", {
    "colours": lambda ctx, o: [render(ctx, ID_NAME, c) for c in o[0]],
    "sizes": lambda ctx, o: [render(ctx, ID_NAME, s) for s in o[1]],
})
MISSING = "Missing required parameter in the query string"
# Custom handlers: the entity only carries the body's schema keywords.
NUMBER_BODY = Entity("Person number", Record, PERSON_ADDRESS,
                     writers={"person_number": schema_only({"pattern": PATTERN})})


def address(call: Call) -> dict:
    number = person_number(call.body["person_number"])
    return render(call.ctx, PERSON_ADDRESS, personnummer.person(number))


def credit_check(call: Call) -> dict:
    number = person_number(call.body["person_number"])
    return render(call.ctx, CREDIT_CHECK, personnummer.credit_check(call.ws, number, call.ctx.user_id))


def brands(call: Call) -> list:
    return [render(call.ctx, ID_NAME, b) for b in phones.brands(call.ws)]


def models(call: Call) -> list:
    return [render(call.ctx, ID_NAME, m) for m in phones.models(call.ws, call.query.get("brandid"))]


def options(call: Call) -> dict:
    return render(call.ctx, PHONE_OPTIONS, phones.options(call.ws, call.query.get("modelid")))


def phone_list(call: Call) -> list:
    query = call.query
    if query.get("modelid") is None:
        raise invalid({"modelid": MISSING})
    found = phones.phones(call.ws, query["modelid"], query.get("colourid"), query.get("sizeid"))
    return [render(call.ctx, PHONE, p) for p in found]


BINDINGS = {
    "post_address": custom(address, "object", PERSON_ADDRESS, NUMBER_BODY),
    "post_integration_bankid_collection": custom(signing.start, "object", signing.SIGNATURE, signing.START_BODY),
    "delete_integration_bankid_item": custom(signing.cancel, "object", signing.SIGNATURE),
    "get_integration_bankid_item": custom(signing.status, "object", signing.SIGNATURE, writes=True),
    "post_credit_check": custom(credit_check, "object", CREDIT_CHECK, NUMBER_BODY),
    "get_integration_phone_brand_collection": custom(brands, "list", ID_NAME),
    "get_integration_phone_model_collection": custom(models, "list", ID_NAME, handles=["brandid"]),
    "get_integration_phone_option_collection": custom(options, "object", PHONE_OPTIONS, handles=["modelid"]),
    "get_integration_phone_phone_collection": custom(phone_list, "list", PHONE,
                                                     handles=["modelid", "colourid", "sizeid"]),
}
