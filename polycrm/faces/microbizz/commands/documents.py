"""File and photo commands of customers and sales contracts (vendor pages:
Customer commands, Sales commands). The rules of a stored file or photo are
the core's (:mod:`polycrm.core.documents`)."""

from __future__ import annotations

import base64
from typing import Any

from polycrm.core import documents
from polycrm.core.models import Customer, Document, Quote
from polycrm.faces.microbizz import wire
from polycrm.faces.microbizz.commands import Call
from polycrm.faces.microbizz.commands._shared import existing_customer, rows_of
from polycrm.faces.microbizz.maps import DOCUMENT, FOLDER

# What an AddFileTo... command reads besides its owner's id.
FILE_ARGUMENTS = ("filename", "filedata", "title", "folder")


def document_out(call: Call, doc: Document, *, thumbs: bool = False) -> dict[str, Any]:
    data = DOCUMENT.to_wire(rows_of([doc])[0], call.ctx)
    if thumbs:
        thumb = call.ws.blobs.get(doc.thumb_sha256) if doc.thumb_sha256 else None
        data["thumbnail"] = base64.b64encode(thumb).decode() if thumb else ""
    return data


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


def add_file(call: Call, owner: tuple[str, int]) -> None:
    filename = call.str("filename", required=True)
    documents.add_file(
        call.ws,
        data=call.binary("filedata"),
        filename=filename,
        title=call.str("title"),
        owner=owner,
        folder=call.str("folder") or "",
    )


def add_file_to_customer(call: Call) -> None:
    customer = existing_customer(call)
    add_file(call, ("customer", customer.id))


def add_file_to_sales_contract(call: Call) -> None:
    contract_id = call.id("contractid", required=True)
    if call.ws.get(Quote, contract_id) is None:
        raise wire.CommandError(f"Unknown contractid: {contract_id}")
    add_file(call, ("quote", contract_id))


def add_photo_to_customer(call: Call) -> dict[str, Any]:
    customer = existing_customer(call)
    document = None
    if call.has("documentid"):
        document = documents.linked_one(call.ws, call.id("documentid"), "customer", customer.id)
        if document is None:
            raise wire.CommandError(f"Unknown documentid: {call.raw('documentid')}")
    values: dict[str, Any] = {}
    if call.has("title"):
        values["title"] = call.str("title") or ""
    if call.given("onxnet"):
        values["onxnet"] = call.bool("onxnet")
    if call.given("tags"):
        values["extra.tags"] = [wire.read_int(t, "tags") for t in call.list("tags")]
    day = call.date("createdate")
    if day is not None:
        values["taken_at"] = call.clock.to_utc(day, call.time("createtime"))
    # New content is required for a new photo, optional for a change of one.
    data = call.binary("imagedata") if (document is None or call.has("imagedata")) else None
    document = documents.save_photo(
        call.ws, data=data, values=values, owner=("customer", customer.id),
        local_now=call.clock.now(), document=document,
    )
    return {"document": document_out(call, document)}
