"""quotes (#197–#206): quotes = core :class:`Quote` + :class:`QuoteLine` (the
Microbizz sales contracts and their lines), their relations and statuses.

Quotes are written through :data:`polycrm.core.quotes.SERVICE` (the next
quote number ``Q-00001``, as Microbizz; the price is the sum of the rows
when there are rows) and their rows through its line service. Quote
statuses are the core list ``quote_status`` (the Microbizz quotation
states); ``metatype`` is ``extra.metatype``. Relations are core links of
kind ``quote_relation`` from the quote to the other record, the link's
target kind being the relation ``type`` (account, opportunity, contact,
user, user2, order; ``activity`` is accepted too, for the ``activityids``
filter of the quote list) and ``value`` its value.
"""

from __future__ import annotations

from typing import Any

from polycrm.core import links, quotes
from polycrm.core import query as q
from polycrm.core.models import Activity, Contact, Customer, Link, Lookup, Opportunity, Order, Quote, QuoteLine, Record, User
from polycrm.faces.cirrus.entity import Entity, f_eq, f_flag, f_from, f_ids, f_to, lookup_entity
from polycrm.faces.cirrus.errors import ApiError, FieldError, invalid
from polycrm.faces.cirrus.handlers import Call, creating, custom, item, paged, updating
from polycrm.faces.cirrus.views import ID_NAME, TAG_REF, USER_REF, View, attr, linked, ref, render
from polycrm.faces.cirrus.writers import ignored, to
from polycrm.faces.cirrus.groups._documents import Rows, register_row_input, row_total, times
from polycrm.faces.cirrus.groups._sales import CONTACT_REF, OPPORTUNITY_REF, single_default, to_day, to_flag, to_int, with_schema
from polycrm.faces.cirrus.groups.accounts import ACCOUNT_REF
from polycrm.faces.cirrus.groups.orders import head_writers
from polycrm.faces.cirrus.groups.pricelists import PRICELIST
from polycrm.faces.cirrus.schemas import define

METATYPES = ("active", "expired", "denied", "order")
RELATION_TYPES = {"account": Customer, "opportunity": Opportunity, "contact": Contact, "user": User,
                  "user2": User, "order": Order, "activity": Activity}
RELATION = "quote_relation"
QUOTE_KIND = q.entity_kind(Quote)

define("QuoteStatus", {"id": "int", "name": "str", "sortorder": "int", "isdefault": "int", "metatype": "str",
                       "tscreated": "datetime", "tsupdated": "datetime"})
define("QuoteRelation", {"id": "int", "quoteid": "int", "otherid": "int", "type": "str", "value": "str"})
define("QuoteRow", {
    "id": "int", "quoteid": "int", "alternateid": "str", "quantity": "num", "discountspecial": "num",
    "sortorder": "int", "price": "num", "currencycode": "str", "currencyrate": "num", "statisticsprice": "num",
    "alternativevalue": "num", "buyprice": "num", "specification": "text", "discountpercent": "num",
    "discountamount": "num", "costcenter": "str", "externalkey": "str", "pricewarning": "int", "totalprice": "num",
    "totalpricestatistics": "num", "totalalternativevalue": "num", "pricelist": "Pricelist",
    "pricegroup": "PriceGroup", "article": "ArticleRef", "articleunit": "IdName", "sortgroup": "int",
    "tags": "[TagRef]",
})
DELIVERY = [f"delivery{part}" for part in ("name", "street", "zip", "city", "country")]
define("Quote", {
    "id": "int", "price": "num", "currencycode": "str", "currencyrate": "num", "alternativevalue": "num",
    "buyprice": "num", "discounted": "bool", "placedate": "date", "validtodate": "date", "alternateid": "str",
    "externalcomment": "text", "deliverydate": "date", **{n: "str" for n in DELIVERY}, "externalkey": "str",
    "internalcomment": "text", "marking": "str", "referencecode": "str", "extracode": "str",
    "pricelist": "Pricelist", "tscreated": "datetime", "tsupdated": "datetime", "status": "QuoteStatus",
    "deliveryterm": "IdName", "paymentterm": "IdName", "deliverytype": "IdName", "user": "UserRef",
    "user2": "UserRef", "account": "AccountRef", "contact": "ContactRef", "opportunity": "OpportunityRef",
    "tags": "[TagRef]", "rows": "[QuoteRow]",
})

