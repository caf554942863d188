"""Cirrus dynamicfields group (#66-#69): core custom fields, shared with centiaCRM inputs."""

from __future__ import annotations

import pytest

from tests.centia.helpers import Centia
from tests.cirrus.helpers import VALIDATION, auth, new_account, url
from polycrm.core import custom_fields
from polycrm.core.workspace import Workspace


def call(client, tenant, method, path, status=200, **kw):
    r = client.request(method, url(path), headers=auth(tenant), **kw)
    assert r.status_code == status, r.text
    return r.json()


@pytest.fixture
def fields(runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        made = {
            "size": custom_fields.define(ws, "customer", "Size", field_type="select", options=["S", "M", "L"],
                                         sortorder=2, extra={"help": "Company size", "inoverview": True}),
            "colours": custom_fields.define(ws, "customer", "Colours", field_type="multiselect",
                                            options=["red", "green"], sortorder=1),
            "employees": custom_fields.define(ws, "customer", "Employees", field_type="number", sortorder=3),
            "brand": custom_fields.define(ws, "product", "Brand", sortorder=1),
        }
        ws.flush()
        return {k: v.id for k, v in made.items()}


def test_definitions(client, tenant, fields):
    page = call(client, tenant, "GET", "/dynamicfields/definitions/")
    assert page["total"] == 4
    size = call(client, tenant, "GET", f"/dynamicfields/definitions/{fields['size']}")
    assert size == next(i for i in page["items"] if i["id"] == fields["size"])
    assert (size["name"], size["group"], size["help"], size["inoverview"], size["visible"], size["required"]) == \
        ("Size", "account", "Company size", True, True, False)
    assert [o["label"] for o in size["options"]] == ["S", "M", "L"] and size["options"][0]["fieldid"] == fields["size"]
    assert size["type"]["label"] == "select" and size["selected"] == [] and len(size["unselected"]) == 3

    def names(**params):
        return [f["name"] for f in call(client, tenant, "GET", "/dynamicfields/definitions/", params=params)["items"]]

    assert names(groups="article") == ["Brand"]
    assert names(groups="account", sorting="sorting_desc") == ["Employees", "Size", "Colours"]
    assert names(sorting="name_asc") == ["Brand", "Colours", "Employees", "Size"]
    assert names(fieldname="emp%") == ["Employees"]
    assert names(typeid=size["type"]["id"]) == ["Size"]


def test_definition_errors(client, tenant, fields):
    r = client.get(url("/dynamicfields/definitions/99999"), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Dynamic field 99999 not found"}
    # An unknown group matches nothing.
    assert call(client, tenant, "GET", "/dynamicfields/definitions/", params={"groups": "planet"})["total"] == 0
    assert call(client, tenant, "GET", "/dynamicfields/definitions/", params={"groups": "planet,article"})["total"] == 1
    r = client.get(url("/dynamicfields/definitions/?typeid=x"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"typeid": "invalid literal for int() with base 10: 'x'"}, "message": VALIDATION}


def test_values_written_here_are_centia_inputs(client, tenant, fields):
    account = new_account(client, tenant)
    path = f"/dynamicfields/values/{{}}/{account['id']}"
    size = call(client, tenant, "PUT", path.format(fields["size"]), json={"selected": [{"id": 2}]})
    assert size["value"] == "M" and [o["label"] for o in size["selected"]] == ["M"]
    colours = call(client, tenant, "PUT", path.format(fields["colours"]), json={"selected": [{"id": 1}, {"id": 2}]})
    assert colours["value"] == "red,green"
    colours = call(client, tenant, "PUT", path.format(fields["colours"]), json={"unselected": [{"id": 1}]})
    assert colours["value"] == "green" and [o["label"] for o in colours["unselected"]] == ["red"]
    call(client, tenant, "PUT", path.format(fields["employees"]), json={"value": "250"})
    centia = Centia(client, tenant)
    company = centia.call("companies", "GetCompany", search_by="id", search_value=str(account["id"]), with_inputs=True)
    assert company["company"]["inputs"] == {"colours": ["green"], "size": "M", "employees": 250}


def test_centia_inputs_are_dynamic_values(client, tenant, fields):
    centia = Centia(client, tenant)
    company = centia.company(inputs={"size": "L", "employees": 12})
    page = call(client, tenant, "GET", "/dynamicfields/values/", params={"resourcetype": "account",
                                                                       "resourceid": company["id"]})
    assert [(v["name"], v["value"]) for v in page["items"]] == [("Colours", None), ("Size", "L"), ("Employees", "12")]
    assert [o["label"] for o in page["items"][1]["selected"]] == ["L"]
    narrowed = call(client, tenant, "GET", "/dynamicfields/values/", params={
        "resourcetype": "account", "resourceid": company["id"], "fieldids": [fields["employees"]], "sorting": "name_desc"})
    assert [v["name"] for v in narrowed["items"]] == ["Employees"]


def test_value_errors(client, tenant, fields):
    account = new_account(client, tenant)
    r = client.get(url("/dynamicfields/values/"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"resourcetype": "Missing required parameter in the query string",
                                   "resourceid": "Missing required parameter in the query string"}, "message": VALIDATION}
    r = client.get(url("/dynamicfields/values/?resourcetype=account&resourceid=999999"), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Account 999999 not found"}
    r = client.put(url(f"/dynamicfields/values/{fields['employees']}/{account['id']}"), json={"value": "many"},
                   headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"value": "invalid value for employees: 'many'"}, "message": VALIDATION}
    r = client.put(url(f"/dynamicfields/values/{fields['size']}/{account['id']}"), json={"selected": [{"id": 9}]},
                   headers=auth(tenant))
    assert r.status_code == 404
    assert r.json()["message"] == f"Option 9 of dynamic field {fields['size']} not found"
    r = client.put(url(f"/dynamicfields/values/424242/{account['id']}"), json={"value": "x"}, headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Dynamic field 424242 not found"}


def test_x_fields_mask_and_401(client, tenant, fields):
    h = {**auth(tenant), "X-Fields": "{total,items{name}}"}
    page = client.get(url("/dynamicfields/definitions/?groups=article"), headers=h).json()
    assert page == {"total": 1, "items": [{"name": "Brand"}]}
    assert client.get(url("/dynamicfields/definitions/")).status_code == 401
