"""activities (#17–#29): activities = core activities; types, questions, progression states.

An activity of the type with code ``call`` is what the Microbizz face shows
as a call. ``date`` + ``starttime``/``stoptime`` ("HH:MM") and ``start``/
``stop`` (date-times) describe the same core ``date``/``start``/``stop``:
a time is placed on the activity's date, a date-time also sets the date.
``user`` (a list on read) is the owner, the same as ``userid``.
Invited users and contacts are ``invited`` links (source = the activity).
Coordinates: the activity's own, else its account's visiting coordinates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from polycrm.core import links, lookups
from polycrm.core import calls
from polycrm.core import query as q
from polycrm.core.models import Activity, Contact, Customer, Document, Lookup, Opportunity, Record, User
from polycrm.faces.cirrus import wire
from polycrm.faces.cirrus.entity import (
    Entity, f_day, f_eq, f_flag, f_from, f_ids, f_like, f_to, lookup_entity
)
from polycrm.faces.cirrus.errors import FieldError
from polycrm.faces.cirrus.handlers import Binding, Call, creating, following, item, listing, paged, updating
from polycrm.faces.cirrus.views import (
    FILE_REF, ID_NAME, TAG_REF, USER_REF, Ctx, View, attr, linked, ref, render
)
from polycrm.faces.cirrus.writers import Writes, ignored, to, to_links, to_lookup, to_row
from polycrm.faces.cirrus.groups._sales import OPPORTUNITY_REF
from polycrm.faces.cirrus.groups.accounts import ACCOUNT_REF
from polycrm.faces.cirrus.groups.contacts import CONTACT_REF, PRIMARY_CONTACT
from polycrm.faces.cirrus.schemas import define

INVITED = "invited"
ACTIVITY_KIND = q.entity_kind(Activity)
TIME_PATTERN = r"^\s*([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?\s*$"

define("ActivityAttempt", {"id": "int", "note": "text", "timestamp": "str", "user": "UserRef"}, value=True)
define("ActivityPriority", {"id": "int", "description": "str"})
define("ActivityReminder", {"text": "text", "min": "int", "done": "int"}, value=True)
define("ActivityTypeAnswer", {"questionid": "int"}, value=True)
define("Activity", {
    "id": "int", "account": "AccountRef", "accountid": "int", "closed": "int", "contactattempts": "[ActivityAttempt]",
    "description": "text", "date": "date", "extrasexternalid": "int", "files": "[IdName]", "followers": "[UserRef]",
    "invitedusers": "[UserRef]", "invitedcontacts": "[ContactRef]", "location": "str",
    "primarycontact": "PrimaryContact", "priority": "ActivityPriority", "progressionstate": "IdName",
    "opportunity": "OpportunityRef", "reminder": "ActivityReminder", "start": "datetime", "starttime": "str",
    "stop": "datetime", "stoptime": "str", "result": "text", "type": "IdName", "user": "[UserRef]",
    "userid": "int", "answers": "[ActivityTypeAnswer]", "externalkey": "str", "tags": "[TagRef]",
})
define("ActivityCoord", {"activityid": "int", "addresstype": "str", "latitude": "coord", "longitude": "coord", "distance": "coord"})
define("ActivityType", {
    "id": "int", "name": "str", "value": "int", "icon": "int", "sortorder": "int", "default": "int", "quick": "int",
    "defaultdescription": "text", "defaultresult": "text", "userfollowups": "int", "alternateuserfollowups": "int",
})
define("ActivityTypeQuestion", {"id": "int", "question": "text", "activitytypeid": "int", "sortorder": "int"})


# -- reading -------------------------------------------------------------------------
def _hhmm(path: str):
    def read(ctx: Ctx, obj: Activity) -> str | None:
        value = getattr(obj, path)
        return value.strftime("%H:%M") if value is not None else None

    return read


def _attempts(ctx: Ctx, obj: Activity) -> list:
    out = []
    for attempt in (obj.extra or {}).get("contactattempts") or []:
        user = ctx.loader.get(User, attempt.get("userid"))
        out.append({"id": attempt.get("id"), "note": attempt.get("note"), "timestamp": attempt.get("timestamp"),
                    "user": render(ctx, USER_REF, user) if user is not None and not user.deleted else None})
    return out


def _reminder(ctx: Ctx, obj: Activity) -> dict | None:
    r = (obj.extra or {}).get("reminder")
    if not isinstance(r, Mapping):
        return None
    return {"text": wire.coerce("text", r.get("text")), "min": wire.coerce("int", r.get("min")),
            "done": wire.coerce("int", r.get("done"))}


def _answers(ctx: Ctx, obj: Activity) -> list:
    return [{"questionid": wire.coerce("int", a.get("questionid"))}
            for a in (obj.extra or {}).get("answers") or [] if isinstance(a, Mapping)]


def _owner(ctx: Ctx, obj: Activity) -> list:
    user = ctx.loader.get(User, obj.user_id)
    return [render(ctx, USER_REF, user)] if user is not None and not user.deleted else []


PRIORITY = View("ActivityPriority", {"id": attr("id"), "description": attr("name")})

ACTIVITY = View("Activity", {
    "id": attr("id"), "account": ref(Customer, "customer_id", ACCOUNT_REF), "accountid": attr("customer_id"),
    "closed": attr("closed"), "contactattempts": _attempts, "description": attr("description"),
    "date": attr("date"), "extrasexternalid": attr("extra.extrasexternalid"),
    "files": linked(Document, FILE_REF, links.FILE, outgoing=False, other_kind=q.entity_kind(Document)),
    "followers": linked(User, USER_REF, links.FOLLOW, outgoing=False, other_kind=links.USER),
    "invitedusers": linked(User, USER_REF, INVITED, outgoing=True, other_kind=links.USER),
    "invitedcontacts": linked(Contact, CONTACT_REF, INVITED, outgoing=True, other_kind=q.entity_kind(Contact)),
    "location": attr("location"), "primarycontact": ref(Contact, "contact_id", PRIMARY_CONTACT),
    "priority": ref(Lookup, "priority_id", PRIORITY), "progressionstate": ref(Lookup, "progressionstate_id", ID_NAME),
    "opportunity": ref(Opportunity, "opportunity_id", OPPORTUNITY_REF), "reminder": _reminder,
    "start": attr("start"), "starttime": _hhmm("start"), "stop": attr("stop"), "stoptime": _hhmm("stop"),
    "result": attr("result"), "type": ref(Lookup, "type_id", ID_NAME), "user": _owner, "userid": attr("user_id"),
    "answers": _answers, "externalkey": attr("externalkey"),
    "tags": linked(Lookup, TAG_REF, links.TAG, outgoing=True, other_kind=links.LOOKUP),
})


def _coordinates(ctx: Ctx, obj: Activity) -> tuple[Any, Any, str | None]:
    if obj.latitude is not None and obj.longitude is not None:
        return obj.latitude, obj.longitude, "activity"
    account = ctx.loader.get(Customer, obj.customer_id)
    if account is not None and account.latitude is not None and account.longitude is not None:
        return account.latitude, account.longitude, "visiting"
    return None, None, None


ACTIVITY_COORD = View("ActivityCoord", {
    "activityid": attr("id"),
    "addresstype": lambda ctx, obj: _coordinates(ctx, obj)[2],
    "latitude": lambda ctx, obj: _coordinates(ctx, obj)[0],
    "longitude": lambda ctx, obj: _coordinates(ctx, obj)[1],
    "distance": lambda ctx, obj: None,
})


# -- writing -------------------------------------------------------------------------
def _id_of(value: Any) -> Any:
    return value.get("id") if isinstance(value, Mapping) else value


def to_ref(path: str, model, label: str, kind: str | None = None):
    """A ``{"id": n}`` reference (a lookup of ``kind``, or a row of ``model``)."""

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        id_ = _id_of(value)
        if not id_:
            out.changes[path] = None
            return
        found = lookups.get(ctx.ws, kind, id_) if kind else ctx.ws.get(model, id_, include_deleted=False)
        if found is None:
            raise FieldError(f"{label} {id_} not found", 404)
        out.changes[path] = int(id_)

    return write


def to_link_set(kind: str, model, other_kind: str, label: str, *, incoming: bool = False):
    """A list of ``{"id": n}`` replacing the rows linked to this activity."""

    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        ids = [int(i) for i in (_id_of(v) for v in value or []) if i]
        for id_ in ids:
            if ctx.ws.get(model, id_, include_deleted=False) is None:
                raise FieldError(f"{label} {id_} not found", 404)

        def save(ctx: Ctx, saved: Activity) -> None:
            if incoming:
                # The other record is the link's source (followers, files).
                current = set(ctx.loader.linked_ids(kind, target_kind=ACTIVITY_KIND, target_id=saved.id,
                                                    source_kind=other_kind))
                for id_ in current - set(ids):
                    links.unlink(ctx.ws, kind, other_kind, id_, ACTIVITY_KIND, saved.id)
                for id_ in ids:
                    links.link(ctx.ws, kind, other_kind, id_, ACTIVITY_KIND, saved.id)
            else:
                links.set_targets(ctx.ws, kind, ACTIVITY_KIND, saved.id, other_kind, ids)

        out.after.append(save)

    return write


def to_time(which: str):
    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        if value is None or not str(value).strip():
            out.changes[f"_{which}time"] = None
            return
        parts = [int(p) for p in str(value).strip().split(":")]
        out.changes[f"_{which}time"] = dt.time(parts[0], parts[1], parts[2] if len(parts) > 2 else 0)

    write.schema = {"pattern": TIME_PATTERN, "maxLength": 20}  # type: ignore[attr-defined]
    return write


def to_moment(which: str):
    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        out.changes[which] = wire.parse_datetime(value) if value else None

    return write


def to_attempts(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
    attempts = []
    for n, attempt in enumerate(value or [], start=1):
        if not isinstance(attempt, Mapping):
            continue
        user_id = _id_of(attempt.get("user"))
        if user_id and ctx.ws.get(User, user_id, include_deleted=False) is None:
            raise FieldError(f"User {user_id} not found", 404)
        attempts.append({"id": attempt.get("id") or n, "note": attempt.get("note"),
                         "timestamp": attempt.get("timestamp"), "userid": user_id or None})
    out.changes["extra.contactattempts"] = attempts


def to_owner_object(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
    """PUT's ``user`` object (or POST's ``user`` list): the owner, unless ``userid`` is sent."""
    first = value[0] if isinstance(value, list) and value else value
    id_ = _id_of(first)
    if not id_:
        return
    if ctx.ws.get(User, id_, include_deleted=False) is None:
        raise FieldError(f"User {id_} not found", 404)
    out.changes.setdefault("_owner", int(id_))


def prepare(ctx: Ctx, obj: Activity | None, body: dict, out: Writes) -> None:
    """Place times on the date; the owner from ``user`` when ``userid`` is absent."""
    changes = out.changes
    owner = changes.pop("_owner", None)
    if owner is not None and "userid" not in body:
        changes["user_id"] = owner
    for which in ("start", "stop"):
        moment = changes.get(which)
        if moment is not None and "date" not in body and which == "start":
            changes["date"] = moment.date()
    day = changes.get("date", obj.date if obj is not None else None)
    for which in ("start", "stop"):
        key = f"_{which}time"
        if key not in changes:
            continue
        clock = changes.pop(key)
        if clock is None:
            changes[which] = None
            continue
        base = day or (getattr(obj, which).date() if obj is not None and getattr(obj, which) else dt.date.today())
        changes[which] = dt.datetime.combine(base, clock)


def _missions(value: Any) -> list[q.Criterion]:
    return [q.Criterion("linked", "id", q.LinkedTo("mission", q.entity_kind(Record), tuple(value)))]


ACTIVITY_FILTERS = {
    "accountid": f_eq("customer_id"),
    "accounttypeids": f_ids("customer_id->customer.type_id"),
    "accountuserids": f_ids("customer_id->customer.user_id"),
    "date": f_day("date"), "startdate": f_from("date"), "enddate": f_to("date"),
    "closed": f_flag("closed"), "userid": f_eq("user_id"), "userids": f_ids("user_id"),
    "missionids": _missions, "typeid": f_eq("type_id"), "typeids": f_ids("type_id"),
    "contactid": f_eq("contact_id"), "opportunityid": f_eq("opportunity_id"),
    "location": f_like("location"), "description": f_like("description"),
    "progressionstateid": f_eq("progressionstate_id"), "externalkey": f_eq("externalkey"),
}
ACTIVITY_SORTS = {
    "date": (q.Sort("date"), q.Sort("start")),
    "account": (q.Sort("customer_id->customer.name_folded"),),
    "userid": (q.Sort("user_id"),),
}

ACTIVITY_ENTITY = Entity(
    label="Activity",
    model=Activity,
    view=ACTIVITY,
    writers={
        "id": ignored(), "account": ignored(),
        "accountid": to_row("customer_id", Customer, "Account"),
        "closed": to("closed", lambda v: bool(int(v))),
        "contactattempts": to_attempts,
        "description": to("description"),
        "date": to("date", wire.parse_date),
        "extrasexternalid": to("extra.extrasexternalid"),
        "files": to_link_set(links.FILE, Document, q.entity_kind(Document), "File", incoming=True),
        "followers": to_link_set(links.FOLLOW, User, links.USER, "User", incoming=True),
        "invitedusers": to_link_set(INVITED, User, links.USER, "User"),
        "invitedcontacts": to_link_set(INVITED, Contact, q.entity_kind(Contact), "Contact"),
        "location": to("location"),
        "primarycontact": to_ref("contact_id", Contact, "Contact"),
        "priority": to_ref("priority_id", Lookup, "Priority", "priority"),
        "progressionstate": to_ref("progressionstate_id", Lookup, "Progression state", "activity_progression"),
        "opportunity": to_ref("opportunity_id", Opportunity, "Opportunity"),
        "opportunityid": to_row("opportunity_id", Opportunity, "Opportunity"),
        "reminder": to("extra.reminder"),
        "start": to_moment("start"), "stop": to_moment("stop"),
        "starttime": to_time("start"), "stoptime": to_time("stop"),
        "result": to("result"),
        "type": to_ref("type_id", Lookup, "Activity type", "activity_type"),
        "typeid": to_lookup("type_id", "activity_type", "Activity type"),
        "user": to_owner_object,
        "userid": to_row("user_id", User, "User"),
        "answers": to("extra.answers"),
        "externalkey": to("externalkey"),
        "tags": to_links(links.TAG, "tag", "Tag"),
    },
    filters=ACTIVITY_FILTERS,
    sorts=ACTIVITY_SORTS,
    # As the doc lists it: description, date (as its ISO text, YYYY-MM-DD), result and location.
    fulltext="description,date,result,location",
    prepare=prepare,
    service=calls.SERVICE,
)
ACTIVITY_COORD_ENTITY = Entity(label="Activity", model=Activity, view=ACTIVITY_COORD, filters=ACTIVITY_FILTERS,
                               sorts=ACTIVITY_SORTS, fulltext="description,date,result,location")

# -- types, questions, progression states --------------------------------------------------
_TYPE_EXTRA = ("value", "icon", "quick", "defaultdescription", "defaultresult", "userfollowups", "alternateuserfollowups")
ACTIVITY_TYPE = View("ActivityType", {
    "id": attr("id"), "name": attr("name"), "sortorder": attr("sortorder"), "default": attr("is_default"),
    **{n: attr(f"extra.{n}") for n in _TYPE_EXTRA},
})
ACTIVITY_TYPES = lookup_entity(
    "Activitytype", "activity_type", ACTIVITY_TYPE,
    writers={"id": ignored(), "name": to("name"), "sortorder": to("sortorder"),
             "default": to("is_default", lambda v: bool(int(v))),
             **{n: to(f"extra.{n}") for n in _TYPE_EXTRA}},
)
BY_ORDER = (q.Sort("sortorder"), q.Sort("id"))


def create_type(call: Call) -> list:
    """#20: the doc shows no body and a list as the answer: the new type is
    made from an ActivityType body (as #23 takes) and the whole list returned."""
    ACTIVITY_TYPES.save(call.ctx, None, call.body or {})
    rows = q.every(call.ws, Lookup, list(ACTIVITY_TYPES.scope), sort=BY_ORDER)
    return [render(call.ctx, ACTIVITY_TYPE, row) for row in rows]


QUESTION_KIND = "activity_type_question"
QUESTION = View("ActivityTypeQuestion", {
    "id": attr("id"), "question": attr("name"), "activitytypeid": attr("parent_id"), "sortorder": attr("extra.sortorder"),
})
QUESTIONS = Entity(label="Activitytypequestion", model=Record, view=QUESTION,
                   scope=(q.Criterion("eq", "kind", QUESTION_KIND),))
PROGRESSION_STATES = lookup_entity("Progressionstate", "activity_progression", ID_NAME)

BINDINGS = {
    "post_activity_collection": creating(ACTIVITY_ENTITY),
    "get_activity_collection": paged(ACTIVITY_ENTITY),
    "get_activitycoordinate_collection": paged(ACTIVITY_COORD_ENTITY),
    "post_activitytype_collection": Binding(create_type, "list", ACTIVITY_TYPE, ACTIVITY_TYPES,
                                            body_from="put_activitytype_item"),
    "get_activitytype_collection": listing(ACTIVITY_TYPES, sort=BY_ORDER),
    "get_activitytype_question_collection": listing(
        QUESTIONS, sort=(q.Sort("parent_id"), q.Sort("extra.sortorder", mode="numeric_text"))),
    "put_activitytype_item": updating(ACTIVITY_TYPES),
    "get_activitytype_item": item(ACTIVITY_TYPES),
    "post_activity_follow": following(ACTIVITY_ENTITY, True),
    "get_activity_progressionstate_collection": listing(PROGRESSION_STATES, sort=BY_ORDER),
    "post_activity_unfollow": following(ACTIVITY_ENTITY, False),
    "put_activity_item": updating(ACTIVITY_ENTITY),
    "get_activity_item": item(ACTIVITY_ENTITY),
}
