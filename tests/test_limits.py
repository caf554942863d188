"""Request and response limits (docs/limits.md), each refused in its API's format."""

from __future__ import annotations

import base64
import dataclasses
import json
import os

import pytest
from starlette.testclient import TestClient

from sqlalchemy import select

from polycrm.app import create_app
from polycrm.core.models import Customer
from polycrm.core.workspace import Workspace
from tests.microbizz.helpers import MB, assert_envelope_failure, credentials
from tests.web.test_pages import sign_in

SMALL = 4096


@pytest.fixture(scope="module")
def small(runtime):
    """A client of an app with small limits (the same database)."""
    settings = dataclasses.replace(runtime.settings, max_body_bytes=SMALL, max_url_bytes=2048, max_header_bytes=4096,
                                   microbizz_max_rows=5, microbizz_max_bytes=64 * 1024)
    with TestClient(create_app(settings, runtime.db)) as client:
        yield client


def envelope(tenant, *commands) -> dict:
    return {**credentials(tenant), "commands": list(commands)}


TOO_LARGE = f"The request body is larger than {SMALL} bytes (the limit of this server)"


# -- body size ---------------------------------------------------------------------
def test_a_microbizz_body_over_the_limit_is_an_envelope_error(small, tenant):
    r = small.post("/api/endpoint.php", data={"json": json.dumps(envelope(tenant)), "pad": "x" * SMALL})
    assert r.status_code == 200
    assert_envelope_failure(r.json(), "Invalid request: " + TOO_LARGE[:1].lower() + TOO_LARGE[1:])


