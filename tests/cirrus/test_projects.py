"""Cirrus projects (#229): core records of kind ``project``, listed only."""

from __future__ import annotations

from tests.cirrus.sales_helpers import get, lookup, record, seed
from tests.cirrus.helpers import auth, url


def test_projects_list_filter_sort_and_mask(client, runtime, tenant):
    s = seed(runtime, tenant)
    kind = lookup(runtime, tenant, "project_type", "Customer")
    a = record(runtime, tenant, kind="project", name="Roof", number="10", customer_id=s["account"], extra={"type_id": kind})
    b = record(runtime, tenant, kind="project", name="Attic", number="9")
    record(runtime, tenant, kind="lead", name="Not a project")
    page = get(client, tenant, "/projects/")
    assert page["items"] == [{"id": b, "name": "Attic", "type": None},
                             {"id": a, "name": "Roof", "type": {"id": kind, "name": "Customer"}}]
    assert [p["id"] for p in get(client, tenant, "/projects/", sorting="number_desc")["items"]] == [a, b]
    assert [p["id"] for p in get(client, tenant, "/projects/", accountid=s["account"])["items"]] == [a]
    r = client.get(url("/projects/"), headers={**auth(tenant), "X-Fields": "{total}"})
    assert r.json() == {"total": 2}


def test_projects_errors(client, tenant):
    assert client.get(url("/projects/")).status_code == 401
    r = client.get(url("/projects/"), params={"accountid": "x"}, headers=auth(tenant))
    assert r.status_code == 400 and list(r.json()["errors"]) == ["accountid"]
    r = client.get(url("/projects/"), params={"page": 3}, headers=auth(tenant))
    assert (r.status_code, r.json()) == (400, {"errors": {"page": "page 3 is out of range"}, "message": "Input payload validation failed"})
