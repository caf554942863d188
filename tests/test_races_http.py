"""The races of tests/core/test_races.py again, through a real server.

Four HTTP clients start together against ``polycrm serve`` on the test's
database (on PostgreSQL they really run at once) and send Microbizz
commands: upserts of one customer number must make one customer, and direct
orders must get distinct numbers.
"""

from __future__ import annotations

import threading

import httpx
import orjson
from sqlalchemy import select

from polycrm.core import customers, products
from polycrm.core.models import Customer, Order
from polycrm.core.workspace import Workspace
from tests.conftest import new_tenant
from tests.test_kill9 import _serve

CLIENTS = 4
WRITES_EACH = 5


def _race(url: str, tenant: dict, command_of) -> None:
    """Each client sends ``command_of(i, n)`` WRITES_EACH times; every command must succeed."""
    mb = tenant["microbizz"]
    barrier = threading.Barrier(CLIENTS)
    failures: list[object] = []

    def client(i: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            barrier.wait(30)
            for n in range(WRITES_EACH):
                envelope = {"contract": mb["contract"], "apikey": mb["apikey"], "username": mb["username"],
                            "password": mb["password"], "commands": [command_of(i, n)]}
                body = http.post("/api/endpoint.php", data={"json": orjson.dumps(envelope).decode()}).json()
                if body["status"] != 1 or body["results"][0]["status"] != 1:
                    failures.append(body)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert not [t for t in threads if t.is_alive()], "a client did not finish"
    assert not failures, failures[:3]


def test_racing_http_clients_keep_numbers_unique(runtime, tmp_path):
    tenant = new_tenant(runtime)
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        customer_id = customers.create(ws, {"name": "Buyer"}).id
        product_id = products.create(ws, {"name": "Widget", "number": "W-1"}).id
    server, url = _serve(runtime, tmp_path)
    try:
        _race(url, tenant, lambda i, n: {"command": "CreateUpdateCustomerByCustomerNumber",
                                         "customer": {"customernumber": "RACE-1", "name": f"Race {i}-{n}"}})
        _race(url, tenant, lambda i, n: {"command": "CreateDirectOrder", "customerid": customer_id,
                                         "lines": [{"productid": product_id, "count": 1}]})
    finally:
        server.terminate()
        server.wait(30)
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        upserted = ws.scalars(select(Customer.id).where(Customer.number == "RACE-1"))
        numbers = ws.scalars(select(Order.number).where(Order.customer_id == customer_id))
    assert len(upserted) == 1
    assert len(numbers) == CLIENTS * WRITES_EACH
    assert len(set(numbers)) == len(numbers), sorted(numbers)