def test_a_cirrus_body_over_the_limit_is_413_in_flask_restx_form(small, tenant):
    r = small.post("/cirrus/accounts/", content=b"{" + b" " * SMALL + b"}", headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json() == {"message": TOO_LARGE}


def test_an_oauth_body_over_the_limit_is_an_oauth_error(small):
    r = small.post("/oauth/token", content=b"grant_type=client_credentials&pad=" + b"x" * SMALL,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    assert r.json() == {"error": "invalid_request", "error_description": TOO_LARGE}


@pytest.mark.parametrize("path", ["/api/v1/companies", "/companies"])
def test_a_centia_body_over_the_limit_is_the_centia_envelope(small, path):
    r = small.post(path, content=b"{" + b" " * SMALL + b"}")
    assert r.status_code == 413
    assert r.json() == {"success": False, "response": [], "error": TOO_LARGE}


def test_a_body_without_a_length_is_refused_while_it_streams(small):
    sent = []

    def chunks():
        for _ in range(100):
            sent.append(1)
            yield b"x" * 1024

    r = small.post("/api/v1/companies", content=chunks())
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert r.status_code == 413
    assert r.json()["error"] == TOO_LARGE


def test_a_chunked_body_under_the_limit_reaches_the_face(small, tenant):
    body = json.dumps(envelope(tenant, {"command": "Echo", "text": "hi"})).encode()
    r = small.post("/api/endpoint.php", content=iter([body[:10], body[10:]]), headers={"Content-Type": "application/json"})
    assert r.json()["results"][0]["status"] == 1


# -- URL and headers ---------------------------------------------------------------
def test_a_long_url_is_414_and_long_headers_431(small, tenant):
    r = small.get("/cirrus/accounts/?q=" + "x" * 3000)
    assert r.status_code == 414 and r.json() == {"message": "The request URL is longer than 2048 bytes"}
    r = small.get("/api/endpoint.php?json=" + "x" * 3000)
    assert_envelope_failure(r.json(), "Invalid request: the request URL is longer than 2048 bytes")
    r = small.post("/api/v1/companies", json={}, headers={"X-Pad": "x" * 5000})
    assert r.status_code == 431
    assert r.json() == {"success": False, "response": [], "error": "The request headers are larger than 4096 bytes"}
    r = small.get("/customers", headers={"X-Pad": "x" * 5000})
    assert r.status_code == 431 and r.text == "The request headers are larger than 4096 bytes"


# -- Microbizz carriers ------------------------------------------------------------
def test_a_file_of_a_few_megabytes_uploads_through_a_multipart_carrier(client, tenant):
    mb = MB(client, tenant)
    customer = mb.customer(name="Files")
    data = os.urandom(3 * 1024 * 1024)
    command = {"command": "AddFileToCustomer", "customerid": customer["id"], "filename": "big.bin",
               "filedata": base64.b64encode(data).decode()}
    r = client.post("/api/endpoint.php", files={"json": (None, json.dumps(envelope(tenant, command)))})
    assert r.request.headers["content-type"].startswith("multipart/form-data")
    assert r.json()["results"][0]["status"] == 1, r.json()


def test_multipart_without_a_boundary_is_an_envelope_error(client):
    r = client.post("/api/endpoint.php", content=b"json=1", headers={"Content-Type": "multipart/form-data"})
    assert r.status_code == 200
    assert_envelope_failure(r.json(), "Invalid request: Missing boundary in multipart.")


# -- Microbizz response size -------------------------------------------------------
def test_a_batch_returning_more_rows_than_allowed_fails_whole_and_asks_for_paging(small, runtime, tenant):
    mb = MB(small, tenant)
    for n in range(6):
        mb.customer(name=f"Row {n}")
    body = mb.batch({"command": "CreateUpdateCustomerByID", "customer": {"id": 0, "name": "Rolled back"}},
                    {"command": "GetCustomersByLastChange", "lastchange": "2000-01-01 00:00:00"})
    assert_envelope_failure(body, (
        "Response too large: the commands of this request return more than 5 records or 65536 bytes; "
        "send fewer commands per request and fetch ...ByLastChange syncs page by page with resumekey"
    ))
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert ws.scalars(select(Customer.id).where(Customer.name == "Rolled back")) == []


def test_a_batch_within_the_response_limits_is_answered(small, tenant):
    mb = MB(small, tenant)
    mb.customer(name="Only")
    result = mb.call("GetCustomersByLastChange", lastchange="2000-01-01 00:00:00")
    assert [c["name"] for c in result["customers"]] == ["Only"]


# -- JSON parsing ------------------------------------------------------------------
DEEP = "[" * 10_000 + "]" * 10_000


def test_deeply_nested_json_is_refused_in_every_api(client, tenant):
    r = client.post("/api/v1/companies", content='{"method": "GetCompanies", "parameters": ' + DEEP + "}")
    assert r.status_code == 400
    assert r.json() == {"success": False, "response": [],
                        "error": "request body is not valid JSON: it is nested deeper than 1024 levels"}
    text = json.dumps(envelope(tenant))[:-1] + ', "x": ' + DEEP + "}"
    body = client.post("/api/endpoint.php", data={"json": text}).json()
    assert_envelope_failure(body, "Invalid request: the json parameter is not valid JSON: it is nested deeper than 1024 levels")
    r = client.post("/cirrus/accounts/", content=DEEP, headers={"X-Token": tenant["cirrus"]["x_token"],
                                                                "Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["message"].endswith("not valid JSON: it is nested deeper than 1024 levels")


# A lone surrogate in a centiaCRM name is refused naming the field: tests/cross_api/test_rule_matrix.py.
def test_a_lone_surrogate_deep_inside_centia_json_is_still_a_clear_error(client):
    r = client.post("/api/v1/companies", content='{"method": "GetCompanies", "x": "\\ud800", "y": ' + DEEP + "}")
    assert r.status_code == 400
    assert r.json()["error"] == "request body is not valid JSON: it is nested deeper than 1024 levels"


# -- search terms ------------------------------------------------------------------
LONG_TERM = "x" * 50_001
TERM_ERROR = "the search term must be at most 1000 characters (got 50001)"


def test_a_long_search_term_is_refused_in_every_api_and_page(client, tenant):
    from tests.centia.helpers import Centia

    centia = Centia(client, tenant)
    r = client.post("/api/v1/companies", json={"method": "GetCompanies", "parameters": {
        "profile_id": centia.profile_id, "query": LONG_TERM}}, headers=centia.headers)
    assert r.json() == {"success": False, "response": [], "error": TERM_ERROR}
    r = client.get("/cirrus/accounts/", params={"fulltext": LONG_TERM[:5000]},
                   headers={"X-Token": tenant["cirrus"]["x_token"]})
    assert r.status_code == 400, r.text
    # Cirrus's own query validation says it first (every query string is at most 1000 characters).
    assert r.json() == {"errors": {"fulltext": "longer than 1000 characters"}, "message": "Input payload validation failed"}
    web = TestClient(client.app, follow_redirects=False)
    assert sign_in(web, tenant).status_code == 303
    for page in ("/customers", "/products", "/quotes", "/opportunities", "/tickets", "/activities"):
        r = web.get(page, params={"q": LONG_TERM[:5000]})
        assert r.status_code == 400, page
        assert "the search term must be at most 1000 characters (got 5000)" in r.text
