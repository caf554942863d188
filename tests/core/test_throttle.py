"""Login throttling on every password and secret check, and web sign-out (docs/security.md)."""

from __future__ import annotations

import logging
import time

import pytest
from starlette.testclient import TestClient

from polycrm.core import throttle
from tests.microbizz.helpers import MB, assert_envelope_failure
from tests.web.test_pages import csrf_of, sign_in


class Clock:
    """Starts at the real time: a block it writes must not outlast the test by years."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(throttle, "clock", fake)
    return fake


WRONG = 15
# The delay after the 15th failure of an account (5 free, then 1 s doubling).
DELAY = int(throttle.delay_after(WRONG, throttle.FREE_FAILURES))


def test_the_delay_grows_and_is_capped():
    free = throttle.FREE_FAILURES
    assert [throttle.delay_after(n, free) for n in range(1, free + 4)] == [0] * free + [1, 2, 4]
    assert throttle.delay_after(10_000, free) == throttle.MAX_DELAY
    assert DELAY == 512


def test_fifteen_quick_wrong_passwords_then_the_right_one_is_refused_until_the_delay_passes(app, tenant, clock):
    web = TestClient(app, follow_redirects=False)
    answers = [sign_in(web, tenant, password="wrong").status_code for _ in range(WRONG)]
    # Five free failures, the sixth blocks for a second; while blocked nothing is checked or counted.
    assert answers == [401] * 6 + [429] * 9
    r = sign_in(web, tenant)
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    assert "Too many failed sign-ins: try again in 1 seconds." in r.text
    clock.now += 1
    assert sign_in(web, tenant).status_code == 303


def test_a_patient_guesser_waits_longer_each_time(app, tenant, clock, caplog):
    web = TestClient(app, follow_redirects=False)
    waits = []
    with caplog.at_level(logging.WARNING, logger="polycrm.throttle"):
        failures = 0
        while failures < WRONG:
            r = sign_in(web, tenant, password="wrong")
            if r.status_code == 429:
                waits.append(int(r.headers["retry-after"]))
                clock.now += waits[-1]
            else:
                assert r.status_code == 401
                failures += 1
    assert waits == [2 ** n for n in range(WRONG - throttle.FREE_FAILURES - 1)]
    r = sign_in(web, tenant)
    assert r.status_code == 429 and r.headers["retry-after"] == str(DELAY)
    clock.now += DELAY
    assert any("failed 15 times, blocked for 512 s" in record.getMessage() for record in caplog.records)
    # The right password after the wait signs in and forgets the account's failures.
    assert sign_in(web, tenant).status_code == 303
    assert sign_in(TestClient(app, follow_redirects=False), tenant, password="wrong").status_code == 401


def test_centia_login_is_throttled_with_429_and_retry_after(client, tenant, clock):
    def login(password: str):
        return client.post("/api/v1/auth", json={"method": "Login", "parameters": {
            "email": tenant["centia"]["email"], "password": password}})

    assert {login("wrong").status_code for _ in range(6)} == {401}
    r = login(tenant["centia"]["password"])
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    assert r.json() == {"success": False, "response": [],
                        "error": "too many failed sign-in attempts; try again in 1 second"}
    clock.now += 1
    assert login(tenant["centia"]["password"]).json()["success"] is True


def test_oauth_client_secret_is_throttled(client, tenant, clock):
    def token(secret: str):
        return client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                 "client_id": tenant["cirrus"]["client_id"], "client_secret": secret})

    assert {token("wrong").status_code for _ in range(6)} == {401}
    clock.now += 1
    assert token("wrong").status_code == 401  # the seventh failure: two seconds
    r = token(tenant["cirrus"]["client_secret"])
    assert r.status_code == 429 and r.headers["retry-after"] == "2"
    assert r.json() == {"error": "invalid_client",
                        "error_description": "too many failed sign-in attempts; try again in 2 seconds"}
    clock.now += 2
    assert token(tenant["cirrus"]["client_secret"]).status_code == 200


def test_microbizz_password_is_throttled_in_the_envelope(client, tenant, clock):
    wrong = MB(client, tenant, **{**MB(client, tenant).auth, "password": "wrong"})
    for _ in range(6):
        assert_envelope_failure(wrong.batch({"command": "Echo"}), "Access denied: wrong apikey, username or password")
    right = MB(client, tenant)
    assert_envelope_failure(right.batch({"command": "Echo"}),
                            "Access denied: too many failed sign-in attempts; try again in 1 second")
    clock.now += 1
    assert right.batch({"command": "Echo"})["status"] == 1


def test_one_address_is_throttled_across_accounts(app, tenant, other_tenant, clock, monkeypatch):
    monkeypatch.setattr(throttle, "FREE_ADDRESS_FAILURES", 3)
    # An address of its own, so that no other test shares its count.
    client = TestClient(app, client=(f"198.51.100.{tenant['tenant_id'] % 250}", 40000))
    for account in (tenant, other_tenant):
        for _ in range(2):
            MB(client, account, **{**MB(client, account).auth, "password": "wrong"}).batch({"command": "Echo"})
    assert_envelope_failure(MB(client, tenant).batch({"command": "Echo"}),
                            "Access denied: too many failed sign-in attempts; try again in 1 second")
    clock.now += 1
    assert MB(client, tenant).batch({"command": "Echo"})["status"] == 1


def test_a_copied_cookie_is_refused_after_sign_out(app, tenant):
    web = TestClient(app, follow_redirects=False)
    assert sign_in(web, tenant).status_code == 303
    copy = TestClient(app, follow_redirects=False)
    copy.cookies.update(dict(web.cookies))
    assert copy.get("/customers").status_code == 200
    r = web.post("/signout", data={"csrf_token": csrf_of(web.get("/customers"))})
    assert r.status_code == 303
    r = copy.get("/customers")
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")
