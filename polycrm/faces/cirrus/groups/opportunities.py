"""opportunities (#91–#103): opportunities = core :class:`Opportunity` (the
centiaCRM opportunities), plus their small lists and follow/unfollow.

Status: the Cirrus ``statusid`` is the core ``status_id`` (lookup kind
``opportunity_status``, whose ``extra.won``/``extra.lost`` flags mark the
closing statuses). The centiaCRM ``status`` word follows it: a won status
makes it ``won``, a lost one ``lost`` (both also set ``closed``); moving a
won/lost opportunity back to an open status, or sending ``closed: 0``,
makes it ``active`` again. ``stateid`` is the core stage (kind ``stage``,
the centiaCRM ``stage_id``); the other lists live in ``extra``.
"""

from __future__ import annotations

from typing import Any

from polycrm.core import links, opportunities
from polycrm.core import query as q
from polycrm.core.models import Contact, Customer, Document, Lookup, Opportunity, User
from polycrm.faces.cirrus.entity import Entity, f_eq, f_flag, f_from, f_ids, f_like, f_to, lookup_entity
from polycrm.faces.cirrus.handlers import creating, following, item, listing, paged, updating
from polycrm.faces.cirrus.views import (
    FILE_REF, ID_NAME, TAG_REF, USER_REF, Ctx, View, attr, linked, ref, render
)
from polycrm.faces.cirrus.writers import Writes, to, to_links
from polycrm.faces.cirrus.groups._sales import (
    CONTACT_REF, to_day, to_flag, to_lookup_ref, to_moment, to_number, to_ref, with_schema,
)
from polycrm.faces.cirrus.groups.accounts import ACCOUNT_REF
from polycrm.faces.cirrus.schemas import define

define("OppEstimate", {"id": "int", "description": "str", "sortorder": "int", "value": "str", "visible": "int"})
define("OppReason", {"id": "int", "name": "str", "sortorder": "int"})
define("OppSource", {"id": "int", "name": "str", "default": "int"})
define("OppState", {"id": "int", "state": "str", "sortorder": "int"})
define("OpportunityStatus", {
    "id": "int", "color": "str", "description": "str", "name": "str", "lost": "int", "opportunitytypeid": "int",
    "sortorder": "int", "sortorderplug": "int", "won": "int",
})
define("OpportunityType", {"id": "int", "isdefault": "int", "name": "str", "sortorder": "int",
                           "validstatuses": "[OpportunityStatus]"})
define("OppBusinessArea", {"opportunityid": "int", "businessareaid": "int"})
define("Opportunity", {
    "id": "int", "account": "AccountRef", "accountid": "int", "altaccount": "AccountRef", "altaccountid": "int",
    "altvalue": "num", "altvaluelabel": "str", "changedate": "datetime", "changeuserid": "int",
    "changeuser": "UserRef", "closed": "int", "contact": "ContactRef", "contactid": "int", "description": "text",
    "estimate": "OppEstimate", "estimatedenddate": "date", "files": "[IdName]", "followers": "[UserRef]",
    "lostreason": "OppReason", "lostreasonid": "int", "phone": "str", "progressionstate": "IdName",
    "regdate": "datetime", "reguser": "UserRef", "reguserid": "int", "result": "text", "source": "OppSource",
    "sourceid": "int", "state": "OppState", "stateid": "int", "status": "OpportunityStatus", "statusid": "int",
    "title": "str", "type": "OpportunityType", "typeid": "int", "user": "UserRef", "userid": "int",
    "value": "num", "businessarea": "OppBusinessArea", "winreason": "OppReason", "winreasonid": "int",
    "tags": "[TagRef]",
})


def _flag(name: str, default: int = 0):
    return lambda ctx, obj: int((obj.extra or {}).get(name, default) or 0)


ESTIMATE = View("OppEstimate", {
    "id": attr("id"), "description": attr("name"), "sortorder": attr("sortorder"), "value": attr("extra.value"),
    "visible": _flag("visible", 1),
})
REASON = View("OppReason", {"id": attr("id"), "name": attr("name"), "sortorder": attr("sortorder")})
SOURCE = View("OppSource", {"id": attr("id"), "name": attr("name"), "default": attr("is_default")})
STATE = View("OppState", {"id": attr("id"), "state": attr("name"), "sortorder": attr("sortorder")})
STATUS = View("OpportunityStatus", {
    "id": attr("id"), "color": attr("extra.color"), "description": attr("extra.description"), "name": attr("name"),
    "lost": _flag("lost"), "opportunitytypeid": attr("extra.opportunitytypeid"), "sortorder": attr("sortorder"),
    "sortorderplug": attr("extra.sortorderplug"), "won": _flag("won"),
})


