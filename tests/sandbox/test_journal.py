"""The request journal: what is recorded, masked, filtered, exported and cleared."""

from __future__ import annotations

import json

import pytest

from polycrm.sandbox import journal
from polycrm.sandbox.middleware import writer_for


def microbizz(client, tenant, commands, **creds):
    envelope = {"contract": tenant["microbizz"]["contract"], "apikey": tenant["microbizz"]["apikey"],
                "username": tenant["microbizz"]["username"], "password": tenant["microbizz"]["password"],
                "commands": commands, **creds}
    return client.post("/api/endpoint.php", data={"json": json.dumps(envelope)})


def cirrus(client, tenant):
    return {"X-Token": tenant["cirrus"]["x_token"]}


def entries(admin, **params):
    response = admin.get("/journal", params=params)
    assert response.status_code == 200, response.text
    return response.json()["entries"]


def test_each_api_is_recorded_with_its_operation(client, admin, tenant):
    assert microbizz(client, tenant, [{"command": "Echo"}, {"command": "GetCustomers"}]).json()["status"] == 1
    assert client.get("/cirrus/accounts/", headers=cirrus(client, tenant)).status_code == 200
    login = client.post("/api/v1/auth", json={"method": "Login", "parameters": {
        "email": tenant["centia"]["email"], "password": tenant["centia"]["password"]}})
    assert login.json()["success"] is True
    token = login.json()["response"]["token"]
    client.post("/api/v1/companies", json={"method": "GetCompanies", "parameters": {}},
                headers={"Authorization": f"Bearer {token}"})
    client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": tenant["cirrus"]["client_id"],
                                      "client_secret": tenant["cirrus"]["client_secret"]})
    found = entries(admin)
    assert [(e["api"], e["operation"]) for e in found][:5] == [
        ("oauth", "token"), ("centia", "companies.GetCompanies"), ("centia", "auth.Login"),
        ("cirrus", "get_account_collection"),
        ("microbizz", "Echo,GetCustomers"),
    ]
    mb = found[4]
    assert mb["request"]["method"] == "POST" and mb["request"]["url"].endswith("/api/endpoint.php")
    assert mb["response"]["status"] == 200 and json.loads(mb["response"]["body"])["status"] == 1
    assert mb["credential"]["kind"] == "microbizz.apikey"
    assert mb["duration_ms"] >= 0


def test_secrets_are_masked_everywhere(client, admin, tenant):
    microbizz(client, tenant, [{"command": "Echo"}])
    client.get("/cirrus/accounts/", headers=cirrus(client, tenant))
    login = client.post("/api/v1/auth", json={"method": "Login", "parameters": {
        "email": tenant["centia"]["email"], "password": tenant["centia"]["password"]}})
    token = login.json()["response"]["token"]
    client.post("/api/v1/companies", json={"method": "GetCompanies", "parameters": {}},
                headers={"Authorization": f"Bearer {token}"})
    oauth = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                              "client_id": tenant["cirrus"]["client_id"],
                                              "client_secret": tenant["cirrus"]["client_secret"]})
    bearer = oauth.json()["access_token"]
    client.get("/cirrus/accounts/", headers={"Authorization": f"Bearer {bearer}"})
    text = admin.client.get("/_polycrm/journal", headers=admin.headers()).text
    har = admin.client.get("/_polycrm/journal?format=har", headers=admin.headers()).text
    secrets = [tenant["microbizz"]["apikey"], tenant["microbizz"]["password"], tenant["cirrus"]["x_token"],
               tenant["cirrus"]["client_secret"], token, bearer]
    for secret in secrets:
        assert secret not in text and secret not in har
    assert "***" in text
    # What is not secret stays readable: the user name, the client id.
    assert tenant["microbizz"]["username"] in text and tenant["cirrus"]["client_id"] in text


def test_the_microbizz_accesstoken_in_the_query_string_is_masked(client, admin, tenant):
    envelope = {"contract": tenant["microbizz"]["contract"], "accesstoken": tenant["microbizz"]["apikey"],
                "commands": [{"command": "Echo"}]}
    assert client.get("/api/endpoint.php", params={"json": json.dumps(envelope)}).json()["status"] == 1
    [entry] = entries(admin)
    assert tenant["microbizz"]["apikey"] not in entry["request"]["url"]
    assert "accesstoken" in entry["request"]["url"]


def test_admin_calls_and_web_pages_are_not_recorded(client, admin, tenant):
    admin.get("/snapshots")
    client.get("/signin")
    assert entries(admin) == []


