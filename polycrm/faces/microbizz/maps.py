"""The Microbizz objects as field maps over the core model.

Names follow the vendor's complex types where they are documented and the
reference's inferences where they are not (see docs/microbizz.md).
"""

from __future__ import annotations

import html
from typing import Any

from polycrm.core.workspace import get_path
from polycrm.faces.microbizz import wire
from polycrm.faces.microbizz.fields import (
    Field, FieldMap, RenderContext, boolean, computed, date, floating, int_list, integer,
    name_of, number, ref, stamp_date, stamp_time, stamps, street_line, text,
)


def _visiting(part: str) -> str:
    return f"addresses.visiting.{part}"


def _invoice(part: str) -> str:
    return f"addresses.invoice.{part}"


CUSTOMER = FieldMap("customer", [
    integer("id", "id", readonly=True),
    text("customernumber", "number"),
    text("creditornumber", "extra.creditornumber"),
    text("name", "name"),
    text("description", "description"),
    text("secondary_text", "alt_name"),
    int_list("icons", "extra.icons"),
    ref("ourreference", "extra.ourreference"),
    name_of("ourreferencetext", "extra.ourreference", "user"),
    ref("theirreference", "extra.theirreference"),
    name_of("theirreferencetext", "extra.theirreference", "contact"),
    text("vat", "vat"),
    number("vatpercentage", "extra.vatpercentage"),
    text("publicid", "extra.publicid"),
    street_line("address", "visiting"),  # street, number and interior number in one line
    text("address2", _visiting("street2")),
    text("zip", _visiting("zip")),
    text("city", _visiting("city")),
    text("country", _visiting("country")),
    text("invoicename", _invoice("name")),
    street_line("invoiceaddress", "invoice"),
    text("invoiceaddress2", _invoice("street2")),
    text("invoicezip", _invoice("zip")),
    text("invoicecity", _invoice("city")),
    text("invoicecountry", _invoice("country")),
    text("invoiceemail", _invoice("email")),
    text("phone", "phone"),
    text("cellphone", "cellphone"),
    text("fax", "fax"),
    text("www", "www"),
    text("email", "email"),
    text("trade", "extra.trade"),
    integer("team", "extra.team"),
    ref("typeid", "type_id"),
    name_of("typetext", "type_id", "lookup"),
    integer("alertradius", "extra.alertradius"),
    boolean("isprospect", "is_prospect"),
    boolean("issubcontractor", "extra.issubcontractor"),
    boolean("isblocked", "extra.isblocked"),
    boolean("isdeleted", "deleted"),
    boolean("isclosed", "active", inverted=True),
    boolean("invoiceup", "extra.invoiceup"),
    floating("longitude", "longitude"),
    floating("latitude", "latitude"),
    ref("parentcust", "parent_id"),
    ref("sellerid", "user_id"),
    name_of("sellertext", "user_id", "user"),
    ref("maingroupid", "maingroup_id"),
    date("startdate", "extra.startdate", iso=True),
    boolean("requestconsent", "extra.requestconsent"),
    boolean("mailimport", "extra.mailimport"),
    *stamps(),
])


PRODUCT = FieldMap("product", [
    integer("id", "id", readonly=True),
    text("productnumber", "number"),
    text("title", "name"),
    text("shorttitle", "short_name"),
    text("description", "description"),
    number("price", "price"),
    number("costprice", "cost_price"),
    number("vat", "vat"),
    ref("unitid", "unit_id"),
    name_of("unit", "unit_id", "lookup"),
    ref("groupid", "group_id"),
    name_of("grouptext", "group_id", "lookup"),
    text("ean", "ean"),
    text("url", "extra.url"),
    text("vatgroup", "extra.vatgroup"),
    text("discountgroup", "extra.discountgroup"),
    boolean("pricesdisabled", "prices_hidden"),
    boolean("isclosed", "active", inverted=True),
    boolean("isdeleted", "deleted"),
    *stamps(),
])
PRICE_FIELDS = ("price", "costprice")


def product_wire(row: Any, ctx: RenderContext, favorites: set[int]) -> dict[str, Any]:
    """A product as Microbizz shows it: prices only where enabled or asked for."""
    data = PRODUCT.to_wire(row, ctx)
    if row["prices_hidden"] and not ctx.include_prices:
        for key in PRICE_FIELDS:
            data.pop(key, None)
    data["isfavorite"] = wire.out_bool(row["id"] in favorites)
    return data


def _contracthtml(row: Any, _ctx: RenderContext) -> str:
    body = get_path(row, "description")
    return "<p>" + html.escape(body).replace("\n", "<br>") + "</p>" if body else ""


SALESCONTRACT = FieldMap("salescontract", [
    integer("id", "id", readonly=True),
    text("number", "number"),
    text("title", "title"),
    ref("customerid", "customer_id"),
    name_of("customertext", "customer_id", "customer"),
    ref("userid", "user_id"),
    name_of("usertext", "user_id", "user"),
    text("requisition", "extra.requisition"),
    integer("unitid", "extra.unitid"),
    integer("team", "extra.team"),
    integer("todoref", "extra.todoref"),
    int_list("todorefs", "extra.todorefs"),
    text("contracttext", "description"),
    computed("contracthtml", _contracthtml),
    date("startdate", "startdate"),
    date("expecteddate", "expecteddate"),
    date("validtodate", "validtodate"),
    ref("phaseid", "extra.phaseid"),
    name_of("phasetext", "extra.phaseid", "lookup"),
    ref("stateid", "status_id", readonly=True),
    name_of("statetext", "status_id", "lookup"),
    ref("personid", "contact_id"),
    name_of("persontext", "contact_id", "contact"),
    ref("typeid", "type_id"),
    name_of("typetext", "type_id", "lookup"),
    ref("opportunityid", "opportunity_id"),
    number("price", "price", readonly=True),
    boolean("isdeleted", "deleted"),
    *stamps(),
])

