"""Record pages in real Chromium at 1366 px and 390 px (the set-up, screenshots
and axe-core check of test_browser): a product edited and its timeline, a quote's
timeline, a long timeline paged back with the keyboard, the customer page's
opportunities and tickets, and deleting an opportunity through its confirm page."""

from __future__ import annotations

from decimal import Decimal

import pytest

from polycrm.core import customers, opportunities, products
from polycrm.core import quotes as core_quotes
from polycrm.core.models import Customer, Opportunity, Quote, Ticket
from tests.web.test_browser import WIDTHS, Walk, axe_source, browser, server, sign_in  # noqa: F401 (fixtures)
from tests.web.test_pages import workspace


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_record_pages_timelines_and_opportunity_delete_in_chromium(server, browser, axe_source, runtime, tenant,
                                                                   width_name):
    with workspace(runtime, tenant) as ws:
        customer = customers.create(ws, {"name": "Harbour Marine", "phone": "0"})
        product = products.create(ws, {"name": "Engine service", "number": "SRV-1", "price": Decimal(450)})
        quote = core_quotes.create(ws, {"title": "Spring service", "customer_id": customer.id})
        deal = opportunities.create(ws, {"title": "Fleet deal", "value": Decimal(125000), "customer_id": customer.id})
        ws.create(Ticket, title="Leaking hull", status="open", customer_id=customer.id)
        ids = {"customer": customer.id, "product": product.id, "quote": quote.id, "deal": deal.id}
    for i in range(1, 56):  # more saves than a timeline page holds
        with workspace(runtime, tenant) as ws:
            customers.update(ws, ws.get(Customer, ids["customer"]), {"phone": str(i)})
    with workspace(runtime, tenant) as ws:
        core_quotes.SERVICE.update(ws, ws.get(Quote, ids["quote"]), {"title": "Spring service 2027"})

    width, height = WIDTHS[width_name]
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    page = context.new_page()
    walk = Walk(page, server, width_name, axe_source)
    sign_in(page, server, tenant)

    # A product: from the list to its page, edited, the change on its timeline.
    walk.go("/products", "products")
    with page.expect_navigation():
        page.get_by_role("link", name="Engine service").click()
    walk.check("product")
    with page.expect_navigation():
        page.get_by_role("link", name="Edit").click()
    page.get_by_label("Sales price").fill("475")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    assert page.url == f"{server}/products/{ids['product']}"
    timeline = page.locator(".timeline").inner_text()
    assert "Sales price" in timeline and "475" in timeline and "through the web page" in timeline
    walk.check("product-timeline")

    # A quote's timeline shows a change made outside the page.
    walk.go(f"/quotes/{ids['quote']}", "quote-timeline")
    assert "Spring service 2027" in page.locator(".timeline").inner_text()

    # The customer page: its opportunities and tickets, and a timeline of 59 entries in two pages.
    walk.go(f"/customers/{ids['customer']}", "customer-with-history")
    assert page.locator("#opps-h").is_visible() and page.locator("#tickets-h").is_visible()
    assert page.get_by_role("link", name="Fleet deal").first.is_visible()
    assert page.get_by_role("link", name="Leaking hull").first.is_visible()
    assert page.locator(".timeline > li").count() == 50
    older = page.get_by_role("link", name="Older entries")
    older.focus()  # reachable by keyboard: focus it and press Enter
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/customers/{ids['customer']}?timeline=2#timeline-h")
    assert page.locator(".timeline > li").count() == 9  # 55 saves, created, a quote, a deal, a ticket
    assert "Created" in page.locator(".timeline").inner_text()
    walk.check("customer-timeline-older")
    page.get_by_role("link", name="Newer entries").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".timeline > li").count() == 50

    # Deleting an opportunity: a confirm page first, then back to its customer.
    walk.go(f"/opportunities/{ids['deal']}", "opportunity-detail")
    with page.expect_navigation():
        page.get_by_role("link", name="Delete").click()
    walk.check("opportunity-delete-confirm")
    with workspace(runtime, tenant) as ws:
        assert not ws.get(Opportunity, ids["deal"]).deleted
    page.get_by_role("button", name="Delete opportunity").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{server}/customers/{ids['customer']}"
    assert "Opportunity Fleet deal deleted." in page.locator(".flash").inner_text()
    assert page.get_by_role("link", name="Fleet deal").count() == 0
    with workspace(runtime, tenant) as ws:
        assert ws.get(Opportunity, ids["deal"]).deleted
    context.close()
    assert walk.problems == []
