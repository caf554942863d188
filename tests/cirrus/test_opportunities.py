"""Cirrus opportunities (#91–#103): core opportunities, shared with centiaCRM."""

from __future__ import annotations

import pytest

from tests.centia.helpers import Centia
from tests.cirrus.sales_helpers import core, get, lookup, post, put, seed
from tests.cirrus.helpers import VALIDATION, auth, url
from polycrm.core import fixtures
from polycrm.core.models import Customer, Opportunity


@pytest.fixture
def s(runtime, tenant):
    return seed(runtime, tenant)


def body(runtime, tenant, s, **fields):
    return {
        "accountid": s["account"], "contactid": s["contact"], "title": "Big deal", "description": "Ten widgets",
        "userid": s["user"], "statusid": lookup(runtime, tenant, "opportunity_status", "Open"),
        "estimatedenddate": "2026-12-31", "typeid": lookup(runtime, tenant, "opportunity_type"), **fields,
    }


def test_create_returns_the_opportunity_as_get_does(client, runtime, tenant, s):
    created = post(client, tenant, "/opportunities/", body(
        runtime, tenant, s, value=1500.5, altvalue="20", altvaluelabel="hours", phone="+46 1", result="r",
        sourceid=str(lookup(runtime, tenant, "opportunity_source", "Referral")),
        estimateid=lookup(runtime, tenant, "opportunity_estimate", "High"),
        stateid=lookup(runtime, tenant, "stage", "Proposal"), altaccountid=s["other"]))
    assert created == get(client, tenant, f"/opportunities/{created['id']}")
    assert created["account"]["id"] == s["account"] and created["accountid"] == s["account"]
    assert created["contact"]["name"] == "Ann" and created["contact"]["email"] == "ann@acme.dk"
    assert created["altaccount"]["name"] == "Beta" and created["altvalue"] == 20.0
    assert created["value"] == 1500.5 and created["estimatedenddate"] == "2026-12-31"
    assert created["status"]["name"] == "Open" and created["status"]["won"] == 0
    assert created["source"]["name"] == "Referral" and created["estimate"]["value"] == "75"
    assert created["state"]["state"] == "Proposal" and created["closed"] == 0
    assert created["reguserid"] == created["changeuserid"] == tenant["user_id"]
    assert created["type"]["validstatuses"][0]["name"] == "Open"
    assert created["businessarea"] == {"opportunityid": created["id"], "businessareaid": None}
    with core(runtime, tenant) as ws:
        row = ws.get(Opportunity, created["id"])
        assert (row.status, row.customer_id, row.title) == ("active", s["account"], "Big deal")


def test_create_requires_the_documented_fields(client, tenant):
    r = client.post(url("/opportunities/"), json={"phone": "1"}, headers=auth(tenant))
    assert r.status_code == 400
    required = ["accountid", "contactid", "title", "description", "userid", "statusid", "estimatedenddate", "typeid"]
    assert r.json() == {"errors": {n: f"'{n}' is a required property" for n in required}, "message": VALIDATION}


def test_create_with_an_unknown_reference_is_404_and_writes_nothing(client, runtime, tenant, s):
    r = client.post(url("/opportunities/"), json=body(runtime, tenant, s, accountid=999999), headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"errors": {"accountid": "Account 999999 not found"}, "message": "Account 999999 not found"}
    r = client.post(url("/opportunities/"), json=body(runtime, tenant, s, estimatedenddate="soon"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"estimatedenddate": "'soon' is not a 'date'"}, "message": VALIDATION}
    assert get(client, tenant, "/opportunities/")["total"] == 0


