"""Cirrus integrations group (#124, #128-#132): personnummer services and the phone catalogue."""

from __future__ import annotations

from tests.cirrus.helpers import VALIDATION, auth, url
from polycrm.core.models import Record
from polycrm.core.workspace import Workspace

ADULT = "198112189876"
CHILD = "201501012387"


def call(client, tenant, method, path, status=200, **kw):
    r = client.request(method, url(path), headers=auth(tenant), **kw)
    assert r.status_code == status, r.text
    return r.json()


def test_address_lookup_is_derived_from_the_number(client, tenant, other_tenant):
    found = call(client, tenant, "POST", "/integrations/address", json={"person_number": ADULT})
    assert found == {"name": "Erik", "surname": "Johansson", "street": "Storgatan 24", "city": "Linköping", "zip": "586 29"}
    assert call(client, other_tenant, "POST", "/integrations/address", json={"person_number": ADULT}) == found


PATTERN = "'^\\\\s*[0-9]{8}[-+]?[0-9]{4}\\\\s*$'"


def test_address_lookup_validates_the_number(client, tenant):
    r = client.post(url("/integrations/address"), json={"person_number": "19811218987"}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"person_number": f"'19811218987' does not match {PATTERN}"}, "message": VALIDATION}
    # Twelve digits that are no personnummer identify no one.
    for number, message in (("198113189876", "'198113189876' does not start with a valid birth date"),
                            ("198112189875", "'198112189875' has a wrong check digit")):
        r = client.post(url("/integrations/address"), json={"person_number": number}, headers=auth(tenant))
        assert r.status_code == 404
        assert r.json() == {"errors": {"person_number": message}, "message": message}
    assert call(client, tenant, "POST", "/integrations/address", json={"person_number": "19811218-9876"})["city"] == "Linköping"
    r = client.post(url("/integrations/address"), json={}, headers=auth(tenant))
    assert r.json() == {"errors": {"person_number": "'person_number' is a required property"}, "message": VALIDATION}


def test_credit_checks_are_kept(client, runtime, tenant):
    adult = call(client, tenant, "POST", "/integrations/creditcheck", json={"person_number": ADULT})
    child = call(client, tenant, "POST", "/integrations/creditcheck", json={"person_number": CHILD})
    assert (adult["person_number"], adult["status"], adult["outcome"]) == (ADULT, "completed", "approved")
    assert child["outcome"] == "denied" and child["correlationid"] != adult["correlationid"]
    assert adult["checkdate"].endswith("Z")
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        from polycrm.core import query as q

        kept = q.every(ws, Record, [q.Criterion("eq", "kind", "credit_check")])
        assert [(r.number, r.extra["outcome"]) for r in kept] == [(ADULT, "approved"), (CHILD, "denied")]
    r = client.post(url("/integrations/creditcheck"), json={"person_number": "abc"}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"person_number": f"'abc' does not match {PATTERN}"}, "message": VALIDATION}


def test_phone_catalogue(client, tenant):
    brands = call(client, tenant, "GET", "/integrations/phones/brands")
    assert [b["name"] for b in brands] == ["Apple", "Samsung"]
    apple = brands[0]["id"]
    models = call(client, tenant, "GET", "/integrations/phones/models", params={"brandid": apple})
    assert [m["name"] for m in models] == ["iPhone 15"]
    assert len(call(client, tenant, "GET", "/integrations/phones/models")) == 2
    galaxy = call(client, tenant, "GET", "/integrations/phones/models", params={"brandid": brands[1]["id"]})[0]["id"]
    options = call(client, tenant, "GET", "/integrations/phones/options", params={"modelid": galaxy})
    assert [c["name"] for c in options["colours"]] == ["Black"] and len(options["sizes"]) == 2
    phones = call(client, tenant, "GET", "/integrations/phones/phones",
                  params={"modelid": galaxy, "sizeid": options["sizes"][1]["id"]})
    assert phones == [{"id": phones[0]["id"], "name": "Galaxy S24 Black 256 GB", "description": "Galaxy S24, black, 256 GB",
                       "price": 9695.0}]


def test_phone_catalogue_errors(client, tenant):
    r = client.get(url("/integrations/phones/phones"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"modelid": "Missing required parameter in the query string"}, "message": VALIDATION}
    r = client.get(url("/integrations/phones/phones?modelid=999999"), headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"errors": {"modelid": "Phone model 999999 not found"}, "message": "Phone model 999999 not found"}
    r = client.get(url("/integrations/phones/models?brandid=999999"), headers=auth(tenant))
    assert r.status_code == 404 and r.json()["errors"] == {"brandid": "Phone brand 999999 not found"}
    r = client.get(url("/integrations/phones/options?modelid=x"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"modelid": "invalid literal for int() with base 10: 'x'"}, "message": VALIDATION}


def test_fixtures_load_a_catalogue(client, runtime, tenant):
    from polycrm.core.fixtures import load

    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        load(ws, {"lookups": {"phone_brand": [{"name": "Fairphone", "code": "fairphone"}],
                              "phone_model": [{"name": "Fairphone 5", "code": "fp5", "extra": {"brand": "fairphone"}}]}})
    brand = [b for b in call(client, tenant, "GET", "/integrations/phones/brands") if b["name"] == "Fairphone"][0]
    assert [m["name"] for m in call(client, tenant, "GET", "/integrations/phones/models", params={"brandid": brand["id"]})] \
        == ["Fairphone 5"]


def test_x_fields_mask_and_401(client, tenant):
    h = {**auth(tenant), "X-Fields": "{city}"}
    r = client.post(url("/integrations/address"), json={"person_number": ADULT}, headers=h)
    assert r.json() == {"city": "Linköping"}
    assert client.get(url("/integrations/phones/brands")).status_code == 401
