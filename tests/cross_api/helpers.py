"""Helpers shared by the cross-API tests: a signed-in browser on the web pages."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Web:
    """A browser of its own (fresh cookies, redirects not followed), signed in as the tenant's admin."""

    def __init__(self, app, tenant: dict):
        self.client = TestClient(app, follow_redirects=False)
        signed = self.client.post("/signin", data={
            "csrf_token": self.csrf("/signin"), "tenant": tenant["tenant"],
            "login": tenant["microbizz"]["username"], "password": tenant["microbizz"]["password"],
        })
        assert signed.status_code == 303, signed.text

    def csrf(self, url: str) -> str:
        page = self.client.get(url)
        assert page.status_code == 200, page.text
        found = CSRF.search(page.text)
        assert found, f"{url} has no CSRF token"
        return found.group(1)

    def post_form(self, url: str, data: dict):
        """Submit the form on ``url`` (its CSRF token read from the page)."""
        return self.client.post(url, data={"csrf_token": self.csrf(url), **data})
