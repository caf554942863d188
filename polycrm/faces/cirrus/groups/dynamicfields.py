"""dynamicfields (#66–#69): dynamic fields = core custom fields, dynamic data = their values.

The same definitions and values are the centiaCRM face's "inputs"
(:mod:`polycrm.core.custom_fields`). Mapping:

* ``group`` / ``resourcetype``: the entity the field belongs to (account =
  core ``customer``, article = ``product``, order = ``sales_order``, ...).
* ``options``: the field's option texts; option ``id`` n is the n-th option.
* ``type``: a FieldOption naming the core field type (text, textarea, number,
  date, boolean, select, multiselect); its ``id`` is the type's position.
* ``size``, ``help``, ``inoverview``, ``visible``, ``readonly``, ``fieldgroup``:
  kept in the definition's ``extra`` (visible defaults to true).
* ``selected``/``unselected``: of a select field, the options the value holds
  and the others; of a definition, nothing selected.
"""

from __future__ import annotations

from typing import Any

from polycrm.core import custom_fields
from polycrm.core import query as q
from polycrm.core.errors import Invalid
from polycrm.core.models import (
    Activity, Contact, CustomField, Customer, Opportunity, Order, Product, Quote, TenantScoped,
)
from polycrm.faces.cirrus.errors import ApiError, invalid
from polycrm.faces.cirrus.handlers import Call, custom
from polycrm.faces.cirrus.views import Ctx, View, attr, render
from polycrm.faces.cirrus.groups._records import page_of
from polycrm.faces.cirrus.schemas import define

RESOURCES: dict[str, type[TenantScoped]] = {
    "account": Customer, "contact": Contact, "order": Order, "quote": Quote, "opportunity": Opportunity,
    "activity": Activity, "article": Product,
}
GROUP_OF = {q.entity_kind(model): name for name, model in RESOURCES.items()}
MISSING = "Missing required parameter in the query string"

define("FieldOption", {"id": "int", "fieldid": "int", "label": "str", "sortorder": "int", "group": "str"})
define("FieldType", {"id": "int", "fieldid": "int", "label": "str", "sortorder": "int", "group": "str"})
define("FieldGroup", {"id": "int", "name": "str", "created": "datetime", "updated": "datetime"})
define("FieldDefinition", {
    "id": "int", "name": "str", "group": "str", "sortorder": "int", "size": "int", "help": "str", "required": "bool",
    "inoverview": "bool", "visible": "bool", "readonly": "bool", "options": "[FieldOption]", "type": "FieldOption",
    "fieldgroup": "FieldGroup", "selected": "[FieldOption]", "unselected": "[FieldOption]",
})
define("FieldValue", {
    "id": "int", "name": "str", "required": "bool", "inoverview": "bool", "visible": "bool", "readonly": "bool",
    "selected": "[FieldOption]", "unselected": "[FieldOption]", "type": "FieldOption", "value": "str",
})


def group(field: CustomField) -> str:
    return GROUP_OF.get(field.entity, field.entity)


def options(field: CustomField) -> list[dict[str, Any]]:
    return [{"id": i, "fieldid": field.id, "label": label, "sortorder": i, "group": group(field)}
            for i, label in enumerate(field.options or [], start=1)]


def type_option(field: CustomField) -> dict[str, Any]:
    position = custom_fields.FIELD_TYPES.index(field.field_type) + 1 if field.field_type in custom_fields.FIELD_TYPES else 0
    return {"id": position, "fieldid": field.id, "label": field.field_type, "sortorder": position, "group": group(field)}


def setting(name: str, default: Any = None):
    return lambda ctx, field: (field.extra or {}).get(name, default)


def fieldgroup(ctx: Ctx, field: CustomField) -> Any:
    found = (field.extra or {}).get("fieldgroup")
    return found if isinstance(found, dict) else None


DEFINITION = View("FieldDefinition", {
    "id": attr("id"), "name": attr("name"), "group": lambda ctx, f: group(f), "sortorder": attr("sortorder"), "size": setting("size"),
    "help": setting("help"), "required": attr("required"), "inoverview": setting("inoverview", False),
    "visible": setting("visible", True), "readonly": setting("readonly", False),
    "options": lambda ctx, f: options(f), "type": lambda ctx, f: type_option(f), "fieldgroup": fieldgroup,
    "selected": lambda ctx, f: [], "unselected": lambda ctx, f: options(f),
})


