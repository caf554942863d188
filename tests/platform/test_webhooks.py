"""polycrm and Cirrus webhooks, delivered to a real receiver on loopback.

Changes are made through the three APIs and the web pages (the shared
``client`` app, whose lifespan runs the delivery thread); what arrives is
checked the way each vendor's sample code checks it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from polycrm.cli import cli
from polycrm.core import customers
from polycrm.core.auth import system_session
from polycrm.core.workspace import Workspace
from polycrm.platform import webhooks
from polycrm.platform.models import OutboxEvent, Webhook
from tests.centia.helpers import Centia
from tests.cirrus.helpers import get_ok, new_account, send_ok
from tests.cross_api.helpers import Web
from tests.microbizz.helpers import MB
from tests.platform.receiver import Receiver

runner = CliRunner()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def cli_json(runtime, *args: str):
    result = runner.invoke(cli, [*args, "--database", runtime.db.url], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def add_hook(runtime, tenant, url: str, api: str, events: str = "") -> dict:
    args = ["webhook", "add", "--tenant", tenant["tenant"], "--url", url, "--api", api, "--json"]
    if events:
        args += ["--events", events]
    return cli_json(runtime, *args)


def standard_verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The Standard Webhooks reference check: v1 HMAC-SHA256 of id.timestamp.body, base64."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(sig.split(",", 1)[1] == expected for sig in headers["webhook-signature"].split(" "))


def cirrus_verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The Cirrus sample: hex HMAC-SHA256 of the raw body, key = base64-decoded secret."""
    digest = hmac.new(base64.b64decode(secret), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(digest, headers["x-hook-signature"])


def events_of(received) -> list[tuple[str, int]]:
    out = []
    for r in received:
        body = json.loads(r.body)
        if "type" in body:
            out.append((body["type"], body["data"]["id"]))
        else:
            out.append((body["event"], body["data"]["id"]))
    return out


# -- polycrm webhooks ---------------------------------------------------------------
def test_polycrm_webhook_hears_customers_from_every_api_and_the_web(app, client, runtime, tenant, receiver):
    hook = add_hook(runtime, tenant, receiver.url(), "polycrm", "customer.created,customer.updated")
    assert set(hook) == {"id", "secret"} and hook["secret"].startswith("whsec_")
    mb = MB(client, tenant)
    made_mb = mb.customer(name="Via Microbizz")
    made_cirrus = new_account(client, tenant, name="Via Cirrus")
    centia = Centia(client, tenant)
    made_centia = centia.company(name="Via centia")
    page = Web(app, tenant).post_form("/customers/new", {"name": "Via web"})
    assert page.status_code == 303, page.text
    made_web = int(page.headers["location"].rsplit("/", 1)[-1])
    got = receiver.wait_for(4)
    ids = [int(made_mb["id"]), made_cirrus["id"], made_centia["id"], made_web]
    assert events_of(got) == [("customer.created", i) for i in ids]
    for r in got:
        assert r.headers["content-type"] == "application/json"
        assert r.headers["webhook-id"].startswith("msg_")
        assert standard_verify(hook["secret"], r.headers, r.body)
        assert abs(int(r.headers["webhook-timestamp"]) - time.time()) < 300
    first = json.loads(got[0].body)
    assert set(first) == {"type", "timestamp", "data"}
    assert first["data"]["object"]["name"] == "Via Microbizz"
    assert first["data"]["changed"]["name"] == [None, "Via Microbizz"]
    # An update carries what changed, old and new, in the core's field names.
    send_ok(client, tenant, "PUT", f"/accounts/{made_cirrus['id']}", {"phone": "+45 12"})
    updated = json.loads(receiver.wait_for(5)[4].body)
    assert updated["type"] == "customer.updated"
    assert updated["data"]["changed"] == {"phone": [None, "+45 12"]}
    assert updated["data"]["object"]["phone"] == "+45 12"


def test_a_tampered_body_does_not_verify(client, runtime, tenant, receiver):
    hook = add_hook(runtime, tenant, receiver.url(), "polycrm")
    MB(client, tenant).customer(name="Signed")
    r = receiver.wait_for(1)[0]
    assert standard_verify(hook["secret"], r.headers, r.body)
    assert not standard_verify(hook["secret"], r.headers, r.body.replace(b"Signed", b"Forged"))


def test_polycrm_webhook_events_for_each_entity(client, runtime, tenant, receiver):
    add_hook(runtime, tenant, receiver.url(), "polycrm")
    mb = MB(client, tenant)
    customer = mb.customer(name="Parent")
    product = mb.product(title="Bolt", productnumber="B-1")
    contact = send_ok(client, tenant, "POST", "/contacts/", {"name": "Ann", "surname": "A", "accountid": int(customer["id"])})
    mb.call("DeleteProductByID", productid=int(product["id"]))
    got = events_of(receiver.wait_for(4))
    # in commit order per record; the product's create comes before its delete
    assert sorted(got, key=lambda e: e[0].startswith("product.deleted")) == [
        ("customer.created", int(customer["id"])), ("product.created", int(product["id"])),
        ("contact.created", contact["id"]), ("product.deleted", int(product["id"])),
    ]


def test_events_filter_and_other_tenants_stay_apart(client, runtime, tenant, other_tenant, receiver):
    add_hook(runtime, tenant, receiver.url(), "polycrm", "product.created")
    mb = MB(client, tenant)
    mb.customer(name="Not wanted")
    MB(client, other_tenant).product(title="Other tenant's")
    product = mb.product(title="Wanted")
    got = receiver.wait_for(1)
    time.sleep(0.3)  # let anything sent by mistake arrive too
    assert events_of(receiver.received) == [("product.created", int(product["id"]))] == events_of(got)


# -- Cirrus webhooks --------------------------------------------------------------------
def test_cirrus_webhook_renders_the_rest_shape_from_every_api(client, runtime, tenant, receiver):
    hook = add_hook(runtime, tenant, receiver.url(), "cirrus")
    base64.b64decode(hook["secret"], validate=True)
    customer = Centia(client, tenant).company(name="Hooked")
    MB(client, tenant).customer(id=int(customer["id"]), name="Hooked again")
    contact = send_ok(client, tenant, "POST", "/contacts/", {"name": "Bo", "surname": "B", "accountid": int(customer["id"])})
    got = sorted(receiver.wait_for(3), key=lambda r: json.loads(r.body)["event"].endswith("CONTACT"))
    # Commit order holds per record (the account's create before its update), not across records.
    assert events_of(got) == [
        ("CREATE_ACCOUNT", int(customer["id"])), ("UPDATE_ACCOUNT", int(customer["id"])),
        ("CREATE_CONTACT", contact["id"]),
    ]
    for r in got:
        assert r.headers["content-type"] == "application/json"
        assert cirrus_verify(hook["secret"], r.headers, r.body)
        body = json.loads(r.body)
        assert set(body) == {"event", "data", "postedAt"} and body["postedAt"].endswith("Z")
    contact_now = get_ok(client, tenant, f"/contacts/{contact['id']}")
    assert json.loads(got[2].body)["data"] == contact_now
    assert json.loads(got[1].body)["data"]["name"] == "Hooked again"


def test_cirrus_webhook_has_no_events_for_products(client, runtime, tenant, receiver):
    add_hook(runtime, tenant, receiver.url(), "cirrus", "CREATE_ACCOUNT")
    mb = MB(client, tenant)
    mb.product(title="Silent")
    customer = mb.customer(name="Heard")
    assert events_of(receiver.wait_for(1)) == [("CREATE_ACCOUNT", int(customer["id"]))]


# -- delivery ---------------------------------------------------------------------------------
def test_nothing_is_sent_for_a_failed_command(client, runtime, tenant, receiver):
    add_hook(runtime, tenant, receiver.url(), "polycrm")
    mb = MB(client, tenant)
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        try:
            with ws.atomic():
                customers.create(ws, {"name": "Flushed, then rolled back"})
                raise RuntimeError("the command fails after its write was flushed")
        except RuntimeError:
            pass
    body = mb.batch(
        {"command": "CreateUpdateCustomerByID", "customer": {"id": 0, "name": "Refused", "customernumber": "\u0000"}},
    )
    assert body["results"][0]["status"] == 0, body
    # A Cirrus request refused by its validation neither writes nor sends.
    refused = client.post("/cirrus/contacts/", json={"name": "No account", "accountid": 999999999},
                          headers={"X-Token": tenant["cirrus"]["x_token"]})
    assert refused.status_code >= 400
    kept = mb.customer(name="Kept")
    assert events_of(receiver.wait_for(1)) == [("customer.created", int(kept["id"]))]
    time.sleep(0.3)
    assert len(receiver.received) == 1
    with system_session(runtime.db) as session:
        names = [e.snapshot.get("name") for e in session.scalars(
            select(OutboxEvent).where(OutboxEvent.tenant_id == tenant["tenant_id"]))]
    assert names == ["Kept"]


def test_retries_after_500_and_a_timeout_then_delivers(client, runtime, tenant, receiver):
    receiver.answers = [500, "hang", 200]
    add_hook(runtime, tenant, receiver.url(), "polycrm")
    customer = MB(client, tenant).customer(name="Persistent")
    got = receiver.wait_for(3)
    assert len(got) == 3
    assert len({r.body for r in got}) == 1  # every retry sends the same body
    assert len({r.headers["webhook-id"] for r in got}) == 1
    log = wait_log(runtime, tenant, lambda rows: rows and rows[0]["status"] == "delivered")
    assert log[0]["attempts"] == 3 and log[0]["last_status"] == 200 and log[0]["event"] == "customer.created"
    assert log[0]["target"] == receiver.url() and log[0]["next_try"] is None
    assert json.loads(got[0].body)["data"]["id"] == int(customer["id"])


def test_gives_up_after_the_attempts_and_shows_as_failed(client, runtime, tenant, receiver, monkeypatch):
    receiver.answers = [503] * 6
    add_hook(runtime, tenant, receiver.url(), "polycrm")
    monkeypatch.setenv("POLYCRM_WEBHOOK_ATTEMPTS", "6")
    MB(client, tenant).customer(name="Unlucky")
    log = wait_log(runtime, tenant, lambda rows: rows and rows[0]["status"] == "failed")
    assert (log[0]["attempts"], log[0]["last_status"]) == (6, 503)
    failed = cli_json(runtime, "webhook", "deliveries", "--tenant", tenant["tenant"], "--failed", "--json")
    assert [d["id"] for d in failed] == [log[0]["id"]]
    replayed = cli_json(runtime, "webhook", "replay", "--tenant", tenant["tenant"], str(log[0]["id"]), "--json")
    assert receiver.wait_for(7)[6].body == receiver.received[0].body
    log = wait_log(runtime, tenant, lambda rows: rows[0]["status"] == "delivered")
    assert log[0]["id"] == replayed["id"] and log[0]["attempts"] == 1


def test_410_disables_the_hook(client, runtime, tenant, receiver):
    receiver.answers = [410]
    hook = add_hook(runtime, tenant, receiver.url(), "polycrm")
    mb = MB(client, tenant)
    mb.customer(name="Gone")
    wait_log(runtime, tenant, lambda rows: rows and rows[0]["status"] == "disabled")
    listed = cli_json(runtime, "webhook", "list", "--tenant", tenant["tenant"], "--json")
    assert [(h["id"], h["active"]) for h in listed] == [(hook["id"], False)]
    assert "410" in listed[0]["disabled_reason"]
    mb.customer(name="Unheard")
    time.sleep(0.3)
    assert len(receiver.received) == 1


def test_commit_order_per_record(client, runtime, tenant, receiver):
    receiver.answers = [500]
    add_hook(runtime, tenant, receiver.url(), "polycrm")
    mb = MB(client, tenant)
    customer = mb.customer(name="v1")
    for n in (2, 3):
        mb.customer(id=int(customer["id"]), name=f"v{n}")
    got = receiver.wait_for(4)
    names = [json.loads(r.body)["data"]["object"]["name"] for r in got]
    assert names == ["v1", "v1", "v2", "v3"]


def wait_log(runtime, tenant, done, within_s: float = 20.0) -> list[dict]:
    deadline = time.monotonic() + within_s
    while True:
        with system_session(runtime.db) as session:
            rows = webhooks.deliveries(session, tenant["tenant_id"])
        if done(rows) or time.monotonic() > deadline:
            assert done(rows), rows
            return rows
        time.sleep(0.05)


# -- the command line and its refusals -----------------------------------------------------------
def run_cli(runtime, *args: str):
    return runner.invoke(cli, [*args, "--database", runtime.db.url], catch_exceptions=False)


def test_cli_refusals(runtime, tenant, monkeypatch):
    bad_api = run_cli(runtime, "webhook", "add", "--tenant", tenant["tenant"], "--url", "http://example.com/", "--api", "x")
    assert bad_api.exit_code == 1 and "api must be one of polycrm, cirrus" in bad_api.output
    bad_event = run_cli(runtime, "webhook", "add", "--tenant", tenant["tenant"], "--url", "http://example.com/",
                        "--api", "cirrus", "--events", "customer.created")
    assert bad_event.exit_code == 1 and "unknown cirrus events: customer.created" in bad_event.output
    bad_scheme = run_cli(runtime, "webhook", "add", "--tenant", tenant["tenant"], "--url", "ftp://example.com/", "--api", "polycrm")
    assert bad_scheme.exit_code == 1 and "url must be an http or https URL" in bad_scheme.output
    monkeypatch.setenv("POLYCRM_WEBHOOK_ALLOW_PRIVATE", "0")
    for url in ("http://127.0.0.1:9/", "http://10.1.2.3/", "http://[::1]/", "http://localhost/"):
        private = run_cli(runtime, "webhook", "add", "--tenant", tenant["tenant"], "--url", url, "--api", "polycrm")
        assert private.exit_code == 1 and "private or loopback address" in private.output, url
    unknown = run_cli(runtime, "webhook", "remove", "--tenant", tenant["tenant"], "424242")
    assert unknown.exit_code == 1 and "webhook 424242 not found" in unknown.output
    nobody = run_cli(runtime, "webhook", "list", "--tenant", "no-such-tenant")
    assert nobody.exit_code == 1 and "no tenant named 'no-such-tenant'" in nobody.output
    replay = run_cli(runtime, "webhook", "replay", "--tenant", tenant["tenant"], "424242")
    assert replay.exit_code == 1 and "delivery 424242 not found" in replay.output


def test_cli_list_and_remove(runtime, tenant, other_tenant):
    hook = add_hook(runtime, tenant, "https://example.com/in", "cirrus", "CREATE_ACCOUNT,UPDATE_CONTACT")
    listed = cli_json(runtime, "webhook", "list", "--tenant", tenant["tenant"], "--json")
    assert [(h["id"], h["api"], h["url"], h["events"], h["active"]) for h in listed] == [
        (hook["id"], "cirrus", "https://example.com/in", ["CREATE_ACCOUNT", "UPDATE_CONTACT"], True)
    ]
    assert "secret" not in listed[0]
    other = run_cli(runtime, "webhook", "remove", "--tenant", other_tenant["tenant"], str(hook["id"]))
    assert other.exit_code == 1
    removed = run_cli(runtime, "webhook", "remove", "--tenant", tenant["tenant"], str(hook["id"]))
    assert removed.exit_code == 0
    assert cli_json(runtime, "webhook", "list", "--tenant", tenant["tenant"], "--json") == []
    with system_session(runtime.db) as session:
        assert session.scalars(select(Webhook).where(Webhook.id == hook["id"])).first() is None


def test_several_deliverers_send_each_delivery_once(client, runtime, tenant, receiver):
    """Two more deliverers with engines of their own (as two server processes
    would have) race the server's own thread: every event arrives once."""
    import threading

    from polycrm.platform.delivery import Deliverer
    from polycrm.store.engine import Database

    add_hook(runtime, tenant, receiver.url(), "polycrm")
    mb = MB(client, tenant)
    made = [int(mb.customer(name=f"c{n}")["id"]) for n in range(12)]
    dbs = [Database(runtime.db.url) for _ in range(2)]
    stop = threading.Event()

    def work(db):
        deliverer = Deliverer(db)
        while not stop.is_set():
            deliverer.run_pass()

    threads = [threading.Thread(target=work, args=(db,)) for db in dbs]
    for t in threads:
        t.start()
    try:
        receiver.wait_for(len(made))
        time.sleep(0.5)  # anything sent twice would arrive by now
    finally:
        stop.set()
        for t in threads:
            t.join()
        for db in dbs:
            db.dispose()
    got = events_of(receiver.received)
    assert sorted(i for _, i in got) == made
    assert len({r.headers["webhook-id"] for r in receiver.received}) == len(made)


# -- the web page -----------------------------------------------------------------------------
def test_web_page_adds_a_hook_shows_the_log_and_resends(app, client, runtime, tenant, receiver):
    import re

    web = Web(app, tenant)
    assert 'href="/api-access/webhooks"' in web.client.get("/api-access").text
    refused = web.post_form("/api-access/webhooks", {"url": "gopher://x/", "api": "polycrm", "events": ""})
    assert refused.status_code == 400 and "url must be an http or https URL" in refused.text
    added = web.post_form("/api-access/webhooks", {"url": receiver.url(), "api": "cirrus", "events": "CREATE_ACCOUNT"})
    assert added.status_code == 200, added.text
    secret = re.search(r'<code id="webhook-secret">([^<]+)</code>', added.text).group(1)
    made = web.post_form("/customers/new", {"name": "From the web"})
    customer_id = int(made.headers["location"].rsplit("/", 1)[-1])
    first = receiver.wait_for(1)[0]
    assert cirrus_verify(secret, first.headers, first.body)
    assert json.loads(first.body)["data"]["id"] == customer_id
    log = wait_log(runtime, tenant, lambda rows: rows and rows[0]["status"] == "delivered")
    page = web.client.get("/api-access/webhooks")
    assert "CREATE_ACCOUNT" in page.text and f"/api-access/webhooks/deliveries/{log[0]['id']}/resend" in page.text
    assert secret not in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    again = web.client.post(f"/api-access/webhooks/deliveries/{log[0]['id']}/resend", data={"csrf_token": token})
    assert again.status_code == 303
    assert receiver.wait_for(2)[1].body == first.body
    missing = web.client.post("/api-access/webhooks/deliveries/999999/resend", data={"csrf_token": token})
    assert missing.status_code == 404 and "delivery 999999 not found" in missing.text
    hook_id = cli_json(runtime, "webhook", "list", "--tenant", tenant["tenant"], "--json")[0]["id"]
    gone = web.client.post(f"/api-access/webhooks/{hook_id}/remove", data={"csrf_token": token})
    assert gone.status_code == 303
    assert cli_json(runtime, "webhook", "list", "--tenant", tenant["tenant"], "--json") == []


def test_prune_forgets_old_events_and_finished_deliveries(client, runtime, tenant, receiver):
    import datetime as dt

    from polycrm.core.models import utcnow
    from polycrm.platform.delivery import Deliverer
    from polycrm.platform.models import WebhookDelivery

    add_hook(runtime, tenant, receiver.url(), "polycrm")
    MB(client, tenant).customer(name="Old news")
    wait_log(runtime, tenant, lambda rows: rows and rows[0]["status"] == "delivered")
    deliverer = Deliverer(runtime.db)
    assert deliverer.prune(utcnow()) == (0, 0)  # nothing is old yet
    later = utcnow() + dt.timedelta(days=31)
    events, logged = deliverer.prune(later)
    assert events >= 1 and logged >= 1
    with system_session(runtime.db) as session:
        mine = select(WebhookDelivery).where(WebhookDelivery.tenant_id == tenant["tenant_id"])
        assert session.scalars(mine).first() is None
        assert session.scalars(select(OutboxEvent).where(OutboxEvent.tenant_id == tenant["tenant_id"])).first() is None
