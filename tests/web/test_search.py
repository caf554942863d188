"""The global search over customers, contacts, products, quotes, opportunities, tickets."""

from __future__ import annotations

from polycrm.core import contacts, customers
from polycrm.core.models import Opportunity, Product, Quote, Ticket
from tests.web.test_pages import signed_in, web, workspace  # noqa: F401 (fixtures)


def test_one_search_finds_every_kind_of_record(signed_in, runtime, tenant, other_tenant):
    with workspace(runtime, tenant) as ws:
        acme = customers.create(ws, {"name": "Zebra Foods", "number": "Z-1"})
        contacts.create(ws, {"name": "Zelda", "surname": "Zebrasdottir", "customer_id": acme.id})
        ws.create(Product, name="Zebra crossing paint", number="ZP-1", active=True)
        ws.create(Quote, number="Q-77", title="Zebra stripes", customer_id=acme.id)
        ws.create(Opportunity, title="Zebra fleet", customer_id=acme.id)
        ws.create(Ticket, title="Zebra printer jam", status="open")
        ws.create(Ticket, title="Lion ticket", status="open")
    with workspace(runtime, other_tenant) as ws:
        customers.create(ws, {"name": "Zebra of another tenant"})
    page = signed_in.get("/search", params={"q": "zebra"})
    assert page.status_code == 200
    text = page.text
    for heading in ("Customers <span class=\"n\">(1)", "Contacts <span class=\"n\">(1)", "Products <span class=\"n\">(1)",
                    "Quotes <span class=\"n\">(1)", "Opportunities <span class=\"n\">(1)", "Tickets <span class=\"n\">(1)"):
        assert heading in text
    assert f'<a href="/customers/{acme.id}">Zebra Foods</a>' in text
    assert "Zelda Zebrasdottir" in text and "Q-77 Zebra stripes" in text
    assert "another tenant" not in text and "Lion" not in text
    assert "6 matches for “zebra”." in text
    assert 'value="zebra"' in text  # the header box keeps the query


def test_a_search_without_matches_or_terms_says_so(signed_in):
    assert "Nothing matches “qqqxxz”." in signed_in.get("/search", params={"q": "qqqxxz"}).text
    assert "Type a name, number" in signed_in.get("/search").text
    for path in ("/search", "/customers", "/quotes"):
        response = signed_in.get(path, params={"q": "bad\x00term"})
        assert response.status_code == 400 and "search must not contain a NUL character" in response.text


def test_the_search_box_is_on_every_page(signed_in):
    assert '<form class="global-search" method="get" action="/search" role="search">' in signed_in.get("/").text
