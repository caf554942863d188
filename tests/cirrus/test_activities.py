"""Cirrus activities group (#17-#29): activities are core activities."""

from __future__ import annotations

import datetime as dt

from tests.cirrus.helpers import VALIDATION, auth, lookup_id, new_account, url
from polycrm.core import lookups
from polycrm.core.models import Activity, Contact, Record
from polycrm.core.workspace import Workspace


def contact_of(runtime, tenant, account_id, name="Pia"):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        return ws.create(Contact, customer_id=account_id, name=name, surname="Lund", email="pia@x.dk").id


def new_activity(client, runtime, tenant, account=None, **fields):
    account = account or new_account(client, tenant)
    body = {
        "accountid": account["id"], "description": "Intro meeting", "location": "Office", "result": "",
        "primarycontact": {"id": contact_of(runtime, tenant, account["id"])},
        "type": {"id": lookup_id(runtime, tenant, "activity_type", "Meeting")},
        "userid": tenant["user_id"], **fields,
    }
    r = client.post(url("/activities/"), json=body, headers=auth(tenant))
    assert r.status_code == 200, r.text
    return r.json()


def descriptions(client, tenant, path="/activities/", **params):
    r = client.get(url(path), params=params, headers=auth(tenant))
    assert r.status_code == 200, r.text
    return [a["description"] for a in r.json()["items"]]


def test_create_and_read(client, runtime, tenant):
    account = new_account(client, tenant)
    a = new_activity(client, runtime, tenant, account, date="2026-03-02", starttime="09:30", stoptime="10:15",
                     reminder={"text": "call back", "min": 15, "done": 0}, externalkey="ext-a",
                     invitedusers=[{"id": tenant["user_id"]}], contactattempts=[{"note": "no answer", "timestamp": "2026-03-01 10:00",
                                                                                  "user": {"id": tenant["user_id"]}}])
    assert a["account"]["id"] == account["id"] and a["accountid"] == account["id"]
    assert (a["date"], a["start"], a["starttime"], a["stoptime"]) == ("2026-03-02", "2026-03-02T09:30:00Z", "09:30", "10:15")
    assert a["type"]["name"] == "Meeting" and a["primarycontact"]["name"] == "Pia"
    assert a["user"][0]["id"] == tenant["user_id"] and a["userid"] == tenant["user_id"]
    assert a["reminder"] == {"text": "call back", "min": 15, "done": 0}
    assert [u["id"] for u in a["invitedusers"]] == [tenant["user_id"]]
    assert a["contactattempts"][0]["note"] == "no answer" and a["contactattempts"][0]["user"]["id"] == tenant["user_id"]
    assert client.get(url(f"/activities/{a['id']}"), headers=auth(tenant)).json() == a
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        row = ws.get(Activity, a["id"])
        assert (row.date, row.start, row.location) == (dt.date(2026, 3, 2), dt.datetime(2026, 3, 2, 9, 30), "Office")


def test_a_call_is_an_activity_of_type_call(client, runtime, tenant):
    call_type = lookup_id(runtime, tenant, "activity_type", "Call")
    a = new_activity(client, runtime, tenant, type={"id": call_type})
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert lookups.get(ws, "activity_type", ws.get(Activity, a["id"]).type_id).code == "call"


def test_create_errors(client, runtime, tenant):
    r = client.post(url("/activities/"), json={"description": "x"}, headers=auth(tenant))
    assert r.status_code == 400
    assert set(r.json()["errors"]) == {"accountid", "location", "primarycontact", "result", "type", "userid"}
    assert r.json()["errors"]["accountid"] == "'accountid' is a required property"
    account = new_account(client, tenant)
    body = {"accountid": account["id"], "description": "", "location": "", "result": "", "primarycontact": {"id": 0},
            "type": {"id": 999999}, "userid": tenant["user_id"]}
    r = client.post(url("/activities/"), json=body, headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"errors": {"type": "Activity type 999999 not found"}, "message": "Activity type 999999 not found"}
    r = client.post(url("/activities/"), json={**body, "type": {"id": 1}, "starttime": "25:00"}, headers=auth(tenant))
    assert r.status_code == 400 and "starttime" in r.json()["errors"]