def test_won_and_lost_statuses_close_and_centia_sees_the_status(client, runtime, tenant, s):
    created = post(client, tenant, "/opportunities/", body(runtime, tenant, s))
    won = put(client, tenant, f"/opportunities/{created['id']}",
              {"statusid": lookup(runtime, tenant, "opportunity_status", "Won"),
               "winreasonid": lookup(runtime, tenant, "win_reason", "Price")})
    assert won["closed"] == 1 and won["status"]["won"] == 1 and won["winreason"]["name"] == "Price"
    assert won["title"] == "Big deal"
    centia = Centia(client, tenant).call("opportunities", "GetOpportunity", opportunity_id=created["id"])["opportunity"]
    assert centia["status"] == "won" and centia["title"] == "Big deal" and centia["closed_at"]
    reopened = put(client, tenant, f"/opportunities/{created['id']}",
                   {"statusid": lookup(runtime, tenant, "opportunity_status", "Open")})
    assert reopened["closed"] == 0
    with core(runtime, tenant) as ws:
        row = ws.get(Opportunity, created["id"])
        assert (row.status, row.closed, row.closed_at) == ("active", False, None)


def test_update_errors(client, runtime, tenant, s):
    r = client.put(url("/opportunities/424242"), json={"title": "x"}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"message": "Opportunity 424242 not found"})
    created = post(client, tenant, "/opportunities/", body(runtime, tenant, s))
    r = client.put(url(f"/opportunities/{created['id']}"), json={"statusid": 888888}, headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"errors": {"statusid": "Opportunity status 888888 not found"},
                        "message": "Opportunity status 888888 not found"}
    r = client.put(url(f"/opportunities/{created['id']}"), json={"value": "lots"}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (400, {"errors": {"value": "'lots' is not of type 'number'"}, "message": VALIDATION})
    r = client.get(url("/opportunities/424242"), headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"message": "Opportunity 424242 not found"})
    assert client.get(url(f"/opportunities/{created['id']}")).status_code == 401


def test_list_filters_and_sorting(client, runtime, tenant, s):
    won = lookup(runtime, tenant, "opportunity_status", "Won")
    a = post(client, tenant, "/opportunities/", body(runtime, tenant, s, title="Alpha", estimatedenddate="2026-01-10"))
    b = post(client, tenant, "/opportunities/", body(runtime, tenant, s, title="Bravo", statusid=won, accountid=s["other"],
                                                     contactid=s["contact"], estimatedenddate="2026-03-10",
                                                     description="gizmo order"))

    def ids(**params):
        return [o["id"] for o in get(client, tenant, "/opportunities/", **params)["items"]]

    assert ids() == [a["id"], b["id"]]
    assert ids(sorting="date_desc") == [b["id"], a["id"]]
    assert ids(statusids=f"{won}") == [b["id"]] and ids(statusid=won) == [b["id"]]
    assert ids(closed=1) == [b["id"]] and ids(closed=0) == [a["id"]]
    assert ids(accountid=s["other"]) == [b["id"]]
    assert ids(fulltext="gizmo") == [b["id"]]
    assert ids(description="%gizmo%") == [b["id"]]
    assert ids(estimated_startdate="2026-02-01") == [b["id"]]
    assert ids(estimated_enddate="2026-01-10") == [a["id"]]
    with core(runtime, tenant) as ws:
        ws.update(ws.get(Customer, s["other"]), {"name": "Aardvark"})
    assert ids(sorting="account_asc") == [b["id"], a["id"]]
    r = client.get(url("/opportunities/"), params={"closed": 3}, headers=auth(tenant))
    assert r.status_code == 400 and r.json()["message"] == VALIDATION and list(r.json()["errors"]) == ["closed"]


