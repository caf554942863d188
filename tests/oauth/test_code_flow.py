"""The authorization code flow with PKCE through the real app: sign-in, consent
form, code, token, refresh with rotation, and the ways each step refuses."""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from starlette.testclient import TestClient

from tests.cirrus.helpers import url
from tests.cross_api.helpers import Web
from tests.oauth.helpers import REDIRECT, add_client, basic, introspect, run_cli

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def authorize_url(client_id: str, challenge: str | None, **extra) -> str:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "state": "xyz", **extra}
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return "/oauth/authorize?" + urlencode(params)


def consent(browser: Web, address: str, decision: str = "approve") -> dict[str, list[str]]:
    """Open the consent page, submit its form as the user would; the redirect's query."""
    page = browser.client.get(address)
    assert page.status_code == 200, page.text
    form = dict(HIDDEN.findall(page.text))
    r = browser.client.post("/oauth/authorize", data={**form, "decision": decision})
    assert r.status_code == 303, r.text
    target = r.headers["location"]
    assert target.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(target).query)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, create_s256_code_challenge(verifier)


def code_for(app, tenant, client_id, challenge) -> str:
    got = consent(Web(app, tenant), authorize_url(client_id, challenge))
    assert got["state"] == ["xyz"]
    return got["code"][0]


def exchange(http, client, code, verifier, redirect=REDIRECT):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect}
    if verifier is not None:
        data["code_verifier"] = verifier
    if client.get("client_secret"):
        return http.post("/oauth/token", data=data, headers=basic(client))
    return http.post("/oauth/token", data={**data, "client_id": client["client_id"]})


def test_signed_out_user_goes_to_sign_in_and_back(app, runtime, tenant):
    public = add_client(runtime, tenant, public=True)
    _, challenge = pkce()
    address = authorize_url(public["client_id"], challenge)
    browser = TestClient(app, follow_redirects=False)
    r = browser.get(address)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin?next=")
    signin = browser.get(r.headers["location"])
    token = CSRF.search(signin.text).group(1)
    next_value = re.search(r'name="next" value="([^"]+)"', signin.text).group(1).replace("&amp;", "&")
    r = browser.post("/signin", data={"csrf_token": token, "tenant": tenant["tenant"], "next": next_value,
                                      "login": tenant["microbizz"]["username"],
                                      "password": tenant["microbizz"]["password"]})
    assert r.status_code == 303 and r.headers["location"] == address
    page = browser.get(r.headers["location"])
    assert page.status_code == 200 and "Allow" in page.text and public["client_id"] in page.text


@pytest.mark.parametrize("public", [True, False])
def test_whole_code_flow_with_pkce(app, client, runtime, tenant, public):
    oauth_client = add_client(runtime, tenant, public=public)
    verifier, challenge = pkce()
    code = code_for(app, tenant, oauth_client["client_id"], challenge)
    r = exchange(client, oauth_client, code, verifier)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["refresh_token"]
    assert r.headers["cache-control"] == "no-store"
    accounts = client.get(url("/accounts/"), headers={"Authorization": f"Bearer {body['access_token']}"})
    assert accounts.status_code == 200, accounts.text


def test_confidential_client_without_pkce(app, client, runtime, tenant):
    confidential = add_client(runtime, tenant)
    code = code_for(app, tenant, confidential["client_id"], None)
    assert exchange(client, confidential, code, None).status_code == 200


def test_wrong_verifier_is_refused_and_uses_the_code_up(app, client, runtime, tenant):
    public = add_client(runtime, tenant, public=True)
    verifier, challenge = pkce()
    code = code_for(app, tenant, public["client_id"], challenge)
    r = exchange(client, public, code, pkce()[0])
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_grant", "error_description": "code_verifier does not match the code_challenge"}
    assert exchange(client, public, code, verifier).json()["error"] == "invalid_grant"


def test_missing_verifier(app, client, runtime, tenant):
    public = add_client(runtime, tenant, public=True)
    _, challenge = pkce()
    code = code_for(app, tenant, public["client_id"], challenge)
    r = exchange(client, public, code, None)
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_grant", "error_description": "code_verifier is missing or malformed"}


def test_reused_code_is_refused_and_ends_its_tokens(app, client, runtime, tenant):
    public = add_client(runtime, tenant, public=True)
    verifier, challenge = pkce()
    code = code_for(app, tenant, public["client_id"], challenge)
    first = exchange(client, public, code, verifier).json()
    r = exchange(client, public, code, verifier)
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_grant", "error_description": "the authorization code was already used"}
    assert client.get(url("/accounts/"), headers={"Authorization": f"Bearer {first['access_token']}"}).status_code == 401


def test_wrong_redirect_uri_at_the_token_endpoint(app, client, runtime, tenant):
    public = add_client(runtime, tenant, public=True)
    verifier, challenge = pkce()
    code = code_for(app, tenant, public["client_id"], challenge)
    r = exchange(client, public, code, verifier, redirect="https://app.example/other")
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_grant",
                        "error_description": "redirect_uri does not match the authorization request"}


def test_code_of_another_client_is_unknown(app, client, runtime, tenant):
    one, two = add_client(runtime, tenant, public=True), add_client(runtime, tenant, public=True)
    verifier, challenge = pkce()
    code = code_for(app, tenant, one["client_id"], challenge)
    r = exchange(client, two, code, verifier)
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_grant", "error_description": "unknown authorization code"}


