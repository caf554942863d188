"""One record, three APIs: centiaCRM contacts, products, opportunities,
companies and inputs are Cirrus contacts, articles, opportunities, accounts
and dynamic field values, and Microbizz products and customers.

Every check goes through the HTTP faces; only the custom field definitions,
which no API defines, are loaded the way ``polycrm load`` does.
"""

from __future__ import annotations

import pytest

from tests.centia.helpers import SHIPPING_MX, Centia
from tests.cirrus.helpers import get_ok, new_account, send_ok
from tests.microbizz.helpers import MB
from polycrm.core import fixtures
from polycrm.core.models import ProfileMember, User
from polycrm.core.workspace import Workspace


@pytest.fixture
def api(client, tenant) -> Centia:
    return Centia(client, tenant)


def company_of(api: Centia, company_id: int) -> dict:
    return api.call("companies", "GetCompany", search_by="id", search_value=str(company_id))["company"]


# -- contacts ------------------------------------------------------------------------------
def test_a_centia_contact_is_a_cirrus_contact(client, tenant, api):
    company = api.company(name="Acme de México")
    contact = api.contact(
        company["id"], name="Ana", surname="López", mother_surname="García", email="ana@acme.mx",
        phone_office="+52 33 1111", phone_office_extension="12", phone_mobile="+52 1 33 2222",
        shipping_address={**SHIPPING_MX, "interior_number": "4B"},
    )
    read = get_ok(client, tenant, f"/contacts/{contact['id']}")
    assert (read["name"], read["surname"], read["email"]) == ("Ana", "López", "ana@acme.mx")
    assert (read["officephone"], read["cellphone"]) == ("+52 33 1111", "+52 1 33 2222")
    assert (read["account"]["id"], read["account"]["name"]) == (company["id"], "Acme de México")
    assert (read["street"], read["zip"], read["city"]) == ("Av. Juárez 120 Int. 4B", "44100", "Guadalajara")
    assert read["active"] == 1
    assert [c["id"] for c in get_ok(client, tenant, "/contacts/", accountid=company["id"])["items"]] == [contact["id"]]
    account = get_ok(client, tenant, f"/accounts/{company['id']}")
    assert [(c["id"], c["email"]) for c in account["contacts"]] == [(contact["id"], "ana@acme.mx")]


def test_a_cirrus_contact_is_a_centia_contact(client, tenant, api):
    company = api.company(name="Acme de México")
    made = send_ok(client, tenant, "POST", "/contacts/", {
        "name": "Bo", "surname": "Berg", "accountid": company["id"], "email": "Bo.Berg@Acme.MX",
        "officephone": "+45 70 10 20 30", "cellphone": "+45 20 30 40 50",
    })
    listed = api.call("contacts", "GetContacts", company_id=company["id"])
    assert [c["id"] for c in listed["contacts"]] == [made["id"]]
    found = api.call("contacts", "GetContact", search_by="email", search_value="bo.berg@acme.mx")["contact"]
    assert found == listed["contacts"][0] | {"shipping_address": None, "billing_address": None, "inputs": {}}
    assert (found["company_id"], found["profile_id"]) == (company["id"], api.profile_id)
    assert (found["name"], found["surname"], found["email"]) == ("Bo", "Berg", "Bo.Berg@Acme.MX")
    assert (found["phone_office"], found["phone_mobile"]) == ("+45 70 10 20 30", "+45 20 30 40 50")
    assert [c["id"] for c in company_of(api, company["id"])["contacts"]] == [made["id"]]

    # A change through Cirrus; the contact stays with its account only.
    other = api.company(name="Beta")
    send_ok(client, tenant, "PUT", f"/contacts/{made['id']}", {"surname": "Bergström", "cellphone": "+45 99"})
    changed = api.call("contacts", "GetContact", search_by="id", search_value=str(made["id"]))["contact"]
    assert (changed["surname"], changed["phone_mobile"], changed["company_id"]) == ("Bergström", "+45 99", company["id"])
    assert api.call("contacts", "GetContacts", company_id=other["id"])["contacts"] == []
    assert api.error("contacts", "GetContact", search_by="id", search_value=str(made["id"]), company_id=other["id"])[
        "error"] == "contact not found"


