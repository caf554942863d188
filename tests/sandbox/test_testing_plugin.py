"""The pytest plugin shipped in the package (``polycrm.testing``), run by pytester
in a subprocess so that it is loaded the way a user's suite loads it: through
the ``pytest11`` entry point of the installed package."""

from __future__ import annotations

import pytest

from polycrm.testing import start_server

pytest_plugins = ["pytester"]

SUITE = '''
import pytest


def test_a_fresh_tenant_is_empty_and_journalled(polycrm_tenant):
    assert polycrm_tenant.cirrus.get("/accounts/").json()["total"] == 0
    made = polycrm_tenant.cirrus.post("/accounts/accountgroups/", json={"name": "Key accounts"})
    assert made.status_code == 200
    assert [e["operation"] for e in polycrm_tenant.journal(api="cirrus")] == [
        "post_accountgroup_collection", "get_account_collection"]
    assert polycrm_tenant.admin_key and polycrm_tenant.base_url.startswith("http://127.0.0.1:")


@pytest.mark.polycrm_demo
def test_the_demo_tenant_has_its_data(polycrm_tenant):
    assert polycrm_tenant.cirrus.get("/accounts/").json()["total"] > 0
    assert polycrm_tenant.microbizz.call({"command": "Echo"})["status"] == 1
    polycrm_tenant.cirrus.post("/accounts/accountgroups/", json={"name": "Left behind"})


@pytest.mark.polycrm_demo
def test_the_demo_tenant_is_restored_between_tests(polycrm_tenant):
    names = [g["name"] for g in polycrm_tenant.cirrus.get("/accounts/accountgroups/").json()["items"]]
    assert "Left behind" not in names


def test_faults_and_centia(polycrm_tenant):
    polycrm_tenant.faults({"api": "centia", "operation": "companies.*", "status": 503, "error": "down"})
    assert polycrm_tenant.centia.call("companies", "GetTypes") == {"success": False, "response": [], "error": "down"}
    assert polycrm_tenant.faults() == []
    assert polycrm_tenant.centia.call("companies", "GetTypes").get("error") != "down"
    assert [e["response"]["status"] for e in polycrm_tenant.journal(operation="companies.*")] == [200, 503]
'''


def test_the_plugin_starts_a_server_and_gives_each_test_a_tenant(pytester):
    pytester.makepyfile(SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_the_plugin_uses_a_running_server_with_polycrm_url(pytester, tmp_path):
    server = start_server(tmp_path)
    try:
        pytester.makepyfile(SUITE)
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--polycrm-url={server.base_url}")
        result.assert_outcomes(passed=4)
    finally:
        server.stop()


def test_a_failing_test_fails(pytester):
    pytester.makepyfile('''
def test_wrong(polycrm_tenant):
    assert polycrm_tenant.cirrus.get("/accounts/").json()["total"] == 1
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)


@pytest.fixture(autouse=True)
def _no_inherited_url(monkeypatch):
    monkeypatch.delenv("POLYCRM_URL", raising=False)
    monkeypatch.delenv("POLYCRM_DATABASE_URL", raising=False)
