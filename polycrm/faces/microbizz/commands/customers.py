"""Customer commands (vendor page: Customer commands); its file and photo commands are in :mod:`.documents`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from polycrm.core import customers, records
from polycrm.core.errors import CoreError, renamed
from polycrm.core.models import Customer, Record
from polycrm.faces.microbizz import wire
from polycrm.faces.microbizz.commands import Call
from polycrm.faces.microbizz.commands._shared import lookup_list, rows_of, sync_page
from polycrm.faces.microbizz.fields import FieldMap
from polycrm.faces.microbizz.maps import CUSTOMER, CUSTOMERTYPE, DEPOTORDERLINE, PROCEDURE, SUBSCRIPTION


def customers_out(call: Call, objs: Sequence[Customer]) -> dict[str, Any]:
    return {"customers": CUSTOMER.many(rows_of(objs), call.ctx)}


# Core fields of a customer write as Microbizz names them in its errors.
CUSTOMER_ERROR_FIELDS = {
    "name": "customer.name", "number": "customer.customernumber", "parent_id": "customer.parentcust",
    "type_id": "customer.typeid", "maingroup_id": "customer.maingroupid", "user_id": "customer.sellerid",
    "extra.ourreference": "customer.ourreference", "extra.theirreference": "customer.theirreference",
}


def save_customer(call: Call, payload: dict[str, Any], current: Customer | None) -> dict[str, Any]:
    """Map the wire customer to core fields and write it through the customer service."""
    patch = CUSTOMER.to_core(payload, current)
    try:
        if current is None:
            current = customers.create(call.ws, patch)
        else:
            customers.update(call.ws, current, patch)
    except CoreError as exc:
        raise renamed(exc, CUSTOMER_ERROR_FIELDS) from None
    return {"customer": CUSTOMER.to_wire(rows_of([current])[0], call.ctx)}


def create_update_customer_by_id(call: Call) -> dict[str, Any]:
    payload, current = call.target("customer", Customer)
    return save_customer(call, payload, current)


def create_update_customer_by_number(call: Call) -> dict[str, Any]:
    payload = call.obj("customer")
    number = call.key_in(payload, "customer", "customernumber")
    # The number names the customer as numbers are compared: trimmed, case ignored.
    return save_customer(call, payload, customers.for_upsert_by_number(call.ws, number))


def get_customer_by_id(call: Call) -> dict[str, Any]:
    customer = call.ws.get(Customer, call.id("customerid", required=True))
    return customers_out(call, [customer] if customer else [])


def get_customer_by_number(call: Call) -> dict[str, Any]:
    customer = customers.by_number(call.ws, call.str("customernumber", required=True))
    return customers_out(call, [customer] if customer else [])


def get_customer_by_name(call: Call) -> dict[str, Any]:
    customer = customers.by_name(call.ws, call.str("customername", required=True))
    return customers_out(call, [customer] if customer else [])


def get_customers_by_parent(call: Call) -> dict[str, Any]:
    found = customers.children(
        call.ws, call.id("customerid", required=True),
        recursive=call.bool("includeall"), ignore_closed=call.bool("ignoreclosed"),
    )
    return customers_out(call, found)


def get_parent_customers(call: Call) -> dict[str, Any]:
    customer = call.ws.get(Customer, call.id("customerid", required=True))
    if customer is None:
        return {"customers": []}
    return customers_out(call, customers.ancestors(call.ws, customer, ignore_closed=call.bool("ignoreclosed")))


def get_customers_by_last_change(call: Call) -> dict[str, Any]:
    filters = {"ignore_closed": call.bool("ignoreclosed"), "skip_deleted": call.bool("skip_deleted")}
    rows, key, _ = sync_page(call, Customer, filters, customers.feed_filter, columns=CUSTOMER.columns)
    out: dict[str, Any] = {"customers": CUSTOMER.render_rows(rows, call.ctx)}
    if key:
        out["resumekey"] = key
    tenant_settings = call.ws.tenant_settings()
    out["qfoncheckout"] = wire.out_int(tenant_settings.get("qfoncheckout"))
    return out


def _record_sync(call: Call, kind: str, fieldmap: FieldMap, key: str, *, skip_deleted: bool = False) -> dict[str, Any]:
    def where(skip_deleted: bool = False) -> list[Any]:
        return records.feed_filter(kind, skip_deleted=skip_deleted)

    rows, resume, _ = sync_page(call, Record, {"skip_deleted": skip_deleted}, where)
    out: dict[str, Any] = {key: fieldmap.many(rows, call.ctx)}
    if resume:
        out["resumekey"] = resume
    return out


def get_depot_order_lines(call: Call) -> dict[str, Any]:
    return _record_sync(call, "depot_order_line", DEPOTORDERLINE, "lines")


def get_procedures(call: Call) -> dict[str, Any]:
    return _record_sync(call, "procedure", PROCEDURE, "procedures", skip_deleted=call.bool("skip_deleted"))


def get_subscriptions_by_last_change(call: Call) -> dict[str, Any]:
    return _record_sync(call, "subscription", SUBSCRIPTION, "subscriptions")


def get_subscriptions_by_customer(call: Call) -> dict[str, Any]:
    found = records.of_customer(call.ws, "subscription", call.id("customerid", required=True))
    return {"subscriptions": SUBSCRIPTION.many(rows_of(found), call.ctx)}


def get_customer_types(call: Call) -> dict[str, Any]:
    return {"types": lookup_list(call, "customer_type", CUSTOMERTYPE)}


def get_maingroups(call: Call) -> dict[str, Any]:
    return {"maingroups": lookup_list(call, "maingroup")}


def get_customer_roles(call: Call) -> dict[str, Any]:
    return {"customer_roles": lookup_list(call, "customer_role")}
