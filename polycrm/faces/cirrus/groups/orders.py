"""orders (#104–#107): orders = core :class:`Order` + :class:`OrderLine` (the
rows Microbizz ``CreateDirectOrder`` makes).

A new order gets the next order number (``O-00001``, as Microbizz direct
orders). ``placedate``/``deliverydate`` keep only their date part (the doc:
"only the date part is used") and read back as midnight UTC. The delivery
and payment terms and the delivery type are ids of the core lists
``delivery_term``/``payment_term``/``delivery_type`` kept in ``extra``.
Orders are written through :data:`polycrm.core.orders.SERVICE` and their
rows through its line service: an order with rows is priced at the sum of
the row totals, whichever API wrote them; one without rows keeps the price
sent.
"""

from __future__ import annotations

from typing import Any

from polycrm.core import links, orders
from polycrm.core import query as q
from polycrm.core.models import Contact, Customer, Lookup, Opportunity, Order, OrderLine, Record, User
from polycrm.faces.cirrus.entity import Entity, f_eq, f_from, f_ids, f_to
from polycrm.faces.cirrus.handlers import creating, item, paged, updating
from polycrm.faces.cirrus.views import ID_NAME, TAG_REF, USER_REF, View, attr, linked, ref
from polycrm.faces.cirrus.writers import to, to_links
from polycrm.faces.cirrus.groups._documents import (
    Rows, csv_ids, mission_filter, parent_value, register_row_input, row_total, times,
)
from polycrm.faces.cirrus.groups._sales import (
    CONTACT_REF, OPPORTUNITY_REF, to_day, to_flag, to_lookup_ref, to_number, to_ref,
)
from polycrm.faces.cirrus.groups.accounts import ACCOUNT_REF
from polycrm.faces.cirrus.groups.pricelists import PRICELIST
from polycrm.faces.cirrus.schemas import define

ADDRESS_FIELDS = [f"{kind}{part}" for kind in ("delivery", "invoice") for part in ("name", "street", "zip", "city", "country")]

define("OrderRow", {
    "id": "int", "orderid": "int", "accountid": "int", "userid": "int", "opportunityid": "int",
    "quantityordered": "num", "quantitydelivered": "num", "discountspecial": "num", "sortorder": "int",
    "price": "num", "currencycode": "str", "currencyrate": "num", "statisticsprice": "num",
    "alternatvievalue": "num", "buyprice": "num", "specification": "text", "discountpercent": "num",
    "discountamount": "num", "externalkey": "str", "noprint": "int", "deleted": "int", "pricewarning": "int",
    "totalprice": "num", "totalpricestatistics": "num", "totalalternativevalue": "num", "pricelist": "Pricelist",
    "pricegroup": "PriceGroup", "sortgroup": "int", "article": "ArticleRef", "articleunit": "IdName",
    "tags": "[TagRef]",
})
define("Order", {
    "id": "int", "price": "num", "currencycode": "str", "currencyrate": "num", "statisticsprice": "num",
    "alternativevalue": "num", "buyprice": "num", "discounted": "bool", "placedate": "datetime",
    "alternateid": "str", "externalcomment": "text", "deliverydate": "datetime",
    **{name: "str" for name in ADDRESS_FIELDS[:5]},
    **{name: "str" for name in ADDRESS_FIELDS[5:]}, "invoiceemail": "str",
    "invoicenumber": "str", "invoicedate": "str", "externalkey": "str", "internalcomment": "text",
    "marking": "str", "referencecode": "str", "extracode": "str", "pricelist": "Pricelist",
    "tscreated": "datetime", "tsupdated": "datetime", "account": "AccountRef", "user": "UserRef",
    "user2": "UserRef", "opportunity": "OpportunityRef", "contact": "ContactRef", "status": "IdName",
    "deliveryterm": "IdName", "paymentterm": "IdName", "deliverytype": "IdName", "type": "IdName",
    "delivered": "int", "tags": "[TagRef]", "rows": "[OrderRow]",
})

ORDER_ROWS = Rows(
    schema="OrderRow", model=OrderLine, fk="order_id",
    fields={
        "quantityordered": "quantity", "quantitydelivered": "quantity_delivered",
        "discountspecial": "extra.discountspecial", "sortorder": "sortorder", "price": "price",
        "currencycode": "extra.currencycode", "currencyrate": "extra.currencyrate",
        "statisticsprice": "extra.statisticsprice", "alternatvievalue": "extra.alternativevalue",
        "buyprice": "cost_price", "specification": "text", "discountpercent": "discountpercent",
        "discountamount": "discountamount", "externalkey": "extra.externalkey", "noprint": "extra.noprint",
        "pricewarning": "extra.pricewarning", "sortgroup": "extra.sortgroup",
    },
    computed={
        "id": attr("id"), "orderid": attr("order_id"),
        "accountid": parent_value(Order, "order_id", "customer_id"),
        "userid": parent_value(Order, "order_id", "user_id"),
        "opportunityid": parent_value(Order, "order_id", "opportunity_id"),
        "deleted": attr("deleted"),
        "totalprice": lambda ctx, row: row_total(row),
        "totalpricestatistics": times("extra.statisticsprice"),
        "totalalternativevalue": times("extra.alternativevalue"),
    },
)
register_row_input(ORDER_ROWS)
ORDER_ROW = ORDER_ROWS.view()