# -- products ------------------------------------------------------------------------------
def test_a_centia_product_is_a_microbizz_product_and_a_cirrus_article(client, tenant, api):
    mb = MB(client, tenant)
    category = api.call("products", "GetCategories")["categories"][0]
    hour = next(m for m in api.call("products", "GetMeasures")["measures"] if m["name"] == "hour")
    product = api.product(name="Instalación", short_name="Inst.", value=1234.5, description="Por hora",
                          product_category_id=category["id"], product_measury_id=hour["id"])

    def microbizz():
        return mb.call("GetProductByID", productid=product["id"], include_prices=1)["products"][0]

    got = microbizz()
    assert (got["title"], got["shorttitle"], got["description"]) == ("Instalación", "Inst.", "Por hora")
    assert (got["price"], got["unitid"], got["unit"]) == (1234.5, hour["id"], "hour")
    assert (got["groupid"], got["grouptext"], got["isclosed"], got["isdeleted"]) == (category["id"], category["name"], 0, 0)
    article = get_ok(client, tenant, f"/articles/{product['id']}")
    assert (article["name"], article["price"], article["description"]) == ("Instalación", 1234.5, "Por hora")
    assert (article["unitid"], article["groupid"], article["active"]) == (hour["id"], category["id"], 1)

    # EditProduct is seen by both.
    pcs = next(m for m in api.call("products", "GetMeasures")["measures"] if m["name"] == "pcs")
    api.call("products", "EditProduct", product_id=product["id"], name="Instalación premium", value=999.99,
             product_measury_id=pcs["id"])
    got = microbizz()
    assert (got["title"], got["price"], got["unit"], got["shorttitle"]) == ("Instalación premium", 999.99, "pcs", "Inst.")
    article = get_ok(client, tenant, f"/articles/{product['id']}")
    assert (article["name"], article["price"], article["unitid"]) == ("Instalación premium", 999.99, pcs["id"])


def test_microbizz_and_cirrus_product_changes_show_in_centia(client, tenant, api):
    mb = MB(client, tenant)
    product = api.product(name="Widget", value=10.5, short_name="W")
    mb.call("CreateUpdateProductByID", product={"id": product["id"], "title": "Widget XL", "price": 12.75,
                                                "shorttitle": "WXL", "description": "Bigger"})

    def listed() -> dict[int, dict]:
        return {p["id"]: p for p in api.call("products", "GetProducts")["products"]}

    got = listed()[product["id"]]
    assert (got["name"], got["value"], got["short_name"], got["description"]) == ("Widget XL", 12.75, "WXL", "Bigger")
    send_ok(client, tenant, "PUT", f"/articles/{product['id']}", {"name": "Widget XXL", "price": 15})
    got = listed()[product["id"]]
    assert (got["name"], got["value"], got["short_name"]) == ("Widget XXL", 15.0, "WXL")
    # A product made through Microbizz is one of the default profile's products.
    made = mb.product(title="Bolt", productnumber="B-1", price=0.5)
    assert (listed()[made["id"]]["name"], listed()[made["id"]]["value"]) == ("Bolt", 0.5)
    assert listed()[made["id"]]["profile_id"] == api.profile_id


def test_the_centia_sku_is_the_microbizz_productnumber_and_the_cirrus_article_number(client, tenant, api):
    mb = MB(client, tenant)
    product = api.product(name="Instalación", value=100, sku="INST-01")
    assert product["sku"] == "INST-01"
    got = mb.call("GetProductByProductNumber", productnumber="INST-01")["products"]
    assert [(p["id"], p["productnumber"]) for p in got] == [(product["id"], "INST-01")]
    assert get_ok(client, tenant, f"/articles/{product['id']}")["number"] == "INST-01"
    assert [a["id"] for a in get_ok(client, tenant, "/articles/", number="INST-01")["items"]] == [product["id"]]

    def sku() -> str | None:
        return {p["id"]: p["sku"] for p in api.call("products", "GetProducts")["products"]}[product["id"]]

    # EditProduct without a sku keeps it; with one changes it for all.
    api.call("products", "EditProduct", product_id=product["id"], name="Instalación", value=110)
    assert sku() == "INST-01"
    api.call("products", "EditProduct", product_id=product["id"], name="Instalación", value=110, sku="INST-02")
    assert mb.call("GetProductByID", productid=product["id"])["products"][0]["productnumber"] == "INST-02"
    # Changes of the number through Microbizz and Cirrus are centia's sku.
    mb.call("CreateUpdateProductByProductNumber", product={"productnumber": "INST-02", "title": "Instalación"})
    mb.call("CreateUpdateProductByID", product={"id": product["id"], "productnumber": "INST-03"})
    assert sku() == "INST-03"
    send_ok(client, tenant, "PUT", f"/articles/{product['id']}", {"number": "INST-04"})
    assert sku() == "INST-04"
    made = mb.product(title="Bolt", productnumber="B-1", price=0.5)
    assert {p["id"]: p["sku"] for p in api.call("products", "GetProducts")["products"]}[made["id"]] == "B-1"


