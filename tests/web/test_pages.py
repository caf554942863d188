"""The web pages: sign-in, sessions, CSRF, forms, tenant isolation, search."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from polycrm.core import documents, lookups
from polycrm.core.models import Activity, Customer, Product, Quote, QuoteLine, User
from polycrm.core.workspace import Workspace
from polycrm.web.forms import parse_money

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def web(app) -> TestClient:
    """A browser of its own: fresh cookies, redirects not followed."""
    return TestClient(app, follow_redirects=False)


def csrf_of(response) -> str:
    found = CSRF.search(response.text)
    assert found, "page has no CSRF token"
    return found.group(1)


def sign_in(web: TestClient, tenant: dict, login: str | None = None, password: str | None = None):
    token = csrf_of(web.get("/signin"))
    return web.post("/signin", data={
        "csrf_token": token,
        "tenant": tenant["tenant"],
        "login": login or tenant["microbizz"]["username"],
        "password": password or tenant["microbizz"]["password"],
    })


@pytest.fixture
def signed_in(web, tenant) -> TestClient:
    response = sign_in(web, tenant)
    assert response.status_code == 303
    return web


def post_form(web: TestClient, form_url: str, data: dict, action: str | None = None):
    token = csrf_of(web.get(form_url))
    return web.post(action or form_url, data={"csrf_token": token, **data})


def workspace(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"], blobs=runtime.blobs)


# -- sign in -----------------------------------------------------------------------


def test_sign_in_with_user_name_opens_the_dashboard(web, tenant):
    response = sign_in(web, tenant)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "polycrm_session=" in cookie and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    page = web.get("/")
    assert page.status_code == 200
    assert "<h1>Dashboard</h1>" in page.text


def test_sign_in_with_email_and_contract_number(web, tenant):
    token = csrf_of(web.get("/signin"))
    response = web.post("/signin", data={
        "csrf_token": token, "tenant": str(tenant["microbizz"]["contract"]),
        "login": tenant["centia"]["email"].upper(), "password": tenant["centia"]["password"],
    })
    assert response.status_code == 303
    assert web.get("/").status_code == 200


def test_tenant_name_is_matched_regardless_of_case(web, tenant):
    token = csrf_of(web.get("/signin"))
    response = web.post("/signin", data={"csrf_token": token, "tenant": tenant["tenant"].upper(),
                                         "login": tenant["microbizz"]["username"],
                                         "password": tenant["microbizz"]["password"]})
    assert response.status_code == 303


@pytest.mark.parametrize("field, value", [("password", "wrong"), ("login", "nobody"), ("tenant", "no-such-tenant"),
                                          ("tenant", "99999999999999999999"), ("tenant", "t-%")])
def test_sign_in_failure_is_refused_without_saying_why(web, tenant, field, value):
    token = csrf_of(web.get("/signin"))
    data = {"csrf_token": token, "tenant": tenant["tenant"], "login": tenant["microbizz"]["username"],
            "password": tenant["microbizz"]["password"], field: value}
    response = web.post("/signin", data=data)
    assert response.status_code == 401
    assert "The tenant, user name or password is not correct." in response.text
    assert web.get("/").status_code == 303


def test_sign_in_with_missing_fields_names_them(web):
    token = csrf_of(web.get("/signin"))
    response = web.post("/signin", data={"csrf_token": token, "tenant": "x", "login": "", "password": ""})
    assert response.status_code == 400
    assert "Enter your user name or e-mail, password." in response.text


def test_sign_in_redirects_only_to_local_pages(web, tenant):
    token = csrf_of(web.get("/signin?next=/customers"))
    data = {"csrf_token": token, "tenant": tenant["tenant"], "login": tenant["microbizz"]["username"],
            "password": tenant["microbizz"]["password"]}
    assert web.post("/signin", data={**data, "next": "/customers?q=a"}).headers["location"] == "/customers?q=a"
    assert web.get("/signin").headers["location"] == "/"  # already signed in
    web.cookies.clear()
    token = csrf_of(web.get("/signin"))
    assert web.post("/signin", data={**data, "csrf_token": token, "next": "//evil.example"}).headers["location"] == "/"


@pytest.mark.parametrize("path", ["/", "/customers", "/customers/1", "/products", "/activities", "/quotes/1",
                                  "/opportunities", "/tickets", "/api-access", "/documents/1/download"])
def test_pages_require_a_session(web, path):
    response = web.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=" + path


def test_the_requested_page_is_opened_after_signing_in(web, tenant):
    response = web.get("/customers?q=a b")
    assert response.headers["location"] == "/signin?next=/customers%3Fq%3Da%2520b"
    token = csrf_of(web.get(response.headers["location"]))
    assert 'name="next" value="/customers?q=a%20b"' in web.get(response.headers["location"]).text
    response = web.post("/signin", data={"csrf_token": token, "tenant": tenant["tenant"], "next": "/customers?q=a%20b",
                                         "login": tenant["microbizz"]["username"], "password": tenant["microbizz"]["password"]})
    assert response.headers["location"] == "/customers?q=a%20b"


def test_a_tampered_cookie_is_no_session(web, tenant):
    sign_in(web, tenant)
    value = web.cookies.get("polycrm_session")
    web.cookies.set("polycrm_session", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert web.get("/").status_code == 303


def test_sign_out_ends_the_session(signed_in):
    token = csrf_of(signed_in.get("/"))
    response = signed_in.post("/signout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/signin"
    assert "You are signed out." in signed_in.get("/signin").text
    assert signed_in.get("/").status_code == 303


# -- CSRF ----------------------------------------------------------------------------


def test_sign_in_without_csrf_token_is_rejected(web, tenant):
    web.get("/signin")
    response = web.post("/signin", data={"tenant": tenant["tenant"], "login": tenant["microbizz"]["username"],
                                         "password": tenant["microbizz"]["password"]})
    assert response.status_code == 403
    assert "This form was not sent from this page or has expired." in response.text
    assert web.get("/").status_code == 303


def test_write_with_wrong_csrf_token_changes_nothing(signed_in, runtime, tenant):
    response = signed_in.post("/customers/new", data={"csrf_token": "forged", "name": "Sneaky"})
    assert response.status_code == 403
    with workspace(runtime, tenant) as ws:
        assert ws.count(select(Customer).where(Customer.name == "Sneaky")) == 0


def test_csrf_token_of_another_session_is_rejected(app, signed_in, tenant):
    other = TestClient(app, follow_redirects=False)
    sign_in(other, tenant)
    foreign = csrf_of(other.get("/customers/new"))
    response = signed_in.post("/customers/new", data={"csrf_token": foreign, "name": "Cross"})
    assert response.status_code == 403


# -- customers ---------------------------------------------------------------------------


def test_create_and_edit_customer_round_trip(signed_in, runtime, tenant):
    response = post_form(signed_in, "/customers/new", {
        "name": "Fjord Fisk ApS", "number": "C-77", "email": "ordre@fjord.example", "phone": "+45 12 34 56 78",
        "street": "Havnevej 3", "zip": "9900", "city": "Frederikshavn", "inv_email": "faktura@fjord.example",
        "active": "1",
    })
    assert response.status_code == 303
    location = response.headers["location"]
    customer_id = int(location.rsplit("/", 1)[1])
    page = signed_in.get(location)
    assert "Fjord Fisk ApS" in page.text and "Customer Fjord Fisk ApS created." in page.text
    assert "Havnevej 3" in page.text

    form = signed_in.get(f"/customers/{customer_id}/edit")
    assert 'value="Frederikshavn"' in form.text and 'value="C-77"' in form.text
    response = post_form(signed_in, f"/customers/{customer_id}/edit", {
        "name": "Fjord Fisk A/S", "number": "C-77", "email": "", "city": "Skagen", "street": "Havnevej",
        "house_number": "3", "is_prospect": "1",
    })
    assert response.status_code == 303 and response.headers["location"] == f"/customers/{customer_id}"
    page = signed_in.get(f"/customers/{customer_id}").text
    assert "Changes saved." in page and "Havnevej 3<br>" in page  # street and house number on one line

    with workspace(runtime, tenant) as ws:
        c = ws.get(Customer, customer_id)
        assert c.name == "Fjord Fisk A/S" and c.email is None and c.active is False and c.is_prospect is True
        assert c.addresses == {"visiting": {"street": "Havnevej", "number": "3", "city": "Skagen"}}
        assert "skagen" in c.search_text and "havnevej 3" in c.search_text and c.user_id is None
        assert c.profile_id == tenant["profile_id"]


def test_add_a_contact_to_a_customer(signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        customer_id = ws.create(Customer, name="Kontakt A/S").id
    url = f"/customers/{customer_id}/contacts/new"
    response = post_form(signed_in, url, {"name": "", "email": "nope"})
    assert response.status_code == 400
    assert "First name is required." in response.text
    response = post_form(signed_in, url, {"name": "Lise", "surname": "Holm", "email": "lise@kontakt.example",
                                          "jobtitle": "Buyer"})
    assert response.status_code == 303 and response.headers["location"] == f"/customers/{customer_id}"
    page = signed_in.get(f"/customers/{customer_id}").text
    assert "Contact Lise Holm added." in page and "lise@kontakt.example" in page
    with workspace(runtime, tenant) as ws:
        from polycrm.core.models import Contact
        contacts = ws.scalars(select(Contact).where(Contact.customer_id == customer_id))
        assert [(c.name, c.surname, c.jobtitle) for c in contacts] == [("Lise", "Holm", "Buyer")]
        assert "lise@kontakt.example" in contacts[0].search_text


def test_customer_form_errors_are_shown_and_nothing_is_written(signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        ws.create(Customer, name="Existing", number="500")
    response = post_form(signed_in, "/customers/new", {
        "name": "", "number": "500", "email": "not-an-address", "type": "999999",
    })
    assert response.status_code == 400
    text = response.text
    assert "Name is required." in text
    assert "Customer number 500 is already used by Existing." in text
    assert "E-mail must be an e-mail address like name@example.com." in text
    assert "The chosen type does not exist; choose one from the list." in text
    assert 'value="not-an-address"' in text  # what was typed is kept
    with workspace(runtime, tenant) as ws:
        assert ws.count(select(Customer)) == 1


def test_customer_numbers_clash_ignoring_case(signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        ws.create(Customer, name="Holder", number="C-1")
    response = post_form(signed_in, "/customers/new", {"name": "Second", "number": "c-1"})
    assert response.status_code == 400
    assert "Customer number c-1 is already used by Holder." in response.text
    with workspace(runtime, tenant) as ws:
        assert ws.count(select(Customer).where(Customer.name == "Second")) == 0


def test_customer_cannot_become_its_own_ancestor(signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        parent = ws.create(Customer, name="Parent")
        child = ws.create(Customer, name="Child", parent_id=parent.id)
        parent_id, child_id = parent.id, child.id
    response = post_form(signed_in, f"/customers/{parent_id}/edit", {"name": "Parent", "parent": str(child_id)})
    assert response.status_code == 400
    assert "This parent would make the customer its own parent." in response.text
    page = signed_in.get(f"/customers/{parent_id}")
    assert "Child customers" in page.text and f'href="/customers/{child_id}"' in page.text


def test_saving_a_form_keeps_a_reference_the_pickers_do_not_offer(signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        retired = ws.create(User, username="retired", name="Old", surname="Timer", active=False)
        customer = ws.create(Customer, name="Kept", user_id=retired.id)
        customer_id, retired_id = customer.id, retired.id
    form = signed_in.get(f"/customers/{customer_id}/edit").text
    assert f'<option value="{retired_id}" selected>Old Timer</option>' in form
    response = post_form(signed_in, f"/customers/{customer_id}/edit",
                         {"name": "Kept", "owner": str(retired_id), "phone": "123"})
    assert response.status_code == 303
    with workspace(runtime, tenant) as ws:
        assert ws.get(Customer, customer_id).user_id == retired_id


def test_customer_of_another_tenant_is_not_found(signed_in, runtime, other_tenant):
    with workspace(runtime, other_tenant) as ws:
        theirs = ws.create(Customer, name="Their secret customer").id
    response = signed_in.get(f"/customers/{theirs}")
    assert response.status_code == 404
    assert f"customer {theirs} not found" in response.text and "Their secret" not in response.text
    assert signed_in.get(f"/customers/{theirs}/edit").status_code == 404
    response = post_form(signed_in, "/customers/new", {"name": "x"}, action=f"/customers/{theirs}/edit")
    assert response.status_code == 404
    with workspace(runtime, other_tenant) as ws:
        assert ws.get(Customer, theirs).name == "Their secret customer"


def test_customer_search_is_case_insensitive_and_paged(signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        for i in range(30):
            ws.create(Customer, {"name": f"Kunde {i:02d}", "addresses.visiting.city": "Århus" if i % 2 else "Odense"})
        ws.create(Customer, name="100% Pure_Water")
    page = signed_in.get("/customers", params={"q": "ÅRHUS"})
    assert page.status_code == 200
    assert "1–15 of 15" in page.text and "Kunde 01" in page.text and "Kunde 02" not in page.text
    first = signed_in.get("/customers")
    assert "1–25 of 31" in first.text and 'href="/customers?page=2"' in first.text
    second = signed_in.get("/customers?page=2")
    assert "26–31 of 31" in second.text
    assert "Pure_Water" in signed_in.get("/customers", params={"q": "100%"}).text
    assert "Nothing matches “0%x”." in signed_in.get("/customers", params={"q": "0%x"}).text
    assert signed_in.get("/customers", params={"q": "kunde 0", "page": "oops"}).status_code == 200


def test_customer_page_shows_contacts_activities_quotes_and_documents(signed_in, runtime, tenant):
    data = b"%PDF-1.4 contract text"
    with workspace(runtime, tenant) as ws:
        c = ws.create(Customer, name="Havbrug")
        from polycrm.core.models import Contact
        ws.create(Contact, customer_id=c.id, name="Karen", surname="Lund", email="karen@havbrug.example")
        ws.create(Activity, customer_id=c.id, description="Follow up on pens", user_id=tenant["user_id"])
        ws.create(Quote, customer_id=c.id, number="Q-9", title="Nets")
        doc = documents.save(ws, data=data, values={"filename": "kontrakt æ.pdf", "title": "Contract"},
                             owner=("customer", c.id))
        customer_id, doc_id = c.id, doc.id
    page = signed_in.get(f"/customers/{customer_id}").text
    for expected in ("Karen Lund", "Follow up on pens", "Q-9", "Contract", f"/documents/{doc_id}/download"):
        assert expected in page
    download = signed_in.get(f"/documents/{doc_id}/download")
    assert download.status_code == 200 and download.content == data
    assert download.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''kontrakt%20%C3%A6.pdf" in download.headers["content-disposition"]


def test_document_of_another_tenant_cannot_be_downloaded(signed_in, runtime, other_tenant):
    with workspace(runtime, other_tenant) as ws:
        doc_id = documents.save(ws, data=b"secret bytes", values={"filename": "secret.txt"}).id
    response = signed_in.get(f"/documents/{doc_id}/download")
    assert response.status_code == 404 and b"secret bytes" not in response.content


def test_a_huge_document_id_is_not_found(signed_in):
    assert signed_in.get(f"/documents/{2**70}/download").status_code == 404


def test_a_product_number_in_use_is_refused_trimmed_and_in_any_case(signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        ws.create(Product, name="Wool Socks", number="P-7")
    response = post_form(signed_in, "/products/new", {"name": "Cotton Socks", "number": " p-7 ", "active": "1"})
    assert response.status_code == 400
    assert "Product number p-7 is already used by Wool Socks." in response.text
    with workspace(runtime, tenant) as ws:
        assert ws.count(select(Product)) == 1


# -- products -------------------------------------------------------------------------------


def test_create_search_and_edit_product(signed_in, runtime, tenant):
    response = post_form(signed_in, "/products/new", {"name": "Wool Socks", "number": "P-1", "price": "1 249,50",
                                                      "active": "1"})
    assert response.status_code == 303
    listing = signed_in.get(response.headers["location"]).text
    assert "Product Wool Socks created." in listing and "1,249.50 DKK" in listing
    assert "Wool Socks" in signed_in.get("/products", params={"q": "SOCKS"}).text
    with workspace(runtime, tenant) as ws:
        product = ws.first(select(Product).where(Product.number == "P-1"))
        assert product.price == Decimal("1249.5") and product.active
        product_id = product.id
    response = post_form(signed_in, f"/products/{product_id}/edit", {"name": "Wool Socks", "number": "P-1",
                                                                     "price": "-3", "cost_price": "abc"})
    assert response.status_code == 400
    assert "Sales price cannot be negative." in response.text
    assert "Cost price must be a number, e.g. 1250.50." in response.text
    response = post_form(signed_in, f"/products/{product_id}/edit", {"name": "Wool Socks", "number": "P-1",
                                                                     "price": "99", "active": ""})
    assert response.status_code == 303
    with workspace(runtime, tenant) as ws:
        product = ws.get(Product, product_id)
        assert product.price == Decimal(99) and product.active is False


@pytest.mark.parametrize("typed, stored", [("1249.5", "1249.5"), ("1 249,50", "1249.5"), ("1.249,50", "1249.5"),
                                           ("1,249.50", "1249.5"), ("0", "0")])
def test_money_is_read_leniently(typed, stored):
    assert parse_money(typed, "Price") == Decimal(stored)


@pytest.mark.parametrize("typed, message", [("12a", "Price must be a number, e.g. 1250.50."),
                                            ("NaN", "Price is out of range."),
                                            ("1e20", "Price is out of range."),
                                            ("-1", "Price cannot be negative.")])
def test_bad_money_is_refused(typed, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_money(typed, "Price")


# -- activities -----------------------------------------------------------------------------------


def test_plan_a_call_and_mark_it_done(signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        customer_id = ws.create(Customer, name="Ring Mig").id
        call_id = lookups.by_code(ws, "activity_type", "call").id
    response = post_form(signed_in, "/activities/new", {
        "type": str(call_id), "description": "Call about renewal", "customer": str(customer_id),
        "date": "2026-03-02", "owner": str(tenant["user_id"]), "phonenumber": "+45 11 22 33 44",
    })
    assert response.status_code == 303 and response.headers["location"] == f"/customers/{customer_id}"
    dashboard = signed_in.get("/").text
    assert "Call about renewal" in dashboard and "Ring Mig" in dashboard
    with workspace(runtime, tenant) as ws:
        activity = ws.first(select(Activity).where(Activity.description == "Call about renewal"))
        activity_id = activity.id
        assert activity.type_id == call_id and not activity.closed and str(activity.date) == "2026-03-02"
    token = csrf_of(signed_in.get("/activities"))
    response = signed_in.post(f"/activities/{activity_id}/done", data={"csrf_token": token, "next": "/"})
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "Call about renewal" not in signed_in.get("/activities").text
    assert "Call about renewal" in signed_in.get("/activities?show=all").text
    with workspace(runtime, tenant) as ws:
        assert ws.get(Activity, activity_id).closed is True


def test_activity_needs_a_subject_and_a_known_customer(signed_in, runtime, tenant):
    response = post_form(signed_in, "/activities/new", {"type": "", "description": "", "customer": "abc",
                                                        "owner": str(tenant["user_id"]), "date": "31/02/2026"})
    assert response.status_code == 400
    for message in ("Type is required.", "Subject is required.", "Choose a customer from the list.",
                    "Date must be a date like 2026-03-31."):
        assert message in response.text
    with workspace(runtime, tenant) as ws:
        assert ws.count(select(Activity)) == 0


def test_marking_another_tenants_activity_done_is_not_found(signed_in, runtime, other_tenant):
    with workspace(runtime, other_tenant) as ws:
        theirs = ws.create(Activity, description="theirs").id
    token = csrf_of(signed_in.get("/activities"))
    assert signed_in.post(f"/activities/{theirs}/done", data={"csrf_token": token}).status_code == 404
    with workspace(runtime, other_tenant) as ws:
        assert ws.get(Activity, theirs).closed is False


# -- quotes, lists, API access ---------------------------------------------------------------------


def test_quote_detail_shows_lines_and_their_sum(signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        q = ws.create(Quote, number="S-100", title="Boat service", currencycode="DKK")
        ws.create(QuoteLine, quote_id=q.id, text="Engine check", quantity=Decimal(2), price=Decimal(450),
                  discountpercent=Decimal(10), sortorder=1)
        ws.create(QuoteLine, quote_id=q.id, text="Oil", quantity=Decimal(1), price=Decimal("99.95"), sortorder=2)
        quote_id = q.id
    assert "S-100" in signed_in.get("/quotes", params={"q": "boat"}).text
    page = signed_in.get(f"/quotes/{quote_id}").text
    assert "Engine check" in page and "810.00" in page and "909.95" in page
    assert signed_in.get("/quotes/99999999").status_code == 404


def test_opportunity_and_ticket_lists(signed_in, runtime, tenant):
    from polycrm.core.models import Opportunity, Ticket
    with workspace(runtime, tenant) as ws:
        ws.create(Opportunity, title="Big fleet deal", value=Decimal(125000))
        ws.create(Ticket, title="Printer on fire")
    assert "Big fleet deal" in signed_in.get("/opportunities").text
    assert "125,000.00 DKK" in signed_in.get("/opportunities").text
    assert "Printer on fire" in signed_in.get("/tickets", params={"q": "FIRE"}).text
    assert "Nothing matches" in signed_in.get("/tickets", params={"q": "water"}).text


def test_api_access_page_shows_usage_but_no_secrets(signed_in, tenant):
    page = signed_in.get("/api-access").text
    assert f"<code>{tenant['microbizz']['contract']}</code>" in page
    assert "http://testserver/api/endpoint.php" in page and "http://testserver/oauth/token" in page
    assert "Microbizz API key" in page and "Cirrus OAuth client" in page
    for secret in (tenant["microbizz"]["apikey"], tenant["microbizz"]["password"], tenant["cirrus"]["x_token"],
                   tenant["cirrus"]["client_secret"]):
        assert secret not in page


def test_pages_send_security_headers(signed_in):
    response = signed_in.get("/customers")
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    css = signed_in.get("/static/style.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


def test_web_pages_do_not_shadow_api_paths(web):
    """Unknown paths and the API endpoints are not answered by the web pages."""
    for path in ("/no-such-page", "/api/v1/companies", "/api/endpoint.php", "/oauth/token"):
        response = web.get(path)
        assert response.headers.get("location", "").startswith("/signin") is False, path
        assert "Sign in to polycrm" not in response.text, path
    assert web.get("/no-such-page").status_code == 404


# -- a real browser ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)")
def test_sign_in_page_renders_in_headless_chromium(app, backend, tmp_path):
    if backend != "sqlite":
        pytest.skip("one browser run is enough; it runs with the SQLite backend")
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        shot = tmp_path / "signin.png"
        subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,800", f"--screenshot={shot}",
             f"http://127.0.0.1:{port}/signin"],
            check=True, capture_output=True, timeout=120,
        )
        png = shot.read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        from PIL import Image

        with Image.open(shot) as image:
            assert image.size == (1200, 800)
            colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is not None and len(colours) > 20, "the screenshot is blank"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        shutil.rmtree(tmp_path / "profile", ignore_errors=True)
