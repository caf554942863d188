"""One rule matrix: the same invalid input through each API and the web form.

Each face refuses it in its own format - a Microbizz command error inside an
OK envelope, a Cirrus 400 (or 404 for an unknown reference) with the
Flask-RESTX body naming the field, a centiaCRM ``success: false`` envelope, the
web form page re-rendered with the error linked to the field - and nothing is
written: the records are counted through the Cirrus listing afterwards.

The rules are the core's (``polycrm/core/limits.py`` and the write services);
where the core's wording is not pinned down yet, the test asserts the face's
exact envelope and that the message names the face's own field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from polycrm.core import lookups
from polycrm.core.limits import LONG_TEXT_MAX
from polycrm.core.models import Customer
from polycrm.core.workspace import Workspace
from polycrm.faces.cirrus.endpoint import BAD_JSON
from tests.centia.helpers import Centia
from tests.cirrus.helpers import VALIDATION, auth, url
from tests.cross_api.helpers import Web
from tests.microbizz.helpers import ENDPOINT, MB, assert_envelope_failure, assert_stamped, credentials

HUGE_ID = 99999999999999999999  # beyond any id column (and beyond 64 bits)
LONG_TEXT = "x" * 70_000
assert len(LONG_TEXT) > LONG_TEXT_MAX
NUL_NAME = "Acme\x00 A/S"
DUPLICATE = "DUP-7"


@dataclass
class Case:
    """What one face is sent for one rule, and which wire field it must name."""

    fields: dict[str, Any]  # core-level intent: name, description, type_id, number
    entity: str = "customer"  # what is counted afterwards: customer or product


@dataclass
class World:
    """One tenant, as each face sees it, plus what the cases refer to."""

    client: Any
    app: Any
    tenant: dict
    type_id: int
    industry_id: int
    other_tenant_type_id: int

    def cirrus_total(self, collection: str) -> int:
        r = self.client.get(url(f"/{collection}/"), headers=auth(self.tenant))
        assert r.status_code == 200, r.text
        return r.json()["total"]

    def count(self, entity: str) -> int:
        return self.cirrus_total({"customer": "accounts", "product": "articles"}[entity])


@pytest.fixture
def world(app, client, runtime, tenant, other_tenant) -> World:
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        type_id = lookups.items(ws, "customer_type", tenant["profile_id"])[0].id
        industry_id = lookups.items(ws, "industry", tenant["profile_id"])[0].id
    with Workspace(runtime.db, other_tenant["tenant_id"]) as ws:
        other_type_id = lookups.items(ws, "customer_type", other_tenant["profile_id"])[-1].id
    return World(client, app, tenant, type_id, industry_id, other_type_id)


def add_customer(runtime, tenant: dict, **values: Any) -> int:
    """A live customer made through the core (the one a duplicate number collides with)."""
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        return ws.create(Customer, name="Existing", profile_id=tenant["profile_id"], **values).id


# -- raw JSON: a lone surrogate cannot be encoded by an ordinary JSON encoder -----------------
def raw_json(value: Any) -> str:
    """JSON text with non-ASCII as \\u escapes, so ``"\\ud800"`` reaches the server as written."""
    return json.dumps(value, ensure_ascii=True)


# -- the faces ---------------------------------------------------------------------------------
MICROBIZZ_WIRE = {"name": "name", "description": "description", "type_id": "typeid", "number": "customernumber"}
CIRRUS_WIRE = {"name": "name", "description": "info", "type_id": "typeid", "number": "number"}
CENTIA_WIRE = {"name": "name", "description": "description", "type_id": "type_id", "number": "client_number"}
WEB_WIRE = {"name": "name", "description": "description", "type_id": "type", "number": "number"}


def microbizz_write(world: World, case: Case) -> dict:
    """One CreateUpdateCustomerByID; the command's result (the envelope must be OK)."""
    customer = {"id": 0, "name": "Valid Name", **{MICROBIZZ_WIRE[k]: v for k, v in case.fields.items()}}
    envelope = {**credentials(world.tenant), "remoteagent": "polycrm tests",
                "commands": [{"command": "CreateUpdateCustomerByID", "customer": customer}]}
    r = world.client.post(ENDPOINT, data={"json": raw_json(envelope)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert_stamped(body)
    assert (body["status"], body["msg"], len(body["results"])) == (1, "OK", 1), body
    return body["results"][0]


def cirrus_write(world: World, case: Case):
    body = {"name": "Valid Name", "typeid": world.type_id, "userid": world.tenant["user_id"],
            **{CIRRUS_WIRE[k]: v for k, v in case.fields.items()}}
    return world.client.post(url("/accounts/"), content=raw_json(body),
                             headers={**auth(world.tenant), "Content-Type": "application/json"})


def centia_write(world: World, case: Case):
    api = Centia(world.client, world.tenant)
    if case.entity == "product":
        params = {"profile_id": api.profile_id, "name": "Valid Name", "value": 1,
                  **{CENTIA_WIRE[k]: v for k, v in case.fields.items()}}
        body = {"method": "CreateProduct", "parameters": params}
        module = "products"
    else:
        params = {"profile_id": api.profile_id, "name": "Valid Name", "type_id": world.type_id,
                  "industry_id": world.industry_id, **{CENTIA_WIRE[k]: v for k, v in case.fields.items()}}
        body = {"method": "CreateCompany", "parameters": params}
        module = "companies"
    return world.client.post(f"/api/v1/{module}", content=raw_json(body),
                             headers={**api.headers, "Content-Type": "application/json"})


def web_write(world: World, case: Case):
    form = {"name": "Valid Name", "type": str(world.type_id), "owner": str(world.tenant["user_id"]), "active": "1"}
    for key, value in case.fields.items():
        form[WEB_WIRE[key]] = str(value)
    return Web(world.app, world.tenant).post_form("/customers/new", form)


# -- the refusals, one format per face ---------------------------------------------------------
def microbizz_refused(world: World, result: dict, field: str, msg: str | re.Pattern) -> None:
    assert set(result) == {"status", "msg"} and result["status"] == 0, result
    if isinstance(msg, re.Pattern):
        assert msg.search(result["msg"]), result["msg"]
    else:
        assert result["msg"] == msg


def cirrus_refused(world: World, r, field: str, msg: str | re.Pattern | None, status: int = 400) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body["errors"]) == {field}, body
    if status == 400:
        assert body["message"] == VALIDATION
    else:  # a not-found names the missing record in the message and under the field
        assert body["message"] == body["errors"][field]
    if isinstance(msg, re.Pattern):
        assert msg.search(body["errors"][field]), body
    elif msg is not None:
        assert body["errors"][field] == msg


def centia_refused(world: World, r, msg: str | re.Pattern) -> None:
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"success", "response", "error"} and body["success"] is False and body["response"] == []
    if isinstance(msg, re.Pattern):
        assert msg.search(body["error"]), body
    else:
        assert body["error"] == msg


