"""Helpers shared by the Cirrus face tests."""

from __future__ import annotations

PREFIX = "/cirrus"
VALIDATION = "Input payload validation failed"


def auth(tenant: dict) -> dict[str, str]:
    return {"X-Token": tenant["cirrus"]["x_token"]}


def url(path: str) -> str:
    return PREFIX + path


def get_ok(client, tenant: dict, path: str, **params):
    """GET a Cirrus path as the tenant; asserts 200 and returns the JSON."""
    r = client.get(url(path), params=params, headers=auth(tenant))
    assert r.status_code == 200, r.text
    return r.json()


def send_ok(client, tenant: dict, method: str, path: str, body: dict):
    """Send a JSON body to a Cirrus path as the tenant; asserts 200 and returns the JSON."""
    r = client.request(method, url(path), json=body, headers=auth(tenant))
    assert r.status_code == 200, r.text
    return r.json()


def lookup_id(runtime, tenant: dict, kind: str, name: str | None = None) -> int:
    from polycrm.core import lookups
    from polycrm.core.workspace import Workspace

    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        entries = lookups.items(ws, kind)
        if name is None:
            return entries[0].id
        return next(e.id for e in entries if e.name == name)


def new_account(client, tenant: dict, **fields) -> dict:
    body = {"name": "Acme A/S", "typeid": fields.pop("typeid", None), "userid": tenant["user_id"], **fields}
    if body["typeid"] is None:
        body["typeid"] = _first_type(client, tenant)
    response = client.post(url("/accounts/"), json=body, headers=auth(tenant))
    assert response.status_code == 200, response.text
    return response.json()


def _first_type(client, tenant: dict) -> int:
    response = client.get(url("/accounts/accounttypes"), headers=auth(tenant))
    assert response.status_code == 200, response.text
    return response.json()[0]["id"]