# -- opportunities -------------------------------------------------------------------------
def test_a_centia_opportunity_is_a_cirrus_opportunity_and_back(client, tenant, api):
    company = api.company(name="Acme de México")
    contact = api.contact(company["id"])
    other_contact = api.contact(company["id"], name="Luis")
    first, second = api.product(name="Servidor", value=100), api.product(name="Soporte", value=50)
    stages = api.call("profiles", "GetStages")["stages"]
    made = api.call(
        "opportunities", "CreateOpportunity", user_id=tenant["user_id"], title="Renovación 2026", value=250,
        stage_id=stages[1]["id"], company_id=company["id"], contact_id=contact["id"], prospect_type="existing",
        operation_type="renew", want_products=True, want_tax=False, estimated_end_at="31/12/26",
        comment="Call before Friday", notify=True,
        products=[{"product_id": first["id"], "amount": 2, "price": 100},
                  {"product_id": second["id"], "amount": 1, "price": 50}],
    )["opportunity"]
    read = get_ok(client, tenant, f"/opportunities/{made['id']}")
    assert (read["title"], read["value"], read["closed"]) == ("Renovación 2026", 250.0, 0)
    assert (read["accountid"], read["account"]["name"]) == (company["id"], "Acme de México")
    assert (read["contactid"], read["userid"]) == (contact["id"], tenant["user_id"])
    assert (read["stateid"], read["state"]["state"]) == (stages[1]["id"], stages[1]["name"])
    assert read["estimatedenddate"] == "2026-12-31"
    assert [o["id"] for o in get_ok(client, tenant, "/opportunities/", accountid=company["id"])["items"]] == [made["id"]]
    # notify: the owner's task, as Cirrus lists the user's activities.
    (task,) = get_ok(client, tenant, "/activities/", opportunityid=made["id"])["items"]
    assert (task["type"]["name"], task["description"], task["userid"], task["closed"]) == (
        "Task", "Call before Friday", tenant["user_id"], 0)
    assert (task["accountid"], task["primarycontact"]["id"]) == (company["id"], contact["id"])

    # Cirrus updates it: centia sees the new values, and the products stay.
    lost = next(s["id"] for s in get_ok(client, tenant, "/opportunities/statuses") if s["lost"])
    send_ok(client, tenant, "PUT", f"/opportunities/{made['id']}", {
        "title": "Renovación 2027", "value": 300, "stateid": stages[2]["id"], "estimatedenddate": "2027-01-31",
        "contactid": other_contact["id"], "statusid": lost,
    })
    got = api.call("opportunities", "GetOpportunity", opportunity_id=made["id"], with_products=True,
                   with_company=True, with_contact=True)["opportunity"]
    assert (got["title"], got["value"], got["stage_id"]) == ("Renovación 2027", 300.0, stages[2]["id"])
    assert (got["estimated_end_at"], got["contact_id"], got["contact"]["name"]) == (
        "2027-01-31", other_contact["id"], "Luis")
    assert (got["status"], got["company"]["id"]) == ("lost", company["id"])
    assert got["closed_at"] is not None
    assert [(p["product_id"], p["amount"], p["total"]) for p in got["products"]] == [
        (first["id"], 2, 200.0), (second["id"], 1, 50.0)]
    assert [o["id"] for o in api.call("opportunities", "GetOpportunities", status="lost")["opportunities"]] == [made["id"]]


