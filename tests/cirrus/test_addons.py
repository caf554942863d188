"""Cirrus addons group (#190-#191): installed add-ons, read-only."""

from __future__ import annotations

from tests.cirrus.helpers import VALIDATION, auth, url
from polycrm.core.fixtures import load
from polycrm.core.workspace import Workspace


def install(runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        load(ws, {"records": {"addon": [
            {"name": "Maps", "number": "maps", "extra": {"url": "https://maps.example", "sort": 2,
                                                        "parameters": [{"name": "key", "value": "abc"}]}},
            {"name": "Dialer", "number": "dialer", "active": False, "extra": {"sort": 1}},
        ]}})


def test_list_and_item(client, runtime, tenant):
    install(runtime, tenant)
    h = auth(tenant)
    page = client.get(url("/addons/"), headers=h).json()
    assert [a["title"] for a in page["items"]] == ["Dialer", "Maps"]
    maps = page["items"][1]
    assert maps == client.get(url(f"/addons/{maps['id']}"), headers=h).json()
    assert (maps["internalname"], maps["url"], maps["sort"], maps["enabled"]) == ("maps", "https://maps.example", 2, True)
    assert [(p["id"], p["name"], p["value"]) for p in maps["parameters"]] == [(1, "key", "abc")]
    assert page["items"][0]["enabled"] is False
    titles = [a["title"] for a in client.get(url("/addons/?sorting=title_desc"), headers=h).json()["items"]]
    assert titles == ["Maps", "Dialer"]
    assert [a["title"] for a in client.get(url("/addons/?internalname=dia%"), headers=h).json()["items"]] == ["Dialer"]


def test_errors(client, runtime, tenant):
    r = client.get(url("/addons/4321"), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Addon 4321 not found"}
    r = client.get(url("/addons/?sorting=price_asc"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"sorting": "The value 'price_asc' is not a valid choice for 'sorting'."}, "message": VALIDATION}
    assert client.get(url("/addons/")).status_code == 401


def test_x_fields_mask(client, runtime, tenant):
    install(runtime, tenant)
    page = client.get(url("/addons/?per_page=1"), headers={**auth(tenant), "X-Fields": "{pages,items{internalname}}"}).json()
    assert page == {"pages": 2, "items": [{"internalname": "dialer"}]}
