"""centiaCRM face: login, tokens, routing forms, envelopes, profiles and geography."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.centia.helpers import Centia, add_profile, fail

from polycrm.core import auth
from polycrm.core.auth import Principal


@pytest.fixture
def api(client, tenant) -> Centia:
    return Centia(client, tenant)


# -- Login ---------------------------------------------------------------------------
def test_login_returns_a_token_and_the_user(api, tenant):
    login = api.login
    assert login["token"] and login["token_type"] == "Bearer"
    dt.datetime.strptime(login["expires_at"], "%Y-%m-%d %H:%M:%S")
    user = login["user"]
    assert user["id"] == tenant["user_id"]
    assert user["email"] == tenant["centia"]["email"]
    assert user["is_admin"] is True
    assert [p["id"] for p in user["profiles"]] == [tenant["profile_id"]]


def test_login_email_is_case_insensitive(client, tenant):
    params = {"email": tenant["centia"]["email"].upper(), "password": tenant["centia"]["password"]}
    r = client.post("/api/v1/auth", json={"method": "Login", "parameters": params})
    assert r.json()["success"] is True


def test_login_with_a_wrong_password_is_refused(client, tenant):
    params = {"email": tenant["centia"]["email"], "password": "wrong"}
    r = client.post("/api/v1/auth", json={"method": "Login", "parameters": params})
    assert r.status_code == 401
    assert r.json() == fail("invalid credentials")


def test_login_with_an_unknown_email_is_refused(client):
    r = client.post("/api/v1/auth", json={"method": "Login", "parameters": {"email": "nobody@example.org", "password": "x"}})
    assert r.status_code == 401
    assert r.json() == fail("invalid credentials")


def test_login_without_password_names_the_parameter(client, tenant):
    r = client.post("/api/v1/auth", json={"method": "Login", "parameters": {"email": tenant["centia"]["email"]}})
    assert r.status_code == 200
    assert r.json() == fail("missing required parameter: password")


def test_demo_tenant_login(client, runtime):
    from polycrm.core import demo

    demo.ensure(runtime.db, runtime.blobs)
    r = client.post("/api/v1/auth", json={"method": "Login", "parameters": {"email": "demo@example.com", "password": "demo"}})
    body = r.json()
    assert body["success"] is True
    token = body["response"]["token"]
    profile_id = body["response"]["user"]["profiles"][0]["id"]
    r = client.post(
        "/api/v1/companies",
        json={"method": "GetCompanies", "parameters": {"profile_id": profile_id}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.json()["response"]["total"] >= 1


# -- tokens --------------------------------------------------------------------------
def test_a_method_without_token_is_refused(api):
    r = api.raw("profiles", "GetProfiles", headers={})
    assert r.status_code == 401
    assert r.json() == fail("missing or invalid token")


def test_a_bad_token_is_refused(api):
    r = api.raw("profiles", "GetProfiles", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    assert r.json() == fail("missing or invalid token")


def test_an_expired_token_is_refused(api, runtime, tenant):
    principal = Principal(tenant["tenant_id"], tenant["user_id"])
    token, _ = auth.issue_token(runtime.db, principal, auth.CENTIA_TOKEN, dt.timedelta(seconds=-1))
    r = api.raw("profiles", "GetProfiles", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert r.json() == fail("missing or invalid token")


def test_logout_revokes_the_token(api):
    assert api.call("auth", "Logout", profile=False) == {"revoked": True}
    r = api.raw("profiles", "GetProfiles")
    assert r.status_code == 401
    assert r.json() == fail("missing or invalid token")


def test_a_token_revoked_in_the_core_is_refused(api, runtime):
    assert auth.revoke_token(runtime.db, auth.CENTIA_TOKEN, api.token)
    assert api.raw("profiles", "GetProfiles").json() == fail("missing or invalid token")


def test_a_token_of_another_api_is_refused(api, tenant):
    r = api.raw("profiles", "GetProfiles", headers={"Authorization": f"Bearer {tenant['cirrus']['x_token']}"})
    assert r.status_code == 401


# -- routing -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path,method",
    [
        ("/api/v1/companies", "GetTypes"),
        ("/api/v1/Companies/", "gettypes"),
        ("/api/v1/company", "GetTypes"),
        ("/api/companies", "GetTypes"),
        ("/api/COMPANY/", "GetTypes"),
        ("/companies", "GetTypes"),
        ("/Company/", "GetTypes"),
        ("/api/v1", "Companies.GetTypes"),
        ("/api/v1/", "company.GetTypes"),
        ("/api/v1", "GetTypes"),
        ("/api/v1/companies", "Companies.GetTypes"),
    ],
)
def test_lenient_routing_forms(api, path, method):
    r = api.raw(None, method, {"profile_id": api.profile_id}, path=path)
    assert r.status_code == 200, r.text
    assert [t["name"] for t in r.json()["response"]["types"]][:2] == ["Customer", "Prospect"]


def test_the_module_decides_between_methods_of_the_same_name(api):
    contact_origins = api.call("contacts", "GetOrigins")["origins"]
    ticket_origins = api.call("tickets", "GetOrigins")["origins"]
    assert {o["name"] for o in contact_origins} == {"Website", "Referral", "Trade show", "Cold call"}
    assert {o["name"] for o in ticket_origins} == {"Phone", "E-mail", "Web portal"}


def test_an_ambiguous_bare_method_is_refused(api):
    r = api.raw(None, "GetInputs", {"profile_id": api.profile_id}, path="/api/v1")
    assert r.status_code == 400
    assert r.json() == fail(
        "method GetInputs exists in several modules (companies, contacts, products, opportunities); name the module"
    )


def test_an_unknown_method_is_refused(api):
    r = api.raw("companies", "DeleteEverything", {})
    assert r.status_code == 400
    assert r.json() == fail("unknown method: DeleteEverything in module companies")


def test_a_method_of_another_module_is_refused(api):
    r = api.raw("tickets", "GetTypes", {"profile_id": api.profile_id})
    assert r.status_code == 400
    assert r.json() == fail("unknown method: GetTypes in module tickets")


def test_a_dotted_method_must_match_the_url_module(api):
    r = api.raw("tickets", "Companies.GetTypes", {})
    assert r.status_code == 400
    assert r.json() == fail("method Companies.GetTypes does not belong to module tickets")


def test_an_unknown_module_is_refused(api):
    r = api.raw("invoices", "GetInvoices", {})
    assert r.status_code == 404
    assert r.json() == fail("unknown module: invoices")


def test_a_missing_method_is_refused(api):
    r = api.client.post("/api/v1/companies", json={"parameters": {}}, headers=api.headers)
    assert r.status_code == 400
    assert r.json() == fail("missing method")


def test_a_body_that_is_not_json_is_refused(api):
    r = api.client.post("/api/v1/companies", content=b"method=GetTypes", headers=api.headers)
    assert r.status_code == 400
    assert r.json() == fail("request body is not valid JSON")


def test_get_is_answered_with_the_envelope(api):
    r = api.client.get("/api/v1/companies", headers=api.headers)
    assert r.status_code == 405
    assert r.json() == fail("use POST with a JSON body")


def test_parameters_may_be_missing_empty_or_null_where_none_are_needed(api):
    for parameters in (None, [], {}):
        body = {"method": "GetProfiles"} if parameters is None else {"method": "GetProfiles", "parameters": parameters}
        r = api.client.post("/api/v1/profiles", json=body, headers=api.headers)
        assert r.json()["success"] is True
    r = api.client.post("/api/v1/profiles", json={"method": "GetCountries", "parameters": None}, headers=api.headers)
    assert r.json()["success"] is True


def test_parameters_must_be_an_object(api):
    r = api.raw("profiles", "GetStages", [1, 2])
    assert r.status_code == 400
    assert r.json() == fail("parameters must be an object")


def test_ids_may_be_strings(api):
    r = api.raw("companies", "GetTypes", {"profile_id": str(api.profile_id)})
    assert r.json()["success"] is True


# -- profiles ------------------------------------------------------------------------
def test_get_profiles_lists_the_users_profiles(api, runtime, tenant):
    second = add_profile(runtime, tenant)
    add_profile(runtime, tenant, "Not mine", member=False)
    profiles = api.call("profiles", "GetProfiles", profile=False)["profiles"]
    assert [(p["id"], p["is_default"]) for p in profiles] == [(tenant["profile_id"], True), (second, False)]
    assert profiles[1] == {"id": second, "name": "Second", "currency": "MXN", "is_default": False}


def test_missing_profile_id_is_named(api):
    assert api.error("profiles", "GetStages", profile=False) == fail("missing required parameter: profile_id")


def test_an_unknown_profile_is_refused(api):
    assert api.error("profiles", "GetStages", profile_id=999999) == fail("profile not found or not accessible")


def test_a_profile_the_user_is_not_a_member_of_is_refused(api, runtime, tenant):
    foreign = add_profile(runtime, tenant, "Not mine", member=False)
    assert api.error("companies", "GetCompanies", profile_id=foreign) == fail("profile not found or not accessible")


def test_a_profile_of_another_tenant_is_refused(api, other_tenant):
    assert api.error("profiles", "GetUsers", profile_id=other_tenant["profile_id"]) == fail(
        "profile not found or not accessible"
    )


def test_a_non_numeric_profile_id_is_refused(api):
    assert api.error("profiles", "GetUsers", profile_id="abc") == fail("invalid value for profile_id: must be an integer")


def test_get_stages_has_probabilities(api):
    stages = api.call("profiles", "GetStages")["stages"]
    assert [s["name"] for s in stages] == ["Prospecting", "Qualification", "Proposal", "Negotiation", "Closing"]
    assert stages[0]["probability"] == 10
    assert set(stages[0]) == {"id", "name", "order", "is_default", "probability"}


def test_each_profile_has_its_own_stages(api, runtime, tenant):
    second = add_profile(runtime, tenant)
    mine = {s["id"] for s in api.call("profiles", "GetStages")["stages"]}
    theirs = {s["id"] for s in api.call("profiles", "GetStages", profile_id=second)["stages"]}
    assert mine and theirs and not mine & theirs


def test_get_users_lists_the_profiles_users(api, tenant):
    users = api.call("profiles", "GetUsers")["users"]
    assert [u["id"] for u in users] == [tenant["user_id"]]
    assert set(users[0]) == {"id", "name", "surname", "email", "username", "title", "phone", "cellphone", "active"}


# -- geography -----------------------------------------------------------------------
def test_get_countries_is_the_iso_list(api):
    countries = api.call("profiles", "GetCountries", profile=False)["countries"]
    codes = {c["code"] for c in countries}
    assert len(countries) == 249
    assert {"MX", "US", "CA", "DK", "ES"} <= codes
    assert {"code": "MX", "name": "Mexico"} in countries


@pytest.mark.parametrize("code,count,sample", [("MX", 32, ("JAL", "Jalisco")), ("us", 57, ("TX", "Texas")), ("CA", 13, ("QC", "Quebec"))])
def test_get_states(api, code, count, sample):
    answer = api.call("profiles", "GetStates", profile=False, country=code)
    assert answer["country"] == code.upper()
    assert len(answer["states"]) == count
    assert {"code": sample[0], "name": sample[1]} in [{"code": s["code"], "name": s["name"]} for s in answer["states"]]


def test_get_states_of_a_country_without_states_is_empty(api):
    assert api.call("profiles", "GetStates", profile=False, country="DK") == {"country": "DK", "states": []}


def test_get_states_of_an_unknown_country_is_refused(api):
    assert api.error("profiles", "GetStates", profile=False, country="ZZ") == fail(
        "invalid value for country: unknown country code 'ZZ'"
    )


def test_get_states_needs_a_country(api):
    assert api.error("profiles", "GetStates", profile=False) == fail("missing required parameter: country")


DOCUMENTED = {
    "auth": ["Login"],
    "profiles": ["GetProfiles", "GetStages", "GetCountries", "GetStates", "GetUsers"],
    "companies": ["GetCompanies", "GetTypes", "GetIndustries", "GetInputs", "CreateCompany", "GetCompany"],
    "contacts": ["GetContacts", "GetOrigins", "GetTitles", "GetDepartments", "GetPositions", "GetInputs",
                 "CreateContact", "GetContact"],
    "products": ["GetProducts", "GetCategories", "GetValidities", "GetDiscounts", "GetMeasures", "GetTaxes",
                 "GetInputs", "CreateProduct", "EditProduct"],
    "opportunities": ["GetInputs", "GetOpportunities", "CreateOpportunity", "GetOpportunity"],
    "tickets": ["GetTickets", "GetOrigins", "GetCases", "GetPriorities", "CreateTicket"],
}


def test_every_documented_method_is_served(api):
    assert sum(len(names) for names in DOCUMENTED.values()) == 38
    for module, names in DOCUMENTED.items():
        for name in names:
            r = api.raw(module, name, {"profile_id": api.profile_id})
            assert r.status_code == 200, (module, name, r.text)
            body = r.json()
            assert body["success"] or body["error"].startswith("missing required parameter: "), (module, name, body)


def test_every_method_but_login_needs_a_token_and_a_profile_it_may_use(api, runtime, tenant):
    foreign = add_profile(runtime, tenant, "Not mine", member=False)
    for module, names in DOCUMENTED.items():
        for name in names:
            if name == "Login":
                continue
            r = api.raw(module, name, {"profile_id": api.profile_id}, headers={"Authorization": "Bearer nope"})
            assert (r.status_code, r.json()) == (401, fail("missing or invalid token")), (module, name)
            if name in ("GetProfiles", "GetCountries", "GetStates"):
                continue
            assert api.error(module, name, profile=False) == fail("missing required parameter: profile_id"), (module, name)
            assert api.error(module, name, profile_id=foreign) == fail("profile not found or not accessible"), (module, name)


def test_get_users_lists_members_only(api, runtime, tenant):
    from polycrm.core.models import ProfileMember, User
    from polycrm.core.workspace import Workspace

    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        member = ws.create(User, username="maria", name="María", surname="Ruiz", email="maria@example.mx")
        ws.create(ProfileMember, profile_id=tenant["profile_id"], user_id=member.id)
        outsider = ws.create(User, username="otto", name="Otto", surname="Out")
        retired = ws.create(User, username="rita", name="Rita", surname="Old", active=False)
        ws.create(ProfileMember, profile_id=tenant["profile_id"], user_id=retired.id)
        member_id, outsider_id = member.id, outsider.id
    users = api.call("profiles", "GetUsers")["users"]
    assert sorted(u["id"] for u in users) == sorted([tenant["user_id"], member_id])
    assert outsider_id not in [u["id"] for u in users]