def test_a_centia_opportunity_has_the_registering_user_and_default_status_in_cirrus(client, runtime, tenant, api):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:  # an owner other than the caller
        owner = ws.create(User, username="luisa", name="Luisa", surname="Ortiz").id
        ws.create(ProfileMember, profile_id=api.profile_id, user_id=owner)
    company = api.company(name="Acme de México")
    contact = api.contact(company["id"])
    stage = api.call("profiles", "GetStages")["stages"][0]["id"]
    made = api.call(
        "opportunities", "CreateOpportunity", user_id=owner, title="Licencias", value=90, stage_id=stage,
        company_id=company["id"], contact_id=contact["id"], prospect_type="new", operation_type="new",
        want_products=False, want_tax=False, estimated_end_at="30/06/26", notify=False,
    )["opportunity"]
    assert made["status"] == "active"
    read = get_ok(client, tenant, f"/opportunities/{made['id']}")
    # Registered by the caller, owned by the user it was made for.
    assert (read["reguserid"], read["userid"]) == (tenant["user_id"], owner)
    assert read["reguser"]["id"] == tenant["user_id"]
    # The default open status of the status list.
    default = next(s for s in get_ok(client, tenant, "/opportunities/statuses") if not s["won"] and not s["lost"])
    assert (read["statusid"], read["status"]["name"], read["closed"]) == (default["id"], "Open", 0)
    assert [o["id"] for o in get_ok(client, tenant, "/opportunities/", statusid=default["id"])["items"]] == [made["id"]]


# -- companies -----------------------------------------------------------------------------
def test_cirrus_and_microbizz_changes_show_in_centia_get_company(client, tenant, api):
    mb = MB(client, tenant)
    company = api.company(name="Acme de México", phone="+52 33 1234", website="acme.mx", client_number="7001")
    send_ok(client, tenant, "PUT", f"/accounts/{company['id']}", {"name": "Acme Norte", "phone": "+52 81 5555",
                                                               "url": "acme-norte.mx"})
    got = company_of(api, company["id"])
    assert (got["name"], got["phone"], got["website"], got["client_number"]) == (
        "Acme Norte", "+52 81 5555", "acme-norte.mx", "7001")

    mb.call("CreateUpdateCustomerByID", customer={
        "id": company["id"], "name": "Acme Sur", "phone": "+52 998 1", "www": "acme-sur.mx", "customernumber": "7002",
        "address": "Calle 5", "zip": "77500", "city": "Cancún", "country": "MX",
        "invoicename": "Acme Sur SA de CV", "invoiceaddress": "Calle 6", "invoicezip": "77501",
        "invoicecity": "Cancún", "invoicecountry": "MX",
    })
    got = api.call("companies", "GetCompany", search_by="client_number", search_value="7002")["company"]
    assert (got["id"], got["name"], got["phone"], got["website"]) == (company["id"], "Acme Sur", "+52 998 1", "acme-sur.mx")
    # Created without a shipping address, so the main address Microbizz wrote is the shipping address.
    shipping, billing = got["shipping_address"], got["billing_address"]
    assert (shipping["street"], shipping["zip"], shipping["city"], shipping["country"]) == (
        "Calle 5", "77500", "Cancún", "MX")
    assert (billing["street"], billing["zip"], billing["city"]) == ("Calle 6", "77501", "Cancún")
    assert got["billing_name"] == "Acme Sur SA de CV"
    # The list shows the same.
    listed = api.call("companies", "GetCompanies", query="acme sur", with_addresses=True)["companies"]
    assert [(c["id"], c["shipping_address"]["city"]) for c in listed] == [(company["id"], "Cancún")]


def test_a_centia_billing_name_is_the_invoice_name_of_the_other_apis(client, tenant, api):
    mb = MB(client, tenant)
    billing = {**SHIPPING_MX, "street": "Av. Vallarta", "number": "99", "city": "Zapopan"}
    company = api.company(name="Acme de México", billing_name="Acme Soluciones SA de CV", rfc="ASO010101AA1",
                          shipping_address=SHIPPING_MX, billing_address=billing)
    assert company["billing_name"] == "Acme Soluciones SA de CV"
    customer = mb.get_customer(company["id"])
    assert (customer["invoicename"], customer["invoiceaddress"], customer["invoicecity"]) == (
        "Acme Soluciones SA de CV", "Av. Vallarta 99", "Zapopan")
    invoice = get_ok(client, tenant, f"/accounts/{company['id']}")["addresses"]["invoice"]
    assert (invoice["name"], invoice["street"], invoice["number"], invoice["city"]) == (
        "Acme Soluciones SA de CV", "Av. Vallarta", "99", "Zapopan")
    # Renamed through Cirrus, the billing name follows.
    send_ok(client, tenant, "PUT", f"/accounts/{company['id']}", {"addresses": {"invoice": {"name": "Acme Facturación"}}})
    got = company_of(api, company["id"])
    assert (got["billing_name"], got["billing_address"]["street"]) == ("Acme Facturación", "Av. Vallarta")
    # Without a billing address the billing name still reaches the others.
    plain = api.company(name="Beta", billing_name="Beta Alimentos SA")
    assert mb.get_customer(plain["id"])["invoicename"] == "Beta Alimentos SA"
    assert company_of(api, plain["id"])["billing_address"] is None


