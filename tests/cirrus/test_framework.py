"""Cirrus face machinery: auth, OAuth tokens, routing, masks, paging, error envelopes."""

from __future__ import annotations

import base64

import pytest

from tests.cirrus.helpers import VALIDATION, auth, new_account, url

NOT_FOUND = (
    "The requested URL was not found on the server. If you entered the URL manually please check "
    "your spelling and try again."
)


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


# -- authentication -------------------------------------------------------------
def test_missing_credentials_are_401(client):
    r = client.get(url("/accounts/"))
    assert r.status_code == 401
    assert r.json() == {"message": "Missing or invalid credentials: send X-Token or Authorization: Bearer <token>"}


def test_wrong_x_token_is_401(client, tenant):
    r = client.get(url("/accounts/"), headers={"X-Token": tenant["cirrus"]["x_token"] + "x"})
    assert r.status_code == 401
    assert "message" in r.json()


def test_x_token_is_scoped_to_its_tenant(client, tenant, other_tenant):
    mine = new_account(client, tenant, name="Mine")
    r = client.get(url(f"/accounts/{mine['id']}"), headers=auth(other_tenant))
    assert r.status_code == 404
    assert r.json() == {"message": f"Account {mine['id']} not found"}


def test_client_credentials_token_works_as_bearer(client, tenant):
    c = tenant["cirrus"]
    r = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(c["client_id"], c["client_secret"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["access_token"]
    assert r.headers["cache-control"] == "no-store"
    r = client.get(url("/accounts/"), headers={"Authorization": f"Bearer {body['access_token']}"})
    assert r.status_code == 200
    assert client.get(url("/accounts/"), headers={"Authorization": "Bearer nope"}).status_code == 401


def test_token_endpoint_rejects_a_wrong_secret(client, tenant):
    r = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                    headers=basic(tenant["cirrus"]["client_id"], "wrong"))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"
    assert r.headers["www-authenticate"].startswith("Basic")


def test_token_endpoint_without_client_authentication(client):
    r = client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"


def test_token_endpoint_unsupported_grant(client, tenant):
    c = tenant["cirrus"]
    r = client.post("/oauth/token", data={"grant_type": "magic"}, headers=basic(c["client_id"], c["client_secret"]))
    assert r.status_code == 400
    assert r.json()["error"] == "unsupported_grant_type"


def test_token_endpoint_needs_grant_type(client, tenant):
    c = tenant["cirrus"]
    r = client.post("/oauth/token", data={}, headers=basic(c["client_id"], c["client_secret"]))
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"


def test_token_endpoint_accepts_credentials_in_the_body(client, tenant):
    c = tenant["cirrus"]
    r = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": c["client_id"],
                                          "client_secret": c["client_secret"]})
    assert r.status_code == 200


# -- routing ------------------------------------------------------------------------
def test_both_trailing_slash_forms_and_aliases_are_served(client, tenant):
    h = auth(tenant)
    assert client.get(url("/accounts/"), headers=h).status_code == 200
    assert client.get(url("/accounts"), headers=h).status_code == 200
    assert client.get(url("/accounts/accountgroups"), headers=h).status_code == 200
    assert client.get(url("/accounts/groups/"), headers=h).status_code == 200
    assert client.get(url("/accounts/types"), headers=h).json() == client.get(url("/accounts/accounttypes/"), headers=h).json()


def test_unknown_path_is_404(client, tenant):
    r = client.get(url("/nothing/here"), headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"message": NOT_FOUND}
    assert client.get(url("/accounts/abc"), headers=auth(tenant)).status_code == 404
    # An encoded newline in the path still gets the JSON envelope.
    for path in ("/objects/%0Af", "/%0A", "/accounts/1%0A"):
        r = client.get(url(path), headers=auth(tenant))
        assert (r.status_code, r.json()) == (404, {"message": NOT_FOUND}), path


def test_unlisted_method_is_405_with_allow(client, tenant):
    r = client.delete(url("/accounts/"), headers=auth(tenant))
    assert r.status_code == 405
    assert r.json() == {"message": "The method is not allowed for the requested URL."}
    assert r.headers["allow"] == "POST, GET, HEAD, OPTIONS"


def test_follow_accepts_post_and_put(client, tenant):
    account = new_account(client, tenant)
    body = {"key": account["id"], "userid": tenant["user_id"]}
    assert client.put(url("/accounts/follow"), json=body, headers=auth(tenant)).status_code == 200
    assert client.post(url("/accounts/unfollow"), json=body, headers=auth(tenant)).status_code == 200


