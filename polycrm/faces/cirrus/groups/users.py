"""users (#133–#149): users = core users; departments, roles, budgets, "me".

* Departments are ``user_department`` lookups (``parent_id`` = parent
  department, ``extra.manager_id``); a user's departments are
  ``department`` links (source = the user). Roles are ``user_role`` lookups
  linked with ``role`` links.
* Settings (``[{id,key,value}]``), ``presentation``, ``startpage``, the
  avatar/photo (base64 text) live in the user's ``extra``.
* A new user's login name is their e-mail (else ``name.surname``), made
  unique with a number (the core's rule: :mod:`polycrm.core.users`).
* Budgets are ``user_budget`` records per user and month; the monthly
  budget and pipeline are spread evenly over the month's weekdays to give
  ``weeks[].days[]`` (ISO weeks, remainders on the first days:
  :func:`polycrm.core.budgets.weeks`).
* ``/users/me``: ``customerid`` is the tenant; the e-mail settings'
  password is accepted and never stored or shown.
"""

from __future__ import annotations

from dataclasses import replace
from collections.abc import Mapping
from typing import Any

from polycrm.core import budgets, links, lookups
from polycrm.core import users
from polycrm.core import query as q
from polycrm.core.models import Lookup, Record, User
from polycrm.faces.cirrus import wire
from polycrm.faces.cirrus.entity import Entity, f_eq, f_flag, lookup_entity, run_page
from polycrm.faces.cirrus.errors import FieldError
from polycrm.faces.cirrus.handlers import Binding, Call, creating, custom, item, paged, updating
from polycrm.faces.cirrus.views import ID_NAME, TAG_REF, USER_REF, Ctx, View, attr, linked, render
from polycrm.faces.cirrus.writers import Writes, ignored, to, to_links
from polycrm.faces.cirrus.groups._records import MonthlyBudget
from polycrm.faces.cirrus.schemas import define

USER_KIND = links.USER
DEPARTMENT_KIND, DEPARTMENT_LINK = "user_department", "department"
ROLE_KIND, ROLE_LINK = "user_role", "role"

define("Department4", {"id": "int", "name": "str", "parentid": "int", "manager": "UserRef"})
define("Department3", {"id": "int", "name": "str", "parentdepartment": "Department4", "manager": "UserRef"})
define("Department2", {"id": "int", "name": "str", "parentdepartment": "Department3", "manager": "UserRef"})
define("Department1", {"id": "int", "name": "str", "parentdepartment": "Department2", "manager": "UserRef"})
define("Department", {"id": "int", "name": "str", "parent": "Department4", "manager": "UserRef", "users": "[UserRef]"})
define("UserSetting", {"id": "int", "key": "str", "value": "text", "userid": "int"}, value=True)
define("User", {
    "active": "int", "cellphone": "str", "departments": "[Department1]", "email": "str", "id": "int",
    "language": "str", "lastactive": "datetime", "name": "str", "phone": "str", "presentation": "text",
    "startpage": "int", "surname": "str", "title": "str", "avatar_b64": "text", "photo_b64": "text",
    "settings": "[UserSetting]", "roles": "[IdName]", "tags": "[TagRef]",
})
define("UserEmailSetting", {
    "id": "int", "email": "str", "name": "str", "username": "str", "password": "str", "port": "str",
    "authtype": "int", "incominserver": "str", "smtpserver": "str", "userid": "int", "signature": "text",
    "defaultemailtype": "int",
}, value=True)
define("UserProperty", {"userid": "int", "licenceadmin": "int", "elevatedaccount": "int", "salescoach": "int",
                        "crmversion": "int"}, value=True)
define("UserMe", {
    "active": "int", "cellphone": "str", "customerid": "int", "departments": "[Department1]", "email": "str",
    "emailsettings": "UserEmailSetting", "id": "int", "language": "str", "lastactive": "datetime", "name": "str",
    "phone": "str", "presentation": "text", "properties": "UserProperty", "settings": "[UserSetting]",
    "startpage": "int", "surname": "str", "title": "str", "avatar_b64": "text", "photo_b64": "text",
})
define("UserBudgetDay", {"day": "str", "budget": "int", "pipeline": "int"})
define("UserBudgetWeek", {"week": "str", "budget": "int", "pipeline": "int", "days": "[UserBudgetDay]"})
define("UserBudget", {"id": "int", "userid": "int", "year": "int", "month": "int", "budget": "int", "pipeline": "int",
                      "weeks": "[UserBudgetWeek]"})


