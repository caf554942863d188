"""emails (#207–#208, deprecated): e-mails logged in the CRM.

An e-mail is a core activity whose type has the code ``email`` (so a mail
logged through any API, or the web pages, is listed here): ``subject`` = the
activity's description, ``body`` = its note, ``text`` = its result,
``date`` = its start (or date), ``sender`` = the owning user's address,
``to`` = the contact's address (plus ``extra.to``), ``cc`` = ``extra.cc``.
The ``date`` filter selects the mails of that day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from polycrm.core import query as q
from polycrm.core.models import Activity, Contact, User
from polycrm.faces.cirrus.errors import ApiError
from polycrm.faces.cirrus.handlers import Call, custom
from polycrm.faces.cirrus.views import Ctx, View, attr, render
from polycrm.faces.cirrus.groups._records import page_of
from polycrm.faces.cirrus.schemas import define

define("Email", {"id": "int", "sender": "str", "to": "[str]", "cc": "[str]", "subject": "str", "date": "datetime",
                 "body": "text", "text": "text"})
IS_EMAIL = q.Criterion("eq", "type_id->lookup.code", "email")


def _addresses(value: Any) -> list[str]:
    if isinstance(value, str):
        return [a.strip() for a in value.split(",") if a.strip()]
    return [str(a) for a in value or []]


def recipients(ctx: Ctx, mail: Activity) -> list[str]:
    contact = ctx.loader.get(Contact, mail.contact_id)
    found = [contact.email] if contact is not None and contact.email else []
    return found + [a for a in _addresses((mail.extra or {}).get("to")) if a not in found]


EMAIL = View("Email", {
    "id": attr("id"), "sender": lambda ctx, m: getattr(ctx.loader.get(User, m.user_id), "email", None),
    "to": recipients, "cc": lambda ctx, m: _addresses((m.extra or {}).get("cc")), "subject": attr("description"),
    "date": lambda ctx, m: m.start or m.date, "body": attr("note"), "text": attr("result"),
})


def page(call: Call) -> dict:
    query = call.query
    crit = [IS_EMAIL]
    if query.get("accountid") is not None:
        crit.append(q.Criterion("eq", "customer_id", query["accountid"]))
    if query.get("contactid") is not None:
        crit.append(q.Criterion("eq", "contact_id", query["contactid"]))
    if query.get("date") is not None:
        day = query["date"].date() if isinstance(query["date"], dt.datetime) else query["date"]
        crit += [q.Criterion("from", "start", day), q.Criterion("to", "start", day)]
    descending = (query.get("sorting") or "date_desc").endswith("_desc")
    return page_of(call, Activity, crit, EMAIL, [q.Sort("start", descending)])


def one(call: Call) -> dict:
    found = q.every(call.ws, Activity, [IS_EMAIL, q.Criterion("eq", "id", call.path["id"])])
    if not found:
        raise ApiError(404, f"Email {call.path['id']} not found")
    return render(call.ctx, EMAIL, found[0])


BINDINGS = {
    "get_email_collection": custom(page, "page", EMAIL, handles=["accountid", "contactid", "date"]),
    "get_email_item": custom(one, "object", EMAIL),
}
