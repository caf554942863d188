"""Display names within one Microbizz batch.

The read-only commands of a batch share the names they fetched (a batch of a
hundred GetCustomerByID looks the seller up once); a command that writes
starts afresh, so a rename earlier in the batch shows in later commands.
"""

from __future__ import annotations

import pytest
from tests.microbizz.helpers import MB


@pytest.fixture
def mb(client, tenant) -> MB:
    return MB(client, tenant)


def _contract_sync() -> dict:
    return {"command": "GetSalesContractsByLastChange", "changedate": "2000-01-01"}


def test_a_rename_within_the_batch_shows_in_later_commands(mb):
    customer = mb.customer(name="Old Name")
    mb.call("CreateUpdateSalesContract", salescontract={"title": "Offer", "customerid": customer["id"]})
    body = mb.batch(
        _contract_sync(),
        {"command": "GetCustomerByID", "customerid": customer["id"]},
        {"command": "CreateUpdateCustomerByID", "customer": {"id": customer["id"], "name": "New Name"}},
        _contract_sync(),
    )
    assert [r["status"] for r in body["results"]] == [1, 1, 1, 1]
    before, _, _, after = body["results"]
    assert [c["customertext"] for c in before["salescontracts"]] == ["Old Name"]
    assert [c["customertext"] for c in after["salescontracts"]] == ["New Name"]


def test_reads_in_one_batch_show_the_same_names(mb, tenant):
    first = mb.customer(name="First")
    second = mb.customer(name="Second")
    body = mb.batch(*({"command": "GetCustomerByID", "customerid": c["id"]} for c in (first, second, first)))
    shown = [r["customers"][0] for r in body["results"]]
    assert [c["name"] for c in shown] == ["First", "Second", "First"]
    assert {c["sellertext"] for c in shown} == {"Admin User"}
    assert {c["typetext"] for c in shown} == {"Customer"}


def test_a_failed_write_in_the_batch_leaves_the_names_as_stored(mb):
    customer = mb.customer(name="Kept")
    mb.call("CreateUpdateSalesContract", salescontract={"title": "Offer", "customerid": customer["id"]})
    body = mb.batch(
        _contract_sync(),
        {"command": "CreateUpdateCustomerByID", "customer": {"id": customer["id"], "name": " "}},
        _contract_sync(),
    )
    assert body["results"][1] == {"status": 0, "msg": "Invalid value for customer.name: must not be empty"}
    assert [c["customertext"] for c in body["results"][2]["salescontracts"]] == ["Kept"]
