"""Cirrus templates group (#213-#224, deprecated): templates, categories, languages."""

from __future__ import annotations

import pytest

from tests.cirrus.helpers import VALIDATION, auth, url


def call(client, tenant, method, path, status=200, **kw):
    r = client.request(method, url(path), headers=auth(tenant), **kw)
    assert r.status_code == status, r.text
    return r.json()


def test_create_returns_the_template_as_get_does(client, tenant):
    category = call(client, tenant, "POST", "/templates/categories/", json={"name": "Offers", "sort": 5})
    language = call(client, tenant, "GET", "/templates/languages/", params={"name": "Svenska"})["items"][0]
    created = call(client, tenant, "POST", "/templates/", json={
        "name": "Quote A4", "resource": "quote", "html": "<h1>{{number}}</h1>", "url": "https://t/1", "active": 1,
        "categories": [{"id": category["id"]}], "languages": [{"id": language["id"]}]})
    assert created == call(client, tenant, "GET", f"/templates/{created['id']}")
    assert created["categories"] == [{"id": category["id"], "name": "Offers", "sort": 5}]
    assert created["languages"] == [language] and created["resource"] == "quote" and created["active"] == 1


def test_create_errors(client, tenant):
    r = client.post(url("/templates/"), json={"html": "x"}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"name": "'name' is a required property", "resource": "'resource' is a required property"},
                        "message": VALIDATION}
    r = client.post(url("/templates/"), json={"name": "x", "resource": "invoice"}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"resource": "'invoice' is not one of ['order', 'quote']"}, "message": VALIDATION}
    r = client.post(url("/templates/"), json={"name": "x", "resource": "order", "categories": [{"id": 999}]},
                    headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"errors": {"categories": "Template category 999 not found"},
                        "message": "Template category 999 not found"}


def test_update_and_filters(client, tenant):
    general = call(client, tenant, "GET", "/templates/categories/")["items"][0]
    a = call(client, tenant, "POST", "/templates/", json={"name": "Order", "resource": "order", "active": 1,
                                                         "categories": [{"id": general["id"]}]})
    b = call(client, tenant, "POST", "/templates/", json={"name": "Quote", "resource": "quote", "active": 0})
    updated = call(client, tenant, "PUT", f"/templates/{b['id']}", json={"html": "<p/>"})
    assert updated["html"] == "<p/>" and updated["name"] == "Quote" and updated["active"] == 0

    def ids(**params):
        return [t["id"] for t in call(client, tenant, "GET", "/templates/", params=params)["items"]]

    assert ids() == [a["id"], b["id"]]
    assert ids(sorting="number_desc") == [b["id"], a["id"]]
    assert ids(resource="quote") == [b["id"]]
    assert ids(active=1) == [a["id"]]
    assert ids(categoryids=str(general["id"])) == [a["id"]]
    assert ids(name="quo%") == [b["id"]]
    r = client.get(url("/templates/?resource=invoice"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"resource": "The value 'invoice' is not a valid choice for 'resource'."},
                        "message": VALIDATION}


@pytest.mark.parametrize("kind,label", [("categories", "Template category"), ("languages", "Template language")])
def test_category_and_language_lists(client, tenant, kind, label):
    created = call(client, tenant, "POST", f"/templates/{kind}/", json={"name": "Zulu", "sort": 99})
    assert created == call(client, tenant, "GET", f"/templates/{kind}/{created['id']}")
    updated = call(client, tenant, "PUT", f"/templates/{kind}/{created['id']}", json={"sort": 0})
    assert (updated["name"], updated["sort"]) == ("Zulu", 0)
    names = [e["name"] for e in call(client, tenant, "GET", f"/templates/{kind}/", params={"sorting": "name_desc"})["items"]]
    assert names[0] == "Zulu"
    r = client.get(url(f"/templates/{kind}/31337"), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": f"{label} 31337 not found"}
    r = client.post(url(f"/templates/{kind}/"), json={"name": "  "}, headers=auth(tenant))
    assert r.status_code == 400 and r.json() == {"errors": {"name": "'  ' does not match '\\\\S'"}, "message": VALIDATION}


def test_unknown_template_is_404(client, tenant):
    for method in ("GET", "PUT"):
        r = client.request(method, url("/templates/123"), json={}, headers=auth(tenant))
        assert r.status_code == 404 and r.json() == {"message": "Template 123 not found"}


def test_x_fields_mask(client, tenant):
    created = call(client, tenant, "POST", "/templates/", json={"name": "T", "resource": "order"})
    h = {**auth(tenant), "X-Fields": "{name,resource}"}
    assert client.get(url(f"/templates/{created['id']}"), headers=h).json() == {"name": "T", "resource": "order"}
    page = client.get(url("/templates/"), headers={**auth(tenant), "X-Fields": "{items{id}}"}).json()
    assert page == {"items": [{"id": created["id"]}]}


def test_without_token_is_401(client):
    assert client.get(url("/templates/")).status_code == 401
