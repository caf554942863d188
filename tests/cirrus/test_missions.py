"""Cirrus missions group (#155-#164): missions, connections, progress."""

from __future__ import annotations

import datetime as dt

from tests.cirrus.helpers import VALIDATION, auth, new_account, url
from polycrm.core.models import Activity
from polycrm.core.workspace import Workspace


def call(client, tenant, method, path, status=200, **kw):
    r = client.request(method, url(path), headers=auth(tenant), **kw)
    assert r.status_code == status, r.text
    return r.json()


def new_mission(client, tenant, **fields):
    body = {"name": "Spring push", "startdate": "2026-03-01", "enddate": "2026-05-31", "userid": tenant["user_id"], **fields}
    return call(client, tenant, "POST", "/missions/", json=body)


def activity(runtime, tenant, account_id, start):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        a = ws.create(Activity, customer_id=account_id, user_id=tenant["user_id"], description="Visit", start=start)
        ws.flush()
        return a.id


def test_create_returns_the_mission_as_get_does(client, tenant):
    created = new_mission(client, tenant, description="Sell more", script="Hi!", typeid=3, pdf="guide.pdf")
    assert created == call(client, tenant, "GET", f"/missions/{created['id']}")
    assert (created["startdate"], created["enddate"], created["active"], created["userid"], created["typeid"]) == \
        ("2026-03-01", "2026-05-31", 1, tenant["user_id"], 3)


def test_create_rejects_bad_fields(client, tenant):
    r = client.post(url("/missions/"), json={"name": "x", "startdate": "March"}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"startdate": "'March' is not a 'date'"}, "message": VALIDATION}
    r = client.post(url("/missions/"), json={"name": "x", "userid": 999}, headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"errors": {"userid": "User 999 not found"}, "message": "User 999 not found"}


def test_update_changes_only_the_fields_sent(client, tenant):
    created = new_mission(client, tenant, description="keep")
    updated = call(client, tenant, "PUT", f"/missions/{created['id']}", json={"active": 0, "enddate": "2026-06-30"})
    assert (updated["active"], updated["enddate"], updated["description"]) == (0, "2026-06-30", "keep")
    assert updated == call(client, tenant, "GET", f"/missions/{created['id']}")
    for method in ("GET", "PUT"):
        r = client.request(method, url("/missions/777"), json={}, headers=auth(tenant))
        assert r.status_code == 404 and r.json() == {"message": "Mission 777 not found"}


def test_list_filters_and_sorting(client, tenant):
    a = new_mission(client, tenant, name="A", startdate="2026-01-01", enddate="2026-01-31")
    b = new_mission(client, tenant, name="B", startdate="2026-02-01", enddate="2026-12-31")
    c = new_mission(client, tenant, name="C", active=0)
    account = new_account(client, tenant)
    call(client, tenant, "PUT", f"/missions/{b['id']}/connections/account/{account['id']}", json={})

    def ids(**params):
        return [m["id"] for m in call(client, tenant, "GET", "/missions/", params=params)["items"]]

    assert ids() == [a["id"], b["id"]]  # active=1 by default, by end date
    assert ids(active=0) == [c["id"]]
    assert ids(sorting="name_desc") == [b["id"], a["id"]]
    assert ids(datespan_start="2026-06-01T00:00:00Z") == [b["id"]]
    assert ids(datespan_end="2026-01-15") == [a["id"]]
    assert ids(accountids=str(account["id"])) == [b["id"]]
    assert ids(ownerids=f"{tenant['user_id']}", sorting="startdate_desc") == [b["id"], a["id"]]
    r = client.get(url("/missions/?sorting=colour_asc"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"sorting": "The value 'colour_asc' is not a valid choice for 'sorting'."},
                        "message": VALIDATION}


def test_connections(client, runtime, tenant):
    mission = new_mission(client, tenant)
    account = new_account(client, tenant)
    put = call(client, tenant, "PUT", f"/missions/{mission['id']}/connections/account/{account['id']}", json={"result": 1})
    assert (put["type"], put["connectid"], put["result"]) == ("account", account["id"], 1)
    assert call(client, tenant, "GET", f"/missions/{mission['id']}/connections/account/{account['id']}") == put
    # A PUT without result keeps it.
    assert call(client, tenant, "PUT", f"/missions/{mission['id']}/connections/accounts/{account['id']}", json={})["result"] == 1
    call(client, tenant, "PUT", f"/missions/{mission['id']}/connections/user/{tenant['user_id']}", json={"result": 0})
    every = call(client, tenant, "GET", f"/missions/{mission['id']}/connections")
    assert [(c["type"], c["result"]) for c in every["items"]] == [("user", 0), ("account", 1)]
    assert call(client, tenant, "GET", f"/missions/{mission['id']}/connections", params={"result": 1})["total"] == 1
    only = call(client, tenant, "GET", f"/missions/{mission['id']}/connections/user")
    assert [c["connectid"] for c in only["items"]] == [tenant["user_id"]]
    # The accounts list's mission filter sees the same connection.
    accounts = call(client, tenant, "GET", "/accounts/", params={"missionid": mission["id"], "missionresult": 1})
    assert [a["id"] for a in accounts["items"]] == [account["id"]]


