"""Cirrus users group (#133-#149): users, departments, roles, budgets, me."""

from __future__ import annotations

from tests.cirrus.helpers import VALIDATION, auth, url
from polycrm.core import lookups
from polycrm.core.models import User
from polycrm.core.workspace import Workspace


def role_id(runtime, tenant, name="Sales"):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        return next(r.id for r in lookups.items(ws, "user_role") if r.name == name)


def new_user(client, runtime, tenant, **fields):
    body = {"name": "Sara", "surname": "Holm", "title": "Sales rep", "cellphone": "+45 30",
            "roles": [{"id": role_id(runtime, tenant)}], **fields}
    r = client.post(url("/users/"), json=body, headers=auth(tenant))
    assert r.status_code == 200, r.text
    return r.json()


def test_create_and_read_a_user(client, runtime, tenant):
    u = new_user(client, runtime, tenant, email="sara@x.dk", settings=[{"key": "theme", "value": "dark"}], startpage=2)
    assert (u["name"], u["surname"], u["title"], u["active"], u["startpage"]) == ("Sara", "Holm", "Sales rep", 1, 2)
    assert u["roles"] == [{"id": role_id(runtime, tenant), "name": "Sales"}]
    assert u["settings"] == [{"id": 1, "key": "theme", "value": "dark", "userid": u["id"]}]
    assert client.get(url(f"/users/{u['id']}"), headers=auth(tenant)).json() == u
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert ws.get(User, u["id"]).username == "sara@x.dk"
    second = new_user(client, runtime, tenant, email="sara@x.dk")
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert ws.get(User, second["id"]).username == "sara@x.dk-2"