def test_update_uses_the_update_model(client, runtime, tenant):
    a = new_activity(client, runtime, tenant, date="2026-01-05", starttime="08:00")
    visit = lookup_id(runtime, tenant, "activity_type", "Visit")
    r = client.put(url(f"/activities/{a['id']}"), json={"typeid": visit, "closed": 1, "stoptime": "09:00",
                                                         "result": "Signed"}, headers=auth(tenant))
    assert r.status_code == 200, r.text
    b = r.json()
    assert (b["type"]["name"], b["closed"], b["result"], b["stoptime"], b["starttime"]) == ("Visit", 1, "Signed", "09:00", "08:00")
    assert b["description"] == a["description"]
    r = client.put(url(f"/activities/{a['id']}"), json={"user": {"id": tenant["user_id"]}, "date": "2026-02-01"},
                   headers=auth(tenant))
    assert r.json()["date"] == "2026-02-01" and r.json()["userid"] == tenant["user_id"]


def test_update_errors(client, runtime, tenant):
    r = client.put(url("/activities/424242"), json={"closed": 1}, headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Activity 424242 not found"}
    a = new_activity(client, runtime, tenant)
    r = client.put(url(f"/activities/{a['id']}"), json={"date": "2026-13-01"}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"date": "'2026-13-01' is not a 'date'"}, "message": VALIDATION}


