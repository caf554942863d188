"""centiaCRM face: lookup lists, inputs, companies, contacts, products, opportunities, tickets."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.centia.helpers import Centia, add_profile, fail, lookup_ids
from sqlalchemy import select

from polycrm.core import custom_fields
from polycrm.core.models import Activity, Customer, Opportunity, OpportunityLine, User
from polycrm.core.workspace import Workspace

SHIPPING = {
    "country": "MX", "state": "JAL", "street": "Av. Juárez", "number": "120", "interior_number": "4B",
    "zip": "44100", "suburb": "Centro", "city": "Guadalajara", "latitude": "20.67", "longitude": "-103.35",
}
BILLING = {"country": "mx", "state": "Ciudad de México", "street": "Reforma", "number": "1", "zip": "06600", "city": "CDMX"}


@pytest.fixture
def api(client, tenant) -> Centia:
    return Centia(client, tenant)


def define(runtime, tenant, entity, name, **kw):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        return custom_fields.define(ws, entity, name, **kw).id


# -- lookup lists --------------------------------------------------------------------
LISTS = [
    ("companies", "GetTypes", "types", "Customer"),
    ("companies", "GetIndustries", "industries", "Retail"),
    ("contacts", "GetOrigins", "origins", "Website"),
    ("contacts", "GetTitles", "titles", "Mr."),
    ("contacts", "GetDepartments", "departments", "Sales"),
    ("contacts", "GetPositions", "positions", "Chief executive"),
    ("products", "GetCategories", "categories", "General"),
    ("products", "GetValidities", "validities", "One-time"),
    ("products", "GetDiscounts", "discounts", "None"),
    ("products", "GetMeasures", "measures", "pcs"),
    ("products", "GetTaxes", "taxes", "VAT 25%"),
    ("tickets", "GetOrigins", "origins", "Phone"),
    ("tickets", "GetCases", "cases", "Question"),
    ("tickets", "GetPriorities", "priorities", "Low"),
]


@pytest.mark.parametrize("module,method,key,first", LISTS)
def test_lookup_lists(api, module, method, key, first):
    items = api.call(module, method)[key]
    assert items[0]["name"] == first
    assert {"id", "name", "order", "is_default"} <= set(items[0])
    assert api.error(module, method, profile_id=123456) == fail("profile not found or not accessible")


def test_discounts_and_taxes_carry_their_value(api):
    assert [t["value"] for t in api.call("products", "GetTaxes")["taxes"]] == [0.25, 0.16, 0.0]
    assert [d["value"] for d in api.call("products", "GetDiscounts")["discounts"]] == [0, 0.05, 0.10]


# -- inputs --------------------------------------------------------------------------
@pytest.mark.parametrize("module,entity", [("companies", "customer"), ("contacts", "contact"), ("products", "product"), ("opportunities", "opportunity")])
def test_get_inputs(api, runtime, tenant, module, entity):
    assert api.call(module, "GetInputs") == {"inputs": []}
    field_id = define(runtime, tenant, entity, "Sales region", field_type="select", options=["North", "South"], required=True)
    define(runtime, tenant, "ticket", "Other entity")
    assert api.call(module, "GetInputs")["inputs"] == [
        {"id": field_id, "name": "Sales region", "slug": "sales_region", "type": "select",
         "options": ["North", "South"], "required": True, "order": 0}
    ]


def test_inputs_of_another_profile_are_not_shown(api, runtime, tenant):
    second = add_profile(runtime, tenant)
    define(runtime, tenant, "product", "Colour", profile_id=second)
    assert api.call("products", "GetInputs") == {"inputs": []}
    assert [i["slug"] for i in api.call("products", "GetInputs", profile_id=second)["inputs"]] == ["colour"]


# -- companies -----------------------------------------------------------------------
def test_create_company_and_read_it_back(api):
    company = api.company(name="Acme de México", website="acme.mx", phone="+52 33 1234", billing_name="Acme SA de CV",
                          rfc="ACM010101AB1", shipping_address=SHIPPING, billing_address=BILLING)
    assert company["name"] == "Acme de México"
    assert company["rfc"] == "ACM010101AB1"
    assert company["website"] == "acme.mx"
    assert company["profile_id"] == api.profile_id
    assert company["client_number"] == "1"
    assert company["shipping_address"] == {**SHIPPING, "latitude": "20.67", "longitude": "-103.35"}
    assert company["billing_address"]["state"] == "CMX"
    assert company["billing_address"]["country"] == "MX"
    assert company["billing_address"]["suburb"] is None
    assert company["contacts"] == [] and company["inputs"] == {}
    by_id = api.call("companies", "GetCompany", search_by="id", search_value=str(company["id"]))["company"]
    by_number = api.call("companies", "GetCompany", search_by="client_number", search_value="1")["company"]
    assert by_id == by_number == company


def test_client_numbers_are_assigned_in_sequence_unless_given(api):
    assert api.company(name="A")["client_number"] == "1"
    assert api.company(name="B", client_number="500")["client_number"] == "500"
    assert api.company(name="C")["client_number"] == "501"


def test_a_client_number_in_use_is_refused(api):
    api.company(name="A", client_number="77")
    assert api.error("companies", "CreateCompany", name="B", type_id=api.first("companies", "GetTypes", "types"),
                     industry_id=api.first("companies", "GetIndustries", "industries"), client_number="77") == fail(
        "client_number 77 is already used"
    )


def test_a_client_number_clashes_ignoring_case_with_any_api(api, client, tenant):
    from tests.microbizz.helpers import MB

    MB(client, tenant).customer(name="From Microbizz", customernumber="MB-9")
    assert api.error("companies", "CreateCompany", name="B", type_id=api.first("companies", "GetTypes", "types"),
                     industry_id=api.first("companies", "GetIndustries", "industries"), client_number="mb-9") == fail(
        "client_number mb-9 is already used"
    )


def test_create_company_stores_the_shipping_address_as_the_main_address(api, runtime, tenant):
    company = api.company(shipping_address=SHIPPING, billing_address=BILLING)
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        customer = ws.get(Customer, company["id"])
        assert customer.addresses["visiting"]["street"] == "Av. Juárez"
        assert (customer.latitude, customer.longitude) == (20.67, -103.35)
        assert "delivery" not in customer.addresses
        assert customer.addresses["invoice"]["zip"] == "06600"
        assert "rfc" not in customer.extra
        assert customer.number == "1"


@pytest.mark.parametrize(
    "change,message",
    [
        ({"name": None}, "missing required parameter: name"),
        ({"name": "  "}, "missing required parameter: name"),
        ({"type_id": None}, "missing required parameter: type_id"),
        ({"type_id": 999999}, "invalid value for type_id: 999999 is not one of this profile's entries"),
        ({"industry_id": "x"}, "invalid value for industry_id: must be an integer"),
        ({"shipping_address": {**SHIPPING, "zip": ""}}, "missing required parameter: shipping_address.zip"),
        ({"shipping_address": {**SHIPPING, "country": "XX"}}, "invalid value for shipping_address.country: unknown country code 'XX'"),
        ({"billing_address": {**BILLING, "state": "Texas"}}, "invalid value for billing_address.state: unknown state 'Texas' of MX"),
        ({"shipping_address": "Main street 1"}, "invalid value for shipping_address: must be an object"),
    ],
)
def test_create_company_errors(api, runtime, tenant, change, message):
    params = {"name": "Acme", "type_id": api.first("companies", "GetTypes", "types"),
              "industry_id": api.first("companies", "GetIndustries", "industries"), **change}
    params = {k: v for k, v in params.items() if v is not None}
    assert api.error("companies", "CreateCompany", **params) == fail(message)
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert ws.count(select(Customer.id)) == 0


def test_create_company_with_inputs(api, runtime, tenant):
    define(runtime, tenant, "customer", "Employees", field_type="number")
    company = api.company(inputs={"employees": "250"})
    assert company["inputs"] == {"employees": 250}
    assert api.error("companies", "CreateCompany", name="X", type_id=company["type_id"], industry_id=company["industry_id"],
                     inputs={"employees": "many"}) == fail("invalid value for employees: 'many'")
    assert api.error("companies", "CreateCompany", name="X", type_id=company["type_id"], industry_id=company["industry_id"],
                     inputs={"nope": 1}) == fail("unknown input: nope")


def test_a_required_input_must_be_given_on_create(api, runtime, tenant):
    define(runtime, tenant, "customer", "Segment", required=True)
    types = api.first("companies", "GetTypes", "types")
    industries = api.first("companies", "GetIndustries", "industries")
    assert api.error("companies", "CreateCompany", name="X", type_id=types, industry_id=industries) == fail(
        "missing required input: segment"
    )
    assert api.company(inputs={"segment": "SMB"})["inputs"] == {"segment": "SMB"}


def test_get_company_errors(api):
    api.company()
    assert api.error("companies", "GetCompany", search_by="id", search_value="999999") == fail("company not found")
    assert api.error("companies", "GetCompany", search_by="client_number", search_value="nope") == fail("company not found")
    assert api.error("companies", "GetCompany", search_by="name", search_value="Acme") == fail(
        "invalid value for search_by: must be one of 'id', 'client_number'"
    )
    assert api.error("companies", "GetCompany", search_by="id") == fail("missing required parameter: search_value")


def test_get_companies_filters_and_pages(api):
    types = [t["id"] for t in api.call("companies", "GetTypes")["types"]]
    industries = [i["id"] for i in api.call("companies", "GetIndustries")["industries"]]
    api.company(name="Alpha Tools", type_id=types[0], industry_id=industries[0], rfc="AAA")
    api.company(name="Beta Foods", type_id=types[1], industry_id=industries[1], billing_name="Beta Alimentos")
    api.company(name="Gamma Tools", type_id=types[1], industry_id=industries[0])

    def names(**params):
        return [c["name"] for c in api.call("companies", "GetCompanies", **params)["companies"]]

    assert names() == ["Alpha Tools", "Beta Foods", "Gamma Tools"]
    assert names(company_type=[types[1]]) == ["Beta Foods", "Gamma Tools"]
    assert names(company_industry=[industries[0]], company_type=[types[1]]) == ["Gamma Tools"]
    assert names(query="TOOLS") == ["Alpha Tools", "Gamma Tools"]
    assert names(query="alimentos") == ["Beta Foods"]
    assert names(query="aaa") == ["Alpha Tools"]
    assert names(query="%") == [] and names(query="_") == []
    assert names(created_at={"from": "01/01/20", "to": "31/12/60"}) == ["Alpha Tools", "Beta Foods", "Gamma Tools"]
    assert names(created_at={"to": "01/01/2001"}) == []
    page = api.call("companies", "GetCompanies", pagination=2, page=2)
    assert (page["total"], page["current_page"], page["last_page"]) == (3, 2, 2)
    assert [c["name"] for c in page["companies"]] == ["Gamma Tools"]
    first = api.call("companies", "GetCompanies")["companies"][0]
    assert first["shipping_address"] is None and first["contacts"] is None and first["inputs"] is None


def test_get_companies_with_contacts_addresses_and_inputs(api, runtime, tenant):
    define(runtime, tenant, "customer", "Segment")
    company = api.company(shipping_address=SHIPPING, inputs={"segment": "SMB"})
    api.contact(company["id"], email="ana@acme.mx")
    listed = api.call("companies", "GetCompanies", with_contacts=True, with_addresses="true", with_inputs=1)["companies"][0]
    assert listed["shipping_address"]["city"] == "Guadalajara"
    assert [c["email"] for c in listed["contacts"]] == ["ana@acme.mx"]
    assert listed["inputs"] == {"segment": "SMB"}


def test_get_companies_errors(api):
    assert api.error("companies", "GetCompanies", created_at={"from": "2024/01/31"}) == fail(
        "invalid value for created_at.from: expected a date in the format DD/MM/YY"
    )
    assert api.error("companies", "GetCompanies", company_type=["a"]) == fail("invalid value for company_type[0]: must be an integer")
    assert api.error("companies", "GetCompanies", pagination=0) == fail("invalid value for pagination: must be between 1 and 5000")
    assert api.error("companies", "GetCompanies", with_contacts="maybe") == fail("invalid value for with_contacts: must be true or false")


def test_companies_are_scoped_to_the_profile(api, runtime, tenant):
    second = add_profile(runtime, tenant)
    api.company(name="Main one")
    other_type = lookup_ids(runtime, tenant, "customer_type", second)[0]
    other_industry = lookup_ids(runtime, tenant, "industry", second)[0]
    theirs = api.call("companies", "CreateCompany", profile_id=second, name="Second one", type_id=other_type,
                      industry_id=other_industry)["company"]
    assert [c["name"] for c in api.call("companies", "GetCompanies")["companies"]] == ["Main one"]
    assert [c["name"] for c in api.call("companies", "GetCompanies", profile_id=second)["companies"]] == ["Second one"]
    assert api.error("companies", "GetCompany", search_by="id", search_value=str(theirs["id"])) == fail("company not found")
    # A list entry of the second profile is not a valid type in the first.
    assert api.error("companies", "CreateCompany", name="X", type_id=other_type,
                     industry_id=api.first("companies", "GetIndustries", "industries")) == fail(
        f"invalid value for type_id: {other_type} is not one of this profile's entries"
    )


def test_companies_are_scoped_to_the_tenant(api, client, other_tenant):
    mine = api.company(name="Mine")
    other = Centia(client, other_tenant)
    assert other.call("companies", "GetCompanies")["total"] == 0
    assert other.error("companies", "GetCompany", search_by="id", search_value=str(mine["id"])) == fail("company not found")
    assert other.error("companies", "GetCompanies", profile_id=api.profile_id) == fail("profile not found or not accessible")


# -- contacts ------------------------------------------------------------------------
def test_create_contact_and_read_it_back(api, runtime, tenant):
    company = api.company()
    titles = api.first("contacts", "GetTitles", "titles")
    positions = api.first("contacts", "GetPositions", "positions")
    departments = api.first("contacts", "GetDepartments", "departments")
    assistant = {"name": "Luis", "surname": "Pérez", "email": "luis@acme.mx"}
    contact = api.contact(
        company["id"], mother_surname="García", title_id=titles, position_id=positions, department_id=departments,
        phone_office="+52 33 1", phone_office_extension="12", phone_mobile="+52 1 33", phone_other="555",
        email="Ana@Acme.mx", skype="ana.skype", linkedin="in/ana", twitter="@ana",
        shipping_address=SHIPPING, billing_address=BILLING, assistant=assistant,
    )
    assert contact["company_id"] == company["id"]
    assert (contact["title_id"], contact["position_id"], contact["department_id"]) == (titles, positions, departments)
    assert (contact["phone_office"], contact["phone_office_extension"], contact["phone_mobile"]) == ("+52 33 1", "12", "+52 1 33")
    assert (contact["skype"], contact["linkedin"], contact["twitter"]) == ("ana.skype", "in/ana", "@ana")
    assert contact["assistant"] == {**dict.fromkeys(("mother_surname", "phone_office", "phone_office_extension", "skype", "linkedin")), **assistant}
    assert contact["shipping_address"]["city"] == "Guadalajara"
    assert contact["billing_address"]["zip"] == "06600"
    by_id = api.call("contacts", "GetContact", search_by="id", search_value=str(contact["id"]))["contact"]
    by_email = api.call("contacts", "GetContact", search_by="email", search_value="ana@ACME.mx", company_id=company["id"])["contact"]
    assert by_id == by_email == contact
    assert [c["id"] for c in api.call("companies", "GetCompany", search_by="id", search_value=str(company["id"]))["company"]["contacts"]] == [contact["id"]]


@pytest.mark.parametrize(
    "change,message",
    [
        ({"company_id": None}, "missing required parameter: company_id"),
        ({"company_id": 999999}, "invalid value for company_id: company 999999 not found in this profile"),
        ({"surname": None}, "missing required parameter: surname"),
        ({"origin_id": None}, "missing required parameter: origin_id"),
        ({"title_id": 999999}, "invalid value for title_id: 999999 is not one of this profile's entries"),
        ({"assistant": {"name": "Luis"}}, "missing required parameter: assistant.surname"),
    ],
)
def test_create_contact_errors(api, change, message):
    company = api.company()
    params = {"company_id": company["id"], "name": "Ana", "surname": "L",
              "origin_id": api.first("contacts", "GetOrigins", "origins"), **change}
    assert api.error("contacts", "CreateContact", **{k: v for k, v in params.items() if v is not None}) == fail(message)
    assert api.call("contacts", "GetContacts")["total"] == 0


def test_get_contact_errors(api):
    company = api.company()
    other = api.company(name="Other")
    contact = api.contact(company["id"], email="ana@acme.mx")
    assert api.error("contacts", "GetContact", search_by="id", search_value="999999") == fail("contact not found")
    assert api.error("contacts", "GetContact", search_by="email", search_value="nobody@acme.mx") == fail("contact not found")
    assert api.error("contacts", "GetContact", search_by="id", search_value=str(contact["id"]), company_id=other["id"]) == fail(
        "contact not found"
    )
    assert api.error("contacts", "GetContact", search_by="phone", search_value="1") == fail(
        "invalid value for search_by: must be one of 'id', 'email'"
    )


def test_get_contacts_filters(api):
    origins = [o["id"] for o in api.call("contacts", "GetOrigins")["origins"]]
    titles = [t["id"] for t in api.call("contacts", "GetTitles")["titles"]]
    acme, beta = api.company(name="Acme"), api.company(name="Beta")
    api.contact(acme["id"], name="Ana", origin_id=origins[0], title_id=titles[0])
    api.contact(acme["id"], name="Berta", origin_id=origins[1], shipping_address=SHIPPING)
    api.contact(beta["id"], name="Carla", origin_id=origins[1], title_id=titles[1], email="carla@beta.mx")

    def names(**params):
        return [c["name"] for c in api.call("contacts", "GetContacts", **params)["contacts"]]

    assert names() == ["Ana", "Berta", "Carla"]
    assert names(company_id=acme["id"]) == ["Ana", "Berta"]
    assert names(origin_id=[origins[1]]) == ["Berta", "Carla"]
    assert names(title_id=[titles[0], titles[1]]) == ["Ana", "Carla"]
    assert names(query="BETA.MX") == ["Carla"]
    assert names(created_at={"from": "01/01/2000"}) == ["Ana", "Berta", "Carla"]
    listed = api.call("contacts", "GetContacts", with_addresses=True, query="berta")["contacts"][0]
    assert listed["shipping_address"]["city"] == "Guadalajara"
    assert api.error("contacts", "GetContacts", created_at={"to": "31-12-2024"}) == fail(
        "invalid value for created_at.to: expected a date in the format DD/MM/YY"
    )


# -- products ------------------------------------------------------------------------
def test_create_and_edit_product(api, runtime, tenant):
    define(runtime, tenant, "product", "Colour", field_type="select", options=["red", "blue"])
    define(runtime, tenant, "product", "Weight", field_type="number")
    taxes = [t["id"] for t in api.call("products", "GetTaxes")["taxes"]]
    measure = api.first("products", "GetMeasures", "measures")
    category = api.first("products", "GetCategories", "categories")
    validity = api.first("products", "GetValidities", "validities")
    discount = api.first("products", "GetDiscounts", "discounts")
    product = api.product(
        name="Widget", short_name="W", value="19.90", sku="W-1", description="A widget",
        profile_currency_type_id="2", product_discount_id=str(discount), product_validity_id=validity,
        product_measury_id=str(measure), product_category_id=category, taxes=taxes[:2], inputs={"colour": "red"},
    )
    assert product["value"] == 19.9
    assert (product["product_measury_id"], product["product_category_id"]) == (measure, category)
    assert (product["product_discount_id"], product["product_validity_id"]) == (discount, validity)
    assert product["profile_currency_type_id"] == "2"
    assert product["taxes"] == taxes[:2]
    assert product["inputs"] == {"colour": "red", "weight": None}
    edited = api.call("products", "EditProduct", product_id=product["id"], name="Widget 2", value=25,
                      taxes=[taxes[2]], inputs={"weight": 1.5})["product"]
    assert (edited["name"], edited["value"], edited["taxes"]) == ("Widget 2", 25.0, [taxes[2]])
    assert edited["sku"] == "W-1" and edited["product_measury_id"] == measure
    assert edited["inputs"] == {"colour": "red", "weight": 1.5}
    listed = api.call("products", "GetProducts", with_inputs=True)["products"]
    assert [(p["name"], p["inputs"]) for p in listed] == [("Widget 2", {"colour": "red", "weight": 1.5})]
    assert api.call("products", "GetProducts")["products"][0]["inputs"] is None


@pytest.mark.parametrize(
    "change,message",
    [
        ({"value": None}, "missing required parameter: value"),
        ({"value": "ten"}, "invalid value for value: must be a number"),
        ({"product_measury_id": "999999"}, "invalid value for product_measury_id: 999999 is not one of this profile's entries"),
        ({"taxes": [999999]}, "invalid value for taxes: 999999 is not one of this profile's entries"),
        ({"inputs": {"colour": "green"}}, "invalid value for colour: 'green'"),
        ({"inputs": ["red"]}, "invalid value for inputs: must be an object"),
    ],
)
def test_create_product_errors(api, runtime, tenant, change, message):
    define(runtime, tenant, "product", "Colour", field_type="select", options=["red", "blue"])
    params = {k: v for k, v in {"name": "W", "value": 1, **change}.items() if v is not None}
    assert api.error("products", "CreateProduct", **params) == fail(message)
    assert api.call("products", "GetProducts")["products"] == []


def test_edit_product_errors(api):
    product = api.product()
    assert api.error("products", "EditProduct", product_id=999999, name="X", value=1) == fail(
        "invalid value for product_id: product 999999 not found in this profile"
    )
    assert api.error("products", "EditProduct", product_id=product["id"], value=1) == fail("missing required parameter: name")
    assert api.error("products", "EditProduct", product_id=product["id"], name="X", value=1, inputs={"x": 1}) == fail(
        "unknown input: x"
    )
    assert api.call("products", "GetProducts")["products"][0]["name"] == "Widget"


# -- opportunities -------------------------------------------------------------------
def opportunity_params(api, company, contact, **more):
    return {
        "user_id": api.tenant["user_id"], "title": "Big deal", "value": 1500.5, "estimated_end_at": "31/12/26",
        "prospect_type": "new", "operation_type": "new", "stage_id": api.first("profiles", "GetStages", "stages"),
        "company_id": company["id"], "contact_id": contact["id"], "want_products": False, "want_tax": False,
        "notify": False, **more,
    }


def test_create_and_get_opportunity(api, runtime, tenant):
    define(runtime, tenant, "opportunity", "Source detail")
    company = api.company()
    contact = api.contact(company["id"])
    product = api.product()
    lines = [{"product_id": product["id"], "amount": 3, "price": 10.5, "discount": 1.5, "tax": 0.16, "total": 30}]
    created = api.call("opportunities", "CreateOpportunity", **opportunity_params(
        api, company, contact, want_products=True, want_tax="true", campaign_id=7, products=lines, notify=True,
        comment="Call them Monday", inputs={"source_detail": "fair"},
    ))["opportunity"]
    assert created["status"] == "active" and created["closed_at"] is None
    assert created["estimated_end_at"] == "2026-12-31"
    assert (created["prospect_type"], created["operation_type"], created["campaign_id"]) == ("new", "new", "7")
    assert (created["want_products"], created["want_tax"], created["value"]) == (True, True, 1500.5)
    assert created["products"] == [{"product_id": product["id"], "amount": 3, "price": 10.5, "discount": 1.5, "tax": 0.16, "total": 30.0}]
    assert created["inputs"] == {"source_detail": "fair"}
    plain = api.call("opportunities", "GetOpportunity", opportunity_id=created["id"])["opportunity"]
    assert plain["user"] is None and plain["company"] is None and plain["products"] is None and plain["inputs"] is None
    full = api.call("opportunities", "GetOpportunity", opportunity_id=created["id"], with_user=True, with_company=True,
                    with_contact=True, with_products=True, with_inputs=True)["opportunity"]
    assert full["user"]["id"] == tenant["user_id"]
    assert full["company"]["id"] == company["id"] and full["contact"]["id"] == contact["id"]
    assert full["products"] == created["products"] and full["inputs"] == created["inputs"]
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        task = ws.first(select(Activity).where(Activity.opportunity_id == created["id"]))
        assert (task.user_id, task.description, task.closed) == (tenant["user_id"], "Call them Monday", False)
        assert ws.count(select(OpportunityLine.id).where(OpportunityLine.opportunity_id == created["id"])) == 1


def test_without_notify_no_task_is_made(api, runtime, tenant):
    company = api.company()
    created = api.call("opportunities", "CreateOpportunity", **opportunity_params(api, company, api.contact(company["id"])))
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert ws.count(select(Activity.id).where(Activity.opportunity_id == created["opportunity"]["id"])) == 0


def test_create_opportunity_errors(api, runtime, tenant):
    company, other = api.company(), api.company(name="Other")
    contact = api.contact(company["id"])
    stranger = api.contact(other["id"])

    def error(**change):
        params = {k: v for k, v in opportunity_params(api, company, contact, **change).items() if v is not None}
        return api.error("opportunities", "CreateOpportunity", **params)

    assert error(contact_id=stranger["id"]) == fail(f"contact {stranger['id']} does not belong to company {company['id']}")
    assert error(estimated_end_at="2026/12/31") == fail("invalid value for estimated_end_at: expected a date in the format DD/MM/YY")
    assert error(estimated_end_at="31/02/26") == fail("invalid value for estimated_end_at: expected a date in the format DD/MM/YY")
    assert error(prospect_type="old") == fail("invalid value for prospect_type: must be one of 'new', 'existing'")
    assert error(operation_type=None) == fail("missing required parameter: operation_type")
    assert error(notify=None) == fail("missing required parameter: notify")
    assert error(user_id=999999) == fail("user 999999 is not a user of this profile")
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        outsider = ws.create(User, username="otto", name="Otto").id
    assert error(user_id=outsider) == fail(f"user {outsider} is not a user of this profile")
    assert error(stage_id=999999) == fail("invalid value for stage_id: 999999 is not one of this profile's entries")
    assert error(products=[{"product_id": 999999, "amount": 1, "price": 1}]) == fail(
        "invalid value for products[0].product_id: product 999999 not found in this profile"
    )
    assert error(products=[{"amount": 1, "price": 1}]) == fail("missing required parameter: products[0].product_id")
    product = api.product()
    assert error(products=[{"product_id": product["id"], "amount": 1, "price": 1, "tax": 16}]) == fail(
        "invalid value for products[0].tax: must be a fraction between 0.00 and 1.00"
    )
    assert api.call("opportunities", "GetOpportunities")["total"] == 0


def test_get_opportunity_errors(api):
    assert api.error("opportunities", "GetOpportunity", opportunity_id=999999) == fail("opportunity not found")
    assert api.error("opportunities", "GetOpportunity") == fail("missing required parameter: opportunity_id")


def test_get_opportunities_filters(api, runtime, tenant):
    stages = [s["id"] for s in api.call("profiles", "GetStages")["stages"]]
    origins = [o["id"] for o in api.call("contacts", "GetOrigins")["origins"]]
    industries = [i["id"] for i in api.call("companies", "GetIndustries")["industries"]]
    acme = api.company(name="Acme", industry_id=industries[0])
    beta = api.company(name="Beta", industry_id=industries[1])
    ana = api.contact(acme["id"], origin_id=origins[0])
    bob = api.contact(beta["id"], name="Bob", origin_id=origins[1])

    def create(company, contact, **more):
        return api.call("opportunities", "CreateOpportunity", **opportunity_params(api, company, contact, **more))["opportunity"]["id"]

    first = create(acme, ana, title="Printer fleet", value=100, stage_id=stages[0], estimated_end_at="15/01/27")
    second = create(beta, bob, title="Coffee renewal", value=5000, stage_id=stages[1], prospect_type="existing",
                    operation_type="renew", estimated_end_at="2027-06-30")

    def ids(**params):
        return [o["id"] for o in api.call("opportunities", "GetOpportunities", **params)["opportunities"]]

    assert ids() == [second, first]
    assert ids(status="active") == [second, first] and ids(status="won") == []
    assert ids(contact_type="existing") == [second]
    assert ids(operation_type="new") == [first]
    assert ids(stage=[stages[0]]) == [first]
    assert ids(contact_origin=[origins[1]]) == [second]
    assert ids(company_industry=[industries[0]]) == [first]
    assert ids(value={"from": "1000"}) == [second]
    assert ids(value={"from": "50", "to": "100"}) == [first]
    assert ids(estimated_end_at={"from": "01/01/27", "to": "31/01/27"}) == [first]
    assert ids(created_at={"from": "01/01/00"}) == [second, first]
    assert ids(closed_at={"from": "01/01/00"}) == []
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        won = ws.get(Opportunity, first)
        ws.update(won, {"status": "won", "closed_at": dt.datetime(2026, 3, 15, 23, 30)})
    assert ids(closed_at={"from": "15/03/26", "to": "15/03/26"}) == [first]
    assert ids(closed_at={"to": "14/03/26"}) == []
    assert ids(status="won") == [first]
    assert ids(user_id=tenant["user_id"]) == [second, first]
    assert ids(query="COFFEE") == [second]
    page = api.call("opportunities", "GetOpportunities", pagination=1, with_company=True, with_products=True)
    assert (page["total"], page["last_page"]) == (2, 2)
    assert page["opportunities"][0]["company"]["name"] == "Beta" and page["opportunities"][0]["products"] == []
    assert api.error("opportunities", "GetOpportunities", status="open") == fail(
        "invalid value for status: must be one of 'active', 'pending', 'won', 'lost'"
    )
    assert api.error("opportunities", "GetOpportunities", closed_at={"from": "yesterday"}) == fail(
        "invalid value for closed_at.from: expected a date in the format DD/MM/YY"
    )
    assert api.error("opportunities", "GetOpportunities", value={"from": "lots"}) == fail("invalid value for value.from: must be a number")


# -- tickets -------------------------------------------------------------------------
def ticket_params(api, company, **more):
    return {
        "title": "Printer jam", "description": "It jams", "company_id": company["id"], "user_id": api.tenant["user_id"],
        "origin_id": api.first("tickets", "GetOrigins", "origins"), "case_id": api.first("tickets", "GetCases", "cases"),
        "priority_id": api.first("tickets", "GetPriorities", "priorities"), "estimated_end_at": "2026-12-01",
        "notify": False, **more,
    }


def test_create_ticket_and_list_it(api, runtime, tenant):
    company = api.company()
    contact = api.contact(company["id"])
    opportunity = api.call("opportunities", "CreateOpportunity", **opportunity_params(api, company, contact))["opportunity"]
    ticket = api.call("tickets", "CreateTicket", **ticket_params(
        api, company, contact_id=contact["id"], opportunity_id=opportunity["id"], notify=True, comment="Urgent"))["ticket"]
    assert ticket["estimated_end_at"] == "2026-12-01"
    assert (ticket["company_id"], ticket["contact_id"], ticket["opportunity_id"]) == (company["id"], contact["id"], opportunity["id"])
    assert ticket["status"] == "open" and ticket["comment"] == "Urgent"
    assert api.call("tickets", "GetTickets")["tickets"] == [ticket]
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        task = ws.first(select(Activity).where(Activity.description == "Urgent"))
        assert task.extra["about_kind"] == "ticket" and task.extra["about_id"] == ticket["id"]


def test_create_ticket_errors(api, runtime, tenant):
    company, other = api.company(), api.company(name="Other")
    stranger = api.contact(other["id"])

    def error(**change):
        params = {k: v for k, v in ticket_params(api, company, **change).items() if v is not None}
        return api.error("tickets", "CreateTicket", **params)

    assert error(estimated_end_at="01/12/2026x") == fail("invalid value for estimated_end_at: expected a date in the format YYYY-MM-DD")
    assert error(description=None) == fail("missing required parameter: description")
    assert error(contact_id=stranger["id"]) == fail(f"contact {stranger['id']} does not belong to company {company['id']}")
    assert error(opportunity_id=999999) == fail("invalid value for opportunity_id: opportunity 999999 not found in this profile")
    assert error(case_id=999999) == fail("invalid value for case_id: 999999 is not one of this profile's entries")
    assert error(company_id=999999) == fail("invalid value for company_id: company 999999 not found in this profile")
    assert api.call("tickets", "GetTickets") == {"tickets": []}


def test_tickets_are_scoped_to_the_profile(api, runtime, tenant):
    second = add_profile(runtime, tenant)
    api.call("tickets", "CreateTicket", **ticket_params(api, api.company()))
    assert len(api.call("tickets", "GetTickets")["tickets"]) == 1
    assert api.call("tickets", "GetTickets", profile_id=second) == {"tickets": []}


def test_values_beyond_what_the_database_holds_are_refused(api):
    assert api.error("products", "CreateProduct", name="W", value="1e20") == fail("invalid value for value: out of range")
    assert api.error("products", "CreateProduct", name="x" * 256, value=1) == fail("invalid value for name: longer than 255 characters")
    assert api.error("companies", "GetCompany", profile_id=2**40, search_by="id", search_value="1") == fail(
        "invalid value for profile_id: out of range"
    )
    assert api.error("companies", "GetCompany", search_by="id", search_value="9" * 30) == fail("company not found")
    assert api.error("contacts", "GetContact", search_by="id", search_value="9" * 30) == fail("contact not found")
    assert api.call("products", "GetProducts") == {"products": []}


def test_a_product_sku_in_use_is_refused(api):
    api.product(name="Widget", sku="W-1")
    assert api.error("products", "CreateProduct", name="Gadget", value=3, sku="w-1") == fail(
        "sku w-1 is already used by Widget"
    )
