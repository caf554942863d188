"""OAuth clients (CLI), metadata, introspection and revocation (RFC 8414, 7662, 7009)."""

from __future__ import annotations

import json
import time

from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from tests.cirrus.helpers import url
from tests.oauth.helpers import REDIRECT, add_client, basic, client_credentials_token, introspect, run_cli


def test_client_add_list_remove(runtime, tenant):
    confidential = add_client(runtime, tenant)
    assert set(confidential) == {"client_id", "client_secret"} and confidential["client_secret"]
    public = add_client(runtime, tenant, public=True)
    assert public["client_secret"] is None
    listed = json.loads(run_cli(runtime, "oauth", "client", "list", "--tenant", tenant["tenant"], "--json").output)
    assert [(c["client_id"], c["public"], c["redirect_uris"]) for c in listed] == [
        (confidential["client_id"], False, [REDIRECT]), (public["client_id"], True, [REDIRECT])]
    assert "client_secret" not in json.dumps(listed)
    result = run_cli(runtime, "oauth", "client", "remove", public["client_id"], "--tenant", tenant["tenant"])
    assert result.exit_code == 0, result.output
    listed = json.loads(run_cli(runtime, "oauth", "client", "list", "--tenant", tenant["tenant"], "--json").output)
    assert [c["client_id"] for c in listed] == [confidential["client_id"]]


def test_client_add_refuses_a_bad_redirect_uri(runtime, tenant):
    result = run_cli(runtime, "oauth", "client", "add", "--tenant", tenant["tenant"], "--redirect-uri", "/relative", "--json")
    assert result.exit_code == 1
    assert "must be an absolute URI" in result.output


def test_client_remove_unknown(runtime, tenant, other_tenant):
    mine = add_client(runtime, other_tenant)
    result = run_cli(runtime, "oauth", "client", "remove", mine["client_id"], "--tenant", tenant["tenant"])
    assert result.exit_code == 1
    assert "no OAuth client" in result.output


def test_metadata_document(client, monkeypatch):
    r = client.get("/.well-known/oauth-authorization-server")
    assert r.status_code == 200
    doc = r.json()
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the test server is plain http
    AuthorizationServerMetadata(doc).validate()
    assert doc["issuer"] == "http://testserver"
    assert doc["authorization_endpoint"] == "http://testserver/oauth/authorize"
    assert doc["token_endpoint"] == "http://testserver/oauth/token"
    assert doc["introspection_endpoint"] == "http://testserver/oauth/introspect"
    assert doc["revocation_endpoint"] == "http://testserver/oauth/revoke"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert set(doc["grant_types_supported"]) == {"authorization_code", "refresh_token", "client_credentials"}
    assert doc["response_types_supported"] == ["code"]
    secure = client.get("https://crm.example/.well-known/oauth-authorization-server").json()
    assert secure["issuer"] == "https://crm.example"


def test_new_client_gets_client_credentials_tokens(client, runtime, tenant):
    app = add_client(runtime, tenant)
    token = client_credentials_token(client, app)
    assert client.get(url("/accounts/"), headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_introspection_active_and_inactive(client, runtime, tenant):
    app = add_client(runtime, tenant)
    r = client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "read"}, headers=basic(app))
    token = r.json()["access_token"]
    body = introspect(client, app, token)
    assert body["active"] is True and body["client_id"] == app["client_id"]
    assert body["token_type"] == "Bearer" and body["scope"] == "read"
    assert body["exp"] > time.time() and set(body) >= {"active", "client_id", "exp", "scope", "token_type"}
    assert introspect(client, app, "not-a-token") == {"active": False}


def test_introspection_of_another_tenants_token_is_inactive(client, runtime, tenant, other_tenant):
    mine, theirs = add_client(runtime, tenant), add_client(runtime, other_tenant)
    token = client_credentials_token(client, theirs)
    assert introspect(client, mine, token) == {"active": False}


def test_introspection_needs_client_authentication(client, runtime, tenant):
    public = add_client(runtime, tenant, public=True)
    r = client.post("/oauth/introspect", data={"token": "x", "client_id": public["client_id"]})
    assert r.status_code == 401
    assert r.json() == {"error": "invalid_client", "error_description": "introspection needs client authentication"}
    assert r.headers["www-authenticate"].startswith("Basic")
    app = add_client(runtime, tenant)
    r = client.post("/oauth/introspect", data={"token": "x"}, headers=basic({**app, "client_secret": "wrong"}))
    assert r.status_code == 401
    assert r.json() == {"error": "invalid_client", "error_description": "unknown client or wrong secret"}


def test_introspection_without_token(client, runtime, tenant):
    app = add_client(runtime, tenant)
    r = client.post("/oauth/introspect", data={}, headers=basic(app))
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_request", "error_description": "token is required"}


def test_revocation_makes_the_token_fail_on_cirrus(client, runtime, tenant):
    app = add_client(runtime, tenant)
    token = client_credentials_token(client, app)
    r = client.post("/oauth/revoke", data={"token": token, "token_type_hint": "access_token"}, headers=basic(app))
    assert r.status_code == 200
    assert client.get(url("/accounts/"), headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert introspect(client, app, token) == {"active": False}


def test_revocation_of_unknown_and_foreign_tokens_is_200_and_harmless(client, runtime, tenant, other_tenant):
    mine, theirs = add_client(runtime, tenant), add_client(runtime, other_tenant)
    assert client.post("/oauth/revoke", data={"token": "unknown"}, headers=basic(mine)).status_code == 200
    token = client_credentials_token(client, theirs)
    assert client.post("/oauth/revoke", data={"token": token}, headers=basic(mine)).status_code == 200
    assert introspect(client, theirs, token)["active"] is True


def test_revocation_errors(client, runtime, tenant):
    app = add_client(runtime, tenant)
    r = client.post("/oauth/revoke", data={}, headers=basic(app))
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_request", "error_description": "token is required"}
    r = client.post("/oauth/revoke", data={"token": "x"})
    assert r.status_code == 401
    assert r.json() == {"error": "invalid_client", "error_description": "client authentication is required"}


def test_removed_client_stops_working(client, runtime, tenant):
    app = add_client(runtime, tenant)
    token = client_credentials_token(client, app)
    assert run_cli(runtime, "oauth", "client", "remove", app["client_id"], "--tenant", tenant["tenant"]).exit_code == 0
    assert client.get(url("/accounts/"), headers={"Authorization": f"Bearer {token}"}).status_code == 401
    r = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(app))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
