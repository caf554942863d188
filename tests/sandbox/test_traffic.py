"""Injected faults and emulated rate limits, each API failing in its own format."""

from __future__ import annotations

import json

import pytest


def microbizz(client, tenant, commands):
    envelope = {"contract": tenant["microbizz"]["contract"], "apikey": tenant["microbizz"]["apikey"],
                "username": tenant["microbizz"]["username"], "password": tenant["microbizz"]["password"],
                "commands": commands}
    return client.post("/api/endpoint.php", data={"json": json.dumps(envelope)})


def accounts(client, tenant, **headers):
    return client.get("/cirrus/accounts/", headers={"X-Token": tenant["cirrus"]["x_token"], **headers})


def centia_login(client, tenant):
    return client.post("/api/v1/auth", json={"method": "Login", "parameters": {
        "email": tenant["centia"]["email"], "password": tenant["centia"]["password"]}})


# -- faults -------------------------------------------------------------------------------
def test_rules_are_set_shown_with_their_counts_and_cleared(admin):
    put = admin.put("/faults", [{"api": "cirrus", "operation": "get_*", "status": 503}])
    assert put.status_code == 200
    expected = {"api": "cirrus", "operation": "get_*", "probability": 1.0, "latency_ms": 0, "status": 503,
                "error": None, "times": None, "seed": None, "matched": 0, "hits": 0}
    assert put.json() == {"rules": [expected]}
    assert admin.get("/faults").json() == {"rules": [expected]}
    assert admin.delete("/faults").status_code == 204
    assert admin.get("/faults").json() == {"rules": []}


def test_a_cirrus_fault_answers_its_status_with_the_restx_body(client, admin, tenant):
    admin.put("/faults", {"rules": [{"api": "cirrus", "operation": "get_account_collection", "status": 503,
                                     "error": "Service unavailable", "times": 1}]})
    failed = accounts(client, tenant)
    assert failed.status_code == 503
    assert failed.json() == {"message": "Service unavailable"}
    assert accounts(client, tenant).status_code == 200  # times: 1
    [rule] = admin.get("/faults").json()["rules"]
    assert (rule["matched"], rule["hits"]) == (2, 1)
    # The journal shows the injected answer.
    entries = admin.get("/journal").json()["entries"]
    assert [e["response"]["status"] for e in entries] == [200, 503]


def test_a_microbizz_fault_is_an_envelope_failure(client, admin, tenant):
    admin.put("/faults", [{"api": "microbizz", "operation": "GetCustomers", "status": 200, "error": "Database busy"}])
    answer = microbizz(client, tenant, [{"command": "Echo"}, {"command": "GetCustomers"}])
    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["msg"], body["results"]) == (0, "Database busy", [])
    assert microbizz(client, tenant, [{"command": "Echo"}]).json()["status"] == 1


def test_a_centia_fault_is_success_false(client, admin, tenant):
    admin.put("/faults", [{"api": "centia", "operation": "auth.*", "status": 500, "error": "Try again"}])
    answer = centia_login(client, tenant)
    assert answer.status_code == 500
    assert answer.json() == {"success": False, "response": [], "error": "Try again"}


def test_a_fault_without_error_text_names_itself(client, admin, tenant):
    admin.put("/faults", [{"status": 502}])
    assert accounts(client, tenant).json() == {"message": "injected fault (502)"}


def test_latency_alone_delays_but_answers(client, admin, tenant):
    admin.put("/faults", [{"api": "cirrus", "latency_ms": 20}])
    assert accounts(client, tenant).status_code == 200
    assert admin.get("/faults").json()["rules"][0]["hits"] == 1


def test_reset_drops_the_connection(client, admin, tenant):
    admin.put("/faults", [{"api": "cirrus", "status": "reset", "times": 1}])
    with pytest.raises(ConnectionResetError):
        accounts(client, tenant)
    assert accounts(client, tenant).status_code == 200
    statuses = [e["response"]["status"] for e in admin.get("/journal").json()["entries"]]
    assert statuses == [200, 0]


def test_a_seed_makes_the_outcomes_repeat(client, admin, tenant):
    def outcomes() -> list[int]:
        admin.put("/faults", [{"api": "cirrus", "probability": 0.5, "seed": 7, "status": 500}])
        return [accounts(client, tenant).status_code for _ in range(12)]

    first = outcomes()
    assert first == outcomes()
    assert set(first) == {200, 500}


def test_another_tenants_requests_are_not_touched(client, admin, other_admin, tenant, other_tenant):
    admin.put("/faults", [{"status": 500}])
    assert accounts(client, other_tenant).status_code == 200
    assert other_admin.get("/faults").json() == {"rules": []}


@pytest.mark.parametrize("body,message", [
    ([{"status": 500, "probability": 2}], "probability must be between 0 and 1"),
    ([{"status": "boom"}], "status must be a whole number"),
    ([{"status": 99}], "status must be between 100 and 599"),
    ([{"api": "soap", "status": 500}], "api must be one of microbizz, cirrus, centia, oauth, *"),
    ([{"operation": "", "status": 500}], 'operation must be a glob of 1-255 characters, e.g. "Get*"'),
    ([{"probability": 1}], 'a rule needs a status (a number or "reset") or a latency_ms'),
    ([{"status": 500, "colour": "red"}], "unknown rule field 'colour'"),
    ([{"status": 500, "times": 0}], "times must be between 1 and 2.14748e+09"),
    ([5], "each rule must be an object"),
    ("rules", 'send a list of rules, or {"rules": [...]}'),
])
def test_bad_rules_are_400(admin, body, message):
    response = admin.put("/faults", body)
    assert response.status_code == 400
    assert response.json() == {"error": message}


