"""The record timeline: field-level history from the core's write path, plus related records."""

from __future__ import annotations

import datetime as dt

from polycrm.core import customers, documents, history
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