def chosen(field: CustomField, value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


# A value row is (field, typed value).
VALUE = View("FieldValue", {
    "id": lambda ctx, row: row[0].id, "name": lambda ctx, row: row[0].name,
    "required": lambda ctx, row: row[0].required,
    "inoverview": lambda ctx, row: setting("inoverview", False)(ctx, row[0]),
    "visible": lambda ctx, row: setting("visible", True)(ctx, row[0]),
    "readonly": lambda ctx, row: setting("readonly", False)(ctx, row[0]),
    "selected": lambda ctx, row: [o for o in options(row[0]) if o["label"] in chosen(row[0], row[1])],
    "unselected": lambda ctx, row: [o for o in options(row[0]) if o["label"] not in chosen(row[0], row[1])],
    "type": lambda ctx, row: type_option(row[0]), "value": lambda ctx, row: as_text(row[1]),
})

SORTS = {"name": "name", "sorting": "sortorder", "groupname": "entity"}


def _sort(query: dict) -> list[q.Sort]:
    key, _, direction = (query.get("sorting") or "sorting_asc").rpartition("_")
    return [q.Sort(SORTS[key], direction == "desc", "text" if key == "name" else "plain")]


def _groups(values: list[str] | None) -> list[str] | None:
    """The entities of the ``groups`` named (None: no filter); unknown names match nothing."""
    names = [part.strip() for value in values or [] for part in value.split(",") if part.strip()]
    if not names:
        return None
    return [q.entity_kind(RESOURCES[n]) for n in names if n in RESOURCES]


def definitions(call: Call) -> dict:
    query = call.query
    crit = [q.Criterion("one_of", "entity", [q.entity_kind(m) for m in RESOURCES.values()])]
    entities = _groups(query.get("groups"))
    if entities is not None:
        crit.append(q.Criterion("one_of", "entity", entities))
    if query.get("typeid") is not None:
        position = query["typeid"]
        kinds = custom_fields.FIELD_TYPES
        crit.append(q.Criterion("eq", "field_type", kinds[position - 1] if 1 <= position <= len(kinds) else ""))
    if query.get("fieldname"):
        crit.append(q.Criterion("like", "name", query["fieldname"]))
    return page_of(call, CustomField, crit, DEFINITION, _sort(query))


def definition(call: Call) -> dict:
    field = call.ws.get(CustomField, call.path["id"], include_deleted=False)
    if field is None or field.entity not in GROUP_OF:
        raise ApiError(404, f"Dynamic field {call.path['id']} not found")
    return render(call.ctx, DEFINITION, field)


def _resource(call: Call, kind: str, id_: int) -> type[TenantScoped]:
    model = RESOURCES[kind]
    if call.ws.get(model, id_, include_deleted=False) is None:
        raise ApiError(404, f"{kind.capitalize()} {id_} not found")
    return model


def values(call: Call) -> dict:
    query = call.query
    missing = {n: MISSING for n in ("resourcetype", "resourceid") if query.get(n) is None}
    if missing:
        raise invalid(missing)
    model = _resource(call, query["resourcetype"], query["resourceid"])
    entity = q.entity_kind(model)
    crit = [q.Criterion("eq", "entity", entity)]
    if query.get("fieldname"):
        crit.append(q.Criterion("like", "name", query["fieldname"]))
    if query.get("fieldids"):
        crit.append(q.Criterion("in", "id", query["fieldids"]))
    page = page_of(call, CustomField, crit, DEFINITION, _sort(query))
    stored = custom_fields.values(call.ws, entity, query["resourceid"])
    fields = {f.id: f for f in custom_fields.fields(call.ws, entity)}
    page["items"] = [render(call.ctx, VALUE, (fields[item["id"]], stored.get(fields[item["id"]].slug)))
                     for item in page["items"]]
    return page


def put_value(call: Call) -> dict:
    """Set a record's value of one field: ``value``, or for select fields the
    ``selected`` option ids (``unselected`` ones are taken out)."""
    field = call.ws.get(CustomField, call.path["fieldid"], include_deleted=False)
    if field is None or field.entity not in GROUP_OF:
        raise ApiError(404, f"Dynamic field {call.path['fieldid']} not found")
    kind = GROUP_OF[field.entity]
    _resource(call, kind, call.path["resourceid"])
    body = call.body or {}
    current = custom_fields.values(call.ws, field.entity, call.path["resourceid"]).get(field.slug)
    labels = {o["id"]: o["label"] for o in options(field)}
    if field.field_type in ("select", "multiselect") and ("selected" in body or "unselected" in body):
        def pick(name: str) -> list[str]:
            found = []
            for option in body.get(name) or []:
                if option["id"] not in labels:
                    raise ApiError(404, f"Option {option['id']} of dynamic field {field.id} not found",
                                   {name: f"Option {option['id']} of dynamic field {field.id} not found"})
                found.append(labels[option["id"]])
            return found

        selected, unselected = pick("selected"), pick("unselected")
        keep = [v for v in chosen(field, current) if v not in unselected and v not in selected]
        wanted = keep + selected
        if field.field_type == "select":
            if len(selected) > 1:
                raise invalid({"selected": "a single-choice field takes one selected option"})
            new: Any = selected[0] if selected else (keep[0] if keep else None)
        else:
            new = wanted
    elif "value" in body:
        new = body["value"]
    else:
        new = current
    try:
        custom_fields.set_values(call.ws, field.entity, call.path["resourceid"], {field.slug: new})
    except Invalid as exc:
        raise invalid({"value": exc.message}) from None
    call.ws.flush()
    stored = custom_fields.values(call.ws, field.entity, call.path["resourceid"]).get(field.slug)
    return render(call.ctx, VALUE, (field, stored))


BINDINGS = {
    "get_field_definition_collection": custom(definitions, "page", DEFINITION,
                                              handles=["groups", "typeid", "fieldname"]),
    "get_field_definition_item": custom(definition, "object", DEFINITION),
    "get_dynamicfield_value_collection": custom(values, "page", VALUE,
                                                handles=["resourcetype", "resourceid", "fieldname", "fieldids"]),
    "put_dynamicfield_value_item": custom(put_value, "object", VALUE),
}
