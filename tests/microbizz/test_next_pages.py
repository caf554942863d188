"""A sync's next resumekey page, made while the client reads the current one
(``endpoint.NextPages``): taken only by the same credential's request for it,
and only while the tenant's data is as it was read."""

from __future__ import annotations

from dataclasses import replace

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from tests.microbizz.helpers import MB, add_user, sync_all

from polycrm.core import revision
from polycrm.faces import microbizz
from polycrm.faces.microbizz import endpoint
from polycrm.runtime import Runtime


def client_of(runtime, *, prepare: bool) -> TestClient:
    settings = replace(runtime.settings, sync_page_size=2, microbizz_prepare_pages=prepare)
    return TestClient(Starlette(routes=microbizz.routes(Runtime.from_settings(settings, runtime.db))))


@pytest.fixture
def taken(monkeypatch) -> list[bool]:
    """Whether each request for a next page found it made."""
    seen: list[bool] = []
    real = endpoint.NextPages.take

    def take(self, principal, raw, halt):
        page = real(self, principal, raw, halt)
        if isinstance(raw, dict) and "resumekey" in raw:
            seen.append(page is not None)
        return page

    monkeypatch.setattr(endpoint.NextPages, "take", take)
    return seen


def test_a_sync_reads_the_pages_made_ahead_and_gets_what_it_would_have_read(runtime, tenant, taken):
    with client_of(runtime, prepare=False) as plain:
        ids = [MB(plain, tenant).customer(name=f"Ahead {i}")["id"] for i in range(7)]
        expected, _ = sync_all(MB(plain, tenant), "GetCustomersByLastChange", "customers")
    assert taken == []
    with client_of(runtime, prepare=True) as ahead:
        items, pages = sync_all(MB(ahead, tenant), "GetCustomersByLastChange", "customers")
        assert items == expected and set(ids) <= {c["id"] for c in items}
        assert len(pages) >= 4 and taken == [True] * (len(pages) - 1)
        # The first request names a changedate, the next ones only the key: the pages made still serve.
        taken.clear()
        dated, pages = sync_all(MB(ahead, tenant), "GetCustomersByLastChange", "customers", changedate="2000-01-01")
    assert dated == expected and taken == [True] * (len(pages) - 1)


def test_a_write_between_pages_is_read_not_the_page_made_before_it(runtime, tenant, taken):
    with client_of(runtime, prepare=True) as ahead:
        mb = MB(ahead, tenant)
        ids = [mb.customer(name=f"Before {i}")["id"] for i in range(5)]
        first = mb.call("GetCustomersByLastChange", changedate="2000-01-01")
        later = [c for c in ids if c > first["customers"][-1]["id"]][0]
        mb.call("CreateUpdateCustomerByID", customer={"id": later, "city": "Written meanwhile"})
        second = mb.call("GetCustomersByLastChange", resumekey=first["resumekey"])
        third = mb.call("GetCustomersByLastChange", resumekey=second["resumekey"])
    assert taken[:2] == [False, True]  # the write moved the revision; the next page was made after it
    got = {c["id"]: c for c in second["customers"] + third["customers"]}
    assert got[later]["city"] == "Written meanwhile"


def test_a_page_made_for_one_credential_is_not_given_to_another(runtime, tenant, taken):
    _user_id, other = add_user(runtime, tenant, "pager")
    with client_of(runtime, prepare=True) as ahead:
        mb = MB(ahead, tenant)
        for i in range(5):
            mb.customer(name=f"Shared {i}")
        first = mb.call("GetCustomersByLastChange", changedate="2000-01-01")
        theirs = MB(ahead, tenant, **other).call("GetCustomersByLastChange", resumekey=first["resumekey"])
        mine = mb.call("GetCustomersByLastChange", resumekey=first["resumekey"])
    assert taken == [False, True]
    assert theirs["customers"] == mine["customers"]


def test_pages_made_ahead_are_bounded_and_taken_once(runtime, monkeypatch):
    class Api:
        rt = runtime
        made = 0

        def run_plan(self, principal, plan, writes, halt, quiet=False, *, with_revision=False):
            Api.made += 1
            return [b"{}"], None, None, 7

    monkeypatch.setattr(revision, "stored", lambda db, tenant_id: 7)
    pages = endpoint.NextPages(Api(), 2)
    caller = endpoint.auth.Principal(tenant_id=1, user_id=2, credential_id=3)
    commands = [{"command": "GetCustomersByLastChange", "resumekey": f"k{n}"} for n in range(3)]
    for command in commands:
        pages.prepare(caller, command, False)
    assert pages.take(caller, commands[0], False) is None  # dropped: the oldest of three
    assert pages.take(caller, commands[2], False) == ([b"{}"], None, None)
    assert pages.take(caller, commands[2], False) is None  # taken once
    other = endpoint.auth.Principal(tenant_id=1, user_id=2, credential_id=4)
    assert pages.take(other, commands[1], False) is None
    assert pages.take(caller, {**commands[1], "ignoreclosed": "x"}, False) is None  # other arguments
    pages.prepare(caller, {**commands[1], "ignoreclosed": 1, "changedate": "2020-01-01"}, False)
    # Without the arguments the key overrides, or with none but the key: the same page.
    assert pages.take(caller, {**commands[1], "ignoreclosed": 1}, False) is not None
    pages.prepare(caller, {**commands[1], "ignoreclosed": 1}, False)
    assert pages.take(caller, commands[1], False) is not None
    pages.prepare(caller, commands[1], False)
    monkeypatch.setattr(revision, "stored", lambda db, tenant_id: 8)
    assert pages.take(caller, commands[1], False) is None  # written since
    assert Api.made == 6