def test_unregistered_redirect_uri_is_an_error_page_not_a_redirect(app, runtime, tenant):
    public = add_client(runtime, tenant, public=True)
    _, challenge = pkce()
    browser = Web(app, tenant)
    r = browser.client.get(authorize_url(public["client_id"], challenge, redirect_uri="https://evil.example/cb"))
    assert r.status_code == 400 and "location" not in r.headers
    assert "The redirect_uri is not one registered for this app." in r.text


def test_unknown_client_is_an_error_page(app, tenant):
    r = Web(app, tenant).client.get(authorize_url("oc_nope", None))
    assert r.status_code == 400 and "location" not in r.headers
    assert "not registered with this CRM account" in r.text


def test_other_tenants_client_is_refused(app, runtime, tenant, other_tenant):
    theirs = add_client(runtime, other_tenant, public=True)
    _, challenge = pkce()
    r = Web(app, tenant).client.get(authorize_url(theirs["client_id"], challenge))
    assert r.status_code == 400 and "location" not in r.headers
    assert "not registered with this CRM account" in r.text


def test_public_client_must_send_pkce(app, runtime, tenant):
    public = add_client(runtime, tenant, public=True)
    r = Web(app, tenant).client.get(authorize_url(public["client_id"], None))
    assert r.status_code == 303
    got = parse_qs(urlsplit(r.headers["location"]).query)
    assert got == {"error": ["invalid_request"], "state": ["xyz"],
                   "error_description": ["a public client must send code_challenge (PKCE S256)"]}


def test_plain_pkce_is_refused(app, runtime, tenant):
    public = add_client(runtime, tenant, public=True)
    _, challenge = pkce()
    r = Web(app, tenant).client.get(authorize_url(public["client_id"], None, code_challenge=challenge,
                                                  code_challenge_method="plain"))
    got = parse_qs(urlsplit(r.headers["location"]).query)
    assert got["error"] == ["invalid_request"] and got["error_description"] == ["code_challenge_method must be S256"]


def test_deny_redirects_with_access_denied(app, runtime, tenant):
    public = add_client(runtime, tenant, public=True)
    _, challenge = pkce()
    got = consent(Web(app, tenant), authorize_url(public["client_id"], challenge), decision="deny")
    assert got["error"] == ["access_denied"] and got["state"] == ["xyz"] and "code" not in got


def test_consent_form_needs_its_csrf_token(app, runtime, tenant):
    public = add_client(runtime, tenant, public=True)
    _, challenge = pkce()
    browser = Web(app, tenant)
    page = browser.client.get(authorize_url(public["client_id"], challenge))
    form = dict(HIDDEN.findall(page.text))
    form["csrf_token"] = "forged"
    r = browser.client.post("/oauth/authorize", data={**form, "decision": "approve"})
    assert r.status_code == 403 and "location" not in r.headers


def test_refresh_rotates(app, client, runtime, tenant):
    confidential = add_client(runtime, tenant)
    verifier, challenge = pkce()
    first = exchange(client, confidential, code_for(app, tenant, confidential["client_id"], challenge), verifier).json()
    r = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
                    headers=basic(confidential))
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get(url("/accounts/"), headers={"Authorization": f"Bearer {second['access_token']}"}).status_code == 200
    assert introspect(client, confidential, second["refresh_token"])["token_type"] == "refresh_token"
    # The old refresh token stops working; presenting it again ends the grant.
    r = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
                    headers=basic(confidential))
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_grant", "error_description": "the refresh token was already used or revoked"}
    assert introspect(client, confidential, second["access_token"]) == {"active": False}


def test_refresh_token_of_another_client_is_unknown(app, client, runtime, tenant):
    one, two = add_client(runtime, tenant), add_client(runtime, tenant)
    verifier, challenge = pkce()
    first = exchange(client, one, code_for(app, tenant, one["client_id"], challenge), verifier).json()
    r = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
                    headers=basic(two))
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_grant", "error_description": "unknown refresh token"}


def test_revoking_a_refresh_token_ends_the_grant(app, client, runtime, tenant):
    public = add_client(runtime, tenant, public=True)
    verifier, challenge = pkce()
    first = exchange(client, public, code_for(app, tenant, public["client_id"], challenge), verifier).json()
    r = client.post("/oauth/revoke", data={"token": first["refresh_token"], "client_id": public["client_id"]})
    assert r.status_code == 200
    assert client.get(url("/accounts/"), headers={"Authorization": f"Bearer {first['access_token']}"}).status_code == 401
    r = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                                          "client_id": public["client_id"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_public_client_cannot_use_client_credentials(client, runtime, tenant):
    public = add_client(runtime, tenant, public=True)
    r = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": public["client_id"]})
    assert r.status_code == 401
    assert r.json() == {"error": "invalid_client", "error_description": "client authentication is required"}


def test_tokens_act_as_the_signed_in_user(app, client, runtime, tenant):
    public = add_client(runtime, tenant, public=True)
    verifier, challenge = pkce()
    tokens = exchange(client, public, code_for(app, tenant, public["client_id"], challenge), verifier).json()
    body = introspect(client, add_client(runtime, tenant), tokens["access_token"])
    assert body["active"] is True and body["sub"] == str(tenant["user_id"]) and body["client_id"] == public["client_id"]
