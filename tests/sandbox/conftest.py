"""Helpers for the admin API tests."""

from __future__ import annotations

import pytest


class Admin:
    """Calls to ``/_polycrm/`` with one tenant's admin key."""

    def __init__(self, client, key: str):
        self.client, self.key = client, key

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def get(self, path: str, **kw):
        return self.client.get("/_polycrm" + path, headers=self.headers(), **kw)

    def post(self, path: str, json=None, **kw):
        return self.client.post("/_polycrm" + path, headers=self.headers(), json=json, **kw)

    def put(self, path: str, json=None, **kw):
        return self.client.put("/_polycrm" + path, headers=self.headers(), json=json, **kw)

    def delete(self, path: str, **kw):
        return self.client.delete("/_polycrm" + path, headers=self.headers(), **kw)


@pytest.fixture
def admin(client, tenant) -> Admin:
    return Admin(client, tenant["admin"]["key"])


@pytest.fixture
def other_admin(client, other_tenant) -> Admin:
    return Admin(client, other_tenant["admin"]["key"])
