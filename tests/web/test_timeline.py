"""The record timeline: field-level history from the core's write path, plus related records."""

from __future__ import annotations

import datetime as dt

from polycrm.core import browse, customers, documents, history
from polycrm.core.models import Activity, Customer, Opportunity, Quote, Ticket
from tests.microbizz.helpers import MB
from tests.web.test_pages import post_form, signed_in, web, workspace  # noqa: F401 (fixtures)


def test_a_change_through_an_api_shows_on_the_customer_timeline(client, signed_in, runtime, tenant):
    mb = MB(client, tenant)
    created = mb.call("CreateUpdateCustomerByID", customer={"id": 0, "name": "Timeline A/S", "phone": "111"})["customer"]
    mb.call("CreateUpdateCustomerByID", customer={"id": created["id"], "phone": "222"})
    with workspace(runtime, tenant) as ws:
        (change,) = history.of_record(ws, Customer, int(created["id"]))
        assert (change.field, change.old_value, change.new_value) == ("phone", "111", "222")
        assert (change.source, change.user_id) == ("microbizz", tenant["user_id"])
    page = signed_in.get(f"/customers/{created['id']}").text
    timeline = page[page.index('id="timeline-h"'):]
    assert "through the Microbizz API" in timeline
    assert "<span class=\"field\">Phone</span>: <del>111</del>" in timeline and "<ins>222</ins>" in timeline
    assert "<strong>Created</strong>" in timeline


