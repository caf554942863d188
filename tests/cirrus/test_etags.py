"""Conditional GETs (docs/cirrus2.md): a weak ETag from the tenant's change
revision and the request; If-None-Match gives 304 until the tenant's data
changes, through any API or any process on the database."""

from __future__ import annotations

import base64
import datetime as dt
import types

import pytest

from tests.cirrus.helpers import VALIDATION, auth, new_account, url
from polycrm.core.models import Customer
from polycrm.core.workspace import Workspace
from polycrm.faces.cirrus import endpoint
from polycrm.store.engine import Database


def tagged(client, tenant, path, headers=None, **params):
    r = client.get(url(path), params=params, headers={**auth(tenant), **(headers or {})})
    assert r.status_code == 200, r.text
    tag = r.headers["ETag"]
    assert tag.startswith('W/"') and tag.endswith('"')
    return tag, r.json()


def again(client, tenant, path, tag, headers=None, method="GET", **params):
    return client.request(method, url(path), params=params,
                          headers={**auth(tenant), "If-None-Match": tag, **(headers or {})})


def test_an_unchanged_answer_is_304_without_a_body(client, tenant):
    new_account(client, tenant, name="Tagged")
    tag, page = tagged(client, tenant, "/accounts/", per_page=5)
    assert page["total"] == 1
    for method in ("GET", "HEAD"):
        r = again(client, tenant, "/accounts/", tag, method=method, per_page=5)
        assert r.status_code == 304 and r.content == b""
        assert r.headers["ETag"] == tag
    # A list of tags, and the strong form of the same tag, match too (weak comparison).
    assert again(client, tenant, "/accounts/", f'W/"other", {tag}', per_page=5).status_code == 304
    assert again(client, tenant, "/accounts/", tag[2:], per_page=5).status_code == 304
    assert again(client, tenant, "/accounts/", 'W/"other"', per_page=5).status_code == 200


def test_a_write_of_the_tenant_changes_the_tag(client, runtime, tenant):
    account = new_account(client, tenant, name="Before")
    path = f"/accounts/{account['id']}"
    tag, _ = tagged(client, tenant, path)
    list_tag, page = tagged(client, tenant, "/accounts/")
    # Through Cirrus.
    client.put(url(path), json={"name": "After"}, headers=auth(tenant))
    r = again(client, tenant, path, tag)
    assert r.status_code == 200 and r.json()["name"] == "After" and r.headers["ETag"] != tag
    tag = r.headers["ETag"]
    # Through the core, as the other APIs and pages write.
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        ws.create(Customer, name="Written elsewhere")
    assert again(client, tenant, path, tag).status_code == 200
    r = again(client, tenant, "/accounts/", list_tag)
    assert r.status_code == 200 and r.json()["total"] == page["total"] + 1


def test_a_write_through_another_process_is_seen_at_once(client, runtime, tenant):
    tag, page = tagged(client, tenant, "/accounts/")
    other = Database(runtime.db.url)  # its own pool and caches: to the database, another server process
    try:
        with Workspace(other, tenant["tenant_id"], tenant["user_id"]) as ws:
            ws.create(Customer, name="From the other process")
    finally:
        other.dispose()
    r = again(client, tenant, "/accounts/", tag)
    assert r.status_code == 200 and r.json()["total"] == page["total"] + 1


def test_another_tenants_write_and_a_refused_write_keep_the_tag(client, tenant, other_tenant):
    new_account(client, tenant, name="Mine")
    tag, _ = tagged(client, tenant, "/accounts/")
    new_account(client, other_tenant, name="Theirs")
    refused = client.post(url("/accounts/"), json={"name": ""}, headers=auth(tenant))
    assert refused.status_code == 400
    assert again(client, tenant, "/accounts/", tag).status_code == 304


def test_the_tag_follows_the_request(client, runtime, tenant):
    new_account(client, tenant, name="Masked")
    tag, _ = tagged(client, tenant, "/accounts/")
    assert tagged(client, tenant, "/accounts/", per_page=1)[0] != tag
    masked, page = tagged(client, tenant, "/accounts/", headers={"X-Fields": "{total}"})
    assert page == {"total": 1} and masked != tag
    assert again(client, tenant, "/accounts/", tag, headers={"X-Fields": "{total}"}).status_code == 200
    c = tenant["cirrus"]
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers={
        "Authorization": "Basic " + base64.b64encode(f"{c['client_id']}:{c['client_secret']}".encode()).decode()
    }).json()["access_token"]
    bearer = client.get(url("/accounts/"), headers={"Authorization": f"Bearer {token}", "If-None-Match": tag})
    assert bearer.status_code == 200 and bearer.headers["ETag"] != tag  # another credential