QUOTE_STATUS = View("QuoteStatus", {
    "id": attr("id"), "name": attr("name"), "sortorder": attr("sortorder"), "isdefault": attr("is_default"),
    "metatype": attr("extra.metatype"), "tscreated": attr("created_at"), "tsupdated": attr("changed_at"),
})
QUOTE_ROWS = Rows(
    schema="QuoteRow", model=QuoteLine, fk="quote_id",
    fields={
        "alternateid": "extra.alternateid", "quantity": "quantity", "discountspecial": "extra.discountspecial",
        "sortorder": "sortorder", "price": "price", "currencycode": "extra.currencycode",
        "currencyrate": "extra.currencyrate", "statisticsprice": "extra.statisticsprice",
        "alternativevalue": "extra.alternativevalue", "buyprice": "cost_price", "specification": "text",
        "discountpercent": "discountpercent", "discountamount": "discountamount", "costcenter": "extra.costcenter",
        "externalkey": "extra.externalkey", "pricewarning": "extra.pricewarning", "sortgroup": "extra.sortgroup",
    },
    computed={
        "id": attr("id"), "quoteid": attr("quote_id"), "totalprice": lambda ctx, row: row_total(row),
        "totalpricestatistics": times("extra.statisticsprice"),
        "totalalternativevalue": times("extra.alternativevalue"),
    },
)
register_row_input(QUOTE_ROWS)
QUOTE_ROW = QUOTE_ROWS.view()

QUOTE = View("Quote", {
    "id": attr("id"), "price": attr("price"), "currencycode": attr("currencycode"),
    **{n: attr(f"extra.{n}") for n in ("currencyrate", "alternativevalue", "buyprice", "discounted")},
    "placedate": attr("placedate"), "validtodate": attr("validtodate"), "alternateid": attr("extra.alternateid"),
    "externalcomment": attr("externalcomment"), "deliverydate": attr("deliverydate"),
    **{n: attr(f"extra.{n}") for n in DELIVERY},
    "externalkey": attr("externalkey"), "internalcomment": attr("internalcomment"),
    **{n: attr(f"extra.{n}") for n in ("marking", "referencecode", "extracode")},
    "pricelist": ref(Record, "extra.pricelist_id", PRICELIST),
    "tscreated": attr("created_at"), "tsupdated": attr("changed_at"),
    "status": ref(Lookup, "status_id", QUOTE_STATUS),
    "deliveryterm": ref(Lookup, "extra.deliveryterm_id", ID_NAME),
    "paymentterm": ref(Lookup, "extra.paymentterm_id", ID_NAME),
    "deliverytype": ref(Lookup, "extra.deliverytype_id", ID_NAME),
    "user": ref(User, "user_id", USER_REF), "user2": ref(User, "user2_id", USER_REF),
    "account": ref(Customer, "customer_id", ACCOUNT_REF), "contact": ref(Contact, "contact_id", CONTACT_REF),
    "opportunity": ref(Opportunity, "opportunity_id", OPPORTUNITY_REF),
    "tags": linked(Lookup, TAG_REF, links.TAG, outgoing=True, other_kind=links.LOOKUP),
    "rows": QUOTE_ROWS.reader(QUOTE_ROW),
})


def related(kind: str):
    """Quotes with a relation of ``kind`` to one of the ids."""
    return lambda ids: [q.Criterion("linked", "id", q.LinkedTo(RELATION, kind, tuple(ids), listed_is_source=True))]


QUOTE_ENTITY = Entity(
    label="Quote", model=Quote, view=QUOTE,
    writers={
        **head_writers("quote_status", "Quote status"),
        "validtodate": to_day("validtodate"),
        "rows": QUOTE_ROWS.writer(quotes.LINE_SERVICE),
    },
    filters={
        "externalkey": f_eq("externalkey"), "altnumber": f_eq("extra.alternateid"),
        "accountids": f_ids("customer_id"), "statusids": f_ids("status_id"), "contactids": f_ids("contact_id"),
        "opportunityids": f_ids("opportunity_id"), "userids": f_ids("user_id"), "user2ids": f_ids("user2_id"),
        "orderids": related("order"), "activityids": related("activity"),
        "placedate_start": f_from("placedate"), "placedate_end": f_to("placedate"),
        "validtodate_start": f_from("validtodate"), "validtodate_end": f_to("validtodate"),
        "deliverydate_start": f_from("deliverydate"), "deliverydate_end": f_to("deliverydate"),
    },
    sorts={
        "placedate": (q.Sort("placedate"),), "validtodate": (q.Sort("validtodate"),),
        "deliverydate": (q.Sort("deliverydate"),), "number": (q.Sort("number", mode="numeric_text"),),
        "externalkey": (q.Sort("externalkey"),),
    },
    fulltext="internalcomment,externalcomment",
    service=quotes.SERVICE,
)


