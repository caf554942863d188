"""files (#70–#75): files = core documents (bytes in the blob store), folders = core folders.

A file is connected to records with ``file`` links (source = the document,
target = the record), the same links the Microbizz face's
``AddFileToCustomer`` writes, so a file is shared between the APIs. The
``connected…`` lists map onto core kinds: accounts = customers, articles =
products, orders = sales orders, users = users, and leads, projects,
objects, missions and subscriptions = records of that kind. ``content`` is
base64 (whitespace and missing padding are tolerated) and is never sent
back: this API has no download. ``name`` is the document's file name.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from polycrm.core import documents, links
from polycrm.core import query as q
from polycrm.core.models import (
    Activity, Contact, Customer, Document, Folder, Lookup, Opportunity, Order, Product, Quote, Record, User,
)
from polycrm.faces.cirrus.entity import Entity, null_to_default, run_page
from polycrm.faces.cirrus.errors import FieldError
from polycrm.faces.cirrus.handlers import Binding, Call, creating, item, updating
from polycrm.faces.cirrus.views import ID_NAME, USER_REF, Ctx, View, attr, children, ref, render
from polycrm.faces.cirrus.writers import Writes, to
from polycrm.faces.cirrus.groups._sales import OPPORTUNITY_REF
from polycrm.faces.cirrus.groups.accounts import ACCOUNT_REF
from polycrm.faces.cirrus.groups.contacts import CONTACT_REF
from polycrm.faces.cirrus.schemas import define

DOCUMENT = q.entity_kind(Document)
RECORD = q.entity_kind(Record)
BASE64_PATTERN = r"^[A-Za-z0-9+/=\s_-]*$"

# connected<list> -> (core model, record kind for records, label)
CONNECTIONS: dict[str, tuple[type, str | None, str]] = {
    "connectedactivities": (Activity, None, "Activity"),
    "connectedaccounts": (Customer, None, "Account"),
    "connectedcontacts": (Contact, None, "Contact"),
    "connectedopportunities": (Opportunity, None, "Opportunity"),
    "connectedorders": (Order, None, "Order"),
    "connectedleads": (Record, "lead", "Lead"),
    "connectedquotes": (Quote, None, "Quote"),
    "connectedprojects": (Record, "project", "Project"),
    "connectedobjects": (Record, "object", "Object"),
    "connectedusers": (User, None, "User"),
    "connectedarticles": (Product, None, "Article"),
    "connectedmissions": (Record, "mission", "Mission"),
    "connectedsubscriptions": (Record, "subscription", "Subscription"),
}
# List filters of #71: query parameter -> the connection it filters on.
FILTERS = {
    "activityid": "connectedactivities", "articleid": "connectedarticles", "accountid": "connectedaccounts",
    "contactid": "connectedcontacts", "opportunityid": "connectedopportunities", "quoteid": "connectedquotes",
    "orderid": "connectedorders", "leadid": "connectedleads", "projectid": "connectedprojects",
    "objectid": "connectedobjects", "userid": "connectedusers", "missionid": "connectedmissions",
}

define("FolderRef", {"id": "int", "name": "str", "parentfolderid": "int"})
define("ActivityRef", {"id": "int", "description": "text", "date": "date", "user": "UserRef", "type": "IdName",
                       "account": "AccountRef"})
define("File", {
    "id": "int", "name": "str", "info": "text", "timestamp": "str", "folderid": "int", "templateid": "int",
    "folder": "FolderRef", "template": "IdName", "activities": "[ActivityRef]", "accounts": "[AccountRef]",
    "contacts": "[ContactRef]", "opportunities": "[OpportunityRef]", **{name: "[int]" for name in CONNECTIONS},
})
define("Folder", {"id": "int", "name": "str", "parentfolderid": "int", "accountid": "int", "files": "[IdName]",
                  "account": "AccountRef", "folders": "[IdName]"})


# -- reading ---------------------------------------------------------------------------
def _connected_ids(ctx: Ctx, doc: Document, name: str) -> list[int]:
    model, record_kind, _ = CONNECTIONS[name]
    ids = ctx.loader.linked_ids(links.FILE, source_kind=DOCUMENT, source_id=doc.id, target_kind=q.entity_kind(model))
    if record_kind is None:
        return ids
    return [r.id for r in ctx.loader.many(Record, ids) if r.kind == record_kind]


def _connected(name: str):
    return lambda ctx, doc: _connected_ids(ctx, doc, name)


def _expanded(name: str, view: View):
    model = CONNECTIONS[name][0]
    return lambda ctx, doc: [render(ctx, view, row) for row in ctx.loader.many(model, _connected_ids(ctx, doc, name))]


ACTIVITY_REF = View("ActivityRef", {
    "id": attr("id"), "description": attr("description"), "date": attr("date"),
    "user": ref(User, "user_id", USER_REF), "type": ref(Lookup, "type_id", ID_NAME),
    "account": ref(Customer, "customer_id", ACCOUNT_REF),
})
FOLDER_REF = View("FolderRef", {"id": attr("id"), "name": attr("name"), "parentfolderid": attr("parent_id")})
FILE_NAME = View("IdName", {"id": attr("id"), "name": attr("filename")})

FILE = View("File", {
    "id": attr("id"), "name": attr("filename"), "info": attr("info"),
    "timestamp": lambda ctx, doc: doc.created_at.strftime("%Y-%m-%d %H:%M:%S") if doc.created_at else None,
    "folderid": attr("folder_id"), "templateid": attr("extra.templateid"),
    "folder": ref(Folder, "folder_id", FOLDER_REF),
    "template": ref(Record, "extra.templateid", View("IdName", {"id": attr("id"), "name": attr("name")})),
    "activities": _expanded("connectedactivities", ACTIVITY_REF),
    "accounts": _expanded("connectedaccounts", ACCOUNT_REF),
    "contacts": _expanded("connectedcontacts", CONTACT_REF),
    "opportunities": _expanded("connectedopportunities", OPPORTUNITY_REF),
    **{name: _connected(name) for name in CONNECTIONS},
})


# -- writing ---------------------------------------------------------------------------
def decode_content(text: str) -> bytes:
    """Base64 (standard or URL-safe); whitespace and missing padding are tolerated."""
    data = re.sub(r"[^A-Za-z0-9+/_-]", "", text)
    if len(data) % 4 == 1:
        data = data[:-1]  # one stray character cannot carry a byte
    try:
        return base64.b64decode(data.replace("-", "+").replace("_", "/") + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        raise FieldError("content is not base64") from None


def to_content(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
    if value is None:
        return
    out.changes["_content"] = decode_content(value)


to_content.schema = {"pattern": BASE64_PATTERN, "maxLength": 64 * 1024 * 1024}  # type: ignore[attr-defined]


def to_folder(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
    if value and ctx.ws.get(Folder, value, include_deleted=False) is None:
        raise FieldError(f"Folder {value} not found", 404)
    out.changes["folder_id"] = int(value) if value else None


def to_connections(name: str):
    model, record_kind, label = CONNECTIONS[name]
    target_kind = q.entity_kind(model)

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        ids = list(dict.fromkeys(int(i) for i in value or [] if i))
        for id_ in ids:
            row = ctx.ws.get(model, id_, include_deleted=False)
            if row is None or (record_kind is not None and row.kind != record_kind):
                raise FieldError(f"{label} {id_} not found", 404)

        def save(ctx: Ctx, doc: Document) -> None:
            current = set(_connected_ids(ctx, doc, name))
            for id_ in current - set(ids):
                links.unlink(ctx.ws, links.FILE, DOCUMENT, doc.id, target_kind, id_)
            for id_ in ids:
                links.link(ctx.ws, links.FILE, DOCUMENT, doc.id, target_kind, id_)

        out.after.append(save)

    return write


class FileEntity(Entity):
    """Documents are saved through the core document service (bytes to the blob store)."""

    def save(self, ctx: Ctx, obj: Any, body: Mapping[str, Any]) -> Any:
        writes = self.apply(ctx, obj, body)
        content = writes.changes.pop("_content", None)
        null_to_default(Document, writes.changes)
        if obj is None and content is None:
            content = b""
        obj = documents.save(ctx.ws, data=content, values=writes.changes, document=obj)
        for step in writes.after:
            step(ctx, obj)
        ctx.ws.flush()
        ctx.loader.clear()
        return obj


def _file_filters(query: Mapping[str, Any]) -> list[q.Criterion]:
    found = []
    for param, name in FILTERS.items():
        if query.get(param) is not None:
            model = CONNECTIONS[name][0]
            found.append(q.Criterion("linked", "id", q.LinkedTo(
                links.FILE, q.entity_kind(model), (query[param],), listed_is_source=True)))
    return found


FILES = FileEntity(
    label="File", model=Document, view=FILE,
    writers={"name": to("filename", required=True), "info": to("info"), "folderid": to_folder,
             "content": to_content, **{name: to_connections(name) for name in CONNECTIONS}},
    sorts={"id": (q.Sort("id"),)}, combined=_file_filters, combined_params=frozenset(FILTERS),
)

# -- folders ---------------------------------------------------------------------------
FOLDER = View("Folder", {
    "id": attr("id"), "name": attr("name"), "parentfolderid": attr("parent_id"),
    "accountid": lambda ctx, f: f.owner_id if f.owner_kind == q.entity_kind(Customer) else None,
    "files": children(Document, "folder_id", FILE_NAME, (q.Sort("id"),)),
    "account": lambda ctx, f: render(ctx, ACCOUNT_REF, ctx.loader.get(Customer, f.owner_id))
    if f.owner_kind == q.entity_kind(Customer) else None,
    "folders": children(Folder, "parent_id", ID_NAME, (q.Sort("name", mode="text"),)),
})


def _folder_filters(query: Mapping[str, Any]) -> list[q.Criterion]:
    found = []
    if query.get("folderid") is not None:
        found.append(q.Criterion("eq", "id", query["folderid"]))
    if query.get("parentfolderid") is not None:
        found.append(q.Criterion("eq", "parent_id", query["parentfolderid"]))
    if query.get("accountid") is not None:
        found += [q.Criterion("eq", "owner_kind", q.entity_kind(Customer)),
                  q.Criterion("eq", "owner_id", query["accountid"])]
    return found


FOLDERS = Entity(label="Folder", model=Folder, view=FOLDER, sorts={"name": (q.Sort("name", mode="text"),)},
                 combined=_folder_filters, combined_params=frozenset({"folderid", "parentfolderid", "accountid"}))


def _sorted_page(entity: Entity, key: str):
    def handle(call: Call) -> dict:
        call.query = {**call.query, "sorting": key}
        return run_page(call, entity)

    return Binding(handle, "page", entity.view, entity)


BINDINGS = {
    "post_file_collection": creating(FILES),
    "get_file_collection": _sorted_page(FILES, "id_asc"),
    "get_file_folder_collection": _sorted_page(FOLDERS, "name_asc"),
    "get_file_folder_item": item(FOLDERS),
    "put_file_item": updating(FILES),
    "get_file_item": item(FILES),
}