# -- departments ---------------------------------------------------------------------
def _manager(ctx: Ctx, dept: Lookup) -> dict | None:
    user = ctx.loader.get(User, (dept.extra or {}).get("manager_id"))
    return render(ctx, USER_REF, user) if user is not None and not user.deleted else None


def _department_chain(level: int):
    """DepartmentRef unrolled: levels 1-3 nest their parent, level 4 gives its id."""

    def read(ctx: Ctx, dept: Lookup | None) -> dict | None:
        if dept is None or dept.deleted:
            return None
        out = {"id": dept.id, "name": dept.name}
        if level < 4:
            out["parentdepartment"] = _department_chain(level + 1)(ctx, ctx.loader.get(Lookup, dept.parent_id))
        else:
            out["parentid"] = dept.parent_id
        out["manager"] = _manager(ctx, dept)
        return out

    return read


def _departments_of(ctx: Ctx, user: User) -> list:
    ids = ctx.loader.linked_ids(DEPARTMENT_LINK, source_kind=USER_KIND, source_id=user.id, target_kind=links.LOOKUP)
    return [_department_chain(1)(ctx, d) for d in ctx.loader.many(Lookup, ids)]


def _members(ctx: Ctx, dept: Lookup) -> list:
    ids = ctx.loader.linked_ids(DEPARTMENT_LINK, target_kind=links.LOOKUP, target_id=dept.id, source_kind=USER_KIND)
    return [render(ctx, USER_REF, u) for u in ctx.loader.many(User, ids)]


DEPARTMENT = View("Department", {
    "id": attr("id"), "name": attr("name"),
    "parent": lambda ctx, d: _department_chain(4)(ctx, ctx.loader.get(Lookup, d.parent_id)),
    "manager": _manager, "users": _members,
})


def _ref_id(value: Any) -> Any:
    return value.get("id") if isinstance(value, Mapping) else value