def test_a_cirrus_account_is_a_centia_company(client, tenant, api):
    account = new_account(client, tenant, name="Fjord Fisk ApS", number="C-77", phone="+45 70", url="fjord.dk",
                          addresses={"visiting": {"street": "Havnen", "number": "1", "zip": "9000", "city": "Aalborg",
                                                  "country": "DK"},
                                     "delivery": {"street": "Kajen", "number": "3", "zip": "9000", "city": "Aalborg"}})
    got = api.call("companies", "GetCompany", search_by="client_number", search_value="C-77")["company"]
    assert (got["id"], got["name"], got["phone"], got["website"]) == (account["id"], "Fjord Fisk ApS", "+45 70", "fjord.dk")
    assert (got["profile_id"], got["user_id"]) == (api.profile_id, tenant["user_id"])
    assert got["type_id"] == account["type"]["id"]
    # The shipping address is the main (visiting) address, also when the account has a delivery address.
    assert (got["shipping_address"]["street"], got["shipping_address"]["number"]) == ("Havnen", "1")


def test_the_centia_shipping_address_is_the_main_address_of_the_other_apis(client, tenant, api):
    mb = MB(client, tenant)
    company = api.company(name="Acme de México", shipping_address={**SHIPPING_MX, "latitude": "20.67",
                                                                   "longitude": "-103.35"})
    account = get_ok(client, tenant, f"/accounts/{company['id']}")
    visiting = account["addresses"]["visiting"]
    assert (visiting["street"], visiting["number"], visiting["zip"], visiting["city"]) == (
        "Av. Juárez", "120", "44100", "Guadalajara")
    assert (visiting["coordinates"]["latitude"], visiting["coordinates"]["longitude"]) == ("20.67", "-103.35")
    customer = mb.get_customer(company["id"])
    assert (customer["zip"], customer["city"], customer["country"]) == ("44100", "Guadalajara", "MX")

    def shipping() -> dict:
        got = company_of(api, company["id"])["shipping_address"]
        listed = api.call("companies", "GetCompanies", with_addresses=True)["companies"]
        assert [c["shipping_address"] for c in listed if c["id"] == company["id"]] == [got]
        return got

    # Microbizz moves the company: centia's shipping address follows.
    mb.call("CreateUpdateCustomerByID", customer={"id": company["id"], "address": "Calle 5", "zip": "77500",
                                                  "city": "Cancún"})
    got = shipping()
    assert (got["street"], got["zip"], got["city"], got["state"]) == ("Calle 5", "77500", "Cancún", "JAL")
    # The shipping address's coordinates are the customer's, which Microbizz shows.
    assert (got["latitude"], got["longitude"]) == ("20.67", "-103.35")
    assert (mb.get_customer(company["id"])["latitude"], mb.get_customer(company["id"])["longitude"]) == (20.67, -103.35)
    # So does a Cirrus change of the visiting address, coordinates included.
    send_ok(client, tenant, "PUT", f"/accounts/{company['id']}", {"addresses": {"visiting": {
        "street": "Av. Chapultepec", "number": "15", "zip": "44600", "city": "Guadalajara",
        "coordinates": {"latitude": "20.6736", "longitude": "-103.3727"}}}})
    got = shipping()
    assert (got["street"], got["number"], got["zip"], got["city"]) == ("Av. Chapultepec", "15", "44600", "Guadalajara")
    assert (got["latitude"], got["longitude"]) == ("20.6736", "-103.3727")
    # It was never copied to the delivery address; one set through Cirrus is not the shipping address.
    assert get_ok(client, tenant, f"/accounts/{company['id']}")["addresses"]["delivery"]["street"] is None
    send_ok(client, tenant, "PUT", f"/accounts/{company['id']}", {"addresses": {"delivery": {
        "street": "Bodega", "number": "3", "zip": "45000", "city": "Zapopan"}}})
    assert shipping()["street"] == "Av. Chapultepec"
    assert get_ok(client, tenant, f"/accounts/{company['id']}")["addresses"]["delivery"]["street"] == "Bodega"


