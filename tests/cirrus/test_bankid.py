"""Cirrus bankid group (#192-#196) and the deprecated integrations BankID endpoints (#125-#127)."""

from __future__ import annotations

import pytest

from tests.cirrus.helpers import VALIDATION, auth, url
from polycrm.core.models import Order, Record
from polycrm.core.workspace import Workspace

PERSON = "198112189876"


def call(client, tenant, method, path, status=200, **kw):
    r = client.request(method, url(path), headers=auth(tenant), **kw)
    assert r.status_code == status, r.text
    return r.json()


def changed_at(runtime, tenant, signature_id):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        return ws.get(Record, signature_id).changed_at


@pytest.mark.parametrize("base", ["/bankid", "/integrations/bankid"])
def test_status_moves_on_until_the_client_completes(client, runtime, tenant, base):
    started = call(client, tenant, "POST", f"{base}/", json={"abstract": "I accept order 7", "personalnumber": PERSON,
                                                             "digest": "abc", "requirement": {"pinCode": True}})
    assert (started["status"], started["hintcode"], started["personalnumber"]) == ("pending", "outstandingTransaction", PERSON)
    assert started["orderref"] and started["autostarttoken"] and started["completiondata"] is None
    first = call(client, tenant, "GET", f"{base}/{started['id']}")
    assert first["hintcode"] == "userSign" and first["message"].startswith("Enter your security code")
    assert call(client, tenant, "GET", f"{base}/{started['id']}")["hintcode"] == "userSign"
    seen = changed_at(runtime, tenant, started["id"])
    call(client, tenant, "GET", f"{base}/{started['id']}")
    assert changed_at(runtime, tenant, started["id"]) == seen  # polling at the last step writes nothing
    done = call(client, tenant, "PUT", f"/bankid/{started['id']}", json={"status": "complete"})
    assert done["status"] == "complete" and done["hintcode"] is None
    assert done["completiondata"]["user"] == {"personalnumber": PERSON, "name": "Erik Johansson", "givenname": "Erik",
                                              "surname": "Johansson"}
    assert done["completiondata"]["signature"] and done["completiondata"]["cert"]["notbefore"]
    # A finished signature stays as it is.
    assert call(client, tenant, "GET", f"{base}/{started['id']}") == done
    r = client.put(url(f"/bankid/{started['id']}"), json={"status": "cancel"}, headers=auth(tenant))
    assert r.status_code == 409 and r.json() == {"message": f"Signature {started['id']} is already complete"}


def test_cancel_through_both_apis(client, tenant):
    a = call(client, tenant, "POST", "/bankid/", json={"abstract": "x"})
    cancelled = call(client, tenant, "PUT", f"/bankid/{a['id']}", json={"status": "cancel", "nonce": "n1"})
    assert (cancelled["status"], cancelled["hintcode"], cancelled["message"]) == ("failed", "userCancel", "Action cancelled.")
    for method in ("DELETE", "PUT", "POST"):
        b = call(client, tenant, "POST", "/integrations/bankid/", json={"abstract": "y"})
        assert call(client, tenant, method, f"/integrations/bankid/{b['id']}")["status"] == "failed"


def test_start_errors(client, tenant):
    r = client.post(url("/bankid/"), json={"personalnumber": PERSON}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"abstract": "'abstract' is a required property"}, "message": VALIDATION}
    r = client.post(url("/bankid/"), json={"abstract": "x", "personalnumber": "198112189875"}, headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"errors": {"personalnumber": "'198112189875' has a wrong check digit"},
                        "message": "'198112189875' has a wrong check digit"}
    r = client.post(url("/bankid/"), json={"abstract": " "}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"abstract": "' ' does not match '\\\\S'"}, "message": VALIDATION}
    r = client.put(url("/bankid/1"), json={"status": "cancel"}, headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Signature 1 not found"}


def test_unknown_signature_is_404(client, tenant):
    for method, path in (("GET", "/bankid/77"), ("GET", "/integrations/bankid/77"), ("DELETE", "/integrations/bankid/77")):
        r = client.request(method, url(path), headers=auth(tenant))
        assert r.status_code == 404 and r.json() == {"message": "Signature 77 not found"}
    started = call(client, tenant, "POST", "/bankid/", json={"abstract": "x"})
    r = client.put(url(f"/bankid/{started['id']}"), json={"status": "maybe"}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"status": "'maybe' is not one of ['pending', 'complete', 'completed', 'cancel', "
                                             "'cancelled', 'canceled', 'failed']"}, "message": VALIDATION}


def test_relations(client, runtime, tenant):
    signature = call(client, tenant, "POST", "/bankid/", json={"abstract": "x"})
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        order = ws.create(Order, {})
        ws.flush()
        order_id = order.id
    made = call(client, tenant, "POST", "/bankid/relations", json={"signature": signature["id"], "type": "order",
                                                                   "otherid": order_id})
    assert (made["signature"], made["type"], made["otherid"]) == (signature["id"], "order", order_id)
    page = call(client, tenant, "GET", "/bankid/relations", params={"type": "order", "otherid": order_id})
    assert page["total"] == 1 and page["items"] == [made]
    assert call(client, tenant, "GET", "/bankid/relations", params={"signatureid": signature["id"]})["total"] == 1
    assert call(client, tenant, "GET", "/bankid/relations", params={"otherid": order_id + 1})["total"] == 0


def test_relation_errors(client, tenant):
    signature = call(client, tenant, "POST", "/bankid/", json={"abstract": "x"})
    r = client.post(url("/bankid/relations"), json={"signature": signature["id"], "type": "quote", "otherid": 1},
                    headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"type": "'quote' is not one of ['order']"}, "message": VALIDATION}
    r = client.post(url("/bankid/relations"), json={"signature": signature["id"], "type": "order", "otherid": 999},
                    headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"errors": {"otherid": "Order 999 not found"}, "message": "Order 999 not found"}
    r = client.post(url("/bankid/relations"), json={"type": "order"}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"signature": "'signature' is a required property",
                                   "otherid": "'otherid' is a required property"}, "message": VALIDATION}
    r = client.get(url("/bankid/relations?type=quote"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"type": "The value 'quote' is not a valid choice for 'type'."}, "message": VALIDATION}


def test_x_fields_mask(client, tenant):
    started = call(client, tenant, "POST", "/bankid/", json={"abstract": "x"})
    h = {**auth(tenant), "X-Fields": "{id,status}"}
    assert client.get(url(f"/bankid/{started['id']}"), headers=h).json() == {"id": started["id"], "status": "pending"}


def test_without_token_is_401(client):
    assert client.post(url("/bankid/"), json={"abstract": "x"}).status_code == 401