def to_parent(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
    id_ = _ref_id(value)
    if not id_:
        out.changes["parent_id"] = None
        return
    if lookups.get(ctx.ws, DEPARTMENT_KIND, id_) is None:
        raise FieldError(f"Department {id_} not found", 404)
    if obj is not None:
        seen, current = {obj.id}, lookups.get(ctx.ws, DEPARTMENT_KIND, id_)
        while current is not None:
            if current.id in seen:
                raise FieldError(f"Department {id_} would make the department its own parent")
            seen.add(current.id)
            current = lookups.get(ctx.ws, DEPARTMENT_KIND, current.parent_id) if current.parent_id else None
    out.changes["parent_id"] = int(id_)


def to_user_ref(path: str):
    def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
        id_ = _ref_id(value)
        if id_ and ctx.ws.get(User, id_, include_deleted=False) is None:
            raise FieldError(f"User {id_} not found", 404)
        out.changes[path] = int(id_) if id_ else None

    return write


def to_members(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
    ids = [int(i) for i in (_ref_id(v) for v in value or []) if i]
    for id_ in ids:
        if ctx.ws.get(User, id_, include_deleted=False) is None:
            raise FieldError(f"User {id_} not found", 404)

    def save(ctx: Ctx, dept: Lookup) -> None:
        current = set(ctx.loader.linked_ids(DEPARTMENT_LINK, target_kind=links.LOOKUP, target_id=dept.id,
                                            source_kind=USER_KIND))
        for id_ in current - set(ids):
            links.unlink(ctx.ws, DEPARTMENT_LINK, USER_KIND, id_, links.LOOKUP, dept.id)
        for id_ in ids:
            links.link(ctx.ws, DEPARTMENT_LINK, USER_KIND, id_, links.LOOKUP, dept.id)

    out.after.append(save)


DEPARTMENTS = lookup_entity(
    "Department", DEPARTMENT_KIND, DEPARTMENT,
    writers={"id": ignored(), "name": to("name"), "parent": to_parent,
             "manager": to_user_ref("extra.manager_id"), "users": to_members},
    filters={"parentid": f_eq("parent_id"), "managerid": f_eq("extra.manager_id", "int")},
    sorts={"name": (q.Sort("name", mode="text"),)},
)
ROLES = lookup_entity(
    "Role", ROLE_KIND, ID_NAME, writers={"id": ignored(), "name": to("name", required=True)},
    sorts={"name": (q.Sort("name", mode="text"),), "id": (q.Sort("id"),)},
)


# -- users --------------------------------------------------------------------------
def _settings(ctx: Ctx, user: User) -> list:
    return [{"id": wire.coerce("int", s.get("id")), "key": wire.coerce("str", s.get("key")),
             "value": wire.coerce("text", s.get("value")), "userid": user.id}
            for s in (user.extra or {}).get("settings") or [] if isinstance(s, Mapping)]


def _roles(ctx: Ctx, user: User) -> list:
    ids = ctx.loader.linked_ids(ROLE_LINK, source_kind=USER_KIND, source_id=user.id, target_kind=links.LOOKUP)
    return [render(ctx, ID_NAME, r) for r in ctx.loader.many(Lookup, ids)]


_COMMON = {
    "active": attr("active"), "cellphone": attr("cellphone"), "departments": _departments_of, "email": attr("email"),
    "id": attr("id"), "language": attr("language"), "lastactive": attr("extra.lastactive"), "name": attr("name"),
    "phone": attr("phone"), "presentation": attr("extra.presentation"), "startpage": attr("extra.startpage"),
    "surname": attr("surname"), "title": attr("title"), "avatar_b64": attr("extra.avatar_b64"),
    "photo_b64": attr("extra.photo_b64"), "settings": _settings,
}
USER = View("User", {**_COMMON, "roles": _roles,
                     "tags": linked(Lookup, TAG_REF, links.TAG, outgoing=True, other_kind=links.LOOKUP)})


def _email_settings(ctx: Ctx, user: User) -> dict | None:
    stored = (user.extra or {}).get("emailsettings")
    if not isinstance(stored, Mapping):
        return None
    fields = ("id", "email", "name", "username", "port", "authtype", "incominserver", "smtpserver", "signature",
              "defaultemailtype")
    out: dict[str, Any] = {f: stored.get(f) for f in fields}
    return {"id": out["id"], "email": out["email"], "name": out["name"], "username": out["username"],
            "password": None, "port": wire.coerce("str", out["port"]), "authtype": wire.coerce("int", out["authtype"]),
            "incominserver": out["incominserver"], "smtpserver": out["smtpserver"], "userid": user.id,
            "signature": out["signature"], "defaultemailtype": wire.coerce("int", out["defaultemailtype"])}


ME = View("UserMe", {
    **_COMMON, "customerid": lambda ctx, user: ctx.ws.tenant_id, "emailsettings": _email_settings,
    "properties": lambda ctx, user: {"userid": user.id, "licenceadmin": int(user.is_admin),
                                     "elevatedaccount": int(user.is_admin), "salescoach": 0, "crmversion": 2},
})


def to_settings(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
    settings = []
    for n, s in enumerate(value or [], start=1):
        if isinstance(s, Mapping):
            settings.append({"id": s.get("id") or n, "key": s.get("key"), "value": s.get("value")})
    out.changes["extra.settings"] = settings


def to_departments(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
    ids = [int(i) for i in (_ref_id(v) for v in value or []) if i]
    for id_ in ids:
        if lookups.get(ctx.ws, DEPARTMENT_KIND, id_) is None:
            raise FieldError(f"Department {id_} not found", 404)
    out.after.append(lambda ctx, user: links.set_targets(ctx.ws, DEPARTMENT_LINK, USER_KIND, user.id, links.LOOKUP, ids))


def to_email_settings(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
    if value is None:
        out.changes["extra.emailsettings"] = None
        return
    # The mailbox password is not kept: polycrm sends no mail on a user's behalf.
    out.changes["extra.emailsettings"] = {k: v for k, v in value.items() if k not in ("password", "userid")}


USER_WRITERS = {
    "id": ignored(), "lastactive": ignored(),
    "active": to("active", lambda v: bool(int(v))), "cellphone": to("cellphone"), "email": to("email"),
    "language": to("language"), "name": to("name"), "phone": to("phone"), "surname": to("surname"),
    "title": to("title"), "presentation": to("extra.presentation"), "startpage": to("extra.startpage"),
    "avatar_b64": to("extra.avatar_b64"), "photo_b64": to("extra.photo_b64"),
    "settings": to_settings, "departments": to_departments,
    "roles": to_links(ROLE_LINK, ROLE_KIND, "Role"),
    "tags": to_links(links.TAG, "tag", "Tag"),
}
USERS = Entity(
    label="User", model=User, view=USER, writers=USER_WRITERS,
    filters={"active": f_flag("active"), "code": f_eq("code")},
    sorts={"name": (q.Sort("name", mode="text"), q.Sort("surname", mode="text")),
           "surname": (q.Sort("surname", mode="text"), q.Sort("name", mode="text")),
           "active": (q.Sort("active"), q.Sort("name", mode="text"))},
    fulltext="name,surname,email,title,phone,cellphone",
    service=users.SERVICE,
)
ME_ENTITY = Entity(
    label="User", model=User, view=ME,
    writers={**USER_WRITERS, "customerid": ignored(), "properties": ignored(), "emailsettings": to_email_settings},
    service=users.SERVICE,
)


def get_me(call: Call) -> dict:
    return render(call.ctx, ME, ME_ENTITY.find(call.ctx, call.ctx.user_id))


def put_me(call: Call) -> dict:
    me = ME_ENTITY.find(call.ctx, call.ctx.user_id)
    ME_ENTITY.save(call.ctx, me, call.body or {})
    return render(call.ctx, ME, me)


# -- budgets -----------------------------------------------------------------------------
def _weeks(ctx: Ctx, row: Record) -> list:
    return budgets.weeks(row)


USER_BUDGET = View("UserBudget", {
    "id": attr("id"), "userid": attr("user_id"), "year": attr("extra.year"), "month": attr("extra.month"),
    "budget": attr("extra.budget"), "pipeline": attr("extra.pipeline"), "weeks": _weeks,
})


def _period_bound(year: Any, month: Any, *, end: bool) -> str | None:
    if year is None:
        return None
    month = month if month is not None else (12 if end else 1)
    return f"{int(year):04d}-{int(month):02d}"


def _budget_filters(query: Mapping[str, Any]) -> list[q.Criterion]:
    found = []
    start = _period_bound(query.get("year_from"), query.get("month_from"), end=False)
    stop = _period_bound(query.get("year_to"), query.get("month_to"), end=True)
    if start:
        found.append(q.Criterion("ge", "number", start))
    if stop:
        found.append(q.Criterion("le", "number", stop))
    if query.get("userids"):
        found.append(q.Criterion("in", "user_id", list(query["userids"])))
    return found


BUDGETS = Entity(
    label="Budget", model=Record, view=USER_BUDGET, scope=(q.Criterion("eq", "kind", budgets.USER),),
    sorts={"period": (q.Sort("number"), q.Sort("user_id"))}, combined=_budget_filters,
    combined_params=frozenset({"userids", "year_from", "month_from", "year_to", "month_to"}),
)


def list_budgets(call: Call) -> dict:
    entity = BUDGETS
    if "userid" in call.path:
        USERS.find(call.ctx, call.path["userid"])
        entity = replace(BUDGETS, scope=BUDGETS.scope + (q.Criterion("eq", "user_id", call.path["userid"]),))
    call.query = {**call.query, "sorting": "period_asc"}
    return run_page(call, entity)


MONTHLY_BUDGET = MonthlyBudget(budgets.USER, USERS, "userid", "user", USER_BUDGET, ("budget", "pipeline"))


BUDGET_PARAMS = ("userids", "year_from", "month_from", "year_to", "month_to")

BINDINGS = {
    "post_user_collection": creating(USERS),
    "get_user_collection": paged(USERS),
    "get_budget_collection": custom(list_budgets, "page", USER_BUDGET, BUDGETS, handles=BUDGET_PARAMS),
    "post_user_department_collection": creating(DEPARTMENTS),
    "get_user_department_collection": paged(DEPARTMENTS),
    "put_user_department_item": updating(DEPARTMENTS),
    "get_user_department_item": item(DEPARTMENTS),
    "put_user_me": Binding(put_me, "object", ME, ME_ENTITY),
    "get_user_me": custom(get_me, "object", ME),
    "post_user_role_collection": creating(ROLES),
    "get_user_role_collection": paged(ROLES),
    "put_user_item": updating(USERS),
    "get_user_item": item(USERS),
    "get_user_budget_collection": custom(list_budgets, "page", USER_BUDGET, BUDGETS, handles=BUDGET_PARAMS),
    "put_user_budget_item": custom(MONTHLY_BUDGET.put, "object", USER_BUDGET),
    "delete_user_budget_item": custom(MONTHLY_BUDGET.delete, "empty"),
    "get_user_budget_item": custom(MONTHLY_BUDGET.get, "object", USER_BUDGET),
}