def test_a_tenant_sees_only_its_own_journal(client, admin, other_admin, tenant, other_tenant):
    client.get("/cirrus/accounts/", headers=cirrus(client, tenant))
    assert len(entries(admin)) == 1
    assert entries(other_admin) == []
    assert other_admin.delete("/journal").json() == {"deleted": 0}
    assert len(entries(admin)) == 1


def test_filters_and_paging(client, admin, tenant):
    for _ in range(3):
        client.get("/cirrus/accounts/", headers=cirrus(client, tenant))
    client.get("/cirrus/accounts/999999", headers=cirrus(client, tenant))
    microbizz(client, tenant, [{"command": "Echo"}])
    assert [e["api"] for e in entries(admin, api="microbizz")] == ["microbizz"]
    assert [e["response"]["status"] for e in entries(admin, status="404")] == [404]
    assert len(entries(admin, status="2xx")) == 4
    assert [e["operation"] for e in entries(admin, operation="Ech*")] == ["Echo"]
    first = admin.get("/journal", params={"limit": 2}).json()
    assert len(first["entries"]) == 2 and first["next"] is not None
    rest = admin.get("/journal", params={"limit": 10, "before": first["next"]["before"]}).json()
    assert len(rest["entries"]) == 3 and rest["next"] is None
    ids = [e["id"] for e in first["entries"] + rest["entries"]]
    assert ids == sorted(ids, reverse=True)
    assert entries(admin, since="2999-01-01T00:00:00Z") == []
    assert len(entries(admin, since="2000-01-01T00:00:00")) == 5


