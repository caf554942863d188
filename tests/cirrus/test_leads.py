"""Cirrus leads (#87–#90): core records of kind ``lead``."""

from __future__ import annotations

from tests.cirrus.sales_helpers import core, get, lookup, post, put
from tests.cirrus.helpers import VALIDATION, auth, url
from polycrm.core import custom_fields
from polycrm.core.models import Record


def test_create_returns_the_lead_as_get_does(client, runtime, tenant):
    status = lookup(runtime, tenant, "lead_status", "Contacted")
    source = lookup(runtime, tenant, "lead_source", "Event")
    created = post(client, tenant, "/leads/", {
        "title": "Fair visitor", "contactname": "Eva", "contactcompany": "Gamma AB", "contactemail": "eva@gamma.se",
        "value": 2500, "rating": 4, "user": {"id": tenant["user_id"]}, "status": {"id": status},
        "source": {"id": source}, "created": "1999-01-01T00:00:00Z", "description": "met at the fair"})
    assert created == get(client, tenant, f"/leads/{created['id']}")
    assert created["title"] == "Fair visitor" and created["contactcompany"] == "Gamma AB" and created["value"] == 2500.0
    assert created["status"]["name"] == "Contacted" and created["source"] == {"id": source, "name": "Event", "default": 0}
    assert created["user"]["id"] == tenant["user_id"] and created["activities"] == []
    assert not created["created"].startswith("1999")
    with core(runtime, tenant) as ws:
        row = ws.get(Record, created["id"])
        assert (row.kind, row.name, row.extra["contactname"]) == ("lead", "Fair visitor", "Eva")


def test_update_and_errors(client, runtime, tenant):
    created = post(client, tenant, "/leads/", {"title": "A", "rating": 1})
    updated = put(client, tenant, f"/leads/{created['id']}", {"rating": 5})
    assert (updated["title"], updated["rating"]) == ("A", 5)
    r = client.put(url(f"/leads/{created['id']}"), json={"status": {"id": 919191}}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"errors": {"status": "Leadstatus 919191 not found"}, "message": "Leadstatus 919191 not found"})
    r = client.post(url("/leads/"), json={"rating": "top"}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (400, {"errors": {"rating": "'top' is not of type 'integer'"}, "message": VALIDATION})
    for r in (client.get(url("/leads/919191"), headers=auth(tenant)),
              client.put(url("/leads/919191"), json={}, headers=auth(tenant))):
        assert (r.status_code, r.json()) == (404, {"message": "Lead 919191 not found"})
    assert client.post(url("/leads/"), json={}).status_code == 401


def test_list_filters_and_sorting(client, runtime, tenant):
    hot = lookup(runtime, tenant, "lead_status", "Qualified")
    a = post(client, tenant, "/leads/", {"title": "Alpha", "value": 100, "rating": 2, "contactname": "Olof"})
    b = post(client, tenant, "/leads/", {"title": "Bravo", "value": 900, "rating": 5, "status": {"id": hot},
                                         "user": {"id": tenant["user_id"]}})

    def ids(**params):
        return [x["id"] for x in get(client, tenant, "/leads/", **params)["items"]]

    assert ids() == [b["id"], a["id"]] and ids(sorting="age_asc") == [a["id"], b["id"]]
    assert ids(status=hot) == [b["id"]] and ids(rating=2) == [a["id"]]
    assert ids(userid=tenant["user_id"]) == [b["id"]] and ids(userids=str(tenant["user_id"])) == [b["id"]]
    assert ids(fulltext="olof") == [a["id"]]
    assert ids(sorting="value_desc") == [b["id"], a["id"]]
    today = get(client, tenant, f"/leads/{a['id']}")["created"][:10]
    assert ids(created=today, sorting="age_asc") == [a["id"], b["id"]] and ids(created="2001-01-01") == []
    with core(runtime, tenant) as ws:
        field = custom_fields.define(ws, "record", "Campaign")
        custom_fields.set_values(ws, "record", a["id"], {field.slug: "spring"})
        field_id = field.id
    assert ids(dynamicfield_id=field_id, dynamicfield_val="spring") == [a["id"]]
    r = client.get(url("/leads/"), params={"created": "yesterday"}, headers=auth(tenant))
    assert r.status_code == 400 and list(r.json()["errors"]) == ["created"]
    r = client.get(url("/leads/"), headers={**auth(tenant), "X-Fields": "{total,items{title}}"})
    assert r.json() == {"total": 2, "items": [{"title": "Bravo"}, {"title": "Alpha"}]}