def valid_statuses(ctx: Ctx, obj: Lookup) -> list:
    """The statuses of this type: those tied to it and those tied to no type."""
    rows = q.every(ctx.ws, Lookup, [q.Criterion("eq", "kind", "opportunity_status")],
                   sort=(q.Sort("sortorder"),))
    own = [r for r in rows if (r.extra or {}).get("opportunitytypeid") in (None, 0, obj.id)]
    return [render(ctx, STATUS, r) for r in own]


TYPE = View("OpportunityType", {
    "id": attr("id"), "isdefault": attr("is_default"), "name": attr("name"), "sortorder": attr("sortorder"),
    "validstatuses": valid_statuses,
})
OPPORTUNITY = View("Opportunity", {
    "id": attr("id"),
    "account": ref(Customer, "customer_id", ACCOUNT_REF), "accountid": attr("customer_id"),
    "altaccount": ref(Customer, "extra.altaccount_id", ACCOUNT_REF), "altaccountid": attr("extra.altaccount_id"),
    "altvalue": attr("extra.altvalue"), "altvaluelabel": attr("extra.altvaluelabel"),
    "changedate": attr("changed_at"), "changeuserid": attr("extra.changeuser_id"),
    "changeuser": ref(User, "extra.changeuser_id", USER_REF),
    "closed": attr("closed"),
    "contact": ref(Contact, "contact_id", CONTACT_REF), "contactid": attr("contact_id"),
    "description": attr("description"),
    "estimate": ref(Lookup, "extra.estimate_id", ESTIMATE),
    "estimatedenddate": attr("estimated_end"),
    "files": linked(Document, FILE_REF, links.FILE, outgoing=False, other_kind=q.entity_kind(Document)),
    "followers": linked(User, USER_REF, links.FOLLOW, outgoing=False, other_kind=links.USER),
    "lostreason": ref(Lookup, "extra.lostreason_id", REASON), "lostreasonid": attr("extra.lostreason_id"),
    "phone": attr("extra.phone"),
    "progressionstate": ref(Lookup, "extra.progressionstate_id", ID_NAME),
    "regdate": attr("created_at"), "reguser": ref(User, "extra.reguser_id", USER_REF),
    "reguserid": attr("extra.reguser_id"),
    "result": attr("result"),
    "source": ref(Lookup, "source_id", SOURCE), "sourceid": attr("source_id"),
    "state": ref(Lookup, "stage_id", STATE), "stateid": attr("stage_id"),
    "status": ref(Lookup, "status_id", STATUS), "statusid": attr("status_id"),
    "title": attr("title"),
    "type": ref(Lookup, "type_id", TYPE), "typeid": attr("type_id"),
    "user": ref(User, "user_id", USER_REF), "userid": attr("user_id"),
    "value": attr("value"),
    "businessarea": lambda ctx, obj: {"opportunityid": obj.id,
                                      "businessareaid": (obj.extra or {}).get("businessarea_id")},
    "winreason": ref(Lookup, "extra.winreason_id", REASON), "winreasonid": attr("extra.winreason_id"),
    "tags": linked(Lookup, TAG_REF, links.TAG, outgoing=True, other_kind=links.LOOKUP),
})