@pytest.mark.parametrize("params,message", [
    ({"api": "soap"}, "api must be one of microbizz, cirrus, centia, oauth"),
    ({"status": "abc"}, "status must be a whole number"),
    ({"status": "700"}, "status must be between 100 and 599"),
    ({"limit": "0"}, "limit must be between 1 and 1000"),
    ({"since": "yesterday"}, "since must be an ISO 8601 time, e.g. 2026-12-02T15:00:00Z"),
    ({"format": "xml"}, "format must be json or har"),
    ({"colour": "red"}, "unknown parameter 'colour'"),
])
def test_bad_journal_queries_are_400(admin, params, message):
    response = admin.get("/journal", params=params)
    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_har_export(client, admin, tenant):
    assert client.post("/cirrus/accounts/accountgroups/", json={"name": "Acme"},
                       headers=cirrus(client, tenant)).status_code == 200
    log = admin.get("/journal", params={"format": "har"}).json()["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "polycrm"
    [entry] = log["entries"]
    assert entry["request"]["method"] == "POST"
    assert entry["request"]["postData"]["mimeType"] == "application/json"
    assert json.loads(entry["request"]["postData"]["text"]) == {"name": "Acme"}
    assert entry["response"]["status"] == 200
    assert json.loads(entry["response"]["content"]["text"])["name"] == "Acme"
    assert entry["response"]["content"]["mimeType"] == "application/json"
    assert {"startedDateTime", "time", "cache", "timings"} <= set(entry)
    assert {"name": "X-Token", "value": "***"} in [
        {"name": h["name"].title() if h["name"].lower() == "x-token" else h["name"], "value": h["value"]}
        for h in entry["request"]["headers"]]


def test_delete_clears_the_journal(client, admin, tenant):
    client.get("/cirrus/accounts/", headers=cirrus(client, tenant))
    assert admin.delete("/journal").json() == {"deleted": 1}
    assert entries(admin) == []


def test_bodies_are_capped(runtime, client, admin, tenant, monkeypatch):
    writer = writer_for(runtime)
    big = "x" * 70_000
    client.post("/cirrus/accounts/", json={"name": "A", "description": big}, headers=cirrus(client, tenant))
    [entry] = entries(admin)
    assert len(entry["request"]["body"]) == runtime.settings.journal_body_limit
    assert writer is writer_for(runtime)


def test_the_journal_keeps_the_newest_entries(runtime, tenant):
    writer = journal.Writer(runtime.db, 3)
    from polycrm.core.models import utcnow

    for i in range(5):
        writer.add({"tenant_id": tenant["tenant_id"], "at": utcnow(), "api": "cirrus", "operation": f"op{i}",
                          "credential_id": None, "method": "GET", "url": "http://x/", "status": 200,
                          "duration_ms": 1.0, "request_headers": [], "request_body": "", "response_headers": [],
                          "response_body": ""})
        writer.flush()
    page = journal.entries(runtime.db, tenant["tenant_id"], {})
    assert [e["operation"] for e in page["entries"]] == ["op4", "op3", "op2"]


# -- refused requests that name a tenant ------------------------------------------------
def test_a_microbizz_login_that_fails_is_recorded_under_the_contracts_tenant(client, admin, other_admin, tenant):
    answer = microbizz(client, tenant, [{"command": "GetCustomers"}], password="wrong-password")
    assert answer.json()["status"] == 0
    assert answer.json()["msg"] == "Access denied: wrong apikey, username or password"
    [entry] = entries(admin)
    assert (entry["api"], entry["operation"], entry["response"]["status"]) == ("microbizz", "GetCustomers", 200)
    assert json.loads(entry["response"]["body"])["msg"] == "Access denied: wrong apikey, username or password"
    # The API key named belongs to the tenant: the entry says which credential was tried.
    assert entry["credential"]["kind"] == "microbizz.apikey"
    assert "wrong-password" not in json.dumps(entry) and tenant["microbizz"]["apikey"] not in json.dumps(entry)
    assert entries(other_admin) == []


def test_a_revoked_cirrus_token_is_recorded_with_its_401(runtime, client, admin, tenant):
    from polycrm.core import auth

    token = tenant["cirrus"]["x_token"]
    assert auth.revoke_token(runtime.db, auth.CIRRUS_XTOKEN, token)
    response = client.get("/cirrus/accounts/", headers={"X-Token": token})
    assert response.status_code == 401
    [entry] = entries(admin)
    assert (entry["api"], entry["operation"], entry["response"]["status"]) == ("cirrus", "get_account_collection", 401)
    assert entry["credential"]["kind"] == "cirrus.xtoken"
    assert token not in json.dumps(entry)
    assert {"x-token": "***"} == {k.lower(): v for k, v in entry["request"]["headers"] if k.lower() == "x-token"}


def test_a_revoked_cirrus_bearer_token_is_recorded(client, admin, tenant):
    grant = {"grant_type": "client_credentials", "client_id": tenant["cirrus"]["client_id"],
             "client_secret": tenant["cirrus"]["client_secret"]}
    bearer = client.post("/oauth/token", data=grant).json()["access_token"]
    assert client.post("/oauth/revoke", data={"token": bearer, "client_id": grant["client_id"],
                                              "client_secret": grant["client_secret"]}).status_code == 200
    assert client.get("/cirrus/accounts/", headers={"Authorization": f"Bearer {bearer}"}).status_code == 401
    latest = entries(admin)[0]
    assert (latest["api"], latest["response"]["status"], latest["credential"]["kind"]) == ("cirrus", 401, "cirrus.bearer")
    assert bearer not in json.dumps(entries(admin))


def test_a_logged_out_centia_token_is_recorded(client, admin, tenant):
    login = client.post("/api/v1/auth", json={"method": "Login", "parameters": {
        "email": tenant["centia"]["email"], "password": tenant["centia"]["password"]}})
    token = login.json()["response"]["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/auth", json={"method": "Logout", "parameters": {}}, headers=headers).json()["success"]
    refused = client.post("/api/v1/companies", json={"method": "GetCompanies", "parameters": {}}, headers=headers)
    assert refused.json()["success"] is False
    latest = entries(admin)[0]
    assert (latest["api"], latest["operation"]) == ("centia", "companies.GetCompanies")
    assert latest["response"]["status"] == refused.status_code
    assert latest["credential"]["kind"] == "centia.token"
    assert token not in json.dumps(latest)


def test_a_centia_login_with_a_wrong_password_is_recorded_under_the_users_tenant(client, admin, tenant):
    refused = client.post("/api/v1/auth", json={"method": "Login", "parameters": {
        "email": tenant["centia"]["email"], "password": "not-the-password"}})
    assert refused.json()["success"] is False
    [entry] = entries(admin)
    assert (entry["api"], entry["operation"], entry["response"]["status"]) == (
        "centia", "auth.Login", refused.status_code)
    assert "not-the-password" not in json.dumps(entry)


def test_an_oauth_client_with_a_wrong_secret_is_recorded(client, admin, tenant):
    refused = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                "client_id": tenant["cirrus"]["client_id"],
                                                "client_secret": "wrong-secret"})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    [entry] = entries(admin)
    assert (entry["api"], entry["operation"], entry["response"]["status"]) == ("oauth", "token", 401)
    assert entry["credential"]["client_id"] == tenant["cirrus"]["client_id"]
    assert "wrong-secret" not in json.dumps(entry)