# -- masks ----------------------------------------------------------------------------
def test_mask_on_an_item(client, tenant):
    account = new_account(client, tenant, addresses={"visiting": {"city": "Aarhus"}})
    r = client.get(url(f"/accounts/{account['id']}"),
                   headers={**auth(tenant), "X-Fields": "{id,name,addresses{visiting{city}},nosuch}"})
    assert r.json() == {"id": account["id"], "name": "Acme A/S", "addresses": {"visiting": {"city": "Aarhus"}}, "nosuch": None}


def test_mask_on_a_page(client, tenant):
    account = new_account(client, tenant)
    r = client.get(url("/accounts/"), headers={**auth(tenant), "X-Fields": "{total,items{id}}"})
    assert r.json() == {"total": 1, "items": [{"id": account["id"]}]}


@pytest.mark.parametrize("mask", ["{id", "{id,,name}", "id}", "{a{}}"])
def test_malformed_mask_is_400(client, tenant, mask):
    r = client.get(url("/accounts/"), headers={**auth(tenant), "X-Fields": mask})
    assert r.status_code == 400
    assert r.json()["message"].startswith("Mask parse error: ")


def test_mask_nesting_into_a_scalar_is_400(client, tenant):
    new_account(client, tenant)
    r = client.get(url("/accounts/"), headers={**auth(tenant), "X-Fields": "{items{id{x}}}"})
    assert r.status_code == 400
    assert r.json() == {"message": "Mask error: Mask is inconsistent with model"}


# -- paging and query validation -----------------------------------------------------------
def test_pagination_defaults_and_bounds(client, tenant):
    for i in range(12):
        new_account(client, tenant, name=f"Firm {i:02d}")
    h = auth(tenant)
    first = client.get(url("/accounts/"), headers=h).json()
    assert (first["page"], first["pages"], first["per_page"], first["total"], len(first["items"])) == (1, 2, 10, 12, 10)
    last = client.get(url("/accounts/?page=2"), headers=h).json()
    assert [a["name"] for a in last["items"]] == ["Firm 10", "Firm 11"]
    big = client.get(url("/accounts/?per_page=50"), headers=h).json()
    assert len(big["items"]) == 12


def test_page_past_the_end_is_400(client, tenant):
    new_account(client, tenant)
    r = client.get(url("/accounts/?page=3"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"page": "page 3 is out of range"}, "message": VALIDATION}