def test_create_errors(client, runtime, tenant):
    r = client.post(url("/users/"), json={"name": "x"}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json()["message"] == VALIDATION
    assert r.json()["errors"] == {n: f"'{n}' is a required property" for n in ("cellphone", "surname", "title", "roles")}
    r = client.post(url("/users/"), json={"name": "x", "surname": "y", "title": "t", "cellphone": "1", "roles": [{"id": 999}]},
                    headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"errors": {"roles": "Role 999 not found"}, "message": "Role 999 not found"}


def test_update_list_and_errors(client, runtime, tenant):
    u = new_user(client, runtime, tenant)
    r = client.put(url(f"/users/{u['id']}"), json={"phone": "+45 99", "active": 0}, headers=auth(tenant))
    assert r.status_code == 200 and (r.json()["phone"], r.json()["active"], r.json()["name"]) == ("+45 99", 0, "Sara")
    page = client.get(url("/users/"), params={"active": 1}, headers=auth(tenant)).json()
    assert [x["name"] for x in page["items"]] == ["Admin"]
    page = client.get(url("/users/"), params={"fulltext": "holm", "sorting": "surname_desc"}, headers=auth(tenant)).json()
    assert [x["id"] for x in page["items"]] == [u["id"]]
    r = client.put(url("/users/77777"), json={"phone": "1"}, headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "User 77777 not found"}
    assert client.get(url("/users/77777"), headers=auth(tenant)).json() == {"message": "User 77777 not found"}


def test_departments(client, runtime, tenant):
    h = auth(tenant)
    top = client.post(url("/users/departments/"), json={"id": 0, "name": "Sales", "manager": {"id": tenant["user_id"]}}, headers=h).json()
    team = client.post(url("/users/departments/"), json={"id": 0, "name": "Team North", "parent": {"id": top["id"]},
                                                         "users": [{"id": tenant["user_id"]}]}, headers=h).json()
    assert team["parent"] == {"id": top["id"], "name": "Sales", "parentid": None, "manager": top["manager"]}
    assert [x["id"] for x in team["users"]] == [tenant["user_id"]]
    me = client.get(url(f"/users/{tenant['user_id']}"), headers=h).json()
    assert me["departments"][0]["name"] == "Team North"
    assert me["departments"][0]["parentdepartment"]["name"] == "Sales"
    assert client.get(url("/users/departments/"), params={"parentid": top["id"]}, headers=h).json()["items"][0]["id"] == team["id"]
    assert client.get(url("/users/departments/"), params={"managerid": tenant["user_id"]}, headers=h).json()["total"] == 1
    r = client.put(url(f"/users/departments/{top['id']}"), json={"id": top["id"], "parent": {"id": team["id"]}}, headers=h)
    assert r.status_code == 400 and "parent" in r.json()["errors"]
    r = client.get(url("/users/departments/5656"), headers=h)
    assert r.status_code == 404 and r.json() == {"message": "Department 5656 not found"}


def test_roles(client, tenant):
    h = auth(tenant)
    role = client.post(url("/users/roles/"), json={"name": "Coach"}, headers=h).json()
    assert role["name"] == "Coach"
    names = [r["name"] for r in client.get(url("/users/roles/"), headers=h).json()["items"]]
    assert names == ["Administrator", "Coach", "Sales"]
    r = client.post(url("/users/roles/"), json={"name": ""}, headers=h)
    assert r.status_code == 400 and r.json() == {"errors": {"name": "'' does not match '\\\\S'"}, "message": VALIDATION}


def test_me(client, tenant):
    h = auth(tenant)
    me = client.get(url("/users/me"), headers=h).json()
    assert me["id"] == tenant["user_id"] and me["customerid"] == tenant["tenant_id"]
    assert me["properties"]["licenceadmin"] == 1
    r = client.put(url("/users/me"), json={"language": "da", "emailsettings": {"email": "a@x.dk", "password": "secret",
                                                                             "port": "587", "smtpserver": "smtp.x.dk"}}, headers=h)
    assert r.status_code == 200
    assert r.json()["language"] == "da"
    assert r.json()["emailsettings"]["smtpserver"] == "smtp.x.dk" and r.json()["emailsettings"]["password"] is None
    r = client.put(url("/users/me"), json={"language": 5}, headers=h)
    assert r.json() == {"errors": {"language": "5 is not of type 'string'"}, "message": VALIDATION}
    assert client.get(url("/users/me")).status_code == 401


def test_budgets(client, runtime, tenant):
    h = auth(tenant)
    uid = tenant["user_id"]
    r = client.put(url(f"/users/{uid}/budget/2026/3"), json={"budget": 22000, "pipeline": 44}, headers=h)
    assert r.status_code == 200, r.text
    b = r.json()
    assert (b["userid"], b["year"], b["month"], b["budget"], b["pipeline"]) == (uid, 2026, 3, 22000, 44)
    assert sum(w["budget"] for w in b["weeks"]) == 22000 and sum(w["pipeline"] for w in b["weeks"]) == 44
    assert sum(len(w["days"]) for w in b["weeks"]) == 22  # weekdays of March 2026
    assert b["weeks"][0]["week"] == "2026-W10" and b["weeks"][0]["days"][0]["day"] == "2026-03-02"
    client.put(url(f"/users/{uid}/budgets/2026/4"), json={"budget": 1}, headers=h)
    other = new_user(client, runtime, tenant)
    client.put(url(f"/users/{other['id']}/budget/2026/3"), json={"budget": 5}, headers=h)
    assert client.get(url(f"/users/{uid}/budget/2026/3"), headers=h).json() == b
    page = client.get(url(f"/users/{uid}/budget"), headers=h).json()
    assert [(x["year"], x["month"]) for x in page["items"]] == [(2026, 3), (2026, 4)]
    page = client.get(url("/users/budget"), params={"year_from": 2026, "month_from": 4}, headers=h).json()
    assert [(x["userid"], x["month"]) for x in page["items"]] == [(uid, 4)]
    page = client.get(url("/users/budgets"), params={"userids": str(other["id"])}, headers=h).json()
    assert [x["budget"] for x in page["items"]] == [5]
    assert client.delete(url(f"/users/{uid}/budget/2026/3"), headers=h).json() == {}
    r = client.get(url(f"/users/{uid}/budget/2026/3"), headers=h)
    assert r.status_code == 404 and r.json() == {"message": f"No budget for user {uid} in 2026-03"}


def test_budget_errors(client, tenant):
    h = auth(tenant)
    r = client.put(url(f"/users/{tenant['user_id']}/budget/2026/0"), json={"budget": 1}, headers=h)
    assert r.status_code == 400 and r.json() == {"errors": {"month": "0 is not a month (1-12)"}, "message": VALIDATION}
    r = client.get(url("/users/424242/budget"), headers=h)
    assert r.status_code == 404 and r.json() == {"message": "User 424242 not found"}
    r = client.get(url("/users/budget?year_from=x"), headers=h)
    assert r.json() == {"errors": {"year_from": "invalid literal for int() with base 10: 'x'"}, "message": VALIDATION}


def test_a_role_name_is_never_null(client, tenant):
    """The server refuses an empty role name ("This field can not be empty"), so the
    swagger body must not offer null for it (schemathesis once sent one as valid)."""
    doc = client.get(url("/swagger.json")).json()
    schema = doc["paths"]["/users/roles/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    # Not blank, and (like every input string) no NUL.
    assert "nullable" not in schema["properties"]["name"]
    assert schema["properties"]["name"]["pattern"] == r"\S"
    assert schema["properties"]["name"]["not"] == {"pattern": r"[\u0000]"}
    h = auth(tenant)
    r = client.post(url("/users/roles/"), json={"name": None}, headers=h)
    assert r.status_code == 400 and r.json() == {"errors": {"name": "None is not of type 'string'"}, "message": VALIDATION}
    r = client.post(url("/users/roles/"), json={"name": " "}, headers=h)
    assert r.status_code == 400 and r.json()["errors"]["name"].startswith("' ' does not match")
    assert client.post(url("/users/roles/"), json={"name": "Sales"}, headers=h).json()["name"] == "Sales"
