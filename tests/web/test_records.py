"""Contacts, activities and tickets: lists, detail, edit, delete with a confirm step."""

from __future__ import annotations

import pytest

from polycrm.core import contacts, customers, history, lookups
from polycrm.core.models import Activity, Contact, Ticket
from tests.web.test_broken_cases import form_as_shown
from tests.web.test_pages import post_form, signed_in, web, workspace  # noqa: F401 (fixtures)

HUGE = "99999999999999999999"


@pytest.fixture
def records(runtime, tenant) -> dict:
    with workspace(runtime, tenant) as ws:
        acme = customers.create(ws, {"name": "Acme"})
        contact = contacts.create(ws, {"name": "Karen", "surname": "Lund", "email": "karen@acme.example",
                                       "customer_id": acme.id})
        call = lookups.by_code(ws, "activity_type", "call")
        activity = ws.create(Activity, description="Call Karen", customer_id=acme.id, user_id=tenant["user_id"],
                             type_id=call.id)
        ticket = ws.create(Ticket, title="Leaking tap", status="open", customer_id=acme.id)
        return {"customer": acme.id, "contacts": contact.id, "activities": activity.id, "tickets": ticket.id}


def test_the_contacts_list_links_each_contact(signed_in, records):
    page = signed_in.get("/contacts", params={"q": "karen"}).text
    assert f'<a href="/contacts/{records["contacts"]}">Karen Lund</a>' in page
    assert '<a href="/contacts" aria-current="page">Contacts</a>' in page


@pytest.mark.parametrize("key, shown, field, new, model", [
    ("contacts", "karen@acme.example", "jobtitle", "Buyer", Contact),
    ("activities", "Call Karen", "result", "Agreed a visit", Activity),
    ("tickets", "Leaking tap", "status", "closed", Ticket),
])
def test_detail_edit_and_delete_with_a_confirm_step(signed_in, runtime, tenant, records, key, shown, field, new,
                                                    model):
    record_id = records[key]
    page = signed_in.get(f"/{key}/{record_id}")
    assert page.status_code == 200 and shown in page.text and 'id="timeline-h"' in page.text
    values = form_as_shown(signed_in, f"/{key}/{record_id}/edit")
    response = signed_in.post(f"/{key}/{record_id}/edit", data=values)
    assert "No changes." in signed_in.get(response.headers["location"]).text
    values[field] = new
    response = signed_in.post(f"/{key}/{record_id}/edit", data=values)
    assert response.status_code == 303
    page = signed_in.get(f"/{key}/{record_id}").text
    assert "Changes saved." in page and new in page and "through the web page" in page
    with workspace(runtime, tenant) as ws:
        assert any(c.source == "web" for c in history.of_record(ws, model, record_id))
    # Deleting asks first; the GET changes nothing.
    confirm = signed_in.get(f"/{key}/{record_id}/delete")
    assert confirm.status_code == 200 and "will be deleted" in confirm.text
    with workspace(runtime, tenant) as ws:
        assert not ws.get(model, record_id).deleted
    response = post_form(signed_in, f"/{key}/{record_id}/delete", {})
    assert response.status_code == 303
    assert "deleted." in signed_in.get(response.headers["location"]).text
    with workspace(runtime, tenant) as ws:
        assert ws.get(model, record_id).deleted
    assert signed_in.get(f"/{key}/{record_id}").status_code == 404


@pytest.mark.parametrize("key", ["contacts", "activities", "tickets"])
def test_unknown_or_huge_ids_and_bad_values_are_refused(signed_in, records, key):
    for path in (f"/{key}/{HUGE}", f"/{key}/{HUGE}/edit", f"/{key}/{HUGE}/delete"):
        assert signed_in.get(path).status_code == 404
    assert post_form(signed_in, f"/{key}/{records[key]}", {}, action=f"/{key}/{HUGE}/delete").status_code == 404
    values = form_as_shown(signed_in, f"/{key}/{records[key]}/edit")
    values["customer"] = HUGE
    response = signed_in.post(f"/{key}/{records[key]}/edit", data=values)
    assert response.status_code == 400 and "The chosen customer does not exist" in response.text


def test_the_customer_page_links_its_contacts_activities_and_tickets(signed_in, records):
    page = signed_in.get(f"/customers/{records['customer']}").text
    for key in ("contacts", "activities", "tickets"):
        assert f'href="/{key}/{records[key]}"' in page