# -- statuses ---------------------------------------------------------------------
def write_metatype(ctx, obj, value, out) -> None:
    if value is not None and value not in METATYPES:
        raise FieldError(f"{value!r} is not one of {list(METATYPES)}")
    out.changes["extra.metatype"] = value


write_metatype.schema = {"enum": [*METATYPES, None]}  # type: ignore[attr-defined]


QUOTE_STATUSES = lookup_entity(
    "Quote status", "quote_status", QUOTE_STATUS,
    writers={"id": ignored(), "name": to("name", required=True), "sortorder": to_int("sortorder", 0),
             "isdefault": to_flag("is_default"), "metatype": write_metatype},
    filters={"metatype": f_eq("extra.metatype"), "default": f_flag("is_default")},
    sorts={"sorting": (q.Sort("sortorder"),), "name": (q.Sort("name", mode="text"),), "number": (q.Sort("id"),)},
    prepare=single_default("quote_status"),
)


# -- relations --------------------------------------------------------------------
QUOTE_RELATION = View("QuoteRelation", {
    "id": attr("id"), "quoteid": attr("source_id"), "otherid": attr("target_id"), "type": attr("target_kind"),
    "value": attr("value"),
})
RELATIONS = Entity(
    label="Quote relation", model=Link, view=QUOTE_RELATION,
    scope=(q.Criterion("eq", "kind", RELATION), q.Criterion("eq", "source_kind", QUOTE_KIND)),
    # Only declares the body of #199 (its handler is custom): the relation types.
    writers={"type": with_schema(ignored(), enum=list(RELATION_TYPES))},
    filters={"type": f_eq("target_kind"), "otherid": f_eq("target_id"), "quoteid": f_eq("source_id"),
             "value": f_eq("value")},
)


def add_relation(call: Call) -> dict[str, Any]:
    body = call.body or {}
    kind = body.get("type")
    if kind not in RELATION_TYPES:
        raise invalid({"type": f"{kind!r} is not one of {list(RELATION_TYPES)}"})
    QUOTE_ENTITY.find(call.ctx, body["quoteid"])
    other = call.ws.get(RELATION_TYPES[kind], body["otherid"], include_deleted=False)
    if other is None:
        message = f"{kind.capitalize()} {body['otherid']} not found"
        raise ApiError(404, message, {"otherid": message})
    value = body.get("value")
    links.link(call.ws, RELATION, QUOTE_KIND, body["quoteid"], kind, body["otherid"],
               None if value is None else str(value))
    call.ws.flush()
    found = q.every(call.ws, Link, [*RELATIONS.scope, q.Criterion("eq", "source_id", body["quoteid"]),
                                    q.Criterion("eq", "target_kind", kind),
                                    q.Criterion("eq", "target_id", body["otherid"])])
    return render(call.ctx, QUOTE_RELATION, found[0])


BINDINGS = {
    "post_quote_collection": creating(QUOTE_ENTITY),
    "get_quote_collection": paged(QUOTE_ENTITY),
    "post_quote_relation_collection": custom(add_relation, "object", QUOTE_RELATION, RELATIONS),
    "get_quote_relation_collection": paged(RELATIONS),
    "post_quote_status_collection": creating(QUOTE_STATUSES),
    "get_quote_status_collection": paged(QUOTE_STATUSES),
    "put_quote_status_item": updating(QUOTE_STATUSES),
    "get_quote_status_item": item(QUOTE_STATUSES),
    "put_quote_item": updating(QUOTE_ENTITY),
    "get_quote_item": item(QUOTE_ENTITY),
}
