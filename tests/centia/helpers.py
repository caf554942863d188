"""Shared helpers for the centiaCRM face tests."""

from __future__ import annotations

from typing import Any

from polycrm.core import lookups
from polycrm.core.models import Lookup, Profile, ProfileMember
from polycrm.core.workspace import Workspace


def fail(message: str) -> dict[str, Any]:
    """The exact centia error envelope."""
    return {"success": False, "response": [], "error": message}


class Centia:
    """A logged-in centia client for one tenant."""

    def __init__(self, client, tenant: dict[str, Any]):
        self.client = client
        self.tenant = tenant
        r = client.post(
            "/api/v1/auth",
            json={"method": "Login", "parameters": dict(tenant["centia"])},
        )
        assert r.status_code == 200, r.text
        self.login = r.json()["response"]
        self.token = self.login["token"]
        self.profile_id = tenant["profile_id"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def raw(self, module: str, method: str, parameters: Any = None, *, path: str | None = None, headers=None):
        body = {"method": method}
        if parameters is not None:
            body["parameters"] = parameters
        return self.client.post(path or f"/api/v1/{module}", json=body, headers=self.headers if headers is None else headers)

    def call(self, module: str, method: str, profile: bool = True, **params: Any) -> dict[str, Any]:
        """Call a method and return its ``response``; asserts success."""
        if profile:
            params.setdefault("profile_id", self.profile_id)
        r = self.raw(module, method, params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["success"] is True, body
        assert set(body) == {"success", "response"}
        return body["response"]

    def error(self, module: str, method: str, profile: bool = True, **params: Any) -> dict[str, Any]:
        """Call a method expected to fail with HTTP 200; return the whole envelope."""
        if profile:
            params.setdefault("profile_id", self.profile_id)
        r = self.raw(module, method, params)
        assert r.status_code == 200, r.text
        return r.json()

    def first(self, module: str, method: str, key: str) -> int:
        return self.call(module, method)[key][0]["id"]

    def company(self, **params: Any) -> dict[str, Any]:
        values = {
            "name": "Acme",
            "type_id": self.first("companies", "GetTypes", "types"),
            "industry_id": self.first("companies", "GetIndustries", "industries"),
            **params,
        }
        return self.call("companies", "CreateCompany", **values)["company"]

    def contact(self, company_id: int, **params: Any) -> dict[str, Any]:
        values = {
            "company_id": company_id,
            "name": "Ana",
            "surname": "López",
            "origin_id": self.first("contacts", "GetOrigins", "origins"),
            **params,
        }
        return self.call("contacts", "CreateContact", **values)["contact"]

    def product(self, **params: Any) -> dict[str, Any]:
        return self.call("products", "CreateProduct", **{"name": "Widget", "value": 10.5, **params})["product"]


def add_profile(runtime, tenant: dict[str, Any], name: str = "Second", *, member: bool = True) -> int:
    """A second profile of the tenant with its own lists; the admin a member unless told."""
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        profile = ws.create(Profile, name=name, is_default=False, currency="MXN")
        if member:
            ws.create(ProfileMember, profile_id=profile.id, user_id=tenant["user_id"])
        lookups.seed_defaults(ws, profile.id, ["customer_type", "industry", "stage", "contact_origin"])
        return profile.id


def lookup_ids(runtime, tenant: dict[str, Any], kind: str, profile_id: int) -> list[int]:
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        return [e.id for e in ws.scalars(lookups.query(kind).where(Lookup.profile_id == profile_id))]


SHIPPING_MX = {
    "country": "MX", "state": "JAL", "street": "Av. Juárez", "number": "120",
    "zip": "44100", "city": "Guadalajara",
}
