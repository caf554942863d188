"""Cirrus lead activities (#83–#86): core records of kind ``lead_activity`` under a lead."""

from __future__ import annotations

from tests.cirrus.sales_helpers import get, lookup, post, put
from tests.cirrus.helpers import VALIDATION, auth, url


def test_create_read_update(client, runtime, tenant):
    lead = post(client, tenant, "/leads/", {"title": "Lead", "user": {"id": tenant["user_id"]}})
    call = lookup(runtime, tenant, "lead_activity_type", "Call")
    made = post(client, tenant, "/leadactivities/", {
        "comment": "Call back", "done": 0, "type": {"id": call, "name": "ignored"}, "user": {"id": tenant["user_id"]},
        "followup": "2026-06-01T09:00:00Z", "lead": {"id": lead["id"]}, "created": "1999-01-01T00:00:00Z"})
    assert made == get(client, tenant, f"/leadactivities/{made['id']}")
    assert made["type"] == {"id": call, "name": "Call"} and made["followup"] == "2026-06-01T09:00:00Z"
    assert made["lead"]["id"] == lead["id"] and made["lead"]["title"] == "Lead"
    assert made["lead"]["user"]["id"] == tenant["user_id"]
    done = put(client, tenant, f"/leadactivities/{made['id']}", {"done": 1, "lead": {"id": 1}})
    assert done["done"] == 1 and done["comment"] == "Call back" and done["lead"]["id"] == lead["id"]
    assert [a["id"] for a in get(client, tenant, f"/leads/{lead['id']}")["activities"]] == [made["id"]]


def test_errors(client, tenant):
    r = client.post(url("/leadactivities/"), json={"comment": "x"}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (400, {"errors": {"done": "'done' is a required property"}, "message": VALIDATION})
    r = client.post(url("/leadactivities/"), json={"comment": "x", "done": 0, "lead": {"id": 727272}}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"errors": {"lead": "Lead 727272 not found"}, "message": "Lead 727272 not found"})
    r = client.post(url("/leadactivities/"), json={"comment": "x", "done": 0, "followup": "later"}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (400, {"errors": {"followup": "'later' is not a 'date-time'"}, "message": VALIDATION})
    for r in (client.get(url("/leadactivities/727272"), headers=auth(tenant)),
              client.put(url("/leadactivities/727272"), json={}, headers=auth(tenant))):
        assert (r.status_code, r.json()) == (404, {"message": "Leadactivity 727272 not found"})
    assert client.get(url("/leadactivities/")).status_code == 401


def test_list_filters_and_sorting(client, runtime, tenant):
    lead = post(client, tenant, "/leads/", {"title": "Lead"})
    other = post(client, tenant, "/leads/", {"title": "Other"})
    a = post(client, tenant, "/leadactivities/", {"comment": "Send brochure", "done": 1, "lead": {"id": lead["id"]},
                                                  "followup": "2026-07-02T10:00:00Z"})
    b = post(client, tenant, "/leadactivities/", {"comment": "Visit", "done": 0, "lead": {"id": other["id"]},
                                                  "followup": "2026-07-01T10:00:00Z", "user": {"id": tenant["user_id"]},
                                                  "type": {"id": lookup(runtime, tenant, "lead_activity_type", "Meeting")}})

    def ids(**params):
        return [x["id"] for x in get(client, tenant, "/leadactivities/", **params)["items"]]

    assert ids() == [b["id"], a["id"]] and ids(sorting="done_desc") == [a["id"], b["id"]]
    assert ids(sorting="followupdate_asc") == [b["id"], a["id"]] and ids(sorting="created_desc") == [b["id"], a["id"]]
    assert ids(done=1) == [a["id"]] and ids(leadid=lead["id"]) == [a["id"]]
    assert ids(userid=tenant["user_id"]) == [b["id"]]
    assert ids(typeid=lookup(runtime, tenant, "lead_activity_type", "Meeting")) == [b["id"]]
    assert ids(folowupdate="2026-07-02") == [a["id"]] and ids(comment="%brochure%") == [a["id"]]
    r = client.get(url("/leadactivities/"), params={"done": "yes"}, headers=auth(tenant))
    assert r.status_code == 400 and list(r.json()["errors"]) == ["done"]
    r = client.get(url(f"/leadactivities/{a['id']}"), headers={**auth(tenant), "X-Fields": "{comment,lead{title}}"})
    assert r.json() == {"comment": "Send brochure", "lead": {"title": "Lead"}}
