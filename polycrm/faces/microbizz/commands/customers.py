"""Customer commands (vendor page: Customer commands)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any

from polycrm.core import changes, customers, documents, lookups, records
from polycrm.core.errors import CoreError, renamed
from polycrm.core.models import Customer, Document, Record, TenantScoped
from polycrm.faces.microbizz import wire
from polycrm.faces.microbizz.fields import FieldMap
from polycrm.faces.microbizz.maps import (
    CUSTOMER, CUSTOMERTYPE, DEPOTORDERLINE, DOCUMENT, FOLDER, PROCEDURE, SIMPLE_LIST, SUBSCRIPTION,
)
from polycrm.faces.microbizz.table import Call, command, decode_resumekey, encode_resumekey


# -- shared helpers ------------------------------------------------------------

def sync_page(
    call: Call,
    model: type[TenantScoped],
    filters: dict[str, Any],
    where: Callable[..., Sequence[Any]],
    *,
    paginate: bool = True,
) -> tuple[list[Any], str | None, dict[str, Any]]:
    """One page of a ...ByLastChange sync, the key to the next (if any) and
    the filters in force (from the request, or from the resumekey)."""
    if call.has("resumekey"):
        since, after_id, saved = decode_resumekey(call.args["resumekey"], call.name)
        # The key comes back from the client: it may only carry this command's
        # own switches, so it can't widen what the sync reads.
        if saved.keys() != filters.keys() or not all(isinstance(v, bool) for v in saved.values()):
            raise wire.CommandError("Invalid resumekey")
        filters = saved
    else:
        since, after_id = call.since(), 0
    limit = call.settings.sync_page_size if paginate else None
    rows = changes.changed_since(
        call.ws, model, since, after_id=after_id, limit=limit + 1 if limit else None, where=where(**filters)
    )
    if limit is None or len(rows) <= limit:
        return rows, None, filters
    rows = rows[:limit]
    return rows, encode_resumekey(call.name, since, rows[-1]["id"], filters), filters


def rows_of(objs: Sequence[TenantScoped]) -> list[dict[str, Any]]:
    """ORM objects as row mappings for the field maps."""
    out = []
    for obj in objs:
        out.append({c.key: getattr(obj, c.key) for c in type(obj).__mapper__.column_attrs})
    return out


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


def existing_customer(call: Call, key: str = "customerid", *, required: bool = True) -> Customer | None:
    customer_id = call.id(key, required=required)
    if customer_id is None:
        return None
    customer = call.ws.get(Customer, customer_id)
    if customer is None:
        raise wire.CommandError(f"Unknown {key}: {customer_id}")
    return customer


def lookup_list(call: Call, kind: str, fieldmap: FieldMap = SIMPLE_LIST) -> list[dict[str, Any]]:
    entries = lookups.items(call.ws, kind)
    return fieldmap.many(rows_of(entries), call.ctx)


# -- commands ------------------------------------------------------------------

@command("CreateUpdateCustomerByID", writes=True)
def create_update_customer_by_id(call: Call) -> dict[str, Any]:
    payload, current = call.target("customer", Customer)
    return save_customer(call, payload, current)


@command("CreateUpdateCustomerByCustomerNumber", writes=True)
def create_update_customer_by_number(call: Call) -> dict[str, Any]:
    payload = call.obj("customer")
    number = call.key_in(payload, "customer", "customernumber")
    # The number names the customer as numbers are compared: trimmed, case ignored.
    return save_customer(call, payload, customers.by_folded_number(call.ws, number))


@command("GetCustomerByID")
def get_customer_by_id(call: Call) -> dict[str, Any]:
    customer = call.ws.get(Customer, call.id("customerid", required=True))
    return customers_out(call, [customer] if customer else [])


@command("GetCustomerByCustomerNumber")
def get_customer_by_number(call: Call) -> dict[str, Any]:
    customer = customers.by_number(call.ws, call.str("customernumber", required=True))
    return customers_out(call, [customer] if customer else [])


@command("GetCustomerByName")
def get_customer_by_name(call: Call) -> dict[str, Any]:
    customer = customers.by_name(call.ws, call.str("customername", required=True))
    return customers_out(call, [customer] if customer else [])


@command("GetCustomersByParentID")
def get_customers_by_parent(call: Call) -> dict[str, Any]:
    found = customers.children(
        call.ws, call.id("customerid", required=True),
        recursive=call.bool("includeall"), ignore_closed=call.bool("ignoreclosed"),
    )
    return customers_out(call, found)


@command("GetParentCustomers")
def get_parent_customers(call: Call) -> dict[str, Any]:
    customer = call.ws.get(Customer, call.id("customerid", required=True))
    if customer is None:
        return {"customers": []}
    return customers_out(call, customers.ancestors(call.ws, customer, ignore_closed=call.bool("ignoreclosed")))


@command("GetCustomersByLastChange")
def get_customers_by_last_change(call: Call) -> dict[str, Any]:
    filters = {"ignore_closed": call.bool("ignoreclosed"), "skip_deleted": call.bool("skip_deleted")}
    rows, key, _ = sync_page(call, Customer, filters, customers.feed_filter)
    out: dict[str, Any] = {"customers": CUSTOMER.many(rows, call.ctx)}
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


@command("GetDepotOrderLinesByLastChange")
def get_depot_order_lines(call: Call) -> dict[str, Any]:
    return _record_sync(call, "depot_order_line", DEPOTORDERLINE, "lines")


@command("GetProceduresByLastChange")
def get_procedures(call: Call) -> dict[str, Any]:
    return _record_sync(call, "procedure", PROCEDURE, "procedures", skip_deleted=call.bool("skip_deleted"))


@command("GetSubscriptionsBylastChangeID")
def get_subscriptions_by_last_change(call: Call) -> dict[str, Any]:
    return _record_sync(call, "subscription", SUBSCRIPTION, "subscriptions")


@command("GetSubscriptionsByCustomerID")
def get_subscriptions_by_customer(call: Call) -> dict[str, Any]:
    found = records.of_customer(call.ws, "subscription", call.id("customerid", required=True))
    return {"subscriptions": SUBSCRIPTION.many(rows_of(found), call.ctx)}


@command("GetCustomerTypes")
def get_customer_types(call: Call) -> dict[str, Any]:
    return {"types": lookup_list(call, "customer_type", CUSTOMERTYPE)}


@command("GetMaingroups")
def get_maingroups(call: Call) -> dict[str, Any]:
    return {"maingroups": lookup_list(call, "maingroup")}


@command("GetCustomerRoles")
def get_customer_roles(call: Call) -> dict[str, Any]:
    return {"customer_roles": lookup_list(call, "customer_role")}


# -- documents -----------------------------------------------------------------

def document_out(call: Call, doc: Document, *, thumbs: bool = False) -> dict[str, Any]:
    data = DOCUMENT.to_wire(rows_of([doc])[0], call.ctx)
    if thumbs:
        thumb = call.ws.blobs.get(doc.thumb_sha256) if doc.thumb_sha256 else None
        data["thumbnail"] = base64.b64encode(thumb).decode() if thumb else ""
    return data


@command("GetDocumentsByCustomerID")
def get_documents(call: Call) -> dict[str, Any]:
    customer_id = call.id("customerid", required=True)
    thumbs = call.bool("inclthumbs")
    exists = call.ws.get(Customer, customer_id) is not None
    docs = documents.linked(call.ws, "customer", customer_id) if exists else []
    out: dict[str, Any] = {"documents": [document_out(call, d, thumbs=thumbs) for d in docs]}
    if call.bool("inclfolders"):
        folders = documents.folders_of(call.ws, "customer", customer_id) if exists else []
        out["folders"] = [FOLDER.to_wire(f, call.ctx) for f in folders]
    return out


def add_file(call: Call, owner_kind: str, owner_id: int) -> None:
    filename = call.str("filename", required=True)
    documents.save(
        call.ws,
        data=call.binary("filedata"),
        values={"filename": filename[:255], "title": call.str("title") or filename},
        owner=(owner_kind, owner_id),
        folder=call.str("folder") or "",
    )


@command("AddFileToCustomer", writes=True)
def add_file_to_customer(call: Call) -> None:
    customer = existing_customer(call)
    add_file(call, "customer", customer.id)


@command("AddPhotoToCustomer", writes=True)
def add_photo_to_customer(call: Call) -> dict[str, Any]:
    customer = existing_customer(call)
    ws = call.ws
    document = None
    if call.has("documentid"):
        document = ws.get(Document, call.id("documentid"))
        if document is None or not documents.is_linked(ws, document, "customer", customer.id):
            raise wire.CommandError(f"Unknown documentid: {call.args.get('documentid')}")
    values: dict[str, Any] = {"is_photo": True}
    if call.has("title") or document is None:
        values["title"] = call.str("title") or ""
    if "onxnet" in call.args:
        values["onxnet"] = call.bool("onxnet")
    if "tags" in call.args:
        values["extra.tags"] = [wire.read_int(t, "tags") for t in call.list("tags")]
    day = call.date("createdate")
    if day is not None:
        values["taken_at"] = call.clock.to_utc(day, call.time("createtime"))
    data = call.binary("imagedata") if (document is None or call.has("imagedata")) else None
    if data is not None:
        # The vendor speaks of JPEG, but PNG photos are accepted: type them by content.
        values["mime"] = "image/png" if data.startswith(b"\x89PNG\r\n\x1a\n") else "image/jpeg"
    if document is None:
        extension = "png" if values.get("mime") == "image/png" else "jpg"
        values["filename"] = f"photo-{customer.id}-{call.clock.now():%Y%m%d%H%M%S}.{extension}"
    document = documents.save(ws, data=data, values=values, owner=("customer", customer.id), photo=True, document=document)
    return {"document": document_out(call, document)}