def web_refused(world: World, r, field: str, msg: str | re.Pattern | None) -> None:
    """The form again, status 400, the error listed and linked to the field's input."""
    assert r.status_code == 400, r.text
    assert 'action="/customers/new"' in r.text and 'name="csrf_token"' in r.text
    errors = dict(re.findall(r'<li><a href="#f-([a-z_]+)">(.*?)</a></li>', r.text))
    assert field in errors, errors
    if isinstance(msg, re.Pattern):
        assert msg.search(errors[field]), errors
    elif msg is not None:
        assert errors[field] == msg


def names(field: str) -> re.Pattern:
    """A message naming the field (the core's wording may vary around it)."""
    return re.compile(re.escape(field), re.IGNORECASE)


# -- the matrix ----------------------------------------------------------------------------------
def case_empty_name(face: str, world: World, runtime) -> None:
    case = Case({"name": "   "})
    if face == "microbizz":
        microbizz_refused(world, microbizz_write(world, case), "name", "Invalid value for customer.name: must not be empty")
    elif face == "cirrus":
        # The body schema's pattern refuses it before the writer's "This field can not be empty".
        cirrus_refused(world, cirrus_write(world, case), "name", None)
    elif face == "centia":
        centia_refused(world, centia_write(world, case), "missing required parameter: name")
    else:
        web_refused(world, web_write(world, case), "name", "Name is required.")
    assert world.count("customer") == 0