def test_follow_and_unfollow(client, runtime, tenant, s):
    created = post(client, tenant, "/opportunities/", body(runtime, tenant, s))
    follow = {"key": created["id"], "userid": tenant["user_id"]}
    assert post(client, tenant, "/opportunities/follow", follow) == {}
    assert [f["id"] for f in get(client, tenant, f"/opportunities/{created['id']}")["followers"]] == [tenant["user_id"]]
    assert get(client, tenant, "/opportunities/", followedby=tenant["user_id"])["total"] == 1
    assert post(client, tenant, "/opportunities/unfollow", follow) == {}
    assert get(client, tenant, f"/opportunities/{created['id']}")["followers"] == []
    r = client.post(url("/opportunities/follow"), json={"key": 777777, "userid": tenant["user_id"]}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (404, {"message": "Opportunity 777777 not found"})
    r = client.post(url("/opportunities/follow"), json={"key": created["id"]}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (400, {"errors": {"userid": "'userid' is a required property"}, "message": VALIDATION})


@pytest.mark.parametrize(("path", "first"), [
    ("/opportunities/estimates", {"description": "Low", "sortorder": 1, "value": "25", "visible": 1}),
    ("/opportunities/lostreasons", {"name": "Price", "sortorder": 1}),
    ("/opportunities/progressionstates", {"name": "Identified"}),
    ("/opportunities/sources", {"name": "Website", "default": 1}),
    ("/opportunities/statuses", {"name": "Open", "won": 0, "lost": 0, "color": "#1565c0"}),
    ("/opportunities/types", {"name": "New business", "isdefault": 1}),
    ("/opportunities/winreasons", {"name": "Price", "sortorder": 1}),
])
def test_the_small_lists(client, tenant, path, first):
    items = get(client, tenant, path)
    assert isinstance(items, list) and items
    assert {k: items[0][k] for k in first} == first
    assert client.get(url(path)).status_code == 401


def test_mask_on_item_and_page(client, runtime, tenant, s):
    created = post(client, tenant, "/opportunities/", body(runtime, tenant, s))
    r = client.get(url(f"/opportunities/{created['id']}"), headers={**auth(tenant), "X-Fields": "{title,account{name}}"})
    assert r.json() == {"title": "Big deal", "account": {"name": "Acme"}}
    r = client.get(url("/opportunities/"), headers={**auth(tenant), "X-Fields": "{total,items{id,status{name}}}"})
    assert r.json() == {"total": 1, "items": [{"id": created["id"], "status": {"name": "Open"}}]}


def test_a_centia_opportunity_with_inputs_is_found_by_dynamic_field(client, runtime, tenant, s):
    from polycrm.core import custom_fields

    with core(runtime, tenant) as ws:
        field = custom_fields.define(ws, "opportunity", "Source detail")
        field_id = field.id
    api = Centia(client, tenant)
    made = api.call("opportunities", "CreateOpportunity", user_id=tenant["user_id"], title="From centia", value=10,
                    estimated_end_at="31/12/26", prospect_type="new", operation_type="new",
                    stage_id=lookup(runtime, tenant, "stage", "Proposal"), company_id=s["account"],
                    contact_id=s["contact"], want_products=False, want_tax=False, notify=False,
                    inputs={"source_detail": "fair"})["opportunity"]
    post(client, tenant, "/opportunities/", body(runtime, tenant, s, title="Other"))
    page = get(client, tenant, "/opportunities/", dynamicfield_id=field_id, dynamicfield_val="fair")
    assert [(o["id"], o["title"], o["state"]["state"], o["estimatedenddate"]) for o in page["items"]] == [
        (made["id"], "From centia", "Proposal", "2026-12-31")]
    assert get(client, tenant, "/opportunities/", dynamicfield_id=field_id, dynamicfield_val="web")["total"] == 0


def test_an_opportunity_made_without_a_status_gets_the_default_open_one(client, runtime, tenant, s):
    # Loaded from a fixture (as the demo data is), by the loading user.
    with core(runtime, tenant) as ws:
        fixtures.load(ws, {"opportunities": [{"title": "From a fixture", "customer_id": s["account"]},
                                             {"title": "Won earlier", "status": "won", "customer_id": s["account"]}]})
    rows = {o["title"]: o for o in get(client, tenant, "/opportunities/", accountid=s["account"])["items"]}
    open_, won = rows["From a fixture"], rows["Won earlier"]
    assert (open_["status"]["name"], open_["reguserid"], open_["closed"]) == ("Open", tenant["user_id"], 0)
    assert (won["status"]["name"], won["status"]["won"]) == ("Won", 1)