def test_street_numbers_show_in_the_microbizz_address_lines(client, tenant, api):
    mb = MB(client, tenant)
    company = api.company(
        name="Acme de México",
        shipping_address={**SHIPPING_MX, "street": "Av. Vallarta", "number": "1234", "interior_number": "5"},
        billing_address={**SHIPPING_MX, "street": "Av. Reforma", "number": "222"},
    )
    customer = mb.get_customer(company["id"])
    assert (customer["address"], customer["invoiceaddress"]) == ("Av. Vallarta 1234 Int. 5", "Av. Reforma 222")
    account = new_account(client, tenant, name="Nordlys", addresses={
        "visiting": {"street": "Vesterbrogade", "number": "12", "letter": "B", "zip": "1620"},
        "invoice": {"street": "Postboks", "number": "210"}})
    customer = mb.get_customer(account["id"])
    assert (customer["address"], customer["invoiceaddress"]) == ("Vesterbrogade 12B", "Postboks 210")

    # A client saving back what it read changes nothing: the numbers stay separate.
    mb.call("CreateUpdateCustomerByID", customer=mb.get_customer(company["id"]))
    shipping = company_of(api, company["id"])["shipping_address"]
    assert (shipping["street"], shipping["number"], shipping["interior_number"]) == ("Av. Vallarta", "1234", "5")

    # A new line written through Microbizz is the street; the old numbers go, so none shows twice.
    mb.call("CreateUpdateCustomerByID", customer={"id": company["id"], "address": "Calle Morelos 45",
                                                  "invoiceaddress": "Apartado 9"})
    got = company_of(api, company["id"])
    assert [got["shipping_address"][k] for k in ("street", "number", "interior_number")] == ["Calle Morelos 45", None, None]
    assert [got["billing_address"][k] for k in ("street", "number")] == ["Apartado 9", None]
    customer = mb.get_customer(company["id"])
    assert (customer["address"], customer["invoiceaddress"]) == ("Calle Morelos 45", "Apartado 9")
    mb.call("CreateUpdateCustomerByID", customer={"id": account["id"], "address": "Vesterbrogade 14"})
    visiting = get_ok(client, tenant, f"/accounts/{account['id']}")["addresses"]["visiting"]
    assert (visiting["street"], visiting["number"], visiting["letter"], visiting["zip"]) == (
        "Vesterbrogade 14", None, None, "1620")
    assert mb.get_customer(account["id"])["address"] == "Vesterbrogade 14"


# -- custom inputs = dynamic fields --------------------------------------------------------
@pytest.fixture
def inputs(runtime, tenant) -> None:
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        fixtures.load(ws, {"custom_fields": [
            {"entity": "customer", "name": "Segment", "field_type": "select", "options": ["SMB", "Enterprise"]},
            {"entity": "customer", "name": "Channels", "field_type": "multiselect", "options": ["web", "phone", "store"]},
            {"entity": "customer", "name": "Founded", "field_type": "date"},
            {"entity": "customer", "name": "Key account", "field_type": "boolean"},
            {"entity": "customer", "name": "Employees", "field_type": "number"},
            {"entity": "customer", "name": "Notes", "field_type": "textarea"},
            {"entity": "contact", "name": "Hobby"},
            {"entity": "product", "name": "Colour", "slug": "color"},
            {"entity": "opportunity", "name": "Campaign code"},
        ]})


def dynamic_values(client, tenant, resourcetype: str, resource_id: int) -> dict[str, str | None]:
    page = get_ok(client, tenant, "/dynamicfields/values/", resourcetype=resourcetype, resourceid=resource_id, per_page=50)
    return {v["name"]: v["value"] for v in page["items"]}