def case_long_text(face: str, world: World, runtime) -> None:
    # centiaCRM companies have no long text; its products' description is the long text it writes.
    case = Case({"description": LONG_TEXT}, "product" if face == "centia" else "customer")
    if face == "microbizz":
        microbizz_refused(world, microbizz_write(world, case), "description", names("description"))
    elif face == "cirrus":
        # The body schema carries the core limit as maxLength: refused as "... is too long".
        cirrus_refused(world, cirrus_write(world, case), "info", re.compile("is too long$"))
    elif face == "centia":
        centia_refused(world, centia_write(world, case), re.compile(r"description.*65536"))
    else:  # the form's own, shorter limit for the field speaks first
        web_refused(world, web_write(world, case), "description", "Description can be at most 10000 characters.")
    assert world.count(case.entity) == 0


def case_nul_in_name(face: str, world: World, runtime) -> None:
    case = Case({"name": NUL_NAME})
    if face == "microbizz":
        microbizz_refused(world, microbizz_write(world, case), "name", re.compile(r"name.*NUL"))
    elif face == "cirrus":
        cirrus_refused(world, cirrus_write(world, case), "name", re.compile("NUL"))
    elif face == "centia":
        centia_refused(world, centia_write(world, case), re.compile(r"name.*NUL"))
    else:
        web_refused(world, web_write(world, case), "name", re.compile("NUL"))
    assert world.count("customer") == 0