def test_the_date_is_in_the_tag(client, tenant, monkeypatch):
    tag, _ = tagged(client, tenant, "/kpis/", userid=tenant["user_id"])
    assert again(client, tenant, "/kpis/", tag, userid=tenant["user_id"]).status_code == 304

    class Tomorrow(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime.now(tz) + dt.timedelta(days=1)

    monkeypatch.setattr(endpoint, "dt", types.SimpleNamespace(datetime=Tomorrow, date=dt.date, UTC=dt.UTC))
    assert again(client, tenant, "/kpis/", tag, userid=tenant["user_id"]).status_code == 200


def test_a_get_that_writes_has_no_tag(client, tenant):
    started = client.post(url("/bankid/"), json={"abstract": "x", "personalnumber": "198112189876"},
                          headers=auth(tenant)).json()
    r = client.get(url(f"/bankid/{started['id']}"), headers={**auth(tenant), "If-None-Match": "*"})
    assert r.status_code == 200 and "ETag" not in r.headers


def test_if_none_match_any(client, tenant):
    account = new_account(client, tenant, name="Present")
    r = again(client, tenant, f"/accounts/{account['id']}", "*")
    assert r.status_code == 304 and r.content == b"" and r.headers["ETag"].startswith('W/"')
    missing = again(client, tenant, f"/accounts/{account['id'] + 1000}", "*")
    assert missing.status_code == 404
    assert missing.json() == {"message": f"Account {account['id'] + 1000} not found"}


@pytest.mark.parametrize("tagged_path", [True, False])
def test_errors_come_before_the_tag(client, tenant, tagged_path):
    tag, _ = tagged(client, tenant, "/accounts/")
    bad = again(client, tenant, "/accounts/", tag, per_page="x")
    assert bad.status_code == 400 and "ETag" not in bad.headers
    assert bad.json() == {"errors": {"per_page": "invalid literal for int() with base 10: 'x'"}, "message": VALIDATION}
    r = client.get(url("/accounts/"), headers={"If-None-Match": tag} if tagged_path else {"If-None-Match": "*"})
    assert r.status_code == 401
    assert r.json() == {"message": endpoint.UNAUTHORIZED}


@pytest.fixture
def customer_reads(runtime):
    """Statements that read customers, run while the block is open."""
    from sqlalchemy import event

    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        if "FROM customer" in statement:
            seen.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", note)
    yield seen
    event.remove(runtime.db.engine, "before_cursor_execute", note)


def test_an_answer_is_kept_by_its_tag(client, tenant, customer_reads):
    account = new_account(client, tenant, name="Kept")
    for path in ("/accounts/", f"/accounts/{account['id']}"):
        tag, first = tagged(client, tenant, path)
        customer_reads.clear()
        r = client.get(url(path), headers=auth(tenant))
        assert r.status_code == 200 and r.json() == first and r.headers["ETag"] == tag
        assert customer_reads == []  # sent again, not read again
        head = client.head(url(path), headers=auth(tenant))
        assert head.status_code == 200 and head.content == b"" and head.headers["ETag"] == tag
    _, page = tagged(client, tenant, "/accounts/", headers={"X-Fields": "{total}"})
    assert page == {"total": 1}  # another mask: another answer
    client.put(url(f"/accounts/{account['id']}"), json={"name": "Renamed"}, headers=auth(tenant))
    customer_reads.clear()
    renamed = client.get(url(f"/accounts/{account['id']}"), headers=auth(tenant))
    assert renamed.json()["name"] == "Renamed" and customer_reads  # a new revision: read again


def test_another_credentials_answer_is_not_theirs(client, tenant, other_tenant):
    mine = new_account(client, tenant, name="Mine only")
    assert client.get(url(f"/accounts/{mine['id']}"), headers=auth(tenant)).status_code == 200
    theirs = client.get(url(f"/accounts/{mine['id']}"), headers=auth(other_tenant))
    assert theirs.status_code == 404
    assert theirs.json() == {"message": f"Account {mine['id']} not found"}


def test_the_answer_budget_is_read_from_the_environment(monkeypatch):
    from polycrm.faces.answers import Answers, budget_from_environment

    monkeypatch.setenv("POLYCRM_ANSWER_CACHE_MB", "0")
    off = Answers(budget_from_environment())
    off.put("a", b"x")
    assert off.get("a") is None and len(off) == 0
    monkeypatch.setenv("POLYCRM_ANSWER_CACHE_MB", "0.5")
    assert budget_from_environment() == 512 * 1024
    for bad in ("lots", "-1"):
        monkeypatch.setenv("POLYCRM_ANSWER_CACHE_MB", bad)
        with pytest.raises(ValueError, match="POLYCRM_ANSWER_CACHE_MB must"):
            budget_from_environment()


def test_the_least_recently_used_answers_go_first():
    from polycrm.faces.answers import OVERHEAD, Answers

    kept = Answers(8 * (100 + OVERHEAD))
    for name in "abcdefgh":
        kept.put(name, b"x" * 100)
    assert kept.get("a") == b"x" * 100  # now the most recently used
    kept.put("i", b"y" * 100)
    assert kept.get("b") is None and kept.get("a") is not None and len(kept) == 8
    kept.put("big", b"z" * (100 + OVERHEAD))  # more than an eighth of the budget: not kept
    assert kept.get("big") is None
    kept.put("a", b"w" * 50)
    assert kept.get("a") == b"w" * 50 and kept.used == 7 * (100 + OVERHEAD) + 50 + OVERHEAD
