"""Cirrus kpis group (#150): a user's key figures."""

from __future__ import annotations

import datetime as dt

from tests.cirrus.helpers import VALIDATION, auth, url
from polycrm.core.models import Activity, User
from polycrm.core.workspace import Workspace


def test_dashboard_kpis_with_values_and_averages(client, runtime, tenant, other_tenant):
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        colleague = ws.create(User, username="colleague", name="Cole")
        ws.flush()
        for _ in range(3):
            ws.create(Activity, user_id=tenant["user_id"], start=now, description="x", closed=True)
        ws.create(Activity, user_id=colleague.id, start=now, description="y")
    with Workspace(runtime.db, other_tenant["tenant_id"]) as ws:
        ws.create(Activity, user_id=other_tenant["user_id"], start=now, description="elsewhere")
    page = client.get(url("/kpis/"), params={"userid": tenant["user_id"]}, headers=auth(tenant)).json()
    assert [k["title"] for k in page["items"]] == ["Activities", "Closed activities", "Won opportunities"]
    activities = page["items"][0]
    assert (activities["value"], activities["average"], activities["period"], activities["type"]) == ("3", "2", "week", "count")
    assert page["items"][1]["value"] == "3" and page["items"][1]["average"] == "1.50"
    every = client.get(url("/kpis/"), params={"userid": tenant["user_id"], "location": "all", "sorting": "sort_desc"},
                       headers=auth(tenant)).json()
    assert every["total"] == 4 and every["items"][0]["title"] == "Order value" and every["items"][0]["value"] == "0"


def test_kpi_errors(client, tenant):
    r = client.get(url("/kpis/"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"userid": "Missing required parameter in the query string"}, "message": VALIDATION}
    r = client.get(url("/kpis/?userid=9999"), headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"errors": {"userid": "User 9999 not found"}, "message": "User 9999 not found"}
    r = client.get(url(f"/kpis/?userid={tenant['user_id']}&location=desk"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"location": "The value 'desk' is not a valid choice for 'location'."}, "message": VALIDATION}
    assert client.get(url("/kpis/?userid=1")).status_code == 401


def test_x_fields_mask(client, tenant):
    h = {**auth(tenant), "X-Fields": "{total,items{title}}"}
    page = client.get(url(f"/kpis/?userid={tenant['user_id']}&per_page=1"), headers=h).json()
    assert page == {"total": 3, "items": [{"title": "Activities"}]}
