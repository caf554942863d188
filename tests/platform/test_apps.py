"""The Microbizz app platform: register, connect (right and wrong answer),
event hooks fired from every API, disable_callbacks, session tokens, and the
person commands. The app is a real HTTP receiver on loopback."""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from polycrm.cli import cli
from polycrm.core.auth import system_session
from polycrm.platform import apps
from polycrm.platform.models import AppConnection, Webhook
from tests.centia.helpers import Centia
from tests.cirrus.helpers import send_ok
from tests.cross_api.helpers import Web
from tests.microbizz.helpers import MB, assert_envelope_failure, post_envelope
from tests.platform.receiver import Receiver

runner = CliRunner()
SECRET = "app-secret-123"


@pytest.fixture
def app_server():
    """The app: its negotiate URL answers sha1(challenge + secret) unless told otherwise."""
    r = Receiver()
    r.secret = SECRET

    def negotiate(got):
        return 200, hashlib.sha1((got.form["challenge"] + r.secret).encode()).hexdigest().encode()

    r.responders["/negotiate"] = negotiate
    yield r
    r.close()


def run_cli(runtime, *args: str):
    return runner.invoke(cli, [*args, "--database", runtime.db.url], catch_exceptions=False)


def cli_json(runtime, *args: str):
    result = run_cli(runtime, *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def register(runtime, tenant, publicid="demo-app"):
    return cli_json(runtime, "app", "register", "--tenant", tenant["tenant"], "--publicid", publicid,
                    "--secret", SECRET, "--title", "Demo App", "--json")


def request(app_server, publicid="demo-app", hooks=None) -> str:
    if hooks is None:
        hooks = [
            {"modcode": "customer", "hook": "event_customer_change", "title": "", "url": app_server.url("/customer")},
            {"modcode": "customer", "hook": "event_person_attach", "title": "", "url": app_server.url("/person")},
            {"modcode": "general", "hook": "event_file_create", "title": "", "url": app_server.url("/file")},
            {"modcode": "customer", "hook": "tab", "title": "Demo tab", "url": app_server.url("/tab")},
        ]
    return json.dumps({"publicid": publicid, "negotiateurl": app_server.url("/negotiate"),
                       "returnurl": app_server.url("/done"), "hooks": hooks})


def connect(runtime, tenant, app_server, **kw) -> str:
    out = cli_json(runtime, "app", "connect", "--tenant", tenant["tenant"], "--request", request(app_server, **kw),
                   "--endpoint", "http://crm.example/api/endpoint.php", "--json")
    assert set(out) == {"ok", "accesstoken"} and out["ok"] is True
    return out["accesstoken"]


def token_auth(tenant, token) -> dict:
    return {"contract": tenant["microbizz"]["contract"], "accesstoken": token}


def test_register_prints_the_app_and_refuses_a_second_one(runtime, tenant):
    assert register(runtime, tenant) == {"publicid": "demo-app", "title": "Demo App"}
    again = run_cli(runtime, "app", "register", "--tenant", tenant["tenant"], "--publicid", "demo-app", "--secret", "x")
    assert again.exit_code == 1 and "an app with publicid 'demo-app' is already registered" in again.output


def test_connect_negotiates_and_the_token_opens_the_api(client, runtime, tenant, app_server):
    register(runtime, tenant)
    token = connect(runtime, tenant, app_server)
    sent = app_server.wait_for(1, "/negotiate")[0].form
    assert set(sent) == {"endpoint", "contract", "accesstoken", "challenge"}
    assert (sent["endpoint"], sent["contract"], sent["accesstoken"]) == (
        "http://crm.example/api/endpoint.php", str(tenant["microbizz"]["contract"]), token)
    mb = MB(client, tenant, **token_auth(tenant, token))
    assert mb.call("Echo", text="hi")["answer"] == "hi"
    with system_session(runtime.db) as session:
        hooks = sorted(h.hook for h in session.scalars(select(Webhook).where(Webhook.tenant_id == tenant["tenant_id"])))
    assert hooks == ["customer/event_customer_change", "customer/event_person_attach", "general/event_file_create"]


def test_a_wrong_answer_stores_nothing(client, runtime, tenant, app_server):
    register(runtime, tenant)
    app_server.secret = "not-the-secret"
    result = run_cli(runtime, "app", "connect", "--tenant", tenant["tenant"], "--request", request(app_server), "--json")
    assert result.exit_code == 1
    assert "the app's answer to the challenge is wrong" in result.output
    token = app_server.wait_for(1, "/negotiate")[0].form["accesstoken"]
    body = post_envelope(client, {**token_auth(tenant, token), "commands": [{"command": "Echo"}]})
    assert_envelope_failure(body, "Access denied: invalid accesstoken")
    with system_session(runtime.db) as session:
        assert session.scalars(select(AppConnection).where(AppConnection.tenant_id == tenant["tenant_id"])).first() is None
        assert session.scalars(select(Webhook).where(Webhook.tenant_id == tenant["tenant_id"])).first() is None


def test_connect_refusals(runtime, tenant, app_server):
    unknown = run_cli(runtime, "app", "connect", "--tenant", tenant["tenant"], "--request", request(app_server, "nope"))
    assert unknown.exit_code == 1 and "no app with publicid 'nope' is registered" in unknown.output
    bad = run_cli(runtime, "app", "connect", "--tenant", tenant["tenant"], "--request", "{not json")
    assert bad.exit_code == 1 and "request is not valid JSON" in bad.output
    missing = run_cli(runtime, "app", "connect", "--tenant", tenant["tenant"], "--request", '{"publicid": "x"}')
    assert missing.exit_code == 1 and "request.negotiateurl is required" in missing.output


def test_reconnect_replaces_hooks_and_the_old_token(client, runtime, tenant, app_server):
    register(runtime, tenant)
    old = connect(runtime, tenant, app_server)
    new = connect(runtime, tenant, app_server, hooks=[
        {"modcode": "general", "hook": "event_file_change", "title": "", "url": app_server.url("/file")}])
    assert old != new
    body = post_envelope(client, {**token_auth(tenant, old), "commands": [{"command": "Echo"}]})
    assert_envelope_failure(body, "Access denied: invalid accesstoken")
    with system_session(runtime.db) as session:
        hooks = [h.hook for h in session.scalars(select(Webhook).where(Webhook.tenant_id == tenant["tenant_id"]))]
    assert hooks == ["general/event_file_change"]


def test_event_customer_change_from_every_api(app, client, runtime, tenant, app_server):
    register(runtime, tenant)
    connect(runtime, tenant, app_server)
    mb = MB(client, tenant)
    made = mb.customer(name="Hooked", phone="+45 1")
    customer_id = int(made["id"])
    send_ok(client, tenant, "PUT", f"/accounts/{customer_id}", {"phone": "+45 2"})
    Centia(client, tenant).company(name="From centia")
    page = Web(app, tenant).post_form("/customers/new", {"name": "From web"})
    assert page.status_code == 303
    got = app_server.wait_for(4, "/customer")
    assert len(got) == 4
    for r in got:
        assert r.headers["content-type"] == "application/x-www-form-urlencoded"
        assert set(r.form) == {"object", "previousobject"}
    # In order for one record; another record's event may arrive between them.
    own = [r.form for r in got if json.loads(r.form["object"])["id"] == made["id"]]
    others = [r for r in got if json.loads(r.form["object"])["id"] != made["id"]]
    assert len(own) == 2
    created, updated = own
    assert created["previousobject"] == ""
    # object: the customer as that change committed it, in the GetCustomerByID shape.
    assert json.loads(created["object"]) == made
    now, before = json.loads(updated["object"]), json.loads(updated["previousobject"])
    assert (now["phone"], before["phone"]) == ("+45 2", "+45 1")
    assert now == mb.get_customer(customer_id)
    assert before == now | {"phone": "+45 1"}
    assert {json.loads(r.form["object"])["name"] for r in others} == {"From centia", "From web"}


def test_person_attach_and_file_create(client, runtime, tenant, app_server):
    import base64

    register(runtime, tenant)
    connect(runtime, tenant, app_server)
    mb = MB(client, tenant)
    customer_id = int(mb.customer(name="Owner")["id"])
    contact = send_ok(client, tenant, "POST", "/contacts/", {"name": "Ann", "surname": "A", "accountid": customer_id})
    relation = json.loads(app_server.wait_for(1, "/person")[0].form["object"])
    assert (relation["customerid"], relation["personid"]) == (customer_id, contact["id"])
    assert relation["person"]["firstname"] == "Ann"
    mb.call("AddFileToCustomer", customerid=customer_id, filename="a.txt", title="A",
            filedata=base64.b64encode(b"hello").decode())
    document = json.loads(app_server.wait_for(1, "/file")[0].form["document"])
    assert (document["filename"], document["title"]) == ("a.txt", "A")


def test_disable_callbacks_silences_only_the_sending_app(client, runtime, tenant, app_server):
    register(runtime, tenant)
    token = connect(runtime, tenant, app_server)
    app_mb = MB(client, tenant, **token_auth(tenant, token))
    body = app_mb.batch({"command": "CreateUpdateCustomerByID", "customer": {"id": 0, "name": "Quiet"}},
                        disable_callbacks=True)
    assert body["results"][0]["status"] == 1
    loud = app_mb.customer(name="Loud")
    # The same flag from another credential (a user's login) silences nothing of the app's.
    other = MB(client, tenant).batch({"command": "CreateUpdateCustomerByID", "customer": {"id": 0, "name": "Other"}},
                                     disable_callbacks=True)
    assert other["results"][0]["status"] == 1
    got = app_server.wait_for(2, "/customer")
    time.sleep(0.3)
    names = sorted(json.loads(r.form["object"])["name"] for r in app_server.received if r.path == "/customer")
    assert names == ["Loud", "Other"] and int(loud["id"]) in [int(json.loads(r.form["object"])["id"]) for r in got]


def test_validate_session_token(client, runtime, tenant, other_tenant, app_server):
    register(runtime, tenant)
    token = connect(runtime, tenant, app_server)
    tabs = apps.customer_tabs(runtime.db, tenant["tenant_id"], tenant["user_id"], 7, "C-7")
    assert [t["title"] for t in tabs] == ["Demo tab"]
    from urllib.parse import parse_qs, urlsplit

    query = {k: v[0] for k, v in parse_qs(urlsplit(tabs[0]["src"]).query).items()}
    assert (query["accesstoken"], query["contract"], query["id"], query["customernumber"]) == (
        token, str(tenant["microbizz"]["contract"]), "7", "C-7")
    app_mb = MB(client, tenant, **token_auth(tenant, token))
    assert app_mb.call("ValidateSessionToken", sessiontoken=query["sessiontoken"]) == {
        "status": 1, "result": 1, "userid": tenant["user_id"]}
    # A refusal fails the command and the envelope: the SilverStripe controller reads
    # the envelope status, the PHP connector the result's.
    refused = "Invalid session token: unknown, expired or of another contract"
    body = app_mb.batch({"command": "ValidateSessionToken", "sessiontoken": "forged"})
    assert (body["status"], body["msg"], body["results"]) == (0, refused, [{"status": 0, "msg": refused}])
    body = app_mb.batch({"command": "ValidateSessionToken"})
    assert (body["status"], body["msg"]) == (0, "Missing field: sessiontoken")
    # A token of this contract does not validate on another.
    body = MB(client, other_tenant).batch({"command": "ValidateSessionToken", "sessiontoken": query["sessiontoken"]})
    assert body["status"] == 0 and body["results"][0]["msg"].startswith("Invalid session token")
    # Other commands' failures leave the envelope OK.
    assert app_mb.batch({"command": "GetCustomerByID"})["status"] == 1


def test_get_person_by_email_and_todos(client, runtime, tenant):
    mb = MB(client, tenant)
    customer_id = int(mb.customer(name="Acme")["id"])
    ann = send_ok(client, tenant, "POST", "/contacts/", {"name": "Ann", "surname": "Berg", "accountid": customer_id,
                                                         "email": "Ann@Acme.example"})
    persons = mb.call("GetPersonByEmail", email="ann@acme.example")["persons"]
    assert [p["personid"] for p in persons] == [ann["id"]]
    assert persons[0]["values"]["personid"] == ann["id"]
    assert (persons[0]["firstname"], persons[0]["lastname"], persons[0]["customerid"], persons[0]["customertext"]) == (
        "Ann", "Berg", customer_id, "Acme")
    assert mb.call("GetPersonByEmail", email="nobody@acme.example")["persons"] == []
    assert mb.fail("GetPersonByEmail") == "Missing field: email"
    mb.call("CreateCall", call={"phonenumber": "+45 1", "customerid": customer_id, "personid": ann["id"],
                                "title": "Call Ann back"})
    todos = mb.call("GetTodosByPersonID", personid=ann["id"])["todos"]
    assert [(t["title"], t["personid"], t["done"]) for t in todos] == [("Call Ann back", ann["id"], 0)]
    assert mb.call("GetTodosByPersonID", personid=999999)["todos"] == []
    assert mb.fail("GetTodosByPersonID") == "Missing field: personid"


# -- the web pages ------------------------------------------------------------------------------
def _csrf(html: str) -> str:
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_appconnect_sends_a_visitor_to_sign_in_first(app, runtime, tenant, app_server):
    from urllib.parse import unquote

    from starlette.testclient import TestClient

    register(runtime, tenant)
    visitor = TestClient(app, follow_redirects=False)
    entry = visitor.post("/appconnect/", data={"request": request(app_server)})
    assert entry.status_code == 303 and entry.headers["location"].startswith("/appconnect/consent?request=")
    consent = visitor.get(entry.headers["location"])
    assert consent.status_code == 303
    assert unquote(consent.headers["location"]).startswith("/signin?next=/appconnect/consent?request=")
    missing = visitor.get("/appconnect/")
    assert missing.status_code == 400 and "The request field is missing." in missing.text


def test_appconnect_consent_then_connect_through_the_web(client, app, runtime, tenant, app_server):
    register(runtime, tenant)
    web = Web(app, tenant)
    entry = web.client.get("/appconnect/", params={"request": request(app_server)})
    consent = web.client.get(entry.headers["location"])
    assert consent.status_code == 200
    assert "Connect Demo App" in consent.text and "customer/event_customer_change" in consent.text
    assert app_server.url("/done").rsplit("/", 1)[0] in consent.headers["content-security-policy"]
    done = web.client.post("/appconnect/confirm", data={"csrf_token": _csrf(consent.text), "request": request(app_server)})
    assert done.status_code == 303 and done.headers["location"] == app_server.url("/done")
    token = app_server.wait_for(1, "/negotiate")[0].form["accesstoken"]
    sent = app_server.received[0].form
    assert sent["endpoint"] == "http://testserver/api/endpoint.php"
    assert MB(client, tenant, **token_auth(tenant, token)).call("Echo", text="x")["answer"] == "x"
    # The apps page lists it and disconnects it: the token stops working.
    page = web.client.get("/api-access/apps")
    assert "Demo App" in page.text and "customer/event_customer_change" in page.text
    with system_session(runtime.db) as session:
        connection_id = session.scalars(select(AppConnection.id).where(AppConnection.tenant_id == tenant["tenant_id"])).one()
    gone = web.client.post(f"/api-access/apps/connections/{connection_id}/disconnect", data={"csrf_token": _csrf(page.text)})
    assert gone.status_code == 303
    body = post_envelope(client, {**token_auth(tenant, token), "commands": [{"command": "Echo"}]})
    assert_envelope_failure(body, "Access denied: invalid accesstoken")
    again = web.client.post(f"/api-access/apps/connections/{connection_id}/disconnect", data={"csrf_token": _csrf(page.text)})
    assert again.status_code == 404 and f"app connection {connection_id} not found" in again.text


def test_appconnect_wrong_answer_shows_an_error_and_stores_nothing(app, runtime, tenant, app_server):
    register(runtime, tenant)
    app_server.secret = "wrong"
    web = Web(app, tenant)
    consent = web.client.get("/appconnect/consent", params={"request": request(app_server)})
    done = web.client.post("/appconnect/confirm", data={"csrf_token": _csrf(consent.text), "request": request(app_server)})
    assert done.status_code == 400 and "the app&#39;s answer to the challenge is wrong" in done.text
    forged = web.client.post("/appconnect/confirm", data={"csrf_token": "forged", "request": request(app_server)})
    assert forged.status_code == 403
    unknown = web.client.get("/appconnect/consent", params={"request": request(app_server, "nope")})
    assert unknown.status_code == 400 and "no app with publicid &#39;nope&#39; is registered" in unknown.text
    with system_session(runtime.db) as session:
        assert session.scalars(select(AppConnection).where(AppConnection.tenant_id == tenant["tenant_id"])).first() is None


def test_apps_page_registers_an_app(app, runtime, tenant):
    web = Web(app, tenant)
    refused = web.post_form("/api-access/apps", {"publicid": "", "secret": "s", "title": ""})
    assert refused.status_code == 400 and "publicid must be 1 to 100 characters" in refused.text
    made = web.post_form("/api-access/apps", {"publicid": "web-app", "secret": "s", "title": "Web App"})
    assert made.status_code == 303
    assert "web-app" in web.client.get("/api-access/apps").text
    twice = web.post_form("/api-access/apps", {"publicid": "web-app", "secret": "s", "title": ""})
    assert twice.status_code == 400 and "already registered" in twice.text


def test_customer_page_shows_app_tabs_whose_token_validates(client, app, runtime, tenant, app_server):
    import html
    import re
    from urllib.parse import parse_qs, urlsplit

    register(runtime, tenant)
    token = connect(runtime, tenant, app_server)
    customer = MB(client, tenant).customer(name="Tabbed", customernumber="T-1")
    web = Web(app, tenant)
    page = web.client.get(f"/customers/{customer['id']}")
    assert page.status_code == 200
    src = html.unescape(re.search(r'<iframe src="([^"]+)" title="Demo tab"', page.text).group(1))
    assert src.startswith(app_server.url("/tab") + "?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(src).query).items()}
    assert set(query) == {"sessiontoken", "accesstoken", "contract", "id", "customernumber"}
    assert (query["accesstoken"], query["id"], query["customernumber"]) == (token, str(customer["id"]), "T-1")
    assert "frame-src " + app_server.url("/").rstrip("/") in page.headers["content-security-policy"]
    result = MB(client, tenant, **token_auth(tenant, token)).call("ValidateSessionToken", sessiontoken=query["sessiontoken"])
    assert (result["result"], result["userid"]) == (1, tenant["user_id"])


def test_expired_session_tokens_are_pruned(runtime, tenant, app_server):
    import datetime as dt

    from polycrm.core.models import Credential, utcnow
    from polycrm.platform.delivery import Deliverer

    register(runtime, tenant)
    connect(runtime, tenant, app_server)
    apps.customer_tabs(runtime.db, tenant["tenant_id"], tenant["user_id"], 1, None)
    mine = select(Credential).where(Credential.tenant_id == tenant["tenant_id"], Credential.kind == apps.SESSION_TOKEN)
    Deliverer(runtime.db).prune(utcnow())
    with system_session(runtime.db) as session:
        assert len(session.scalars(mine).all()) == 1
    Deliverer(runtime.db).prune(utcnow() + dt.timedelta(days=2))
    with system_session(runtime.db) as session:
        assert session.scalars(mine).all() == []
