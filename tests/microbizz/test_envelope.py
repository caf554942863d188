"""Microbizz envelope: request carriers, authentication, batches, basic types."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from tests.conftest import new_tenant
from tests.microbizz.helpers import ENDPOINT, MB, assert_envelope_failure, assert_stamped, credentials
from sqlalchemy import select

from polycrm.core import auth
from polycrm.core.models import Customer, User
from polycrm.core.workspace import Workspace

ECHO = {"command": "Echo", "text": "Hello World"}


@pytest.fixture(scope="module")
def tenant(runtime) -> dict:
    """The tests here share one tenant: each looks only at what it made itself
    (a fresh tenant per test would cost most of the module's run time)."""
    return new_tenant(runtime)


@pytest.fixture
def own_tenant(runtime) -> dict:
    """A fresh tenant, for the tests that look at everything in it."""
    return new_tenant(runtime)


def echo_envelope(tenant: dict, **override) -> dict:
    return {**credentials(tenant), "remoteagent": "tests", "commands": [ECHO], **override}


def assert_echoed(response) -> None:
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body["status"] == 1
    assert body["msg"] == "OK"
    assert body["results"] == [{"status": 1, "answer": "Hello World"}]
    assert_stamped(body)


# -- carriers ------------------------------------------------------------------

def test_get_with_json_in_the_query_string(client, tenant):
    assert_echoed(client.get(ENDPOINT, params={"json": json.dumps(echo_envelope(tenant))}))


def test_urlencoded_post_body(client, tenant):
    text = json.dumps(echo_envelope(tenant))
    assert_echoed(client.post(
        ENDPOINT, content="json=" + quote(text, safe=""),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
    ))


def test_multipart_post_field(client, tenant):
    # PHP curl given an array of post fields sends multipart/form-data.
    response = client.post(
        ENDPOINT, data={"json": json.dumps(echo_envelope(tenant))}, files={"attachment": ("a.txt", b"x", "text/plain")}
    )
    assert response.request.headers["content-type"].startswith("multipart/form-data")
    assert_echoed(response)


def test_post_with_json_in_the_query_string_and_an_empty_body(client, tenant):
    url = ENDPOINT + "?json=" + quote(json.dumps(echo_envelope(tenant)), safe="")
    assert_echoed(client.post(url, content=b"", headers={"Content-Type": "application/x-www-form-urlencoded"}))


def test_raw_json_body(client, tenant):
    assert_echoed(client.post(
        ENDPOINT, content=json.dumps(echo_envelope(tenant)), headers={"Content-Type": "application/json"}
    ))


def test_missing_json_parameter(client):
    assert_envelope_failure(client.get(ENDPOINT).json(), "Invalid request: no json parameter")
    assert_envelope_failure(client.post(ENDPOINT, data={"other": "1"}).json(), "Invalid request: no json parameter")


@pytest.mark.parametrize("text", ["{not json", "", '{"contract": 1,}'])
def test_bad_json(client, text):
    body = client.post(ENDPOINT, data={"json": text}).json()
    assert_envelope_failure(body, "Invalid request: the json parameter is not valid JSON")


def test_envelope_must_be_an_object(client):
    body = client.get(ENDPOINT, params={"json": "[1, 2]"}).json()
    assert_envelope_failure(body, "Invalid request: the envelope must be a JSON object")


def test_commands_must_be_a_collection(client, tenant):
    body = client.post(ENDPOINT, data={"json": json.dumps({**credentials(tenant), "commands": "Echo"})}).json()
    assert_envelope_failure(body, "Invalid request: commands must be a collection of commands")


# -- authentication ------------------------------------------------------------

def test_contract_apikey_username_password(client, tenant):
    result = MB(client, tenant).call("Echo", text="hi")
    assert result == {"status": 1, "answer": "hi"}


def test_contract_as_string_is_accepted(client, tenant):
    creds = {**credentials(tenant), "contract": str(tenant["microbizz"]["contract"])}
    assert MB(client, tenant, **creds).call("Echo", text="s")["answer"] == "s"


def test_accesstoken_alone_accepts_the_api_key(client, tenant):
    mb = MB(client, tenant, contract=tenant["microbizz"]["contract"], accesstoken=tenant["microbizz"]["apikey"])
    created = mb.customer(name="Via token")
    # The token acts as the tenant's admin user.
    assert created["sellerid"] == tenant["user_id"]


def test_app_connect_accesstoken(client, runtime, tenant):
    with auth.system_session(runtime.db) as session, session.begin():
        auth.add_credential(session, tenant["tenant_id"], tenant["user_id"], auth.MICROBIZZ_ACCESSTOKEN, "negotiated-token-1")
    mb = MB(client, tenant, contract=tenant["microbizz"]["contract"], accesstoken="negotiated-token-1")
    assert mb.call("Echo", text="x")["answer"] == "x"


def post(client, envelope: dict) -> dict:
    return client.post(ENDPOINT, data={"json": json.dumps(envelope)}).json()


def test_wrong_password(client, tenant):
    body = post(client, echo_envelope(tenant, password="not-the-password"))
    assert_envelope_failure(body, "Access denied: wrong apikey, username or password")


def test_unknown_user(client, tenant):
    body = post(client, echo_envelope(tenant, username="nobody"))
    assert_envelope_failure(body, "Access denied: wrong apikey, username or password")


def test_wrong_apikey(client, tenant):
    body = post(client, echo_envelope(tenant, apikey="wrong-key"))
    assert_envelope_failure(body, "Access denied: wrong apikey, username or password")


def test_unknown_contract(client, tenant):
    body = post(client, echo_envelope(tenant, contract=987654321))
    assert_envelope_failure(body, "Access denied: unknown contract 987654321")


def test_missing_contract(client, tenant):
    envelope = echo_envelope(tenant)
    del envelope["contract"]
    assert_envelope_failure(post(client, envelope), "Access denied: missing contract")


def test_non_numeric_contract(client, tenant):
    body = post(client, echo_envelope(tenant, contract="abc"))
    assert_envelope_failure(body, "Access denied: invalid contract 'abc'")


def test_a_contract_beyond_any_tenant_is_unknown(client, tenant):
    """Once a 500 (the number overflowed the column); now the core says unknown."""
    for contract in (2**40, str(10**30)):
        body = post(client, echo_envelope(tenant, contract=contract))
        assert_envelope_failure(body, f"Access denied: unknown contract {contract}")


def test_a_username_holding_a_nul_is_a_wrong_login(client, tenant):
    """Once a 500 on PostgreSQL (it cannot compare text holding NUL)."""
    body = post(client, echo_envelope(tenant, username="ad\x00min"))
    assert_envelope_failure(body, "Access denied: wrong apikey, username or password")


def test_missing_password(client, tenant):
    envelope = echo_envelope(tenant)
    del envelope["password"]
    assert_envelope_failure(post(client, envelope), "Access denied: apikey, username and password are required")


def test_wrong_accesstoken(client, tenant):
    body = post(client, {"contract": tenant["microbizz"]["contract"], "accesstoken": "forged", "commands": [ECHO]})
    assert_envelope_failure(body, "Access denied: invalid accesstoken")


def test_another_tenants_key_does_not_open_this_contract(client, tenant, other_tenant):
    theirs = other_tenant["microbizz"]
    body = post(client, echo_envelope(tenant, apikey=theirs["apikey"]))
    assert_envelope_failure(body, "Access denied: wrong apikey, username or password")
    body = post(client, {"contract": tenant["microbizz"]["contract"], "accesstoken": theirs["apikey"], "commands": [ECHO]})
    assert_envelope_failure(body, "Access denied: invalid accesstoken")


def test_inactive_user_is_refused(client, runtime, own_tenant):
    with Workspace(runtime.db, own_tenant["tenant_id"]) as ws:
        ws.update(ws.get(User, own_tenant["user_id"]), {"active": False})
    body = post(client, echo_envelope(own_tenant))
    assert_envelope_failure(body, "Access denied: wrong apikey, username or password")


# -- commands and batches --------------------------------------------------------

def test_unknown_command(client, tenant):
    mb = MB(client, tenant)
    assert mb.fail("FlyToTheMoon") == "Unknown command: FlyToTheMoon"
    body = mb.batch({"text": "no name"}, "not an object")
    assert body["results"] == [
        {"status": 0, "msg": "Invalid command: missing command name"},
        {"status": 0, "msg": "Invalid command: each command must be an object"},
    ]


def test_command_names_ignore_case(client, tenant):
    assert MB(client, tenant).call("echo", text="lower")["answer"] == "lower"


def test_a_single_command_object_is_accepted(client, tenant):
    body = post(client, {**credentials(tenant), "commands": ECHO})
    assert body["results"] == [{"status": 1, "answer": "Hello World"}]


def customer_names(runtime, tenant) -> list[str]:
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        return sorted(c.name for c in ws.scalars(select(Customer)))


BAD_TYPE = {"command": "CreateUpdateCustomerByID", "customer": {"id": 0, "name": "Broken", "typeid": 999999}}


def create(name: str) -> dict:
    return {"command": "CreateUpdateCustomerByID", "customer": {"id": 0, "name": name}}


def test_batch_continues_after_a_failure_by_default(client, runtime, own_tenant):
    body = MB(client, own_tenant).batch(create("First"), BAD_TYPE, create("Third"))
    assert body["status"] == 1 and body["msg"] == "OK"
    statuses = [r["status"] for r in body["results"]]
    assert statuses == [1, 0, 1]
    assert body["results"][1] == {"status": 0, "msg": "Invalid value for customer.typeid: 999999 not found"}
    assert customer_names(runtime, own_tenant) == ["First", "Third"]


def test_haltonerror_stops_at_the_first_failure(client, runtime, own_tenant):
    for flag in (1, "1", True, "yes"):
        body = MB(client, own_tenant).batch(create(f"Before {flag}"), BAD_TYPE, create("Never"), haltonerror=flag)
        assert [r["status"] for r in body["results"]] == [1, 0]
    # The commands before the failure are kept; the failed one and the rest never ran.
    assert customer_names(runtime, own_tenant) == ["Before 1", "Before 1", "Before True", "Before yes"]


def test_haltonerror_zero_runs_everything(client, runtime, own_tenant):
    body = MB(client, own_tenant).batch(BAD_TYPE, create("After"), haltonerror=0)
    assert [r["status"] for r in body["results"]] == [0, 1]
    assert customer_names(runtime, own_tenant) == ["After"]


def test_haltonerror_must_be_a_boolean(client, tenant):
    body = post(client, {**credentials(tenant), "commands": [ECHO], "haltonerror": "maybe"})
    assert_envelope_failure(body, "Invalid value for haltonerror: 'maybe' is not a boolean (1/0, true/false, yes/no)")


def test_results_come_in_command_order(client, tenant):
    body = MB(client, tenant).batch(*({"command": "Echo", "text": str(i)} for i in range(5)))
    assert [r["answer"] for r in body["results"]] == ["0", "1", "2", "3", "4"]


def test_read_only_batch_runs_without_writes(client, tenant):
    body = MB(client, tenant).batch(ECHO, {"command": "GetCustomerTypes"})
    assert [r["status"] for r in body["results"]] == [1, 1]
    assert [t["title"] for t in body["results"][1]["types"]] == ["Customer", "Prospect", "Supplier", "Partner"]


INPUTLESS = [
    "Echo", "GetCustomerTypes", "GetMaingroups", "GetCustomerRoles", "GetMyPendingCalls", "GetMAEvents",
    "GetProductStates", "GetProductUnits", "GetFavoriteProducts",
]


@pytest.mark.parametrize("command", INPUTLESS)
def test_commands_without_inputs(client, tenant, command):
    """They take no input, so they ignore stray fields and can only fail as a
    whole envelope (a bad login), which shows no data at all."""
    result = MB(client, tenant).call(command, stray="ignored", customerid="not a number")
    assert result["status"] == 1
    body = post(client, {**credentials(tenant), "password": "wrong", "commands": [{"command": command}]})
    assert_envelope_failure(body, "Access denied: wrong apikey, username or password")


def test_too_many_commands(client, tenant):
    body = post(client, {**credentials(tenant), "commands": [ECHO] * 1001})
    assert_envelope_failure(body, "Invalid request: at most 1000 commands per request")
    assert len(post(client, {**credentials(tenant), "commands": [ECHO] * 1000})["results"]) == 1000


def test_danish_letters_survive_every_carrier(client, tenant):
    name = "Søren Ærø Å/S – “quotes” ✓"
    envelope = {**credentials(tenant), "commands": [{"command": "Echo", "text": name}]}
    text = json.dumps(envelope, ensure_ascii=False)
    answers = [
        client.get(ENDPOINT, params={"json": text}).json(),
        client.post(ENDPOINT, data={"json": text}).json(),
        client.post(ENDPOINT, content=text.encode("utf-8"), headers={"Content-Type": "application/json"}).json(),
    ]
    assert [a["results"] for a in answers] == [[{"status": 1, "answer": name}]] * 3
