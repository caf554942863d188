"""A quote's total is the sum of its lines, the same on every API and on the web list,
whichever API (or the demo fixtures) wrote the lines."""

from __future__ import annotations

import json
import re

import pytest
from starlette.testclient import TestClient

from polycrm.core import demo, fixtures
from polycrm.core.workspace import Workspace
from tests.cirrus.helpers import auth, get_ok, send_ok, url
from tests.microbizz.helpers import MB

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def demo_like(runtime, tenant) -> dict:
    """The tenant with the demo data loaded through the fixtures, as ``serve --demo`` does."""
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        fixtures.load(ws, json.loads(demo.DATA_FILE.read_text()))
    return tenant


def web_list_price(app, tenant: dict, number: str) -> str:
    web = TestClient(app, follow_redirects=False)
    token = CSRF.search(web.get("/signin").text).group(1)
    web.post("/signin", data={"csrf_token": token, "tenant": tenant["tenant"],
                              "login": tenant["microbizz"]["username"], "password": tenant["microbizz"]["password"]})
    page = web.get("/quotes").text
    row = next(r for r in page.split("<tr")[1:] if number in r)
    return re.findall(r">([^<>]*)</td>", row)[-1].strip()


def test_the_demo_quote_totals_its_lines_on_every_api(app, client, demo_like):
    tenant = demo_like
    (contract,) = MB(client, tenant).call("GetSalesContractsByLastChange", changedate="2000-01-01")["salescontracts"]
    assert (contract["number"], contract["price"]) == ("Q-2026-001", 16785)
    (quote,) = get_ok(client, tenant, "/quotes/")["items"]
    assert quote["price"] == 16785.0 and sum(r["totalprice"] for r in quote["rows"]) == 16785.0
    assert web_list_price(app, tenant, "Q-2026-001") == "16,785.00 DKK"


def test_lines_written_through_one_api_total_the_same_on_the_others(app, client, tenant):
    mb = MB(client, tenant)
    contract = mb.call("CreateUpdateSalesContract", salescontract={"title": "Mixed"})["salescontract"]
    mb.call("CreateUpdateSalesContractLine", line={"contractid": contract["id"], "title": "Machine", "count": 1,
                                                   "price": 14995})
    read = get_ok(client, tenant, f"/quotes/{contract['id']}")
    rows = [{"id": read["rows"][0]["id"]}, {"specification": "Installation", "quantity": 2, "price": 895}]
    written = send_ok(client, tenant, "PUT", f"/quotes/{contract['id']}", {"rows": rows})
    assert written["price"] == 16785.0
    (synced,) = mb.call("GetSalesContractsByLastChange", changedate="2000-01-01")["salescontracts"]
    assert synced["price"] == 16785
    assert web_list_price(app, tenant, contract["number"]) == "16,785.00 DKK"
    r = client.get(url(f"/quotes/{contract['id']}"), headers=auth(tenant))
    assert r.json()["price"] == 16785.0
