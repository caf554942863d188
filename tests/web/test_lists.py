"""Lists: sortable columns, filters per column, columns per user, saved views."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from polycrm.core import auth, browse, customers, list_views, lookups
from polycrm.core.models import Customer, Opportunity, Quote, Record, Ticket, User
from tests.web.test_pages import csrf_of, post_form, sign_in, signed_in, web, workspace  # noqa: F401 (fixtures)

HUGE = "99999999999999999999"


def names_in_order(html: str) -> list[str]:
    return re.findall(r'<td data-label="Name"><a href="/customers/\d+">([^<]+)</a>', html)


@pytest.fixture
def three(runtime, tenant) -> dict:
    with workspace(runtime, tenant) as ws:
        partner = lookups.by_name(ws, "customer_type", "Partner", create=True).id
        other = ws.create(User, username="bo", name="Bo", surname="Berg", active=True).id
        made = {
            "alpha": customers.create(ws, {"name": "Alpha", "number": "10", "type_id": partner,
                                           "addresses": {"visiting": {"city": "Aarhus"}}, "user_id": other}),
            "beta": customers.create(ws, {"name": "Beta", "number": "9", "addresses": {"visiting": {"city": "Odense"}},
                                          "user_id": tenant["user_id"], "active": False}),
            "gamma": customers.create(ws, {"name": "Gamma", "number": "100", "is_prospect": True,
                                           "addresses": {"visiting": {"city": "Aalborg"}},
                                           "user_id": tenant["user_id"]}),
        }
        made["alpha"].created_at = dt.datetime(2026, 1, 5, 12, 0)
        return {"partner": partner, "other": other, **{k: v.id for k, v in made.items()}}


def test_customers_sort_by_each_sortable_column_both_ways(signed_in, three):
    assert names_in_order(signed_in.get("/customers").text) == ["Alpha", "Beta", "Gamma"]
    page = signed_in.get("/customers", params={"sort": "-name"}).text
    assert names_in_order(page) == ["Gamma", "Beta", "Alpha"]
    assert 'aria-sort="descending"' in page
    # Numbers sort as numbers: 9, 10, 100.
    assert names_in_order(signed_in.get("/customers", params={"sort": "number"}).text) == ["Beta", "Alpha", "Gamma"]
    assert names_in_order(signed_in.get("/customers", params={"sort": "city"}).text) == ["Gamma", "Alpha", "Beta"]
    # "Admin User" before "Bo Berg".
    assert names_in_order(signed_in.get("/customers", params={"sort": "owner"}).text)[-1] == "Alpha"
    assert names_in_order(signed_in.get("/customers", params={"sort": "-owner"}).text)[0] == "Alpha"
    # An unknown or unsortable column is the default order, not an error.
    for bad in ("phone", "nope", HUGE):
        response = signed_in.get("/customers", params={"sort": bad})
        assert response.status_code == 200 and names_in_order(response.text) == ["Alpha", "Beta", "Gamma"]


def test_the_sort_link_reverses_and_keeps_the_filters(signed_in, three):
    page = signed_in.get("/customers", params={"sort": "name", "f_city": "a"}).text
    assert 'href="/customers?f_city=a&amp;sort=-name"' in page


def test_customers_filter_per_column(signed_in, three, tenant):
    def names(**params) -> list[str]:
        return names_in_order(signed_in.get("/customers", params=params).text)

    assert names(f_type=three["partner"]) == ["Alpha"]
    assert names(f_owner=tenant["user_id"]) == ["Beta", "Gamma"]
    assert names(f_city="AAL") == ["Gamma"]
    assert names(f_status="closed") == ["Beta"]
    assert names(f_status="prospect") == ["Gamma"]
    assert names(f_status="active") == ["Alpha", "Gamma"]
    assert names(f_created_to="2026-01-31") == ["Alpha"]
    assert names(f_created_from="31.01.2026") == ["Beta", "Gamma"]
    assert names(f_city="a", f_owner=tenant["user_id"], sort="-name") == ["Gamma"]
    assert "Nothing matches these filters." in signed_in.get("/customers", params={"f_city": "Paris"}).text


@pytest.mark.parametrize("params, message", [
    ({"f_type": HUGE}, "Choose a type from the list."),
    ({"f_owner": "abc"}, "Choose a responsible from the list."),
    ({"f_status": "sleeping"}, "Choose a status from the list."),
    ({"f_created_from": "yesterday"}, "Created from must be a date like 2026-03-31."),
])
def test_a_filter_value_that_cannot_be_used_is_named(signed_in, three, params, message):
    response = signed_in.get("/customers", params=params)
    assert response.status_code == 400 and message in response.text


def test_other_lists_filter_and_sort(signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        stage = lookups.by_name(ws, "stage", "Proposal", create=True).id
        ws.create(Opportunity, title="Fleet", value=Decimal(500), stage_id=stage, status="active")
        ws.create(Opportunity, title="Boat", value=Decimal(900), status="won",
                  estimated_end=dt.date(2026, 5, 1))
        ws.create(Ticket, title="Printer", status="open")
        ws.create(Ticket, title="Screen", status="closed")
        ws.create(Quote, title="Offer A", placedate=dt.date(2026, 2, 1), price=Decimal(10))
        ws.create(Quote, title="Offer B", placedate=dt.date(2026, 3, 1), price=Decimal(20))
    page = signed_in.get("/opportunities", params={"f_stage": stage}).text
    assert "Fleet" in page and "Boat" not in page
    page = signed_in.get("/opportunities", params={"f_status": "won", "f_close_to": "2026-06-01"}).text
    assert "Boat" in page and "Fleet" not in page
    page = signed_in.get("/opportunities", params={"sort": "-value"}).text
    assert page.index("Boat") < page.index("Fleet")
    page = signed_in.get("/tickets", params={"f_status": "closed"}).text
    assert "Screen" in page and "Printer" not in page
    page = signed_in.get("/quotes", params={"f_placed_from": "2026-02-15"}).text
    assert "Offer B" in page and "Offer A" not in page
    page = signed_in.get("/quotes", params={"sort": "placed"}).text
    assert page.index("Offer A") < page.index("Offer B")


def test_the_columns_a_user_chooses_are_remembered_for_that_user_only(app, signed_in, runtime, tenant, three):
    response = post_form(signed_in, "/customers", {"columns": ["name", "email", "created"], "query": "sort=-name"},
                         action="/customers/columns")
    assert response.status_code == 303 and response.headers["location"] == "/customers?sort=-name"
    page = signed_in.get("/customers").text
    headers = re.findall(r'<th scope="col"[^>]*>(?:<a [^>]*>)?([A-Za-z -]+)', page)
    assert headers == ["Name", "E-mail", "Created"]
    assert '<td data-label="Created">2026-01-05</td>' in page
    with workspace(runtime, tenant) as ws:
        assert list_views.chosen_columns(ws, tenant["user_id"], "customers") == ["name", "email", "created"]
        colleague = ws.create(User, username="colleague", name="Col", active=True,
                              password_hash=auth.hash_password("pw-colleague"))
    other = TestClient(app, follow_redirects=False)
    assert sign_in(other, tenant, "colleague", "pw-colleague").status_code == 303
    assert '<td data-label="Type">' in other.get("/customers").text  # the default columns
    # Unknown columns and an empty choice are refused; the choice stays.
    post_form(signed_in, "/customers", {"columns": ["name", "secret"]}, action="/customers/columns")
    assert "Columns not changed: unknown column secret." in signed_in.get("/customers").text
    post_form(signed_in, "/customers", {}, action="/customers/columns")
    assert "choose at least one column" in signed_in.get("/customers").text
    with workspace(runtime, tenant) as ws:
        assert list_views.chosen_columns(ws, tenant["user_id"], "customers") == ["name", "email", "created"]
        assert colleague.id


def test_saved_views_save_replace_open_and_delete(app, signed_in, runtime, tenant, three):
    response = post_form(signed_in, "/customers", {"name": "My Aalborg", "query": "f_city=aal&page=3&sort=-name"},
                         action="/customers/views")
    assert response.status_code == 303 and response.headers["location"] == "/customers?f_city=aal&sort=-name"
    page = signed_in.get(response.headers["location"]).text
    assert "View “My Aalborg” saved." in page and names_in_order(page) == ["Gamma"]
    assert '<a href="/customers?f_city=aal&amp;sort=-name" aria-current="true">My Aalborg</a>' in page
    # The same name (in any case) replaces the view.
    post_form(signed_in, "/customers", {"name": "my aalborg", "query": "f_status=closed"}, action="/customers/views")
    with workspace(runtime, tenant) as ws:
        (view,) = list_views.views(ws, tenant["user_id"], "customers")
        assert (view.name, list_views.view_query(view)) == ("my aalborg", "f_status=closed")
        view_id = view.id
    response = post_form(signed_in, "/customers", {"name": "  ", "query": ""}, action="/customers/views")
    assert response.status_code == 400 and "a saved view needs a name" in response.text
    # Another user cannot delete it; its owner can.
    with workspace(runtime, tenant) as ws:
        ws.create(User, username="colleague2", name="Col", active=True, password_hash=auth.hash_password("pw-2"))
    other = TestClient(app, follow_redirects=False)
    sign_in(other, tenant, "colleague2", "pw-2")
    assert "my aalborg" not in other.get("/customers").text
    response = post_form(other, "/customers", {}, action=f"/customers/views/{view_id}/delete")
    assert response.status_code == 404
    response = post_form(signed_in, "/customers", {}, action=f"/customers/views/{HUGE}/delete")
    assert response.status_code == 404
    response = post_form(signed_in, "/customers", {}, action=f"/customers/views/{view_id}/delete")
    assert response.status_code == 303
    with workspace(runtime, tenant) as ws:
        assert list_views.views(ws, tenant["user_id"], "customers") == []
        assert ws.get(Record, view_id).deleted


def test_list_settings_of_another_tenant_are_not_read(runtime, tenant, other_tenant):
    with workspace(runtime, other_tenant) as ws:
        list_views.save_view(ws, other_tenant["user_id"], "customers", "Theirs", "q=x")
    with workspace(runtime, tenant) as ws:
        assert list_views.views(ws, other_tenant["user_id"], "customers") == []
        assert ws.scalars(select(Record).where(Record.kind == list_views.VIEW_KIND)) == []
        assert ws.get(Customer, 1) is None or ws.get(Customer, 1).tenant_id == tenant["tenant_id"]


def test_the_unfiltered_total_counts_live_rows_of_this_tenant_only(signed_in, runtime, tenant, other_tenant):
    with workspace(runtime, other_tenant) as ws:
        customers.create(ws, {"name": "Elsewhere"})
    with workspace(runtime, tenant) as ws:
        kept = [customers.create(ws, {"name": f"Kept {i}"}) for i in range(2)]
        gone = customers.create(ws, {"name": "Gone"})
        customers.delete(ws, gone)
        assert kept
    page = signed_in.get("/customers").text
    assert "1–2 of 2" in page and "Gone" not in page
    assert ">2</span> <span class=\"label\">Customers" in signed_in.get("/").text


def test_a_filtered_list_counts_up_to_its_limit_and_says_more(signed_in, runtime, tenant, monkeypatch):
    monkeypatch.setattr(browse, "COUNT_LIMIT", 10)
    with workspace(runtime, tenant) as ws:
        for i in range(27):
            customers.create(ws, {"name": f"Row {i:02d}", "addresses": {"visiting": {"city": "Vejle"}}})
        customers.create(ws, {"name": "Other", "addresses": {"visiting": {"city": "Odense"}}})
    first = signed_in.get("/customers", params={"f_city": "vejle"}).text
    # Counted up to the end of the page (25 rows, more than the limit of 10), then "more than".
    assert "1–25 of more than 25" in first and "Page 1<" in first and 'rel="next"' in first
    second = signed_in.get("/customers", params={"f_city": "vejle", "page": "2"}).text
    assert "26–27 of 27" in second and "Page 2 of 2" in second and 'rel="next"' not in second
    # Unfiltered, the list counts every customer (from the indexes, no limit).
    assert "1–25 of 28" in signed_in.get("/customers").text
    found = signed_in.get("/search", params={"q": "row"}).text
    assert "More than 10 matches for" in found and "(more than 10)" in found and "All customers<" in found


def test_a_list_of_thousands_shows_its_counts_grouped(signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        ws.add_all([Customer(name=f"Bulk {i:04d}", profile_id=tenant["profile_id"]) for i in range(1030)])
    page = signed_in.get("/customers", params={"page": "41"}).text
    assert "1,001–1,025 of 1,030" in page and "Page 41 of 42" in page