ORDER = View("Order", {
    "id": attr("id"), "price": attr("price"), "currencycode": attr("currencycode"),
    **{n: attr(f"extra.{n}") for n in ("currencyrate", "statisticsprice", "alternativevalue", "buyprice",
                                       "discounted")},
    "placedate": attr("placedate"), "alternateid": attr("extra.alternateid"),
    "externalcomment": attr("externalcomment"), "deliverydate": attr("deliverydate"),
    **{n: attr(f"extra.{n}") for n in (*ADDRESS_FIELDS, "invoiceemail", "invoicenumber", "invoicedate")},
    "externalkey": attr("externalkey"), "internalcomment": attr("internalcomment"),
    **{n: attr(f"extra.{n}") for n in ("marking", "referencecode", "extracode")},
    "pricelist": ref(Record, "extra.pricelist_id", PRICELIST),
    "tscreated": attr("created_at"), "tsupdated": attr("changed_at"),
    "account": ref(Customer, "customer_id", ACCOUNT_REF), "user": ref(User, "user_id", USER_REF),
    "user2": ref(User, "user2_id", USER_REF), "opportunity": ref(Opportunity, "opportunity_id", OPPORTUNITY_REF),
    "contact": ref(Contact, "contact_id", CONTACT_REF), "status": ref(Lookup, "status_id", ID_NAME),
    "deliveryterm": ref(Lookup, "extra.deliveryterm_id", ID_NAME),
    "paymentterm": ref(Lookup, "extra.paymentterm_id", ID_NAME),
    "deliverytype": ref(Lookup, "extra.deliverytype_id", ID_NAME),
    "type": ref(Lookup, "type_id", ID_NAME), "delivered": attr("delivered"),
    "tags": linked(Lookup, TAG_REF, links.TAG, outgoing=True, other_kind=links.LOOKUP),
    "rows": ORDER_ROWS.reader(ORDER_ROW),
})


def head_writers(status_kind: str, status_label: str) -> dict[str, Any]:
    """The body fields orders and quotes share."""
    return {
        "placedate": to_day("placedate"), "deliverydate": to_day("deliverydate"),
        "account": to_ref("customer_id", Customer, "Account"), "user": to_ref("user_id", User, "User"),
        "user2": to_ref("user2_id", User, "User"), "contact": to_ref("contact_id", Contact, "Contact"),
        "opportunity": to_ref("opportunity_id", Opportunity, "Opportunity"),
        "status": to_lookup_ref("status_id", status_kind, status_label),
        "deliveryterm": to_lookup_ref("extra.deliveryterm_id", "delivery_term", "Deliveryterm"),
        "paymentterm": to_lookup_ref("extra.paymentterm_id", "payment_term", "Paymentterm"),
        "deliverytype": to_lookup_ref("extra.deliverytype_id", "delivery_type", "Deliverytype"),
        "price": to_number("price"), "currencycode": to("currencycode"),
        **{n: to_number(f"extra.{n}") for n in ("currencyrate", "statisticsprice", "alternativevalue", "buyprice")},
        "discounted": to_flag("extra.discounted"), "alternateid": to("extra.alternateid"),
        "externalcomment": to("externalcomment"), "internalcomment": to("internalcomment"),
        "externalkey": to("externalkey"),
        **{n: to(f"extra.{n}") for n in (*ADDRESS_FIELDS[:5], "marking", "referencecode", "extracode")},
        "tags": to_links(links.TAG, "tag", "Tag"),
    }


ORDER_ENTITY = Entity(
    label="Order", model=Order, view=ORDER,
    writers={
        **head_writers("order_status", "Orderstatus"),
        **{n: to(f"extra.{n}") for n in (*ADDRESS_FIELDS[5:], "invoiceemail", "invoicenumber", "invoicedate")},
        "type": to_lookup_ref("type_id", "order_type", "Ordertype"),
        "delivered": to_flag("delivered"),
        "rows": ORDER_ROWS.writer(orders.LINE_SERVICE),
    },
    filters={
        "number": f_eq("number"), "altnumber": f_eq("extra.alternateid"), "externalkey": f_eq("externalkey"),
        "accountids": csv_ids("customer_id"), "statusids": csv_ids("status_id"),
        "opportunityid": f_eq("opportunity_id"), "contactid": f_eq("contact_id"), "userids": f_ids("user_id"),
        "datespan_start": f_from("placedate"), "datespan_end": f_to("placedate"), "typeids": f_ids("type_id"),
        "accountresponsibleids": f_ids("customer_id->customer.user_id"),
        "accounttypeids": f_ids("customer_id->customer.type_id"),
    },
    combined=mission_filter("sales_order"), combined_params=frozenset({"missionids", "missionresult"}),
    sorts={
        "placedate": (q.Sort("placedate"),), "deliverydate": (q.Sort("deliverydate"),),
        "number": (q.Sort("number", mode="numeric_text"),), "accountid": (q.Sort("customer_id"),),
        "externalkey": (q.Sort("externalkey"),),
    },
    fulltext="internalcomment,externalcomment",
    service=orders.SERVICE,
)

BINDINGS = {
    "post_order_collection": creating(ORDER_ENTITY),
    "get_order_collection": paged(ORDER_ENTITY),
    "put_order_item": updating(ORDER_ENTITY),
    "get_order_item": item(ORDER_ENTITY),
}
