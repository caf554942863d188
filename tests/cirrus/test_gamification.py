"""Cirrus gamification group (#76-#82): challenges and user statistics."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.cirrus.helpers import VALIDATION, auth, url
from polycrm.core.models import Activity, Record, User
from polycrm.core.workspace import Workspace


def call(client, tenant, method, path, status=200, **kw):
    r = client.request(method, url(path), headers=auth(tenant), **kw)
    assert r.status_code == status, r.text
    return r.json()


@pytest.fixture
def rival(runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        user = ws.create(User, username="rival", name="Rita", surname="Rival")
        ws.flush()
        return user.id


def today_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT00:00:00Z")


def challenge(client, tenant, rival, **fields):
    return call(client, tenant, "POST", "/gamification/challenges/",
                json={"challenged": {"id": rival}, "startdate": today_iso(), **fields})


def test_create_and_read(client, tenant, rival):
    types = call(client, tenant, "GET", "/gamification/challenges/types")
    assert [t["name"] for t in types] == ["Most activities", "Most meetings", "Most calls"]
    created = challenge(client, tenant, rival, type={"id": types[1]["id"]})
    assert created == call(client, tenant, "GET", f"/gamification/challenges/{created['id']}")
    assert created["challenger"]["user"]["id"] == tenant["user_id"] and created["challenger"]["owner"] is True
    assert created["challenged"]["user"]["name"] == "Rita" and created["challenged"]["accepted"] is None
    assert (created["active"], created["type"]["name"], created["daysremaining"], created["winner"]) == \
        (1, "Most meetings", 7, None)


def test_create_errors(client, tenant, rival):
    r = client.post(url("/gamification/challenges/"), json={"startdate": today_iso()}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"challenged": "'challenged' is a required property"}, "message": VALIDATION}
    r = client.post(url("/gamification/challenges/"), json={"challenged": {"id": 9999}, "startdate": today_iso()},
                    headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"errors": {"challenged": "User 9999 not found"}, "message": "User 9999 not found"}
    r = client.get(url("/gamification/challenges/31337"), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Challenge 31337 not found"}


def test_accept_decline_and_status_filters(client, tenant, rival):
    a = challenge(client, tenant, rival)
    b = challenge(client, tenant, rival)
    assert call(client, tenant, "PUT", f"/gamification/challenges/{a['id']}/accept") == {"id": a["id"], "status": "ongoing"}
    assert call(client, tenant, "POST", f"/gamification/challenges/{b['id']}/decline") == {"id": b["id"], "status": "declined"}

    def ids(**params):
        return [c["id"] for c in call(client, tenant, "GET", "/gamification/challenges/", params=params)["items"]]

    assert ids() == []  # pending by default
    assert ids(status="ongoing") == [a["id"]]
    assert ids(status="closed") == [b["id"]]
    assert ids(status="all", sorting="active_desc") == [a["id"], b["id"]]
    assert ids(status="all", challengedid=rival) == [a["id"], b["id"]]
    assert ids(status="all", challengerid=rival) == []
    r = client.put(url(f"/gamification/challenges/{a['id']}/decline"), headers=auth(tenant))
    assert r.status_code == 409 and r.json() == {"message": f"Challenge {a['id']} is ongoing, not pending"}
    r = client.get(url("/gamification/challenges/?status=forgotten"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"status": "The value 'forgotten' is not a valid choice for 'status'."}, "message": VALIDATION}


def accepted_and_over(client, runtime, tenant, rival, activities: dict[int, int]) -> dict:
    """An accepted challenge that ran from ten days ago to three days ago, in
    which each user of ``activities`` did that many activities; not yet read."""
    created = challenge(client, tenant, rival)
    call(client, tenant, "PUT", f"/gamification/challenges/{created['id']}/accept")
    start = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0) - dt.timedelta(days=10)
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        row = ws.get(Record, created["id"])
        ws.update(row, {"extra.startdate": start.isoformat(), "extra.stopdate": (start + dt.timedelta(days=7)).isoformat()})
        for user_id, count in activities.items():
            for _ in range(count):
                ws.create(Activity, user_id=user_id, start=start + dt.timedelta(days=1), description="Call")
    return created


def test_a_finished_challenge_is_settled_with_a_winner(client, runtime, tenant, rival):
    created = accepted_and_over(client, runtime, tenant, rival, {rival: 2, tenant["user_id"]: 1})
    settled = call(client, tenant, "GET", f"/gamification/challenges/{created['id']}")
    assert (settled["active"], settled["daysremaining"], settled["winner"]["id"]) == (0, 0, rival)
    assert (settled["challenger"]["score"], settled["challenged"]["score"]) == (1, 2)
    listed = call(client, tenant, "GET", "/gamification/challenges/", params={"status": "lost"})
    assert [c["id"] for c in listed["items"]] == [created["id"]]
    assert call(client, tenant, "GET", "/gamification/challenges/", params={"status": "won"})["total"] == 0
    assert call(client, tenant, "GET", "/gamification/challenges/", params={"winnerid": rival, "status": "all"})["total"] == 1


def test_user_stats(client, runtime, tenant, rival):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        ws.create(Activity, user_id=rival, start=dt.datetime.now(dt.UTC).replace(tzinfo=None), description="x")
    stats = call(client, tenant, "GET", f"/gamification/challenges/users/{rival}")
    assert stats == {"achievements": {"day": 1, "week": 1, "month": 1}, "category": "Rookie", "heartbeat": 1,
                     "level": 1, "score": 1}
    r = client.get(url("/gamification/challenges/users/4040"), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "User 4040 not found"}


def test_user_stats_count_a_challenge_that_finished_unread(client, runtime, tenant, rival):
    accepted_and_over(client, runtime, tenant, rival, {rival: 1})
    # No read of the challenge itself: the statistics settle it and count the win.
    winner = call(client, tenant, "GET", f"/gamification/challenges/users/{rival}")
    assert winner["score"] == winner["achievements"]["month"] + 10
    loser = call(client, tenant, "GET", f"/gamification/challenges/users/{tenant['user_id']}")
    assert loser["score"] == loser["achievements"]["month"]


def test_x_fields_mask_and_401(client, tenant, rival):
    created = challenge(client, tenant, rival)
    h = {**auth(tenant), "X-Fields": "{id,challenged{user{name}}}"}
    assert client.get(url(f"/gamification/challenges/{created['id']}"), headers=h).json() == \
        {"id": created["id"], "challenged": {"user": {"name": "Rita"}}}
    assert client.get(url("/gamification/challenges/types")).status_code == 401
