"""The Opportunities module: list, find and create opportunities with their
product lines (its input list is :mod:`.catalogs`)."""

from __future__ import annotations

from typing import Any

from polycrm.core import opportunities, profiles, queries
from polycrm.core.errors import CoreError
from polycrm.core.models import Contact, Customer, Opportunity, User
from polycrm.faces.centia import maps
from polycrm.faces.centia.modules._common import Call, inputs_of, page_response, paging, span, wire_named
from polycrm.faces.centia.modules.companies import company_out
from polycrm.faces.centia.modules.contacts import contact_out
from polycrm.faces.centia.modules.profiles import user_out
from polycrm.faces.centia.wire import ApiError, invalid, out_money, out_number

# Core fields of an opportunity write as centiaCRM names them in its errors
# (``lines[0].product_id`` is ``products[0].product_id``).
OPPORTUNITY_ERROR_FIELDS = {"customer_id": "company_id", "lines": "products"}


def line_out(line: Any) -> dict[str, Any]:
    return {
        "product_id": line.product_id,
        "amount": out_number(line.quantity),
        "price": out_money(line.price),
        "discount": out_money(line.discount),
        "tax": out_money(line.tax),
        "total": out_money(line.total),
    }


def opportunities_out(call: Call, items: list[Opportunity]) -> list[dict[str, Any]]:
    a = call.args
    ids = [o.id for o in items]
    lines = opportunities.lines_of(call.ws, ids) if a.get("with_products") else {}
    inputs = inputs_of(call, "opportunity", ids) if a.get("with_inputs") else {}
    users = call.ws.by_ids(User, [o.user_id for o in items]) if a.get("with_user") else {}
    companies = call.ws.by_ids(Customer, [o.customer_id for o in items]) if a.get("with_company") else {}
    contacts = call.ws.by_ids(Contact, [o.contact_id for o in items]) if a.get("with_contact") else {}
    out = []
    for o in items:
        item = maps.to_wire(o, maps.OPPORTUNITY)
        item["profile_id"] = o.profile_id if o.profile_id is not None else call.profile.id
        user, company, contact = users.get(o.user_id), companies.get(o.customer_id), contacts.get(o.contact_id)
        item["user"] = user_out(user) if user else None
        item["company"] = company_out(call, company, addresses=True) if company else None
        item["contact"] = contact_out(call, contact, addresses=True) if contact else None
        item["products"] = [line_out(x) for x in lines.get(o.id, [])] if a.get("with_products") else None
        item["inputs"] = inputs.get(o.id)
        out.append(item)
    return out


def line_to_core(index: int, line: dict[str, Any]) -> dict[str, Any]:
    """A centia product line as a core opportunity line; its tax is a fraction."""
    tax = line.get("tax")
    if tax is not None and not 0 <= tax <= 1:
        raise invalid(f"products[{index}].tax", "must be a fraction between 0.00 and 1.00")
    return {
        "product_id": line["product_id"],
        "quantity": line["amount"],
        "price": line["price"],
        "discount": line.get("discount"),
        "tax": tax,
        "total": line.get("total"),
    }


def create_opportunity(call: Call) -> dict[str, Any]:
    a = call.args
    values = maps.to_core(call.ws, call.profile, maps.OPPORTUNITY, a)
    values["profile_id"] = call.profile.id
    lines = [line_to_core(i, line) for i, line in enumerate(a.get("products") or [])]
    try:
        opportunity = opportunities.create(
            call.ws, values, lines, notify=a["notify"], comment=a.get("comment"), contact_of_customer=True,
            profile=call.profile, inputs=a.get("inputs"),
        )
    except CoreError as exc:
        raise wire_named(exc, OPPORTUNITY_ERROR_FIELDS) from None
    call.args = {**a, "with_products": True, "with_inputs": True}
    return {"opportunity": opportunities_out(call, [opportunity])[0]}


def get_opportunity(call: Call) -> dict[str, Any]:
    opportunity = call.ws.get(Opportunity, call.args["opportunity_id"], include_deleted=False)
    if opportunity is None or not profiles.owns(call.profile, opportunity.profile_id):
        raise ApiError("opportunity not found")
    return {"opportunity": opportunities_out(call, [opportunity])[0]}


def get_opportunities(call: Call) -> dict[str, Any]:
    a = call.args
    extra = {}
    if "contact_type" in a:
        extra["prospect_type"] = a["contact_type"]
    if "operation_type" in a:
        extra["operation_type"] = a["operation_type"]
    value_min, value_max = a.get("value") or (None, None)
    page = queries.opportunities(
        call.ws,
        call.profile,
        user_id=a.get("user_id"),
        status=a.get("status"),
        extra_equals=extra,
        stage_ids=a.get("stage"),
        contact_origin_ids=a.get("contact_origin"),
        industry_ids=a.get("company_industry"),
        value_min=value_min,
        value_max=value_max,
        created=span(call, "created_at"),
        estimated_end=span(call, "estimated_end_at"),
        closed=span(call, "closed_at"),
        text=a.get("query"),
        **paging(call),
    )
    return page_response("opportunities", page, opportunities_out(call, page.items))