def test_a_change_on_the_web_page_is_recorded_field_by_field_and_an_unchanged_save_is_not(
        signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        customer_id = customers.create(ws, {"name": "Webbed", "addresses": {"visiting": {"city": "Aarhus"}}}).id
    response = post_form(signed_in, f"/customers/{customer_id}/edit",
                         {"name": "Webbed", "city": "Odense", "email": "a@b.dk", "active": "1"})
    assert response.status_code == 303
    with workspace(runtime, tenant) as ws:
        found = {(c.field, c.old_value, c.new_value, c.source) for c in history.of_record(ws, Customer, customer_id)}
    assert ("addresses.visiting.city", "Aarhus", "Odense", "web") in found
    assert ("email", None, "a@b.dk", "web") in found
    page = signed_in.get(f"/customers/{customer_id}").text
    assert "Visiting address: City</span>: <del>Aarhus</del>" in page and "through the web page" in page
    count = len(found)
    post_form(signed_in, f"/customers/{customer_id}/edit", {"name": "Webbed", "city": "Odense", "email": "a@b.dk",
                                                             "active": "1"})
    with workspace(runtime, tenant) as ws:
        assert len(history.of_record(ws, Customer, customer_id)) == count


def test_the_timeline_lists_activities_documents_quotes_opportunities_and_tickets(signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        customer = customers.create(ws, {"name": "Busy"})
        ws.create(Activity, description="Called about prices", customer_id=customer.id, date=dt.date(2026, 5, 1))
        ws.create(Quote, number="Q-9", title="Offer", customer_id=customer.id)
        ws.create(Opportunity, title="Big deal", customer_id=customer.id)
        ws.create(Ticket, title="Broken tap", customer_id=customer.id, status="open")
        documents.save(ws, data=b"x", values={"filename": "contract.pdf", "title": "Contract"},
                       owner=("customer", customer.id))
        customer_id = customer.id
    page = signed_in.get(f"/customers/{customer_id}").text
    timeline = page[page.index('id="timeline-h"'):]
    assert "<strong>Activity</strong>: Called about prices" in timeline
    assert '<strong>Quote</strong>: <a href="/quotes/' in timeline and "Q-9 Offer" in timeline
    assert "<strong>Opportunity</strong>: <a href=\"/opportunities/" in timeline and "Big deal</a>" in timeline
    assert "<strong>Ticket</strong>: Broken tap" in timeline
    assert "<strong>Document</strong>: <a href=\"/documents/" in timeline and "Contract</a>" in timeline
    # Opportunities and tickets have their own sections on the customer page too.
    assert 'id="opps-h"' in page and 'id="tickets-h"' in page


def test_history_of_another_tenant_is_not_read(runtime, tenant, other_tenant):
    with workspace(runtime, other_tenant) as ws:
        theirs = customers.create(ws, {"name": "Theirs"})
        customers.update(ws, theirs, {"name": "Theirs 2"})
        their_id = theirs.id
    with workspace(runtime, tenant) as ws:
        assert history.of_record(ws, Customer, their_id) == []


def _many_saves(runtime, tenant, n: int) -> int:
    with workspace(runtime, tenant) as ws:
        customer_id = customers.create(ws, {"name": "Chatty", "phone": "0"}).id
    for i in range(1, n + 1):
        with workspace(runtime, tenant) as ws:
            # Two fields a save: one entry each save, whatever the batch size.
            customers.update(ws, ws.get(Customer, customer_id), {"phone": str(i), "email": f"x{i}@chatty.example"})
    return customer_id


def test_a_long_timeline_pages_to_older_entries(signed_in, runtime, tenant):
    customer_id = _many_saves(runtime, tenant, 60)
    first = signed_in.get(f"/customers/{customer_id}").text
    timeline = first[first.index('id="timeline-h"'):]
    assert timeline.count('<li class="event changed">') == 50
    assert "<del>59</del>" in timeline and "<ins>60</ins>" in timeline and "<ins>10</ins>" not in timeline
    assert f'<a href="/customers/{customer_id}?timeline=2#timeline-h" rel="next">Older entries →</a>' in timeline
    assert "Newer entries" not in timeline and "<strong>Created</strong>" not in timeline
    older = signed_in.get(f"/customers/{customer_id}", params={"timeline": "2"}).text
    timeline = older[older.index('id="timeline-h"'):]
    assert timeline.count('<li class="event changed">') == 10
    assert "<del>0</del>" in timeline and "<ins>10</ins>" in timeline and "<strong>Created</strong>" in timeline
    assert f'<a href="/customers/{customer_id}#timeline-h" rel="prev">← Newer entries</a>' in timeline
    assert "Older entries" not in timeline
    past = signed_in.get(f"/customers/{customer_id}", params={"timeline": "9"}).text
    assert "No older entries." in past and '<li class="event' not in past[past.index('id="timeline-h"'):]
    # A page that is not a number is the first page.
    assert "<ins>60</ins>" in signed_in.get(f"/customers/{customer_id}", params={"timeline": "x"}).text


def test_timeline_pages_cover_every_save_once_across_change_batches(runtime, tenant, monkeypatch):
    from polycrm.core import browse

    customer_id = _many_saves(runtime, tenant, 12)
    monkeypatch.setattr(browse, "_CHANGE_BATCH", 3)  # a save's two rows may straddle two batches
    with workspace(runtime, tenant) as ws:
        customer = ws.get(Customer, customer_id)
        pages = [browse.timeline(ws, Customer, customer, page=p, per_page=5) for p in (1, 2, 3)]
    assert [(p.has_newer, p.has_older) for p in pages] == [(False, True), (True, True), (True, False)]
    seen = [e for p in pages for e in p.events]
    assert [e.kind for e in seen] == ["changed"] * 12 + ["created"]
    assert [dict((f, new) for f, _, new in e.changes)["phone"] for e in seen[:12]] == [str(i) for i in range(12, 0, -1)]
    assert all(len(e.changes) == 2 for e in seen[:12])


def test_product_and_quote_pages_have_timelines(signed_in, runtime, tenant):
    from decimal import Decimal

    from polycrm.core import products
    from polycrm.core import quotes as core_quotes

    with workspace(runtime, tenant) as ws:
        product = products.create(ws, {"name": "Socks", "number": "P-7", "price": Decimal("10")})
        customer = customers.create(ws, {"name": "Buyer"})
        quote = core_quotes.create(ws, {"title": "Socks offer", "customer_id": customer.id})
        product_id, quote_id = product.id, quote.id
    saved = post_form(signed_in, f"/products/{product_id}/edit",
                          {"name": "Wool socks", "number": "P-7", "price": "12", "active": "1"})
    assert saved.status_code == 303 and saved.headers["location"] == f"/products/{product_id}"
    page = signed_in.get(f"/products/{product_id}").text
    assert "<h1>Wool socks</h1>" in page and f'href="/products/{product_id}/edit"' in page
    timeline = page[page.index('id="timeline-h"'):]
    assert '<span class="field">Name</span>: <del>Socks</del>' in timeline and "through the web page" in timeline
    assert '<span class="field">Sales price</span>' in timeline and "<strong>Created</strong>" in timeline
    assert f'href="/products/{product_id}/delete"' not in page  # products are not deleted from the web
    with workspace(runtime, tenant) as ws:
        core_quotes.SERVICE.update(ws, ws.get(Quote, quote_id), {"title": "Wool socks offer"})
    page = signed_in.get(f"/quotes/{quote_id}").text
    timeline = page[page.index('id="timeline-h"'):]
    assert '<span class="field">Title</span>: <del>Socks offer</del>' in timeline and "<ins>Wool socks offer</ins>" in timeline
    assert "<strong>Created</strong>" in timeline
    assert signed_in.get("/products/99999999999999999999").status_code == 404


def test_the_customer_page_shows_its_timeline_once_and_not_in_the_title(signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        customer_id = customers.create(ws, {"name": "Titled"}).id
    page = signed_in.get(f"/customers/{customer_id}").text
    assert page.count('id="timeline-h"') == 1
    title = page[page.index("<title>"):page.index("</title>")]
    assert "Titled" in title and "Timeline" not in title


def test_quote_line_changes_through_an_api_show_on_the_quote_timeline(client, signed_in, runtime, tenant):
    from tests.cirrus.sales_helpers import lookup, post, put, seed

    s = seed(runtime, tenant)
    created = post(client, tenant, "/quotes/", {
        "placedate": "2026-04-01", "status": {"id": lookup(runtime, tenant, "quote_status", "Sent")},
        "deliveryterm": {"id": lookup(runtime, tenant, "delivery_term")},
        "paymentterm": {"id": lookup(runtime, tenant, "payment_term")},
        "deliverytype": {"id": lookup(runtime, tenant, "delivery_type")},
        "account": {"id": s["account"]}, "contact": {"id": s["contact"]}, "user": {"id": s["user"]},
        "rows": [{"article": {"id": s["product"]}, "quantity": 2}]})
    with workspace(runtime, tenant) as ws:
        # Creating the quote with its line records nothing: "Created" says it.
        assert history.of_record(ws, Quote, created["id"], lines=[created["rows"][0]["id"]]) == []
    row = created["rows"][0]
    put(client, tenant, f"/quotes/{created['id']}", {"rows": [{"id": row["id"], "quantity": 5},
                                                               {"specification": "Fitting", "quantity": 1,
                                                                "price": 40}]})
    page = signed_in.get(f"/quotes/{created['id']}").text
    timeline = page[page.index('id="timeline-h"'):]
    # One save: the line's new quantity, the new line and the quote's price, through the Cirrus API.
    assert timeline.count("<strong>Changed</strong>") == 1 and "through the Cirrus API" in timeline
    assert '<span class="field">Line 1 (Widget): quantity</span>: <del>2</del>' in timeline and "<ins>5</ins>" in timeline
    assert '<span class="field">New line</span>: <del>(empty)</del>' in timeline and "<ins>Fitting · 1 × 40</ins>" in timeline
    assert '<span class="field">Quote price</span>: <del>200</del>' in timeline


def test_a_removed_quote_line_and_a_web_edit_show_on_the_quote_timeline(signed_in, runtime, tenant):
    from polycrm.core import quotes as core_quotes
    from polycrm.core.models import Customer as CustomerModel

    with workspace(runtime, tenant) as ws:
        customer = ws.create(CustomerModel, name="Line Buyer")
        quote = core_quotes.create(ws, {"title": "Lines", "customer_id": customer.id},
                                   [{"text": "Design", "quantity": 1, "price": 100},
                                    {"text": "Print", "quantity": 2, "price": 10}])
        quote_id = quote.id
    with workspace(runtime, tenant) as ws:
        design, printing = browse.quote_lines(ws, quote_id)
        # The web form's save: the first line's price changes, the second is left out (removed).
        core_quotes.update(ws, ws.get(Quote, quote_id), {}, [(design, {"text": "Design", "quantity": 1, "price": 120})])
    with workspace(runtime, tenant) as ws:
        changes = history.of_record(ws, Quote, quote_id, lines=[design.id, printing.id])
        assert {(c.entity, c.field, c.old_value, c.new_value) for c in changes} >= {
            ("quote_line", "price", "100", "120"), ("quote_line", "deleted", "no", "yes")}
        assert len({(c.created_at, c.user_id, c.source) for c in changes}) == 1
    timeline = signed_in.get(f"/quotes/{quote_id}").text.split('id="timeline-h"')[1]
    assert '<span class="field">Line 1 (Design): unit price</span>: <del>100</del>' in timeline
    assert '<span class="field">Removed line (Print): removed</span>: <del>no</del>' in timeline
    assert "through the command line or import" in timeline
