"""The sandbox page under API access."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from polycrm.core import customers
from polycrm.core.workspace import Workspace

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
URL = "/api-access/sandbox"


@pytest.fixture
def web(app, tenant) -> TestClient:
    browser = TestClient(app, follow_redirects=False)
    token = CSRF.search(browser.get("/signin").text).group(1)
    signed = browser.post("/signin", data={"csrf_token": token, "tenant": tenant["tenant"],
                                           "login": tenant["microbizz"]["username"],
                                           "password": tenant["microbizz"]["password"]})
    assert signed.status_code == 303
    return browser


def post(web: TestClient, action: str, data: dict | None = None):
    token = CSRF.search(web.get(URL).text).group(1)
    return web.post(action, data={"csrf_token": token, **(data or {})})


def test_api_access_links_the_sandbox_page(web):
    assert f'href="{URL}"' in web.get("/api-access").text


def test_snapshots_from_the_page(runtime, web, tenant):
    assert post(web, URL + "/snapshots", {"name": "page-1"}).status_code == 303
    page = web.get(URL)
    assert page.status_code == 200 and "page-1" in page.text
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        customers.create(ws, {"name": "Made after"})
    assert post(web, URL + "/snapshots/page-1/restore").status_code == 303
    assert post(web, URL + "/reset", {"to": "empty"}).status_code == 303
    assert post(web, URL + "/snapshots/page-1/delete").status_code == 303
    assert "snapshots/page-1/restore" not in web.get(URL).text
    refused = post(web, URL + "/snapshots", {"name": "demo"})
    assert refused.status_code == 400 and "name &#39;demo&#39; is reserved (a reset target)" in refused.text


def test_the_journal_shows_a_request_and_its_response_side_by_side(client, web, tenant):
    client.get("/cirrus/accounts/", headers={"X-Token": tenant["cirrus"]["x_token"]})
    page = web.get(URL, params={"api": "cirrus"})
    assert "get_account_collection" in page.text
    entry_id = re.search(r'\?entry=(\d+)', page.text).group(1)
    detail = web.get(URL, params={"entry": entry_id})
    assert f"Request {entry_id}: cirrus get_account_collection" in detail.text
    assert "x-token: ***" in detail.text and tenant["cirrus"]["x_token"] not in detail.text
    bad = web.get(URL, params={"status": "abc"})
    assert bad.status_code == 200 and "status must be a whole number" in bad.text
    assert post(web, URL + "/journal/clear").status_code == 303
    assert "No requests recorded." in web.get(URL).text


def test_faults_and_limits_from_the_page(web):
    assert post(web, URL + "/faults", {"rules": '[{"api": "cirrus", "status": 503}]'}).status_code == 303
    assert "503" in web.get(URL).text
    bad = post(web, URL + "/faults", {"rules": "["})
    assert bad.status_code == 400 and "the rules are not valid JSON" in bad.text
    assert post(web, URL + "/faults/clear").status_code == 303
    assert "No fault rules." in web.get(URL).text
    assert post(web, URL + "/limits", {"limits": '{"api": "centia", "per_minute": 30}'}).status_code == 303
    assert "centia" in web.get(URL).text.split('id="limits-h"')[1]
    assert post(web, URL + "/limits/clear").status_code == 303
    assert "No rate limits." in web.get(URL).text


def test_only_admins_see_the_page(runtime, app, tenant):
    from polycrm.core import auth, users

    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        users.SERVICE.create(ws, {"username": "plain", "name": "Plain", "is_admin": False, "active": True,
                                  "password_hash": auth.hash_password("pw-plain-1")})
    browser = TestClient(app, follow_redirects=False)
    token = CSRF.search(browser.get("/signin").text).group(1)
    browser.post("/signin", data={"csrf_token": token, "tenant": tenant["tenant"], "login": "plain",
                                  "password": "pw-plain-1"})
    page = browser.get(URL)
    assert page.status_code == 400 and "Only a tenant administrator can use the sandbox tools." in page.text
