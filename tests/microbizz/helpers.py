"""A small client for the Microbizz face in tests.

``MB(client, tenant)`` posts envelopes to ``/api/endpoint.php`` with the
tenant's contract, API key, user name and password. ``call`` runs one
command and returns its result (asserting that it succeeded); ``fail`` runs
one command that must fail and returns its ``msg`` (asserting the exact
failed-result shape); ``batch`` returns the whole response envelope.
"""

from __future__ import annotations

import base64
import io
import json
import re
from typing import Any

ENDPOINT = "/api/endpoint.php"
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
TIME = re.compile(r"\d{2}:\d{2}:\d{2}")


def credentials(tenant: dict) -> dict[str, Any]:
    mb = tenant["microbizz"]
    return {"contract": mb["contract"], "apikey": mb["apikey"], "username": mb["username"], "password": mb["password"]}


def assert_stamped(body: dict) -> None:
    """The envelope's server date and time are present and well formed."""
    assert DATE.fullmatch(body["date"]), body["date"]
    assert TIME.fullmatch(body["time"]), body["time"]


def assert_envelope_failure(body: dict, msg: str) -> None:
    """An envelope-level failure: status 0, the message, no results."""
    assert set(body) == {"status", "msg", "results", "date", "time"}, body
    assert body["status"] == 0
    assert body["msg"] == msg
    assert body["results"] == []
    assert_stamped(body)


def post_envelope(client, envelope: dict) -> dict:
    """POST the envelope the way most PHP clients do: urlencoded ``json=``."""
    response = client.post(ENDPOINT, data={"json": json.dumps(envelope)})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


class MB:
    def __init__(self, client, tenant: dict, **auth: Any):
        self.client = client
        self.tenant = tenant
        self.auth = auth or credentials(tenant)

    def envelope(self, commands: list[dict], **extra: Any) -> dict:
        return {**self.auth, "remoteagent": "polycrm tests", "commands": commands, **extra}

    def batch(self, *commands: dict, **extra: Any) -> dict:
        body = post_envelope(self.client, self.envelope(list(commands), **extra))
        assert_stamped(body)
        return body

    def run(self, command: str, **args: Any) -> dict:
        """One command's result, whatever its status (the envelope must be OK)."""
        body = self.batch({"command": command, **args})
        assert body["status"] == 1, body
        assert body["msg"] == "OK"
        assert len(body["results"]) == 1
        return body["results"][0]

    def call(self, command: str, **args: Any) -> dict:
        result = self.run(command, **args)
        assert result["status"] == 1, result
        return result

    def fail(self, command: str, **args: Any) -> str:
        result = self.run(command, **args)
        assert set(result) == {"status", "msg"}, result
        assert result["status"] == 0
        assert isinstance(result["msg"], str) and result["msg"]
        return result["msg"]

    # -- shortcuts for the common records ---------------------------------
    def customer(self, **fields: Any) -> dict:
        return self.call("CreateUpdateCustomerByID", customer={"id": 0, **fields})["customer"]

    def product(self, **fields: Any) -> dict:
        return self.call("CreateUpdateProductByID", product={"id": 0, **fields})["product"]

    def get_customer(self, customer_id: int) -> dict | None:
        found = self.call("GetCustomerByID", customerid=customer_id)["customers"]
        return found[0] if found else None


def image_bytes(fmt: str, size: tuple[int, int] = (640, 480), color: str = "teal") -> bytes:
    """A real image file made with Pillow."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def paged_client(runtime, page_size: int):
    """A TestClient on the Microbizz face alone, over the same database, whose
    syncs page every ``page_size`` records (use it as a context manager)."""
    from dataclasses import replace

    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from polycrm.faces import microbizz
    from polycrm.runtime import Runtime

    rt = Runtime.from_settings(replace(runtime.settings, sync_page_size=page_size), runtime.db)
    return TestClient(Starlette(routes=microbizz.routes(rt)))


def sync_all(mb: MB, command: str, key: str, **args: Any) -> tuple[list[dict], list[dict]]:
    """Follow a ...ByLastChange sync through its resumekeys: all items, and each page's result."""
    items: list[dict] = []
    pages: list[dict] = []
    result = mb.call(command, **args)
    while True:
        pages.append(result)
        items.extend(result[key])
        if "resumekey" not in result:
            return items, pages
        result = mb.call(command, resumekey=result["resumekey"])


def add_user(runtime, tenant: dict, username: str, password: str = "second-secret") -> tuple[int, dict[str, Any]]:
    """A second user in the tenant (made through the core) and its envelope
    credentials: the tenant's contract and API key with the user's own login."""
    from polycrm.core import auth
    from polycrm.core.models import User
    from polycrm.core.workspace import Workspace

    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        user = ws.create(
            User, username=username, name=username.title(), surname="Seller", active=True,
            password_hash=auth.hash_password(password),
        )
        user_id = user.id
    return user_id, {**credentials(tenant), "username": username, "password": password}
