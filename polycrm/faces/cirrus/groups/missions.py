"""missions (#155–#164): missions, their connections and progress.

A mission is a core ``Record`` of kind ``mission`` (``name``, ``active``,
``user_id`` = userid; the rest in ``extra``). Connections are core links
(:mod:`polycrm.core.missions`); connection types: account, activity, article,
order, user, contact, file (a plural spelling is accepted too).
"""

from __future__ import annotations

from typing import Any

from polycrm.core import missions
from polycrm.core import query as q
from polycrm.core.models import Activity, Customer, Link, Lookup, Record, User
from polycrm.faces.cirrus.entity import Entity, f_active, f_eq
from polycrm.faces.cirrus.errors import ApiError
from polycrm.faces.cirrus.handlers import Call, creating, custom, item, paged, updating
from polycrm.faces.cirrus.views import ID_NAME, USER_REF, Ctx, View, attr, ref, render
from polycrm.faces.cirrus.writers import to, to_bool
from polycrm.faces.cirrus.groups._records import (
    created, csv_ids, extra, f_csv, page_of, record_entity, schema_only, to_date, to_int, to_ref, updated,
)
from polycrm.faces.cirrus.groups.accounts import ACCOUNT_REF
from polycrm.faces.cirrus.schemas import define

define("Mission", {
    "id": "int", "name": "str", "description": "text", "startdate": "date", "enddate": "date", "active": "int",
    "script": "text", "pdf": "str", "video": "str", "terms": "text", "userid": "int", "typeid": "int",
})
define("MissionConnection", {"type": "str", "connectid": "int", "result": "int", "tscreated": "datetime",
                             "tsupdated": "datetime"})
# The doc's ActivityRef, under a name of this group's own.
define("MissionActivity", {"id": "int", "description": "text", "date": "date", "user": "UserRef", "type": "IdName",
                           "account": "AccountRef"})
define("MissionActivityConnection", {"type": "str", "connectid": "int", "result": "int", "tscreated": "datetime",
                                     "tsupdated": "datetime", "activity": "MissionActivity"})
define("MissionProgress", {"account": "AccountRef", "activity": "MissionActivity", "accountid": "int",
                           "accountname": "str", "lastactivity": "datetime", "completed": "bool"})

MISSION = View("Mission", {
    "id": attr("id"), "name": attr("name"), "active": attr("active"), "userid": attr("user_id"),
    "typeid": extra("type_id"),
    **{n: extra(n) for n in ("description", "startdate", "enddate", "script", "pdf", "video", "terms")},
})
MISSION_ACTIVITY = View("MissionActivity", {
    "id": attr("id"), "description": attr("description"), "date": lambda ctx, a: a.date or a.start,
    "user": ref(User, "user_id", USER_REF), "type": ref(Lookup, "type_id", ID_NAME),
    "account": ref(Customer, "customer_id", ACCOUNT_REF),
})
CONNECTION_FIELDS = {
    "type": lambda ctx, link: missions.type_of(link.target_kind), "connectid": attr("target_id"),
    "result": lambda ctx, link: int(link.value or 0), "tscreated": created, "tsupdated": updated,
}
CONNECTION = View("MissionConnection", CONNECTION_FIELDS)
ACTIVITY_CONNECTION = View("MissionActivityConnection", {
    **CONNECTION_FIELDS, "activity": ref(Activity, "target_id", MISSION_ACTIVITY),
})


# -- missions ---------------------------------------------------------------------
def _day(value: Any) -> str:
    return value.isoformat()[:10]


def mission_filters(query: dict) -> list[q.Criterion]:
    found: list[q.Criterion] = []
    # A mission runs in the span when it ends after the span starts and starts before it ends.
    if query.get("datespan_start") is not None:
        found.append(q.Criterion("gte", "extra.enddate", _day(query["datespan_start"])))
    if query.get("datespan_end") is not None:
        found.append(q.Criterion("lte", "extra.startdate", _day(query["datespan_end"])))
    for param, connection_type in (("accountids", "account"), ("activityids", "activity"), ("articleids", "article"),
                                   ("userids", "user"), ("orderids", "order")):
        ids = csv_ids(query.get(param))
        if ids:
            found.append(missions.mission_ids_connected_to(missions.CONNECTION_TYPES[connection_type], ids))
    return found


MISSION_ENTITY = record_entity(
    "Mission", missions.KIND, MISSION, service=missions.SERVICE,
    writers={
        "name": to("name"), "active": to_bool("active"), "description": to("extra.description"),
        "startdate": to_date("extra.startdate"), "enddate": to_date("extra.enddate"),
        **{n: to(f"extra.{n}") for n in ("script", "pdf", "video", "terms")},
        "userid": to_ref("user_id", User, "User"), "typeid": to_int("extra.type_id"),
    },
    filters={"active": f_active(), "ownerid": f_eq("user_id"), "ownerids": f_csv("user_id"),
             "typeid": f_eq("extra.type_id", "int")},
    combined=mission_filters,
    combined_params=frozenset({"datespan_start", "datespan_end", "accountids", "activityids", "articleids",
                               "userids", "orderids"}),
    sorts={"enddate": (q.Sort("extra.enddate"),), "startdate": (q.Sort("extra.startdate"),),
           "name": (q.Sort("name", mode="text"),), "number": (q.Sort("id"),)},
)


