"""leads (#87–#90): leads are core Records of kind ``lead`` (a Cirrus-only
entity): ``name`` is the title, ``user_id`` the owner, everything else in
``extra`` (the ``contact…`` fields, ``value``, ``description``, ``rating``,
``source_id`` of core list ``lead_source``, ``status_id`` of ``lead_status``).
``activities`` are the lead's lead activities (see leadactivities).

Sorting ``age`` is by creation time: ``age_desc`` lists the newest first.
"""

from __future__ import annotations

from polycrm.core import links, records
from polycrm.core import query as q
from polycrm.core.models import Lookup, Record, User
from polycrm.faces.cirrus.entity import Entity, f_day, f_eq
from polycrm.faces.cirrus.handlers import creating, item, paged, updating
from polycrm.faces.cirrus.views import TAG_REF, USER_REF, Ctx, View, attr, linked, ref, render
from polycrm.faces.cirrus.writers import ignored, to, to_links
from polycrm.faces.cirrus.groups._documents import csv_ids
from polycrm.faces.cirrus.groups._sales import to_int, to_lookup_ref, to_number, to_ref
from polycrm.faces.cirrus.groups.leadactivities import LEAD_ACTIVITY, LEAD_ACTIVITY_KIND
from polycrm.faces.cirrus.schemas import define

LEAD_KIND = records.LEAD
CONTACT_FIELDS = [f"contact{n}" for n in ("title", "name", "surname", "company", "street", "city", "zip", "phone",
                                          "cellphone", "email", "vatno")]

define("Source", {"id": "int", "name": "str", "default": "int"})
define("Status", {"id": "int", "name": "str", "sortorder": "int", "created": "datetime", "updated": "datetime"})
define("Lead", {
    "id": "int", **{n: "str" for n in CONTACT_FIELDS}, "value": "num", "created": "datetime",
    "updated": "datetime", "title": "str", "description": "text", "rating": "int", "user": "UserRef",
    "source": "Source", "status": "Status", "tags": "[TagRef]", "activities": "[LeadActivity]",
})

SOURCE = View("Source", {"id": attr("id"), "name": attr("name"), "default": attr("is_default")})
STATUS = View("Status", {"id": attr("id"), "name": attr("name"), "sortorder": attr("sortorder"),
                         "created": attr("created_at"), "updated": attr("changed_at")})


def activities(ctx: Ctx, obj: Record) -> list:
    rows = ctx.loader.rows_where(Record, [q.Criterion("eq", "kind", LEAD_ACTIVITY_KIND),
                                          q.Criterion("eq", "parent_id", obj.id)], (q.Sort("created_at"),))
    return [render(ctx, LEAD_ACTIVITY, row) for row in rows]


LEAD = View("Lead", {
    "id": attr("id"), **{n: attr(f"extra.{n}") for n in CONTACT_FIELDS}, "value": attr("extra.value"),
    "created": attr("created_at"), "updated": attr("changed_at"), "title": attr("name"),
    "description": attr("extra.description"), "rating": attr("extra.rating"),
    "user": ref(User, "user_id", USER_REF), "source": ref(Lookup, "extra.source_id", SOURCE),
    "status": ref(Lookup, "extra.status_id", STATUS),
    "tags": linked(Lookup, TAG_REF, links.TAG, outgoing=True, other_kind=links.LOOKUP),
    "activities": activities,
})

LEAD_ENTITY = Entity(
    label="Lead", model=Record, view=LEAD, service=records.LEADS,
    scope=(q.Criterion("eq", "kind", LEAD_KIND),), defaults={"kind": LEAD_KIND, "active": True},
    writers={
        **{n: to(f"extra.{n}") for n in CONTACT_FIELDS}, "value": to_number("extra.value"),
        "created": ignored(), "updated": ignored(), "title": to("name"), "description": to("extra.description"),
        "rating": to_int("extra.rating"), "user": to_ref("user_id", User, "User"),
        "source": to_lookup_ref("extra.source_id", "lead_source", "Lead source"),
        "status": to_lookup_ref("extra.status_id", "lead_status", "Leadstatus"),
        "tags": to_links(links.TAG, "tag", "Tag"),
    },
    filters={
        "created": f_day("created_at"), "status": f_eq("extra.status_id", "int"),
        "source": f_eq("extra.source_id", "int"), "rating": f_eq("extra.rating", "int"),
        "userid": f_eq("user_id"), "userids": csv_ids("user_id"),
    },
    sorts={
        "age": (q.Sort("created_at"),), "statusid": (q.Sort("extra.status_id", mode="numeric_text"),),
        "userid": (q.Sort("user_id"),), "sourceid": (q.Sort("extra.source_id", mode="numeric_text"),),
        "value": (q.Sort("extra.value", mode="numeric_text"),),
    },
    fulltext="name,extra.description,extra.contactname,extra.contactsurname,extra.contactcompany,extra.contactemail",
)

BINDINGS = {
    "post_lead_collection": creating(LEAD_ENTITY),
    "get_lead_collection": paged(LEAD_ENTITY),
    "put_lead_item": updating(LEAD_ENTITY),
    "get_lead_item": item(LEAD_ENTITY),
}

__all__ = ["BINDINGS", "LEAD_ENTITY", "LEAD_KIND"]
