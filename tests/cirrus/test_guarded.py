"""Every operation of the dynamicfields, gamification, integrations, kpis, missions,
contracts, objects, settings, addons, bankid, emails and templates groups, by
every path and method the operation table lists, refuses a request without a
token with the same 401 envelope (generated from the table)."""

from __future__ import annotations

import re

import pytest

from tests.cirrus.helpers import url
from polycrm.faces.cirrus.operations import BY_NUMBER, all_paths, methods
from polycrm.faces.cirrus.endpoint import UNAUTHORIZED

NUMBERS = [*range(66, 70), *range(76, 83), *range(124, 133), 150, *range(155, 197), 207, 208, *range(213, 225)]
CASES = [(n, path, method) for n in NUMBERS for path in all_paths(BY_NUMBER[n]) for method in methods(BY_NUMBER[n])]


def concrete(path: str) -> str:
    """Path parameters filled in: ids with 1, connection/relation types with a valid type."""
    return re.sub(r"\{([a-z_]+)\}", lambda m: "account" if m.group(1) == "connection_type"
                  else "contract" if m.group(1) == "relation_type" else "1", path)


@pytest.mark.parametrize("number,path,method", CASES, ids=[f"{n}-{m}-{p}" for n, p, m in CASES])
def test_without_a_token_is_401(client, number, path, method):
    r = client.request(method, url(concrete(path)), json={} if method in ("POST", "PUT") else None,
                       headers={"X-Token": "not-a-token"} if number % 2 else {})
    assert r.status_code == 401
    assert r.json() == {"message": UNAUTHORIZED}
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="cirrus"'
