"""Quote pages: create and edit a quote with its lines, errors per field, the PDF."""

from __future__ import annotations

import io
import re
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import select

from polycrm.core.models import Customer, Product, Quote, QuoteLine
from tests.web.test_pages import csrf_of, post_form, signed_in, web, workspace  # noqa: F401 (fixtures)

HUGE = "99999999999999999999"


def _setup(runtime, tenant) -> tuple[int, int]:
    with workspace(runtime, tenant) as ws:
        customer = ws.create(Customer, name="Harbour Marine")
        product = ws.create(Product, name="Engine service", number="SRV-1", price=Decimal("450.00"))
        return customer.id, product.id


def _lines(rows: list[dict]) -> list[tuple[str, str]]:
    """Repeated line inputs, row by row, as the form sends them."""
    pairs = []
    for row in rows:
        for name in ("id", "product", "text", "quantity", "price", "discountpercent", "discountamount"):
            pairs.append((f"line_{name}", row.get(name, "")))
    return pairs


def _post(client, url: str, head: dict, rows: list[dict], form_url: str | None = None):
    token = csrf_of(client.get(form_url or url))
    body = [("csrf_token", token), *head.items(), *_lines(rows)]
    return client.post(url, content=_encode(body), headers={"content-type": "application/x-www-form-urlencoded"})


def _encode(pairs) -> str:
    from urllib.parse import urlencode
    return urlencode(pairs)


def _quote_lines(runtime, tenant, quote_id):
    with workspace(runtime, tenant) as ws:
        quote = ws.get(Quote, quote_id)
        lines = ws.scalars(select(QuoteLine).where(QuoteLine.quote_id == quote_id, QuoteLine.deleted.is_(False))
                           .order_by(QuoteLine.sortorder))
        return quote.number, quote.price, quote.customer_id, [(l.id, l.product_id, l.text, l.quantity, l.price) for l in lines]


def test_create_a_quote_with_a_product_line_and_a_free_text_line(signed_in, runtime, tenant):
    customer_id, product_id = _setup(runtime, tenant)
    page = signed_in.get("/quotes/new")
    assert page.status_code == 200 and 'src="/static/quote.js"' in page.text and "Engine service (SRV-1)" in page.text
    response = _post(signed_in, "/quotes/new", {"customer": str(customer_id), "title": "Spring service"}, [
        {"product": str(product_id), "quantity": "2", "discountpercent": "10"},
        {"text": "Travel", "quantity": "1", "price": "1.249,50"},
        {"quantity": "1"},  # an untouched blank row is ignored
    ])
    assert response.status_code == 303
    quote_id = int(re.search(r"/quotes/(\d+)$", response.headers["location"]).group(1))
    number, price, customer, lines = _quote_lines(runtime, tenant, quote_id)
    assert customer == customer_id and number.startswith("Q-")
    assert [(l[1], l[2], l[3], l[4]) for l in lines] == [
        (product_id, "Engine service", Decimal(2), Decimal(450)), (None, "Travel", Decimal(1), Decimal("1249.50"))]
    assert price == Decimal("2059.50")  # 2 × 450 less 10 % + 1,249.50: the core's sum
    detail = signed_in.get(response.headers["location"]).text
    assert "2,059.50" in detail and f'href="/quotes/{quote_id}/pdf"' in detail


