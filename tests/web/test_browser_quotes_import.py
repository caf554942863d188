"""Quote with lines to PDF and CSV import with a bad row, in real Chromium at
1366 px and 390 px (the set-up, screenshots and axe-core check of test_browser)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from polycrm.core import customers, products
from tests.web.test_browser import WIDTHS, Walk, axe_source, browser, server, sign_in  # noqa: F401 (fixtures)
from tests.web.test_pages import workspace


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_quote_lines_pdf_and_csv_import_in_chromium(server, browser, axe_source, runtime, tenant, width_name,
                                                    tmp_path):
    with workspace(runtime, tenant) as ws:
        customer = customers.create(ws, {"name": "Harbour Marine"})
        products.create(ws, {"name": "Engine service", "number": "SRV-1", "price": Decimal(450)})
        customer_id = customer.id
    width, height = WIDTHS[width_name]
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True,
                                  accept_downloads=True)
    page = context.new_page()
    walk = Walk(page, server, width_name, axe_source)
    sign_in(page, server, tenant)

    # A quote with a product line and a free-text line; the totals follow the typing.
    walk.go("/quotes/new", "quote-new")
    page.locator("#f-customer").select_option(str(customer_id))
    page.locator("#line0-product").select_option(label="Engine service (SRV-1)")
    page.locator("#line0-quantity").fill("2")
    page.locator("#line1-text").fill("Travel")
    page.locator("#line1-price").fill("1.249,50")
    assert page.locator("#quote-sum").inner_text().startswith("2,149.50")
    page.get_by_role("button", name="Add line").click()
    assert page.locator("tr.quote-line").count() == 3
    page.locator("#line2-text").fill("Oil")
    page.locator("#line2-price").fill("oops")
    walk.check("quote-form-filled")
    with page.expect_navigation():
        page.locator("#line2-price").press("Enter")  # submits the form, as a keyboard user would
    assert "Line 3: unit price must be a number" in page.locator(".alert").inner_text()
    walk.check("quote-form-error")
    page.locator("#line2-price").fill("50")
    with page.expect_navigation():
        page.locator("#line2-price").press("Enter")
    assert "created" in page.locator(".flash").inner_text() and "2,199.50" in page.content()
    walk.check("quote")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    saved = tmp_path / "quote.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")

    # CSV import: a file with a bad row imports nothing and names the row.
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text("Company;E-mail\nGood Shop;shop@example.test\n;nobody@example.test\n", encoding="utf-8")
    walk.go("/import/customers", "import-upload")
    page.locator("#f-file").set_input_files(str(csv_file))
    with page.expect_navigation():
        page.get_by_role("button", name="Upload").click()
    assert page.locator("#map-0").input_value() == "name" and page.locator("#map-1").input_value() == "email"
    walk.check("import-map")
    with page.expect_navigation():
        page.get_by_role("button", name="Preview").click()
    assert "1 with errors" in page.content() and "Error: name must not be empty" in page.content()
    assert page.get_by_role("button", name="Import").count() == 0
    walk.check("import-preview-error")
    context.close()
    assert walk.problems == []