def case_lone_surrogate_in_name(face: str, world: World, runtime) -> None:
    case = Case({"name": "Acme \ud800"})
    if face == "microbizz":
        # Like the vendor's PHP json_decode, the envelope parser refuses an unpaired surrogate:
        # the whole envelope fails, in the envelope's own failure format.
        r = world.client.post(ENDPOINT, data={"json": raw_json({
            **credentials(world.tenant), "commands": [
                {"command": "CreateUpdateCustomerByID", "customer": {"id": 0, "name": case.fields["name"]}}]})})
        assert_envelope_failure(r.json(), "Invalid request: the json parameter is not valid JSON: "
                                "it holds a lone UTF-16 surrogate (\\ud800-\\udfff not in a pair)")
    elif face == "cirrus":
        r = cirrus_write(world, case)
        assert (r.status_code, r.json()) == (
            400, {"message": BAD_JSON + ": it holds a lone UTF-16 surrogate (\\ud800-\\udfff not in a pair)"})
    elif face == "centia":
        centia_refused(world, centia_write(world, case), re.compile(r"name.*surrogate"))
    else:
        # A form cannot carry a lone surrogate: browsers send U+FFFD for one, and the invalid
        # bytes of one (ED A0 80) decode as U+FFFD too. The customer is saved with valid text.
        web = Web(world.app, world.tenant)
        body = (f"csrf_token={web.csrf('/customers/new')}&name=Acme+%ED%A0%80&type={world.type_id}"
                f"&owner={world.tenant['user_id']}&active=1")
        r = web.client.post("/customers/new", content=body,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 303, r.text
        listed = world.client.get(url("/accounts/"), headers=auth(world.tenant)).json()["items"]
        assert [a["name"] for a in listed] == ["Acme \ufffd\ufffd\ufffd"]
        return
    assert world.count("customer") == 0


def case_huge_id_in_path(face: str, world: World, runtime) -> None:
    if face == "microbizz":
        # Microbizz answers an unknown id with an empty list, as for any id it does not know.
        assert MB(world.client, world.tenant).run("GetCustomerByID", customerid=HUGE_ID) == {
            "status": 1, "customers": []}
    elif face == "cirrus":
        # The router's id pattern does not match an id beyond 64 bits: its plain 404.
        r = world.client.get(url(f"/accounts/{HUGE_ID}"), headers=auth(world.tenant))
        assert r.status_code == 404 and set(r.json()) == {"message"}, r.text
    elif face == "centia":
        api = Centia(world.client, world.tenant)
        assert api.error("companies", "GetCompany", search_by="id", search_value=str(HUGE_ID)) == {
            "success": False, "response": [], "error": "company not found"}
    else:
        r = Web(world.app, world.tenant).client.get(f"/customers/{HUGE_ID}")
        assert r.status_code == 404, r.text
        assert "Not found" in r.text


def case_huge_id_as_reference(face: str, world: World, runtime) -> None:
    case = Case({"type_id": HUGE_ID})
    if face == "microbizz":
        # The core's value limits refuse an id beyond the column before looking it up.
        microbizz_refused(world, microbizz_write(world, case), "typeid",
                          re.compile(r"^Invalid value for customer\.typeid: must be between -\d+ and \d+$"))
    elif face == "cirrus":
        # Beyond 64 bits the body's number is no longer an integer: the schema refuses it.
        cirrus_refused(world, cirrus_write(world, case), "typeid", re.compile("is not of type 'integer'$"))
    elif face == "centia":
        centia_refused(world, centia_write(world, case), "invalid value for type_id: out of range")
    else:
        web_refused(world, web_write(world, case), "type", "The chosen type does not exist; choose one from the list.")
    assert world.count("customer") == 0


def case_duplicate_number(face: str, world: World, runtime) -> None:
    # The number of another live customer of the tenant, compared trimmed and case-insensitively.
    add_customer(runtime, world.tenant, number=DUPLICATE)
    case = Case({"number": f"  {DUPLICATE.lower()} "})
    taken = re.compile(r"already used", re.IGNORECASE)
    if face == "microbizz":
        microbizz_refused(world, microbizz_write(world, case), "customernumber",
                          re.compile(r"customernumber.*already used", re.IGNORECASE))
    elif face == "cirrus":
        cirrus_refused(world, cirrus_write(world, case), "number", taken)
    elif face == "centia":
        centia_refused(world, centia_write(world, case), re.compile(r"client_number.*already used", re.IGNORECASE))
    else:
        web_refused(world, web_write(world, case), "number", taken)
    assert world.count("customer") == 1


def case_other_tenants_reference(face: str, world: World, runtime) -> None:
    other = world.other_tenant_type_id
    case = Case({"type_id": other})
    if face == "microbizz":
        microbizz_refused(world, microbizz_write(world, case), "typeid",
                          f"Invalid value for customer.typeid: {other} not found")
    elif face == "cirrus":
        cirrus_refused(world, cirrus_write(world, case), "typeid", f"Account type {other} not found", 404)
    elif face == "centia":
        centia_refused(world, centia_write(world, case),
                       f"invalid value for type_id: {other} is not one of this profile's entries")
    else:
        web_refused(world, web_write(world, case), "type", "The chosen type does not exist; choose one from the list.")
    assert world.count("customer") == 0


CASES: dict[str, Callable[[str, World, Any], None]] = {
    "empty-name": case_empty_name,
    "long-text": case_long_text,
    "nul-in-name": case_nul_in_name,
    "lone-surrogate-in-name": case_lone_surrogate_in_name,
    "huge-id-in-path": case_huge_id_in_path,
    "huge-id-as-reference": case_huge_id_as_reference,
    "duplicate-customer-number": case_duplicate_number,
    "other-tenants-reference": case_other_tenants_reference,
}
FACES = ("microbizz", "cirrus", "centia", "web")


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("face", FACES)
def test_invalid_input_is_refused_in_the_faces_format_and_nothing_is_written(face, case, world, runtime):
    CASES[case](face, world, runtime)