def test_requests_that_name_no_tenant_are_not_recorded(client, admin, other_admin, tenant):
    client.get("/cirrus/accounts/", headers={"X-Token": "no-such-token"})
    client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "no-such-client",
                                      "client_secret": "x"})
    client.post("/api/v1/companies", json={"method": "GetCompanies", "parameters": {}},
                headers={"Authorization": "Bearer no-such-token"})
    client.post("/api/endpoint.php", data={"json": json.dumps({"contract": 2_000_000_000, "commands": []})})
    assert entries(admin) == [] and entries(other_admin) == []


def test_a_flush_writes_entries_the_writer_is_still_gathering(runtime, tenant):
    from polycrm.core.models import utcnow

    # A long gathering window: without the flush nothing would be written yet.
    writer = journal.Writer(runtime.db, 100, gather=30.0)
    for i in range(3):
        writer.add({"tenant_id": tenant["tenant_id"], "at": utcnow(), "api": "cirrus", "operation": f"g{i}",
                    "credential_id": None, "method": "GET", "url": "http://x/", "status": 200,
                    "duration_ms": 1.0, "request_headers": [], "request_body": "", "response_headers": [],
                    "response_body": ""})
    writer.flush()
    page = journal.entries(runtime.db, tenant["tenant_id"], {})
    assert [e["operation"] for e in page["entries"]] == ["g2", "g1", "g0"]
    writer.flush()
    assert journal.count(runtime.db, tenant["tenant_id"]) == 3


# -- a bounded queue ----------------------------------------------------------------------
def _entry(tenant, operation, body=""):
    from polycrm.core.models import utcnow

    return {"tenant_id": tenant["tenant_id"], "at": utcnow(), "api": "cirrus", "operation": operation,
            "credential_id": None, "method": "GET", "url": "http://x/", "status": 200, "duration_ms": 1.0,
            "request_headers": [], "request_body": "", "response_headers": [], "response_body": body}


def test_a_full_queue_is_written_at_once_and_makes_room(runtime, tenant):
    # A gathering window far longer than the wait: only a full queue waking the
    # writer lets wait_for_room return with room.
    writer = journal.Writer(runtime.db, 100, gather=30.0, max_pending_bytes=4_000)
    writer.add(_entry(tenant, "small"))
    assert not writer.full()
    writer.add(_entry(tenant, "big", "x" * 5_000))
    assert writer.full()
    writer.wait_for_room(timeout=10.0)
    assert not writer.full() and writer.pending_bytes == 0
    writer.flush()
    assert journal.count(runtime.db, tenant["tenant_id"]) == 2


def test_requests_wait_for_a_full_journal_and_every_one_is_recorded(runtime, client, admin, tenant):
    writer = writer_for(runtime)
    writer.max_pending_bytes = 1  # every entry fills the queue: each answer waits for the writer
    try:
        for _ in range(3):
            assert client.get("/cirrus/accounts/", headers=cirrus(client, tenant)).status_code == 200
        assert len(entries(admin)) == 3
    finally:
        writer.max_pending_bytes = journal.MAX_PENDING_BYTES


# -- a GET answered from the answers kept by ETag ---------------------------------------
def test_a_repeated_get_from_the_kept_answers_is_recorded_faulted_and_refused_as_any(runtime, client, admin,
                                                                                    tenant):
    from polycrm.core import auth

    headers = cirrus(client, tenant)
    client.post("/cirrus/accounts/", json={"name": "Kept", "typeid": 1, "userid": tenant["user_id"]},
                headers=headers)
    first = client.get("/cirrus/accounts/", headers=headers)
    again = client.get("/cirrus/accounts/", headers=headers)  # the same tag: the kept answer
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["ETag"] == first.headers["ETag"]
    assert [e["operation"] for e in entries(admin, operation="get_account_collection")] == [
        "get_account_collection", "get_account_collection"]
    # A fault rule applies to it as to any request.
    admin.put("/faults", {"rules": [{"api": "cirrus", "operation": "get_account_collection", "status": 503,
                                     "error": "Service unavailable", "times": 1}]})
    failed = client.get("/cirrus/accounts/", headers=headers)
    assert failed.status_code == 503 and failed.json() == {"message": "Service unavailable"}
    admin.delete("/faults")
    # A revoked token is refused, kept answer or not.
    assert auth.revoke_token(runtime.db, auth.CIRRUS_XTOKEN, tenant["cirrus"]["x_token"])
    refused = client.get("/cirrus/accounts/", headers=headers)
    assert refused.status_code == 401