def test_edit_a_line_and_remove_another(signed_in, runtime, tenant):
    customer_id, product_id = _setup(runtime, tenant)
    created = _post(signed_in, "/quotes/new", {"customer": str(customer_id)}, [
        {"product": str(product_id), "quantity": "1"}, {"text": "Travel", "price": "100"}])
    quote_id = int(created.headers["location"].rsplit("/", 1)[1])
    _, _, _, lines = _quote_lines(runtime, tenant, quote_id)
    edit = signed_in.get(f"/quotes/{quote_id}/edit")
    assert edit.status_code == 200 and 'value="Travel"' in edit.text
    # Unchanged: nothing is written.
    same = _post(signed_in, f"/quotes/{quote_id}/edit", {"customer": str(customer_id), "placed": "",
                                                         "status": _status_of(edit.text)}, [
        {"id": str(lines[0][0]), "product": str(product_id), "text": "Engine service", "quantity": "1", "price": "450"},
        {"id": str(lines[1][0]), "text": "Travel", "quantity": "1", "price": "100"}])
    assert same.status_code == 303
    assert signed_in.get(same.headers["location"]).text.count("No changes.") == 1
    token = csrf_of(signed_in.get(f"/quotes/{quote_id}/edit"))
    body = [("csrf_token", token), ("customer", str(customer_id)), *_lines([
        {"id": str(lines[0][0]), "product": str(product_id), "text": "Engine service", "quantity": "3", "price": "400"},
        {"id": str(lines[1][0]), "text": "Travel", "quantity": "1", "price": "100"}]), ("line_remove", "1")]
    response = signed_in.post(f"/quotes/{quote_id}/edit", content=_encode(body),
                              headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 303
    _, price, _, after = _quote_lines(runtime, tenant, quote_id)
    assert [(l[0], l[3], l[4]) for l in after] == [(lines[0][0], Decimal(3), Decimal(400))]
    assert price == Decimal(1200)


def _status_of(html: str) -> str:
    found = re.search(r'<select id="f-status".*?<option value="(\d*)" selected', html, re.S)
    return found.group(1) if found else ""


def test_a_bad_quantity_is_shown_under_its_input_and_nothing_is_written(signed_in, runtime, tenant):
    customer_id, product_id = _setup(runtime, tenant)
    response = _post(signed_in, "/quotes/new", {"customer": str(customer_id), "title": "Kept title"}, [
        {"text": "Travel", "quantity": "two", "price": "100"}, {"text": "", "quantity": "1", "price": "5"},
        {"product": HUGE}])
    assert response.status_code == 400
    assert '<p class="error" id="line0-quantity-error">Line 1: quantity must be a number, e.g. 2 or 1.5.</p>' in response.text
    assert 'href="#line0-quantity"' in response.text
    assert "Line 2 needs a product or a text." in response.text
    assert "Line 3: the chosen product does not exist; choose one from the list." in response.text
    assert 'value="Kept title"' in response.text and 'value="two"' in response.text
    assert _post(signed_in, "/quotes/new", {"customer": ""}, [{"text": "x", "price": "1"}]).status_code == 400
    with workspace(runtime, tenant) as ws:
        assert ws.scalars(select(Quote)) == []


def test_the_pdf_is_a_real_pdf_with_the_quote_number_and_lines(signed_in, runtime, tenant):
    customer_id, product_id = _setup(runtime, tenant)
    created = _post(signed_in, "/quotes/new", {"customer": str(customer_id), "title": "Ærø ferry service"}, [
        {"product": str(product_id), "quantity": "2"}, {"text": "Travel", "price": "100"}])
    quote_id = int(created.headers["location"].rsplit("/", 1)[1])
    number = _quote_lines(runtime, tenant, quote_id)[0]
    response = signed_in.get(f"/quotes/{quote_id}/pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert f'filename="quote-{number}.pdf"' in response.headers["content-disposition"]
    assert response.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert f"Quote {number}" in text and "Harbour Marine" in text and "Engine service" in text
    assert "1,000.00" in text and "Ærø" in text


def test_unknown_and_huge_quote_ids_are_not_found(signed_in):
    for path in (f"/quotes/{HUGE}/edit", f"/quotes/{HUGE}/pdf", "/quotes/424242/edit", "/quotes/424242/pdf"):
        response = signed_in.get(path)
        assert response.status_code == 404 and '<nav aria-label="Main">' in response.text
    token = csrf_of(signed_in.get("/quotes/new"))
    assert signed_in.post(f"/quotes/{HUGE}/edit", data={"csrf_token": token}).status_code == 404


def test_a_line_id_of_another_quote_is_refused(signed_in, runtime, tenant):
    customer_id, _ = _setup(runtime, tenant)
    with workspace(runtime, tenant) as ws:
        a = ws.create(Quote, number="A-1", customer_id=customer_id)
        b = ws.create(Quote, number="B-1", customer_id=customer_id)
        foreign = ws.create(QuoteLine, quote_id=b.id, text="Not yours", price=Decimal(5)).id
        a_id = a.id
    response = _post(signed_in, f"/quotes/{a_id}/edit", {"customer": str(customer_id)},
                     [{"id": str(foreign), "text": "Stolen", "price": "1"}])
    assert response.status_code == 400 and "Line 1 is no longer on this quote; reload the page." in response.text
    with workspace(runtime, tenant) as ws:
        assert ws.get(QuoteLine, foreign).text == "Not yours"
