"""templates (#213–#224, all deprecated by the vendor): document templates for
orders and quotes, their categories and languages.

A template is a core ``Record`` of kind ``template`` (``name``, ``active``;
``resource``, ``html``, ``url`` in ``extra``). Categories and languages are
the lookup kinds ``template_category``/``template_language``; a template's
categories, languages and tags are core links to them (kinds
``template_category``, ``template_language``, ``tag``).
"""

from __future__ import annotations

from polycrm.core import links, records
from polycrm.core import query as q
from polycrm.core.models import Lookup
from polycrm.faces.cirrus.entity import f_active, f_eq, f_like, lookup_entity
from polycrm.faces.cirrus.errors import FieldError
from polycrm.faces.cirrus.handlers import creating, item, paged, updating
from polycrm.faces.cirrus.views import TAG_REF, Ctx, View, attr, linked
from polycrm.faces.cirrus.writers import Writes, to, to_bool, to_links
from polycrm.faces.cirrus.groups._records import csv_ids, extra, record_entity, to_int, with_schema
from polycrm.faces.cirrus.schemas import define

KIND = records.TEMPLATE
RESOURCES = ("order", "quote")
CATEGORY_LINK, LANGUAGE_LINK = "template_category", "template_language"

define("TemplateListEntry", {"id": "int", "name": "str", "sort": "int"})
define("Template", {
    "id": "int", "name": "str", "description": "text", "resource": "str", "html": "text", "url": "str",
    "active": "int", "languages": "[TemplateListEntry]", "categories": "[TemplateListEntry]", "tags": "[TagRef]",
})

LIST_ENTRY = View("TemplateListEntry", {"id": attr("id"), "name": attr("name"), "sort": attr("sortorder")})
TEMPLATE = View("Template", {
    "id": attr("id"), "name": attr("name"), "description": extra("description"), "resource": extra("resource"),
    "html": extra("html"), "url": extra("url"), "active": attr("active"),
    "languages": linked(Lookup, LIST_ENTRY, LANGUAGE_LINK, outgoing=True, other_kind=links.LOOKUP),
    "categories": linked(Lookup, LIST_ENTRY, CATEGORY_LINK, outgoing=True, other_kind=links.LOOKUP),
    "tags": linked(Lookup, TAG_REF, links.TAG, outgoing=True, other_kind=links.LOOKUP),
})


def write_resource(ctx: Ctx, obj: object, value: object, out: Writes) -> None:
    if value not in RESOURCES:
        raise FieldError(f"{value!r} is not one of {list(RESOURCES)}")
    out.changes["extra.resource"] = value


def linked_to(kind: str):
    """Templates linked to any of the listed categories/languages."""
    def build(value: object) -> list[q.Criterion]:
        ids = csv_ids(value)
        return [q.Criterion("linked", "id", q.LinkedTo(kind, links.LOOKUP, tuple(ids), listed_is_source=True))] if ids else []

    return build


TEMPLATE_ENTITY = record_entity(
    "Template", KIND, TEMPLATE, service=records.TEMPLATES,
    writers={
        "name": to("name", required=True), "resource": with_schema(write_resource, {"enum": list(RESOURCES)}), "html": to("extra.html"),
        "url": to("extra.url"), "active": to_bool("active"),
        "languages": to_links(LANGUAGE_LINK, "template_language", "Template language"),
        "categories": to_links(CATEGORY_LINK, "template_category", "Template category"),
        "tags": to_links(links.TAG, "tag", "Tag"),
    },
    filters={"name": f_like("name"), "active": f_active(), "resource": f_eq("extra.resource"),
             "languageids": linked_to(LANGUAGE_LINK), "categoryids": linked_to(CATEGORY_LINK)},
    sorts={"name": (q.Sort("name", mode="text"),), "number": (q.Sort("id"),)},
)


def list_entity(label: str, kind: str):
    return lookup_entity(
        label, kind, LIST_ENTRY,
        writers={"name": to("name", required=True), "sort": to_int("sortorder")},
        filters={"name": f_like("name")},
        sorts={"sort": (q.Sort("sortorder"),), "name": (q.Sort("name", mode="text"),), "number": (q.Sort("id"),)},
    )


CATEGORY_ENTITY = list_entity("Template category", "template_category")
LANGUAGE_ENTITY = list_entity("Template language", "template_language")

BINDINGS = {
    "post_template_collection": creating(TEMPLATE_ENTITY),
    "get_template_collection": paged(TEMPLATE_ENTITY),
    "post_template_category_collection": creating(CATEGORY_ENTITY),
    "get_template_category_collection": paged(CATEGORY_ENTITY),
    "put_template_category_item": updating(CATEGORY_ENTITY),
    "get_template_category_item": item(CATEGORY_ENTITY),
    "post_template_language_collection": creating(LANGUAGE_ENTITY),
    "get_template_language_collection": paged(LANGUAGE_ENTITY),
    "put_template_language_item": updating(LANGUAGE_ENTITY),
    "get_template_language_item": item(LANGUAGE_ENTITY),
    "put_template_item": updating(TEMPLATE_ENTITY),
    "get_template_item": item(TEMPLATE_ENTITY),
}