SALESCONTRACTLINE = FieldMap("line", [
    integer("id", "id", readonly=True),
    ref("contractid", "quote_id"),
    number("count", "quantity"),
    text("units", "unit"),
    ref("productid", "product_id"),
    text("productnumber", "product_number"),
    text("title", "text"),
    number("price", "price"),
    number("costprice", "cost_price"),
    number("discount", "discountpercent"),
    integer("sortorder", "sortorder"),
    *stamps(),
])

CALL = FieldMap("call", [
    integer("id", "id", readonly=True),
    text("phonenumber", "phonenumber"),
    boolean("incoming", "incoming"),
    Field("calldate", "start", None, lambda v, ctx: ctx.clock.date_of(v)),
    Field("calltime", "start", None, lambda v, ctx: ctx.clock.time_of(v)),
    integer("duration", "duration"),
    ref("userid", "user_id", readonly=True),
    name_of("usertext", "user_id", "user"),
    ref("customerid", "customer_id"),
    name_of("customertext", "customer_id", "customer"),
    ref("personid", "contact_id"),
    name_of("persontext", "contact_id", "contact"),
    text("title", "description"),
    text("note", "result"),  # what came of the call: the Cirrus activity result
    boolean("ended", "closed", readonly=True),
    *stamps(),
])

DOCUMENT = FieldMap("document", [
    integer("id", "id"),
    text("filename", "filename"),
    text("title", "title"),
    integer("folderid", "folder_id"),
    integer("size", "size"),
    text("mimetype", "mime"),
    boolean("isphoto", "is_photo"),
    boolean("onxnet", "onxnet"),
    int_list("tags", "extra.tags"),
    Field("photodate", "taken_at", None, lambda v, ctx: ctx.clock.date_of(v)),
    Field("phototime", "taken_at", None, lambda v, ctx: ctx.clock.time_of(v)),
    ref("userid", "user_id"),
    *stamps(),
])

FOLDER = FieldMap("folder", [
    integer("id", "id"),
    text("name", "name"),
    integer("parentid", "parent_id"),
    text("path", "path"),
])

PRODUCTUNIT = FieldMap("unit", [
    integer("id", "id", readonly=True),
    text("title", "name"),
    text("code", "code"),
    integer("sortorder", "sortorder"),
])

# The small lists: an id and a title, plus a few documented extras.
SIMPLE_LIST = FieldMap("item", [integer("id", "id"), text("title", "name")])
PRODUCTGROUP = FieldMap("group", [integer("id", "id"), text("title", "name"), integer("parentid", "parent_id")])
CUSTOMERTYPE = FieldMap("type", [
    integer("id", "id"), text("title", "name"), text("letter", "code"), text("color", "extra.color"),
    integer("sortorder", "sortorder"), boolean("isdefault", "is_default"),
])
MAEVENT = FieldMap("event", [
    integer("id", "id"), text("title", "name"), date("date", "extra.date", iso=True),
    text("location", "extra.location"), text("description", "extra.description"),
])

PROCEDURE = FieldMap("procedure", [
    integer("id", "id"), text("title", "name"), text("description", "extra.description"),
    ref("customerid", "customer_id"), text("interval", "extra.interval"),
    boolean("isdeleted", "deleted"), *stamps(),
])
SUBSCRIPTION = FieldMap("subscription", [
    integer("id", "id"), ref("customerid", "customer_id"), text("number", "number"), text("title", "name"),
    text("note", "extra.note"), date("startdate", "extra.startdate", iso=True),
    date("enddate", "extra.enddate", iso=True), text("interval", "extra.interval"),
    number("price", "extra.price"), boolean("active", "active"), boolean("isdeleted", "deleted"), *stamps(),
])
DEPOTORDERLINE = FieldMap("depotorderline", [
    integer("id", "id"), ref("customerid", "customer_id"), integer("productid", "extra.productid"),
    text("productnumber", "number"), text("title", "name"), number("count", "extra.count"),
    text("depot", "extra.depot"), integer("orderid", "parent_id"), boolean("isdeleted", "deleted"), *stamps(),
])

INVOICEPRICE = FieldMap("ips", [
    text("itemnumber", "itemnumber"),
    number("hourprice", "hourprice"),
    number("costprice", "costprice"),
    number("discount", "discount"),
    number("timeconversion", "timeconversion"),
    integer("workareaid", "workareaid"),
])

__all__ = [
    "CUSTOMER", "PRODUCT", "SALESCONTRACT", "SALESCONTRACTLINE", "CALL", "DOCUMENT", "FOLDER",
    "PRODUCTUNIT", "SIMPLE_LIST", "PRODUCTGROUP", "CUSTOMERTYPE", "MAEVENT", "PROCEDURE",
    "SUBSCRIPTION", "DEPOTORDERLINE", "INVOICEPRICE", "product_wire", "stamp_date", "stamp_time",
]
