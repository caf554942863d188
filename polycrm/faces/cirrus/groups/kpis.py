"""kpis (#150): a user's key figures (:mod:`polycrm.core.kpis`).

``location=dashboard`` lists the KPIs marked for the dashboard, ``all`` every
KPI; ``sorting`` orders by the list's sort order. ``value`` and ``average``
are decimal strings; ``period`` names the period the value covers.
"""

from __future__ import annotations

from polycrm.core import kpis
from polycrm.core import query as q
from polycrm.core.errors import NotFound
from polycrm.core.models import Lookup, User
from polycrm.faces.cirrus.errors import invalid
from polycrm.faces.cirrus.handlers import Call, custom
from polycrm.faces.cirrus.views import View, render
from polycrm.faces.cirrus.schemas import define

define("KPI", {"id": "int", "title": "str", "type": "str", "subtitle": "str", "value": "str", "period": "str",
               "average": "str"})
MISSING = "Missing required parameter in the query string"


# A row is (kpi, the user's value, the average).
KPI = View("KPI", {
    "id": lambda ctx, r: r[0].id, "title": lambda ctx, r: r[0].name,
    "type": lambda ctx, r: (r[0].extra or {}).get("type"), "subtitle": lambda ctx, r: (r[0].extra or {}).get("subtitle"),
    "value": lambda ctx, r: kpis.format_number(r[1]), "period": lambda ctx, r: kpis.period_of(r[0]),
    "average": lambda ctx, r: kpis.format_number(r[2]),
})


def page(call: Call) -> dict:
    query = call.query
    if query.get("userid") is None:
        raise invalid({"userid": MISSING})
    user_id = query["userid"]
    if call.ws.get(User, user_id, include_deleted=False) is None:
        raise NotFound(f"User {user_id} not found", field="userid")
    crit = [q.Criterion("eq", "kind", "kpi")]
    if (query.get("location") or "dashboard") == "dashboard":
        crit.append(q.Criterion("eq", "extra.location", "dashboard"))
    descending = (query.get("sorting") or "sort_asc").endswith("_desc")
    try:
        found = q.search(call.ws, Lookup, crit, sort=[q.Sort("sortorder", descending)],
                         page=query.get("page") or 1, per_page=query.get("per_page") or 10)
    except q.PageOutOfRange:
        raise invalid({"page": f"page {query.get('page')} is out of range"}) from None
    rows = [(kpi, *kpis.measure(call.ws, kpi, user_id)) for kpi in found.items]
    return {"page": found.page, "pages": found.pages, "per_page": found.per_page, "total": found.total,
            "items": [render(call.ctx, KPI, row) for row in rows]}


BINDINGS = {"get_kpi_collection": custom(page, "page", KPI, handles=["userid", "location"])}