def test_connection_errors(client, tenant):
    mission = new_mission(client, tenant)
    r = client.get(url(f"/missions/{mission['id']}/connections/planet/1"), headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"message": "Unknown connection type 'planet': use one of account, activity, article, order, "
                                   "user, contact, file"}
    r = client.get(url(f"/missions/{mission['id']}/connections/account/5"), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": f"Account 5 is not connected to mission {mission['id']}"}
    r = client.put(url(f"/missions/{mission['id']}/connections/account/5"), json={}, headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"errors": {"connectid": "Account 5 not found"}, "message": "Account 5 not found"}
    r = client.put(url(f"/missions/{mission['id']}/connections/user/1"), json={"result": "yes"}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"result": "'yes' is not of type 'integer'"}, "message": VALIDATION}
    r = client.put(url(f"/missions/{mission['id']}/connections/user/1"), json={"result": 2}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"result": "2 is not one of [0, 1]"}, "message": VALIDATION}
    r = client.get(url("/missions/999/connections"), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Mission 999 not found"}


def test_activity_connections_and_progress(client, runtime, tenant):
    mission = new_mission(client, tenant)
    first, second = new_account(client, tenant, name="First"), new_account(client, tenant, name="Second")
    early = activity(runtime, tenant, first["id"], dt.datetime(2026, 3, 2, 9))
    late = activity(runtime, tenant, first["id"], dt.datetime(2026, 4, 2, 9))
    for acc, result in ((first, 1), (second, 0)):
        call(client, tenant, "PUT", f"/missions/{mission['id']}/connections/account/{acc['id']}", json={"result": result})
    for act in (early, late):
        call(client, tenant, "PUT", f"/missions/{mission['id']}/connections/activity/{act}", json={})
    page = call(client, tenant, "GET", f"/missions/{mission['id']}/connections/activity", params={"sorting": "start_desc"})
    assert [c["connectid"] for c in page["items"]] == [late, early]
    assert page["items"][0]["activity"]["account"]["name"] == "First"
    assert page["items"][0]["activity"]["date"] == "2026-04-02"
    narrowed = call(client, tenant, "GET", f"/missions/{mission['id']}/connections/activities",
                    params={"start": "2026-04-01T00:00:00Z"})
    assert [c["connectid"] for c in narrowed["items"]] == [late]
    progress = call(client, tenant, "GET", f"/missions/{mission['id']}/progress")
    assert (progress["total"], progress["totalactive"], progress["totalcompleted"]) == (2, 1, 1)
    first_row = next(i for i in progress["items"] if i["accountid"] == first["id"])
    assert first_row["completed"] is True and first_row["accountname"] == "First"
    assert first_row["activity"]["id"] == late and first_row["lastactivity"] == "2026-04-02T09:00:00Z"
    only = call(client, tenant, "GET", f"/missions/{mission['id']}/progress", params={"accountids": str(second["id"])})
    assert (only["total"], only["totalactive"], only["totalcompleted"]) == (1, 1, 0)
    assert only["items"][0]["activity"] is None
    r = client.get(url(f"/missions/{mission['id']}/progress?accountids=x"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"accountids": "invalid literal for int() with base 10: 'x'"}, "message": VALIDATION}


def test_x_fields_mask(client, tenant):
    created = new_mission(client, tenant)
    h = {**auth(tenant), "X-Fields": "{id,name}"}
    assert client.get(url(f"/missions/{created['id']}"), headers=h).json() == {"id": created["id"], "name": "Spring push"}
    page = client.get(url("/missions/"), headers={**auth(tenant), "X-Fields": "{total,items{name}}"}).json()
    assert page == {"total": 1, "items": [{"name": "Spring push"}]}


def test_without_token_is_401(client):
    assert client.get(url("/missions/")).status_code == 401