def test_get_unknown_is_404(client, tenant):
    r = client.get(url("/activities/5151"), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Activity 5151 not found"}


def test_list_filters_and_sorting(client, runtime, tenant):
    prospect = lookup_id(runtime, tenant, "customer_type", "Prospect")
    a1 = new_account(client, tenant, name="Zulu")
    a2 = new_account(client, tenant, name="Alpha", typeid=prospect)
    state = lookup_id(runtime, tenant, "activity_progression", "Done")
    new_activity(client, runtime, tenant, a1, description="Demo", date="2026-05-01", location="Aarhus")
    new_activity(client, runtime, tenant, a2, description="Follow-up call", date="2026-05-03", result="went well",
                 progressionstate={"id": state})
    x = new_activity(client, runtime, tenant, a2, description="Closed one", date="2026-04-20")
    client.put(url(f"/activities/{x['id']}"), json={"closed": 1}, headers=auth(tenant))
    assert descriptions(client, tenant) == ["Follow-up call", "Demo", "Closed one"]
    assert descriptions(client, tenant, sorting="date_asc") == ["Closed one", "Demo", "Follow-up call"]
    assert descriptions(client, tenant, sorting="account_asc")[-1] == "Demo"
    assert descriptions(client, tenant, accountid=a1["id"]) == ["Demo"]
    assert descriptions(client, tenant, accounttypeids=str(prospect)) == ["Follow-up call", "Closed one"]
    assert descriptions(client, tenant, date="2026-05-01") == ["Demo"]
    assert descriptions(client, tenant, startdate="2026-05-01", enddate="2026-05-02") == ["Demo"]
    assert descriptions(client, tenant, closed=1) == ["Closed one"]
    assert descriptions(client, tenant, location="aar%") == ["Demo"]
    assert descriptions(client, tenant, description="%call") == ["Follow-up call"]
    assert descriptions(client, tenant, progressionstateid=state) == ["Follow-up call"]
    assert descriptions(client, tenant, fulltext="well") == ["Follow-up call"]
    # The documented fulltext fields include the date, matched as its ISO text.
    assert descriptions(client, tenant, fulltext="2026-05") == ["Follow-up call", "Demo"]
    assert descriptions(client, tenant, fulltext="2026-04-20") == ["Closed one"]
    assert descriptions(client, tenant, fulltext="05-03 WELL") == ["Follow-up call"]
    assert descriptions(client, tenant, fulltext="2026-05 aarhus") == ["Demo"]
    assert descriptions(client, tenant, userids=str(tenant["user_id"]), per_page=1) == ["Follow-up call"]
    r = client.get(url("/activities/?startdate=May"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"startdate": "'May' is not a date (YYYY-MM-DD)"}, "message": VALIDATION}


def test_coordinates_come_from_the_account(client, runtime, tenant):
    account = new_account(client, tenant, addresses={"visiting": {"coordinates": {"latitude": "55.1", "longitude": "9.5"}}})
    a = new_activity(client, runtime, tenant, account)
    items = client.get(url("/activities/activitycoordinates"), headers=auth(tenant)).json()["items"]
    assert items == [{"activityid": a["id"], "addresstype": "visiting", "latitude": "55.1", "longitude": "9.5", "distance": None}]
    assert client.get(url("/activities/coordinates"), headers=auth(tenant)).json()["items"] == items


def test_follow_and_unfollow(client, runtime, tenant):
    a = new_activity(client, runtime, tenant)
    body = {"key": a["id"], "userid": tenant["user_id"]}
    assert client.post(url("/activities/follow"), json=body, headers=auth(tenant)).json() == {}
    assert descriptions(client, tenant, followedby=tenant["user_id"]) == ["Intro meeting"]
    assert client.put(url("/activities/unfollow"), json=body, headers=auth(tenant)).status_code == 200
    assert descriptions(client, tenant, followedby=tenant["user_id"]) == []
    r = client.post(url("/activities/follow"), json={"key": 99999, "userid": tenant["user_id"]}, headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Activity 99999 not found"}


def test_activity_types(client, tenant):
    h = auth(tenant)
    types = client.get(url("/activities/activitytypes/"), headers=h).json()
    assert [t["name"] for t in types][:2] == ["Call", "Meeting"] and types[0]["default"] == 1 and types[0]["quick"] == 1
    r = client.post(url("/activities/activitytypes/"), json={"name": "Demo", "icon": 7, "quick": 1}, headers=h)
    assert r.status_code == 200
    created = [t for t in r.json() if t["name"] == "Demo"][0]
    assert (created["icon"], created["quick"]) == (7, 1)
    r = client.put(url(f"/activities/types/{created['id']}"), json={"defaultresult": "Shown"}, headers=h)
    assert r.json() == {**created, "defaultresult": "Shown"}
    assert client.get(url(f"/activities/activitytypes/{created['id']}"), headers=h).json() == r.json()


def test_activity_type_errors(client, tenant):
    h = auth(tenant)
    r = client.get(url("/activities/activitytypes/31313"), headers=h)
    assert r.status_code == 404 and r.json() == {"message": "Activitytype 31313 not found"}
    r = client.post(url("/activities/activitytypes/"), json={"name": "Visit", "icon": "big"}, headers=h)
    assert r.json() == {"errors": {"icon": "'big' is not of type 'integer'"}, "message": VALIDATION}


def test_type_questions_and_progression_states(client, runtime, tenant):
    meeting = lookup_id(runtime, tenant, "activity_type", "Meeting")
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        q2 = ws.create(Record, kind="activity_type_question", parent_id=meeting, name="Budget?", extra={"sortorder": 2}).id
        q1 = ws.create(Record, kind="activity_type_question", parent_id=meeting, name="Decision maker?", extra={"sortorder": 1}).id
    h = auth(tenant)
    assert client.get(url("/activities/activitytypes/questions"), headers=h).json() == [
        {"id": q1, "question": "Decision maker?", "activitytypeid": meeting, "sortorder": 1},
        {"id": q2, "question": "Budget?", "activitytypeid": meeting, "sortorder": 2},
    ]
    states = client.get(url("/activities/progressionstates"), headers=h).json()
    assert [s["name"] for s in states] == ["Planned", "In progress", "Done"]
    assert client.get(url("/activities/progressionstates")).status_code == 401
