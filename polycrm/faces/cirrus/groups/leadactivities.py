"""leadactivities (#83–#86): lead activities are core Records of kind
``lead_activity``: ``parent_id`` is the lead, ``user_id`` the user, and
``extra`` holds ``type_id`` (core list ``lead_activity_type``), ``comment``,
``followup`` and ``done``.

The doc says ``lead`` is ignored on write; without it an activity could not
be tied to a lead, so ``lead: {"id": n}`` is honoured when an activity is
created (and ignored on update, as documented). ``folowupdate`` (sic) is a
day: the activities whose follow-up falls on it.
"""

from __future__ import annotations

from typing import Any

from polycrm.core import calls
from polycrm.core import query as q
from polycrm.core.models import Lookup, Record, User
from polycrm.faces.cirrus.entity import Entity, f_eq, f_like
from polycrm.faces.cirrus.errors import FieldError
from polycrm.faces.cirrus.handlers import creating, item, paged, updating
from polycrm.faces.cirrus.views import ID_NAME, USER_REF, Ctx, View, attr, ref, render
from polycrm.faces.cirrus.writers import Writes, ignored, to
from polycrm.faces.cirrus.groups._sales import ref_id, to_int, to_lookup_ref, to_moment, to_ref
from polycrm.faces.cirrus.schemas import define

LEAD_ACTIVITY_KIND = calls.LEAD_ACTIVITY_KIND

define("LeadRefUser", {"id": "int", "name": "str", "surname": "str"})
define("LeadRef", {"id": "int", "title": "str", "user": "LeadRefUser"})
define("LeadActivity", {
    "id": "int", "type": "IdName", "comment": "text", "user": "UserRef", "followup": "datetime", "done": "int",
    "created": "datetime", "updated": "datetime", "lead": "LeadRef",
})

LEAD_REF_USER = View("LeadRefUser", {"id": attr("id"), "name": attr("name"), "surname": attr("surname")})
LEAD_REF = View("LeadRef", {"id": attr("id"), "title": attr("name"), "user": ref(User, "user_id", LEAD_REF_USER)})


def lead_of(ctx: Ctx, obj: Record) -> Any:
    lead = ctx.loader.get(Record, obj.parent_id)
    if lead is None or lead.deleted or lead.kind != "lead":
        return None
    return render(ctx, LEAD_REF, lead)


LEAD_ACTIVITY = View("LeadActivity", {
    "id": attr("id"), "type": ref(Lookup, "extra.type_id", ID_NAME), "comment": attr("extra.comment"),
    "user": ref(User, "user_id", USER_REF), "followup": attr("extra.followup"), "done": attr("extra.done"),
    "created": attr("created_at"), "updated": attr("changed_at"), "lead": lead_of,
})


def write_lead(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
    if obj is not None:
        return
    lead_id = ref_id(value)
    if not lead_id:
        return
    lead = ctx.ws.get(Record, lead_id, include_deleted=False)
    if lead is None or lead.kind != "lead":
        raise FieldError(f"Lead {lead_id} not found", 404)
    out.changes["parent_id"] = lead.id


LEAD_ACTIVITY_ENTITY = Entity(
    label="Leadactivity", model=Record, view=LEAD_ACTIVITY,
    scope=(q.Criterion("eq", "kind", LEAD_ACTIVITY_KIND),), service=calls.LEAD_ACTIVITIES,
    writers={
        "id": ignored(), "type": to_lookup_ref("extra.type_id", "lead_activity_type", "Leadactivity type"),
        "comment": to("extra.comment"), "user": to_ref("user_id", User, "User"),
        "followup": to_moment("extra.followup"), "done": to_int("extra.done", 0),
        "created": ignored(), "updated": ignored(), "lead": write_lead,
    },
    filters={
        "done": f_eq("extra.done", "int"), "typeid": f_eq("extra.type_id", "int"), "leadid": f_eq("parent_id"),
        "userid": f_eq("user_id"), "folowupdate": lambda v: [q.Criterion("like", "extra.followup", f"{v[:10]}%")],
        "comment": f_like("extra.comment"),
    },
    sorts={
        "followupdate": (q.Sort("extra.followup"),), "created": (q.Sort("created_at"),),
        "done": (q.Sort("extra.done", mode="numeric_text"),),
    },
)

BINDINGS = {
    "post_leadactivity_collection": creating(LEAD_ACTIVITY_ENTITY),
    "get_leadactivity_collection": paged(LEAD_ACTIVITY_ENTITY),
    "put_leadactivity_item": updating(LEAD_ACTIVITY_ENTITY),
    "get_leadactivity_item": item(LEAD_ACTIVITY_ENTITY),
}