# -- connections --------------------------------------------------------------------
def _mission(call: Call) -> Record:
    return MISSION_ENTITY.find(call.ctx, call.path["mission_id"])


def _model(call: Call) -> Any:
    name = call.path["connection_type"]
    model = missions.connection_model(name)
    if model is None:
        raise ApiError(404, f"Unknown connection type {name!r}: use one of {', '.join(missions.CONNECTION_TYPES)}")
    return model


def connections(call: Call) -> dict:
    mission = _mission(call)
    model = _model(call) if "connection_type" in call.path else None
    crit = missions.connection_criteria(mission.id, model, result=call.query.get("result"))
    return page_of(call, Link, crit, CONNECTION, [q.Sort("target_kind"), q.Sort("target_id")])


ACTIVITY_SORTS = {"start": "target_id->activity.start", "end": "target_id->activity.stop", "number": "target_id"}


def activity_connections(call: Call) -> dict:
    mission = _mission(call)
    query = call.query
    crit = missions.activity_criteria(mission.id, result=query.get("result"), type_ids=query.get("typeids"),
                                      user_ids=query.get("userids"), start=query.get("start"), end=query.get("end"))
    key, _, direction = (query.get("sorting") or "number_asc").rpartition("_")
    return page_of(call, Link, crit, ACTIVITY_CONNECTION, [q.Sort(ACTIVITY_SORTS[key], direction == "desc")])


def connection_item(call: Call) -> dict:
    mission, model = _mission(call), _model(call)
    found = missions.connection(call.ws, mission.id, model, call.path["other_id"])
    if found is None:
        raise ApiError(404, f"{call.path['connection_type'].capitalize()} {call.path['other_id']} is not connected "
                            f"to mission {mission.id}")
    return render(call.ctx, CONNECTION, found)


# The body's schema: the result is 0 (open) or 1 (done).
CONNECTION_BODY = Entity("Mission connection", Link, CONNECTION, writers={"result": schema_only({"enum": [0, 1]})})


def put_connection(call: Call) -> dict:
    mission, model = _mission(call), _model(call)
    result = (call.body or {}).get("result")
    found = missions.connect(call.ws, mission.id, model, call.path["other_id"], result)
    call.ws.flush()
    return render(call.ctx, CONNECTION, found)


# -- progress ---------------------------------------------------------------------------
def read_progress_activity(ctx: Ctx, link: Link) -> Any:
    activity = missions.latest_activity(ctx.ws, link.source_id, link.target_id)
    return render(ctx, MISSION_ACTIVITY, activity) if activity is not None else None


def read_last_activity(ctx: Ctx, link: Link) -> Any:
    activity = missions.latest_activity(ctx.ws, link.source_id, link.target_id)
    return None if activity is None else (activity.start or activity.date)


PROGRESS = View("MissionProgress", {
    "account": ref(Customer, "target_id", ACCOUNT_REF), "activity": read_progress_activity,
    "accountid": attr("target_id"), "accountname": lambda ctx, link: getattr(ctx.loader.get(Customer, link.target_id), "name", None),
    "lastactivity": read_last_activity, "completed": lambda ctx, link: link.value == "1",
})


def progress(call: Call) -> dict:
    mission = _mission(call)
    ids = csv_ids(call.query.get("accountids")) or None
    crit = missions.connection_criteria(mission.id, Customer, other_ids=ids)
    page = page_of(call, Link, crit, PROGRESS, [q.Sort("target_id")])
    active, completed = missions.progress_totals(call.ws, mission.id, ids)
    return {**page, "totalactive": active, "totalcompleted": completed}


BINDINGS = {
    "post_mission_collection": creating(MISSION_ENTITY),
    "get_mission_collection": paged(MISSION_ENTITY),
    "put_mission_item": updating(MISSION_ENTITY),
    "get_mission_item": item(MISSION_ENTITY),
    "get_mission_connection_collection": custom(connections, "page", CONNECTION, handles=["result"]),
    "get_mission_activity_connection_collection": custom(activity_connections, "page", ACTIVITY_CONNECTION,
                handles=["result", "typeids", "userids", "start", "end", "sorting"]),
    "get_mission_connection_type_collection": custom(connections, "page", CONNECTION, handles=["result"]),
    "put_mission_connection_item": custom(put_connection, "object", CONNECTION, CONNECTION_BODY),
    "get_mission_connection_item": custom(connection_item, "object", CONNECTION),
    "get_mission_progress_collection": custom(progress, "page", PROGRESS, handles=["accountids"]),
}
