"""The cases issue 14 found broken: huge ids, unchanged saves, unknown
addresses, the demo user's own calls, time zones, amounts."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from polycrm.core import customers, demo, fixtures, tenant_settings
from polycrm.core.models import Activity, Customer, Product, Quote
from polycrm.web.forms import format_amount
from tests.web.test_pages import csrf_of, post_form, signed_in, web, workspace  # noqa: F401 (fixtures)

HUGE = "99999999999999999999"


def assert_styled_page(response, status: int) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert '<link rel="stylesheet" href="/static/style.css">' in response.text


@pytest.mark.parametrize("path", [
    f"/customers/{HUGE}", f"/customers/{HUGE}/edit", f"/customers/{HUGE}/contacts/new", f"/quotes/{HUGE}",
    f"/products/{HUGE}/edit", f"/documents/{HUGE}/download", f"/customers/-{HUGE}",
    # Every other page of docs/web.md with an id in its address.
    f"/products/{HUGE}", f"/quotes/{HUGE}/edit", f"/quotes/{HUGE}/pdf", f"/import/customers/{HUGE}",
    f"/import/contacts/{HUGE}", f"/import/jobs/{HUGE}", *(f"/{kind}/{HUGE}{tail}" for kind in (
        "contacts", "activities", "tickets", "opportunities") for tail in ("", "/edit", "/delete")),
])
def test_a_huge_id_in_a_page_address_is_a_styled_404(signed_in, path):
    response = signed_in.get(path)
    assert_styled_page(response, 404)
    assert '<nav aria-label="Main">' in response.text


@pytest.mark.parametrize("path", [
    f"/activities/{HUGE}/done", f"/customers/{HUGE}/edit", f"/customers/{HUGE}/contacts/new", f"/products/{HUGE}/edit",
    f"/quotes/{HUGE}/edit", f"/opportunities/{HUGE}/stage", f"/import/customers/{HUGE}/preview",
    f"/import/customers/{HUGE}/run", f"/customers/views/{HUGE}/delete",
    *(f"/{kind}/{HUGE}{tail}" for kind in ("contacts", "activities", "tickets", "opportunities")
      for tail in ("/edit", "/delete")),
])
def test_a_huge_id_in_a_form_address_is_a_styled_404(signed_in, path):
    token = csrf_of(signed_in.get("/customers"))
    response = signed_in.post(path, data={"csrf_token": token, "name": "x", "description": "x", "owner": "1"})
    assert_styled_page(response, 404)


def test_a_huge_id_as_a_dropdown_value_is_a_form_error(signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        customer_id = ws.create(Customer, name="Acme").id
    response = post_form(signed_in, f"/customers/{customer_id}/edit",
                         {"name": "Acme", "owner": HUGE, "type": HUGE, "parent": HUGE})
    assert_styled_page(response, 400)
    for label in ("type", "parent customer", "responsible user"):
        assert f"The chosen {label} does not exist; choose one from the list." in response.text
    response = post_form(signed_in, "/activities/new", {"type": HUGE, "description": "Call", "owner": HUGE,
                                                        "customer": HUGE})
    assert_styled_page(response, 400)
    assert "The chosen customer does not exist; choose one from the list." in response.text
    # A huge id in the picker's query string is simply not preselected.
    assert signed_in.get(f"/activities/new?customer={HUGE}").status_code == 200


# -- unknown addresses ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/quotes/newest", "/customers/abc", "/no/such/page", "/customers/1/nothing"])
def test_an_unknown_address_is_a_styled_404_with_the_menu(signed_in, path):
    response = signed_in.get(path)
    assert_styled_page(response, 404)
    assert '<nav aria-label="Main">' in response.text and "Page not found" in response.text
    assert response.headers["cache-control"] == "no-store"


def test_an_unknown_address_without_a_session_is_a_styled_404_not_a_sign_in(web):
    response = web.get("/customers/abc")
    assert_styled_page(response, 404)
    assert "Page not found" in response.text and '<nav aria-label="Main">' not in response.text


@pytest.mark.parametrize("path", ["/static/nope.css", "/static/", "/static/%2e%2e/__init__.py", "/static/style.css/x"])
def test_a_missing_static_file_is_the_styled_404_with_the_security_headers(signed_in, path):
    response = signed_in.get(path)
    assert_styled_page(response, 404)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert '<nav aria-label="Main">' in response.text and "Page not found" in response.text
    assert response.headers["cache-control"] == "no-store"


def test_a_missing_static_file_without_a_session_is_the_styled_404_not_a_sign_in(web):
    response = web.get("/static/nope.js")
    assert_styled_page(response, 404)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "Page not found" in response.text and '<nav aria-label="Main">' not in response.text


def test_static_files_and_a_wrong_method_on_them_carry_the_security_headers(web):
    for path, kind in (("/static/style.css", "text/css"), ("/static/board.js", "javascript")):
        response = web.get(path)
        assert response.status_code == 200 and kind in response.headers["content-type"], path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["x-frame-options"] == "DENY", path
    refused = web.post("/static/style.css")
    assert (refused.status_code, refused.headers["allow"]) == (405, "GET, HEAD")
    assert refused.headers["x-content-type-options"] == "nosniff"
    assert web.head("/static/nope.css").status_code == 404


def test_a_known_address_with_another_method_and_api_paths_keep_their_answers(web):
    assert web.post("/api-access").status_code == 405  # GET only: not the fallback's 404
    api = web.get("/api/endpoint.php")
    assert "Page not found" not in api.text
    assert "Page not found" not in web.post("/api/v1/nosuchmodule", json={}).text


# -- unchanged saves --------------------------------------------------------------------------


class _FormValues(HTMLParser):
    """What a browser would send for a page's first POST form, as it stands."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._forms = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("method") == "post":
            self._forms += 1
        if self._forms != 2:  # the first post form is the header's sign-out
            return
        if tag == "input" and a.get("name"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.values[a["name"]] = a.get("value", "on")
            else:
                self.values[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value") or ""
        elif tag == "textarea":
            self._textarea = a["name"]
            self.values[a["name"]] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


def form_as_shown(web, url: str) -> dict[str, str]:
    parser = _FormValues()
    parser.feed(web.get(url).text)
    return parser.values


def test_saving_a_customer_unchanged_says_so_and_keeps_its_change_time(signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        customer = customers.create(ws, {
            "name": "Nordlys Handel A/S", "number": "10001", "email": "info@nordlys.example", "phone": "+45 33 12",
            "description": "Two lines\nof text", "is_prospect": True,
            "addresses": {"visiting": {"street": "Vesterbrogade", "number": "12", "zip": "1620", "city": "København V",
                                       "country": "DK"},
                          "invoice": {"name": "Nordlys", "street": "Postboks 210", "country": "DK"}},
        })
        customer_id = customer.id
    with workspace(runtime, tenant) as ws:
        stamp = ws.get(Customer, customer_id).changed_at
    values = form_as_shown(signed_in, f"/customers/{customer_id}/edit")
    assert values["name"] == "Nordlys Handel A/S" and values["is_prospect"]
    response = signed_in.post(f"/customers/{customer_id}/edit", data=values)
    assert response.status_code == 303
    assert "No changes." in signed_in.get(response.headers["location"]).text
    with workspace(runtime, tenant) as ws:
        assert ws.get(Customer, customer_id).changed_at == stamp
    # A real change is saved and moves the stamp.
    values["phone"] = "+45 33 99"
    response = signed_in.post(f"/customers/{customer_id}/edit", data=values)
    assert "Changes saved." in signed_in.get(response.headers["location"]).text
    with workspace(runtime, tenant) as ws:
        assert ws.get(Customer, customer_id).phone == "+45 33 99"


def test_saving_a_product_unchanged_says_so_and_keeps_its_change_time(signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        product_id = ws.create(Product, name="Socks", number="P-1", price=Decimal("1249.5"), active=True).id
    with workspace(runtime, tenant) as ws:
        stamp = ws.get(Product, product_id).changed_at
    values = form_as_shown(signed_in, f"/products/{product_id}/edit")
    response = signed_in.post(f"/products/{product_id}/edit", data=values)
    assert "No changes." in signed_in.get(response.headers["location"]).text
    with workspace(runtime, tenant) as ws:
        assert ws.get(Product, product_id).changed_at == stamp


def test_the_core_writes_nothing_for_an_update_without_an_effective_change(runtime, tenant):
    """The rule the pages rely on holds for every caller of the service."""
    with workspace(runtime, tenant) as ws:
        customer_id = customers.create(ws, {"name": "Acme", "number": "A-1"}).id
    with workspace(runtime, tenant) as ws:
        customer = ws.get(Customer, customer_id)
        stamp = customer.changed_at
        assert customers.update(ws, customer, {"name": "Acme", "number": "A-1", "phone": None}) is False
    with workspace(runtime, tenant) as ws:
        assert ws.get(Customer, customer_id).changed_at == stamp


# -- long words -------------------------------------------------------------------------------


def test_long_words_wrap_in_the_stylesheet(signed_in, runtime, tenant):
    """The page keeps a 255-character name; the stylesheet lets it wrap anywhere
    (the browser test measures that the page does not scroll sideways)."""
    word = "W" * 255
    with workspace(runtime, tenant) as ws:
        customer_id = ws.create(Customer, name=word).id
    assert word in signed_in.get("/customers").text and word in signed_in.get(f"/customers/{customer_id}").text
    css = signed_in.get("/static/style.css").text
    assert "overflow-wrap: anywhere" in css and "minmax(min(22rem, 100%), 1fr)" in css


# -- demo, time zone, amounts ---------------------------------------------------------------------


def test_the_demo_user_owns_open_activities(runtime, tenant):
    data = json.loads(demo.DATA_FILE.read_text())
    with workspace(runtime, tenant) as ws:
        fixtures.load(ws, data)
    with workspace(runtime, tenant) as ws:
        mine = ws.scalars(select(Activity).where(Activity.user_id == tenant["user_id"], Activity.closed.is_(False)))
    assert len(mine) >= 3


def test_dashboard_times_are_in_the_tenants_time_zone(signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        stamp = customers.create(ws, {"name": "Zoned"}).changed_at  # stored in UTC

    def shown_in(zone: str) -> str:
        local = stamp.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(zone))
        return local.strftime("%Y-%m-%d %H:%M ") + local.tzname()

    text = signed_in.get("/").text
    assert shown_in("Europe/Copenhagen") in text  # the default zone
    assert f'datetime="{stamp.isoformat()}Z"' in text
    with workspace(runtime, tenant) as ws:
        tenant_settings.update(ws, {"timezone": "America/Mexico_City"})
    assert shown_in("America/Mexico_City") in signed_in.get("/").text
    with workspace(runtime, tenant) as ws:
        tenant_settings.update(ws, {"timezone": "Not/AZone"})
    assert shown_in("Europe/Copenhagen") in signed_in.get("/").text


def test_amounts_have_thousands_separators_and_currency(signed_in, runtime, tenant):
    assert format_amount(Decimal("14995.0000"), "DKK") == "14,995.00 DKK"
    assert format_amount(Decimal("-1234567.125")) == "-1,234,567.125"
    assert format_amount(Decimal("0")) == "0.00"
    with workspace(runtime, tenant) as ws:
        ws.create(Product, name="Machine", number="MA-1", price=Decimal("14995"), active=True)
        quote_id = ws.create(Quote, title="Big one", price=Decimal("1234567.5"), currencycode="EUR").id
    assert "14,995.00 DKK" in signed_in.get("/products").text  # the default profile's currency
    assert "1,234,567.50 EUR" in signed_in.get("/quotes").text
    assert "1,234,567.50 EUR" in signed_in.get(f"/quotes/{quote_id}").text


def test_customer_numbers_clash_ignoring_case_with_a_clear_message(signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        customers.create(ws, {"name": "First", "number": "ab-1"})
    response = post_form(signed_in, "/customers/new", {"name": "Second", "number": " AB-1 ", "active": "1"})
    assert response.status_code == 400
    assert "Customer number AB-1 is already used by First." in response.text