@pytest.mark.parametrize("query,errors", [
    ("per_page=51", {"per_page": "51 is greater than the maximum of 50"}),
    ("per_page=0", {"per_page": "0 is less than the minimum of 1"}),
    ("page=0", {"page": "0 is less than the minimum of 1"}),
    ("page=x", {"page": "invalid literal for int() with base 10: 'x'"}),
    ("active=3", {"active": "The value '3' is not a valid choice for 'active'."}),
    ("sorting=colour_asc", {"sorting": "The value 'colour_asc' is not a valid choice for 'sorting'."}),
    ("userids=1,x", {"userids": "invalid literal for int() with base 10: 'x'"}),
])
def test_bad_query_parameters_are_400(client, tenant, query, errors):
    r = client.get(url(f"/accounts/?{query}"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": errors, "message": VALIDATION}


@pytest.mark.parametrize("query,errors", [
    ("name=Ac%00me", {"name": "name must not contain a NUL character"}),
    ("page=1%00", {"page": "page must not contain a NUL character"}),
    ("dynamicfield_val=x&dynamicfield_val=%00", {"dynamicfield_val": "dynamicfield_val must not contain a NUL character"}),
])
def test_nul_in_a_query_parameter_is_400_naming_it(client, tenant, query, errors):
    r = client.get(url(f"/accounts/?{query}"), headers=auth(tenant))
    assert (r.status_code, r.json()) == (400, {"errors": errors, "message": VALIDATION})


@pytest.mark.parametrize("fields,errors", [
    ({"name": "Acme\x00 A/S"}, {"name": "name must not contain a NUL character"}),
    ({"addresses": {"visiting": {"street": "Main\x00St", "city": "Aarhus"}}},
     {"addresses.visiting.street": "addresses.visiting.street must not contain a NUL character"}),
    ({"name": "Acme\x00", "typeid": "x"},
     {"name": "name must not contain a NUL character", "typeid": "'x' is not of type 'integer'"}),
])
def test_nul_in_a_body_is_400_naming_the_field_and_nothing_is_written(client, tenant, fields, errors):
    account = new_account(client, tenant)
    body = {"name": "Acme A/S", "typeid": account["type"]["id"], "userid": tenant["user_id"], **fields}
    r = client.post(url("/accounts/"), json=body, headers=auth(tenant))
    assert (r.status_code, r.json()) == (400, {"errors": errors, "message": VALIDATION})
    r = client.put(url(f"/accounts/{account['id']}"), json=fields, headers=auth(tenant))
    assert r.status_code == 400 and r.json()["errors"].items() >= {
        k: v for k, v in errors.items() if k != "typeid"}.items()
    assert client.get(url("/accounts/"), headers=auth(tenant)).json()["total"] == 1


def test_nul_in_a_free_object_is_400_keys_included_and_an_unknown_field_is_ignored(client, tenant):
    h = auth(tenant)
    r = client.put(url("/users/me"), json={"lastactive": {"at": "x\x00", "b\x00": 1}}, headers=h)
    assert (r.status_code, r.json()) == (400, {"errors": {
        "lastactive.at": "lastactive.at must not contain a NUL character",
        "lastactive.b\x00": "the key 'b\\x00' must not contain a NUL character"}, "message": VALIDATION})
    r = client.put(url("/users/me"), json={"phone": "1", "unknown\x00": "x\x00"}, headers=h)
    assert r.status_code == 200 and r.json()["phone"] == "1"


def test_text_errors_name_lone_surrogates_too():
    """orjson already refuses a lone surrogate in a body (400 "not valid JSON") and a query
    string decodes one as U+FFFD, so this is the rule itself."""
    from polycrm.faces.cirrus import wire

    assert wire.text_errors({"a": ["ok", "x\ud800"], "b\udc00": 1, "c": {"d": "\x00"}}) == {
        "a.1": "a.1 must be valid Unicode text (it holds a lone surrogate)",
        "b\\udc00": "the key 'b\\udc00' must be valid Unicode text (it holds a lone surrogate)",
        "c.d": "c.d must not contain a NUL character",
    }
    assert wire.text_errors("\x00") == {"payload": "payload must not contain a NUL character"}
    assert wire.text_errors({"fine": ["text", 1, None, {"k": "v"}]}) == {}


def test_invalid_json_body_is_400(client, tenant):
    r = client.post(url("/accounts/"), content=b"{nope", headers={**auth(tenant), "Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json() == {"message": "Failed to decode JSON object: the request body is not valid JSON"}


def test_swagger_lists_every_served_operation(client):
    from polycrm.faces.cirrus.groups import served_operations
    from polycrm.faces.cirrus.operations import all_paths, methods

    doc = client.get(url("/swagger.json")).json()
    assert doc["openapi"].startswith("3.0")
    for operation in served_operations():
        for path in all_paths(operation.op):
            for method in methods(operation.op):
                assert method.lower() in doc["paths"][path], (path, method)


def test_every_bound_operation_handles_all_its_parameters():
    """Each documented query parameter and body field of a served operation is used."""
    from polycrm.faces.cirrus.groups import served_operations
    from polycrm.faces.cirrus.entity import GENERIC_FILTERS, PAGING

    for operation in served_operations():
        binding = operation.binding
        entity = binding.entity
        known = set(PAGING) | set(GENERIC_FILTERS) | set(binding.handles)
        if entity is not None:
            known |= set(entity.filters) | set(entity.combined_params)
        for param in operation.params:
            assert param.name in known, (operation.operation_id, param.name)
        if binding.handler.__qualname__.startswith(("creating", "updating")):
            for f in operation.op.get("body_fields", []):
                assert f["name"] in entity.writers, (operation.operation_id, f["name"])


def test_binding_tables_are_keyed_by_operation_id():
    """Every operation of the table is bound once, by its operationId; a stray name is refused."""
    from polycrm.faces.cirrus.groups import bindings
    from polycrm.faces.cirrus.operations import BY_ID, TABLE, resolve

    table = bindings()
    assert set(table) == set(BY_ID)
    assert len(BY_ID) == len(TABLE)
    assert [o.operation_id for o in resolve(table)] == [op["operationId"] for op in TABLE]
    with pytest.raises(ValueError, match="unknown operationIds bound: \\['post_acount_collection'\\]"):
        resolve({**table, "post_acount_collection": table["post_account_collection"]})
    with pytest.raises(ValueError, match="operations without a binding: \\['get_account_item'\\]"):
        resolve({name: b for name, b in table.items() if name != "get_account_item"})