# -- rate limits ------------------------------------------------------------------------
def test_cirrus_past_its_limit_is_429_with_headers(client, admin, tenant):
    put = admin.put("/limits", {"api": "cirrus", "per_second": 0.001, "burst": 2})
    assert put.json() == {"limits": [{"api": "cirrus", "per_second": 0.001, "per_minute": None, "burst": 2}]}
    assert [accounts(client, tenant).status_code for _ in range(2)] == [200, 200]
    refused = accounts(client, tenant)
    assert refused.status_code == 429
    assert refused.json() == {"message": f"rate limit exceeded: retry after {refused.headers['Retry-After']} s"}
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-RateLimit-Limit"] == "0.001" and refused.headers["X-RateLimit-Remaining"] == "0"
    assert int(refused.headers["X-RateLimit-Reset"]) > 0


def test_limits_count_per_credential(client, admin, tenant):
    admin.put("/limits", [{"api": "cirrus", "per_second": 0.001, "burst": 1}])
    assert accounts(client, tenant).status_code == 200
    assert accounts(client, tenant).status_code == 429
    token = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                              "client_id": tenant["cirrus"]["client_id"],
                                              "client_secret": tenant["cirrus"]["client_secret"]}).json()
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/cirrus/accounts/", headers=bearer).status_code == 200


def test_a_per_minute_limit(client, admin, tenant):
    admin.put("/limits", [{"api": "cirrus", "per_minute": 1}])
    # Four calls cross at most one minute boundary: at least one is refused.
    assert 429 in [accounts(client, tenant).status_code for _ in range(4)]


def test_centia_and_microbizz_refuse_in_their_own_format(client, admin, tenant):
    admin.put("/limits", {"limits": [{"api": "centia", "per_second": 0.001, "burst": 1},
                                     {"api": "microbizz", "per_second": 0.001, "burst": 1}]})
    assert centia_login(client, tenant).json()["success"] is True
    refused = centia_login(client, tenant)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert refused.json() == {"success": False, "response": [],
                              "error": f"rate limit exceeded: retry after {refused.headers['Retry-After']} s"}
    assert microbizz(client, tenant, [{"command": "Echo"}]).json()["status"] == 1
    again = microbizz(client, tenant, [{"command": "Echo"}])
    assert again.status_code == 200 and "Retry-After" in again.headers
    assert (again.json()["status"], again.json()["msg"]) == (
        0, f"rate limit exceeded: retry after {again.headers['Retry-After']} s")


def test_limits_are_cleared(client, admin, tenant):
    admin.put("/limits", [{"api": "cirrus", "per_second": 0.001, "burst": 1}])
    accounts(client, tenant)
    assert admin.delete("/limits").status_code == 204
    assert admin.get("/limits").json() == {"limits": []}
    assert accounts(client, tenant).status_code == 200


@pytest.mark.parametrize("body,message", [
    ({"api": "cirrus"}, "a limit needs per_second or per_minute"),
    ({"api": "web", "per_second": 1}, "api must be one of microbizz, cirrus, centia, oauth"),
    ({"api": "cirrus", "per_minute": 10, "burst": 3}, "burst needs per_second"),
    ({"api": "cirrus", "per_second": -1}, "per_second must be between 0.001 and 100000"),
    ([{"api": "cirrus", "per_second": 1}, {"api": "cirrus", "per_second": 2}], "one limit per api"),
    ({"api": "cirrus", "per_second": 1, "window": 3}, "unknown limit field 'window'"),
])
def test_bad_limits_are_400(admin, body, message):
    response = admin.put("/limits", body)
    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_the_admin_api_needs_its_key_for_faults_and_limits(client, tenant):
    for path in ("/_polycrm/faults", "/_polycrm/limits"):
        assert client.put(path, json=[]).status_code == 401
        assert client.get(path).status_code == 401


def test_rules_are_kept_per_database_not_only_per_tenant_id(tmp_path):
    """A process serving two databases (as this suite does) applies each one's rules only to it."""
    from polycrm.core import tenants
    from polycrm.sandbox import traffic
    from polycrm.store.engine import Database

    made = []
    for name in ("one", "two"):
        db = Database(f"sqlite:///{tmp_path / name}.sqlite3")
        db.upgrade()
        made.append((db, tenants.create(db, tenants.NewTenant(name=name))["tenant_id"]))
    (first, a), (second, b) = made
    assert a == b
    traffic.set_faults(first, a, [{"api": "cirrus", "operation": "*", "status": 503}])
    assert traffic.CACHE.get(first, a).faults
    assert not traffic.CACHE.get(second, b).faults
    traffic.clear_faults(first, a)
    assert not traffic.CACHE.get(first, a).faults
    first.dispose()
    second.dispose()