# -- writing -------------------------------------------------------------------
def write_altvalue(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
    """Documented as a string on write and a number on read: a numeric string."""
    to_number("extra.altvalue")(ctx, obj, value, out)


WRITERS = {
    "accountid": to_ref("customer_id", Customer, "Account"),
    "altaccountid": to_ref("extra.altaccount_id", Customer, "Account"),
    "contactid": to_ref("contact_id", Contact, "Contact"),
    "phone": to("extra.phone"),
    "title": to("title", required=True),
    "description": to("description"),
    "userid": to_ref("user_id", User, "User"),
    "result": to("result"),
    "value": to_number("value"),
    "altvalue": with_schema(write_altvalue, pattern=r"^\s*(-?[0-9]+(\.[0-9]+)?)?\s*$"),
    "altvaluelabel": to("extra.altvaluelabel"),
    "statusid": to_lookup_ref("status_id", "opportunity_status", "Opportunity status"),
    "estimatedenddate": with_schema(to_day("estimated_end"), format="date"),
    "lostreasonid": to_lookup_ref("extra.lostreason_id", "lost_reason", "Lost reason"),
    "typeid": to_lookup_ref("type_id", "opportunity_type", "Opportunity type"),
    "winreasonid": to_lookup_ref("extra.winreason_id", "win_reason", "Win reason"),
    "enddate": to_moment("closed_at"),
    "stateid": to_lookup_ref("stage_id", "stage", "Opportunity state"),
    "estimateid": to_lookup_ref("extra.estimate_id", "opportunity_estimate", "Opportunity estimate"),
    # A string on the wire, but an id.
    "sourceid": with_schema(to_lookup_ref("source_id", "opportunity_source", "Opportunity source"),
                            pattern=r"^\s*[0-9]*\s*$"),
    "closed": to_flag("closed"),
    "tags": to_links(links.TAG, "tag", "Tag"),
}

FILTERS = {
    "userid": f_eq("user_id"), "userids": f_ids("user_id"), "accountid": f_eq("customer_id"),
    "accounttypeids": f_ids("customer_id->customer.type_id"),
    "accountuserids": f_ids("customer_id->customer.user_id"),
    "estimated_startdate": f_from("estimated_end"), "estimated_enddate": f_to("estimated_end"),
    "actual_startdate": f_from("closed_at"), "actual_enddate": f_to("closed_at"),
    "statusid": f_eq("status_id"), "statusids": f_ids("status_id"),
    "estimateid": f_eq("extra.estimate_id", "int"), "estimateids": f_ids("extra.estimate_id", "int"),
    "lostreasonid": f_eq("extra.lostreason_id", "int"), "winreasonid": f_eq("extra.winreason_id", "int"),
    "contactid": f_eq("contact_id"), "typeid": f_eq("type_id"), "closed": f_flag("closed"),
    "progressionstateid": f_eq("extra.progressionstate_id", "int"), "description": f_like("description"),
}
SORTS = {
    # "date" is the expected end date; "account" the account's name.
    "date": (q.Sort("estimated_end"),), "account": (q.Sort("customer_id->customer.name_folded"),),
    "userid": (q.Sort("user_id"),),
}

OPPORTUNITY_ENTITY = Entity(
    label="Opportunity", model=Opportunity, view=OPPORTUNITY, writers=WRITERS, filters=FILTERS, sorts=SORTS,
    fulltext="title,description,result", defaults={"status": "active"},
    service=opportunities.SERVICE,
)

ESTIMATES = lookup_entity("Opportunity estimate", "opportunity_estimate", ESTIMATE)
LOST_REASONS = lookup_entity("Lost reason", "lost_reason", REASON)
PROGRESSION_STATES = lookup_entity("Progression state", "opportunity_progression", ID_NAME)
SOURCES = lookup_entity("Opportunity source", "opportunity_source", SOURCE)
STATUSES = lookup_entity("Opportunity status", "opportunity_status", STATUS)
TYPES = lookup_entity("Opportunity type", "opportunity_type", TYPE)
WIN_REASONS = lookup_entity("Win reason", "win_reason", REASON)

BINDINGS = {
    "post_opportunity_collection": creating(OPPORTUNITY_ENTITY),
    "get_opportunity_collection": paged(OPPORTUNITY_ENTITY),
    "get_opportunity_estimate_collection": listing(ESTIMATES),
    "post_opportunity_follow": following(OPPORTUNITY_ENTITY, True),
    "get_opportunity_lostreason_collection": listing(LOST_REASONS),
    "get_opportunity_progressionstate_collection": listing(PROGRESSION_STATES),
    "get_opportunity_source_collection": listing(SOURCES),
    "get_opportunity_status_collection": listing(STATUSES),
    "get_opportunity_type_collection": listing(TYPES),
    "post_opportunity_unfollow": following(OPPORTUNITY_ENTITY, False),
    "get_opportunity_winreason_collection": listing(WIN_REASONS),
    "put_opportunity_item": updating(OPPORTUNITY_ENTITY),
    "get_opportunity_item": item(OPPORTUNITY_ENTITY),
}
