"""Cirrus subscriptions (#225–#228): core records of kind ``subscription``, the
rows Microbizz GetSubscriptionsByCustomerID reads."""

from __future__ import annotations

from tests.cirrus.sales_helpers import core, get, post, put, record, seed
from tests.cirrus.helpers import VALIDATION, auth, url
from tests.microbizz.helpers import MB
from polycrm.core.models import Record


def test_create_read_update_and_microbizz_reads_it(client, runtime, tenant):
    s = seed(runtime, tenant)
    made = post(client, tenant, "/subscriptions/", {
        "name": "Service plan", "note": "yearly check", "startdate": "2026-01-01", "orderstartdate": "2026-02-01",
        "active": 1, "typeid": 3, "intervalid": 12, "userid": tenant["user_id"], "contactid": s["contact"]})
    assert made == get(client, tenant, f"/subscriptions/{made['id']}")
    assert made["startdate"] == "2026-01-01" and made["intervalid"] == 12 and made["accountid"] == s["account"]
    changed = put(client, tenant, f"/subscriptions/{made['id']}", {"sort": 4, "externalkey": "SUB-1", "active": 0})
    assert (changed["sort"], changed["externalkey"], changed["active"], changed["name"]) == (4, "SUB-1", 0, "Service plan")
    found = MB(client, tenant).call("GetSubscriptionsByCustomerID", customerid=s["account"])["subscriptions"]
    assert [(x["id"], x["title"], x["note"], x["startdate"]) for x in found] == [
        (made["id"], "Service plan", "yearly check", "2026-01-01")]


def test_a_microbizz_style_row_reads_through_cirrus(client, runtime, tenant):
    s = seed(runtime, tenant)
    made = record(runtime, tenant, kind="subscription", name="Legacy", customer_id=s["account"],
                  extra={"note": "n", "startdate": "2025-05-05", "price": 10})
    got = get(client, tenant, f"/subscriptions/{made}")
    assert (got["name"], got["note"], got["startdate"], got["accountid"], got["active"]) == (
        "Legacy", "n", "2025-05-05", s["account"], 1)


def test_errors(client, runtime, tenant):
    r = client.post(url("/subscriptions/"), json={"name": 7}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (400, {"errors": {"name": "7 is not of type 'string'"}, "message": VALIDATION})
    r = client.post(url("/subscriptions/"), json={"contactid": 646464}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"errors": {"contactid": "Contact 646464 not found"}, "message": "Contact 646464 not found"})
    r = client.post(url("/subscriptions/"), json={"startdate": "soon"}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (400, {"errors": {"startdate": "'soon' is not a 'date'"}, "message": VALIDATION})
    lead = record(runtime, tenant, kind="lead", name="not a subscription")
    for r in (client.get(url(f"/subscriptions/{lead}"), headers=auth(tenant)),
              client.put(url(f"/subscriptions/{lead}"), json={}, headers=auth(tenant))):
        assert (r.status_code, r.json()) == (404, {"message": f"Subscription {lead} not found"})
    r = client.post(url("/subscriptions/"), json={"parentid": lead}, headers=auth(tenant))
    assert r.status_code == 404 and r.json()["errors"] == {"parentid": f"Subscription {lead} not found"}
    with core(runtime, tenant) as ws:
        assert ws.get(Record, lead).kind == "lead"
    assert client.get(url("/subscriptions/")).status_code == 401


def test_list_filters_and_sorting(client, tenant):
    a = post(client, tenant, "/subscriptions/", {"name": "Basic"})
    put(client, tenant, f"/subscriptions/{a['id']}", {"sort": 2})
    b = post(client, tenant, "/subscriptions/", {"name": "Premium"})
    put(client, tenant, f"/subscriptions/{b['id']}", {"sort": 1})

    def ids(**params):
        return [x["id"] for x in get(client, tenant, "/subscriptions/", **params)["items"]]

    assert ids() == [b["id"], a["id"]] and ids(sorting="name_asc") == [a["id"], b["id"]]
    assert ids(name="prem%") == [b["id"]] and ids(sort=2) == [a["id"]]
    r = client.get(url("/subscriptions/"), params={"sorting": "price_asc"}, headers=auth(tenant))
    assert r.status_code == 400 and list(r.json()["errors"]) == ["sorting"]
    r = client.get(url("/subscriptions/"), headers={**auth(tenant), "X-Fields": "{items{name}}"})
    assert r.json() == {"items": [{"name": "Premium"}, {"name": "Basic"}]}


def test_a_null_body_is_refused_and_an_empty_one_reads_as_no_fields(client, tenant):
    headers = {**auth(tenant), "Content-Type": "application/json"}
    for path in ("/subscriptions/", "/accounts/"):
        r = client.post(url(path), content=b"null", headers={**headers, "X-Fields": " "})
        assert (r.status_code, r.json()) == (400, {"errors": {"": "None is not of type 'object'"}, "message": VALIDATION})
    assert get(client, tenant, "/subscriptions/")["items"] == []
    r = client.post(url("/subscriptions/"), content=b"", headers=headers)
    assert r.status_code == 200 and r.json()["name"] is None
