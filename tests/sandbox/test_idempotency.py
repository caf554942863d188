"""Idempotency-Key on Cirrus and centiaCRM writes."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from polycrm.core import auth
from polycrm.core.models import Lookup
from polycrm.sandbox import idempotency


def group(client, tenant, name: str, key: str | None = "k-1", **headers):
    h = {"X-Token": tenant["cirrus"]["x_token"], **headers}
    if key is not None:
        h["Idempotency-Key"] = key
    return client.post("/cirrus/accounts/accountgroups/", json={"name": name}, headers=h)


def groups(runtime, tenant, name: str) -> int:
    with auth.system_session(runtime.db) as session:
        return session.scalar(select(func.count()).select_from(Lookup).where(
            Lookup.tenant_id == tenant["tenant_id"], Lookup.name == name))


def test_the_same_key_and_body_answers_again_without_writing(runtime, client, tenant):
    first = group(client, tenant, "Once")
    assert first.status_code == 200
    again = group(client, tenant, "Once")
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert groups(runtime, tenant, "Once") == 1


def test_without_a_key_each_request_writes(runtime, client, tenant):
    group(client, tenant, "Twice", key=None)
    group(client, tenant, "Twice", key=None)
    assert groups(runtime, tenant, "Twice") == 2


def test_the_same_key_with_another_body_is_422(runtime, client, tenant):
    group(client, tenant, "First", key="k-2")
    other = group(client, tenant, "Second", key="k-2")
    assert other.status_code == 422
    assert other.json() == {"message": "this Idempotency-Key was used with another request"}
    assert groups(runtime, tenant, "Second") == 0


def test_keys_are_per_credential(runtime, client, tenant):
    group(client, tenant, "Per credential", key="k-3")
    token = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                              "client_id": tenant["cirrus"]["client_id"],
                                              "client_secret": tenant["cirrus"]["client_secret"]}).json()
    response = client.post("/cirrus/accounts/accountgroups/", json={"name": "Per credential"},
                           headers={"Authorization": f"Bearer {token['access_token']}", "Idempotency-Key": "k-3"})
    assert response.status_code == 200 and "Idempotent-Replayed" not in response.headers
    assert groups(runtime, tenant, "Per credential") == 2


def test_reads_ignore_the_key(client, tenant):
    headers = {"X-Token": tenant["cirrus"]["x_token"], "Idempotency-Key": "k-4"}
    assert client.get("/cirrus/accounts/", headers=headers).status_code == 200
    assert "Idempotent-Replayed" not in client.get("/cirrus/accounts/", headers=headers).headers


def test_a_retry_while_the_first_runs_waits_for_its_answer(runtime, client, tenant, monkeypatch):
    # Hold the first request inside the face until the retry has started waiting.
    from polycrm.faces.cirrus import endpoint

    original = endpoint.Face.handle
    entered, release = threading.Event(), threading.Event()

    def slow(self, request, *args, **kw):
        if request.headers.get("x-slow"):
            entered.set()
            release.wait(10)
        return original(self, request, *args, **kw)

    monkeypatch.setattr(endpoint.Face, "handle", slow)
    answers = {}
    first = threading.Thread(target=lambda: answers.setdefault("first", group(client, tenant, "Slow", "k-5",
                                                                              **{"X-Slow": "1"})))
    first.start()
    assert entered.wait(10)
    waiting = threading.Thread(target=lambda: answers.setdefault("retry", group(client, tenant, "Slow", "k-5")))
    waiting.start()
    threading.Timer(0.3, release.set).start()
    first.join(15)
    waiting.join(15)
    assert answers["first"].status_code == 200
    assert answers["retry"].json() == answers["first"].json()
    assert groups(runtime, tenant, "Slow") == 1


def test_a_retry_that_waits_too_long_is_409(runtime, client, tenant, monkeypatch):
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.0)
    with runtime.db.engine.begin() as conn:
        conn.execute(idempotency.IdempotentRequest.__table__.insert().values(
            tenant_id=tenant["tenant_id"], caller=_xtoken_id(runtime, tenant), key="k-6",
            fingerprint=idempotency.fingerprint_of("POST", "/cirrus/accounts/accountgroups/", "",
                                                   __import__("hashlib").sha256(b'{"name":"Busy"}').hexdigest()),
            state="running", created_at=idempotency.utcnow()))
    response = client.post("/cirrus/accounts/accountgroups/", content=b'{"name":"Busy"}',
                           headers={"X-Token": tenant["cirrus"]["x_token"], "Idempotency-Key": "k-6",
                                    "Content-Type": "application/json"})
    assert response.status_code == 409
    assert response.json() == {"message": "a request with this Idempotency-Key is still running"}


def _xtoken_id(runtime, tenant) -> int:
    return auth.resolve_token(runtime.db, auth.CIRRUS_XTOKEN, tenant["cirrus"]["x_token"]).credential_id


def test_a_key_too_long_is_400(client, tenant):
    response = group(client, tenant, "Long", key="x" * 256)
    assert response.status_code == 400
    assert response.json() == {"message": "Idempotency-Key must be 1-255 printable characters"}


def centia_token(client, tenant) -> str:
    return client.post("/api/v1/auth", json={"method": "Login", "parameters": {
        "email": tenant["centia"]["email"], "password": tenant["centia"]["password"]}}).json()["response"]["token"]


def test_centia_writes_are_idempotent(runtime, client, tenant):
    auth_header = {"Authorization": f"Bearer {centia_token(client, tenant)}"}

    def first_id(method: str, key: str) -> int:
        answer = client.post("/api/v1/companies", json={"method": method, "parameters": {
            "profile_id": tenant["profile_id"]}}, headers=auth_header).json()
        return answer["response"][key][0]["id"]

    headers = {**auth_header, "Idempotency-Key": "c-1"}
    body = {"method": "CreateCompany", "parameters": {
        "name": "Idem A/S", "profile_id": tenant["profile_id"], "type_id": first_id("GetTypes", "types"),
        "industry_id": first_id("GetIndustries", "industries")}}
    first = client.post("/api/v1/companies", json=body, headers=headers)
    assert first.json()["success"] is True, first.text
    again = client.post("/api/v1/companies", json=body, headers=headers)
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/companies", json={**body, "parameters": {**body["parameters"], "name": "B"}},
                        headers=headers)
    assert other.status_code == 422
    assert other.json() == {"success": False, "response": [],
                            "error": "this Idempotency-Key was used with another request"}
    from polycrm.core.models import Customer

    with auth.system_session(runtime.db) as session:
        assert session.scalar(select(func.count()).select_from(Customer).where(
            Customer.tenant_id == tenant["tenant_id"], Customer.name == "Idem A/S")) == 1
