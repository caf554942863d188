"""The OAuth apps page under API access: list, add (secret shown once), remove."""

from __future__ import annotations

import re

from tests.cirrus.helpers import url
from tests.cross_api.helpers import Web
from tests.oauth.helpers import REDIRECT, client_credentials_token


def test_add_list_and_remove_a_client_on_the_web(app, client, tenant):
    browser = Web(app, tenant)
    assert 'href="/api-access/oauth"' in browser.client.get("/api-access").text
    r = browser.post_form("/api-access/oauth", {"name": "My app", "redirect_uris": REDIRECT})
    assert r.status_code == 200, r.text
    client_id = re.search(r"Client <code>(oc_[^<]+)</code> added", r.text).group(1)
    secret = re.search(r"shown only now: <code>([^<]+)</code>", r.text).group(1)
    listing = browser.client.get("/api-access/oauth").text
    assert client_id in listing and "My app" in listing and secret not in listing
    token = client_credentials_token(client, {"client_id": client_id, "client_secret": secret})
    r = browser.client.post("/api-access/oauth/remove",
                            data={"csrf_token": browser.csrf("/api-access/oauth"), "client_id": client_id})
    assert r.status_code == 303
    assert f"<code>{client_id}</code>" not in browser.client.get("/api-access/oauth").text
    assert client.get(url("/accounts/"), headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_add_a_public_client_on_the_web(app, tenant):
    r = Web(app, tenant).post_form("/api-access/oauth", {"redirect_uris": REDIRECT, "public": "1"})
    assert r.status_code == 200 and "It is a public client" in r.text


def test_bad_redirect_uri_on_the_web(app, tenant):
    r = Web(app, tenant).post_form("/api-access/oauth", {"name": "x", "redirect_uris": "not a uri"})
    assert r.status_code == 400
    assert "must be an absolute URI" in r.text


def test_removing_an_unknown_client_on_the_web(app, tenant):
    browser = Web(app, tenant)
    r = browser.client.post("/api-access/oauth/remove",
                            data={"csrf_token": browser.csrf("/api-access/oauth"), "client_id": "oc_nope"})
    assert r.status_code == 404 and "no OAuth client" in r.text