def test_centia_inputs_are_cirrus_dynamic_field_values(client, tenant, api, inputs):
    company = api.company(name="Acme", inputs={
        "segment": "Enterprise", "channels": ["web", "store"], "founded": "1999-05-04", "key_account": True,
        "employees": 12.5, "notes": "Línea 1\nLínea 2",
    })
    assert dynamic_values(client, tenant, "account", company["id"]) == {
        "Segment": "Enterprise", "Channels": "web,store", "Founded": "1999-05-04", "Key account": "1",
        "Employees": "12.5", "Notes": "Línea 1\nLínea 2",
    }
    page = get_ok(client, tenant, "/dynamicfields/values/", resourcetype="account", resourceid=company["id"])
    selected = {v["name"]: [o["label"] for o in v["selected"]] for v in page["items"]}
    assert (selected["Segment"], selected["Channels"]) == (["Enterprise"], ["web", "store"])
    # A Cirrus filter on the value finds the company.
    segment = next(v["id"] for v in page["items"] if v["name"] == "Segment")
    found = get_ok(client, tenant, "/accounts/", dynamicfield_id=segment, dynamicfield_val="enterprise")
    assert [a["id"] for a in found["items"]] == [company["id"]]

    # The other records' inputs too.
    contact = api.contact(company["id"], inputs={"hobby": "Ajedrez"})
    product = api.product(inputs={"color": "Rojo"})
    stage = api.call("profiles", "GetStages")["stages"][0]["id"]
    opportunity = api.call(
        "opportunities", "CreateOpportunity", user_id=tenant["user_id"], title="X", value=1, stage_id=stage,
        company_id=company["id"], contact_id=contact["id"], prospect_type="new", operation_type="new",
        want_products=False, want_tax=False, estimated_end_at="01/01/27", notify=False, inputs={"campaign_code": "Q1-26"},
    )["opportunity"]
    assert dynamic_values(client, tenant, "contact", contact["id"]) == {"Hobby": "Ajedrez"}
    assert dynamic_values(client, tenant, "article", product["id"]) == {"Colour": "Rojo"}
    assert dynamic_values(client, tenant, "opportunity", opportunity["id"]) == {"Campaign code": "Q1-26"}
    # EditProduct changes the article's value.
    api.call("products", "EditProduct", product_id=product["id"], name="Widget", value=10.5, inputs={"color": "Azul"})
    assert dynamic_values(client, tenant, "article", product["id"]) == {"Colour": "Azul"}


def test_cirrus_dynamic_field_values_are_centia_inputs(client, tenant, api, inputs):
    definitions = {d["name"]: d for d in get_ok(client, tenant, "/dynamicfields/definitions/", per_page=50)["items"]}
    account = new_account(client, tenant, name="Fjord Fisk ApS")

    def put(name: str, resource_id: int, body: dict) -> None:
        send_ok(client, tenant, "PUT", f"/dynamicfields/values/{definitions[name]['id']}/{resource_id}", body)

    options = {o["label"]: o["id"] for o in definitions["Channels"]["options"]}
    put("Segment", account["id"], {"selected": [{"id": 1}]})
    put("Channels", account["id"], {"selected": [{"id": options["phone"]}, {"id": options["store"]}]})
    put("Founded", account["id"], {"value": "2001-02-03"})
    put("Key account", account["id"], {"value": "1"})
    put("Employees", account["id"], {"value": "7"})
    put("Notes", account["id"], {"value": "Ring efter kl. 9"})
    company = api.call("companies", "GetCompany", search_by="id", search_value=str(account["id"]))["company"]
    assert company["inputs"] == {"segment": "SMB", "channels": ["phone", "store"], "founded": "2001-02-03",
                                 "key_account": True, "employees": 7, "notes": "Ring efter kl. 9"}
    # Unselecting and clearing through Cirrus is seen as well.
    put("Channels", account["id"], {"unselected": [{"id": options["phone"]}]})
    put("Key account", account["id"], {"value": "0"})
    put("Notes", account["id"], {"value": None})
    listed = api.call("companies", "GetCompanies", with_inputs=True)["companies"]
    assert [c["inputs"] for c in listed if c["id"] == account["id"]] == [{
        "segment": "SMB", "channels": ["store"], "founded": "2001-02-03", "key_account": False, "employees": 7,
        "notes": None}]

    # Contacts, articles and opportunities alike.
    contact = send_ok(client, tenant, "POST", "/contacts/", {"name": "Bo", "surname": "Berg", "accountid": account["id"]})
    article = send_ok(client, tenant, "POST", "/articles/", {"name": "Hammer", "price": 120, "description": "", "vat": 25})
    put("Hobby", contact["id"], {"value": "Sejlads"})
    put("Colour", article["id"], {"value": "Grøn"})
    got = api.call("contacts", "GetContact", search_by="id", search_value=str(contact["id"]))["contact"]
    assert got["inputs"] == {"hobby": "Sejlads"}
    products = api.call("products", "GetProducts", with_inputs=True)["products"]
    assert [p["inputs"] for p in products if p["id"] == article["id"]] == [{"color": "Grøn"}]
    assert api.call("products", "GetInputs")["inputs"][0]["name"] == definitions["Colour"]["name"]
