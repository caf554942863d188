"""Bulk actions on the lists: export CSV, change the owner, add a tag, delete (confirmed), per kind."""

from __future__ import annotations

import csv
import io

from polycrm.core import calls, contacts, customers, links, opportunities, products, tickets
from polycrm.core.models import Activity, Contact, Customer, Opportunity, Product, Ticket, User
from tests.web.test_pages import post_form, signed_in, web, workspace  # noqa: F401 (fixtures)

HUGE = "99999999999999999999"


def _three(runtime, tenant):
    with workspace(runtime, tenant) as ws:
        ids = [customers.create(ws, {"name": n, "number": str(i), "phone": "=1+1" if i == 2 else "+45 1"}).id
               for i, n in enumerate(("Alpha", "Beta", "Gamma"), 1)]
        seller = ws.create(User, username="seller", name="Sel", surname="Ler", active=True).id
    return ids, seller


def bulk(web, data):
    return post_form(web, "/customers", data, action="/customers/bulk")


def test_export_the_selected_rows_as_csv(signed_in, runtime, tenant):
    (a, b, c), _ = _three(runtime, tenant)
    assert f'name="ids" value="{a}"' in signed_in.get("/customers").text
    response = bulk(signed_in, {"action": "export", "ids": [str(a), str(b)]})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Number", "Name"] and [r[1] for r in rows[1:]] == ["Alpha", "Beta"]
    assert "'=1+1" in rows[2]  # a formula is not run by a spreadsheet


def test_change_responsible_and_add_a_tag(signed_in, runtime, tenant):
    (a, b, c), seller = _three(runtime, tenant)
    response = bulk(signed_in, {"action": "owner", "user_id": str(seller), "ids": [str(a), str(c)]})
    assert response.status_code == 303
    assert "Responsible changed on 2 of 2 customers." in signed_in.get(response.headers["location"]).text
    response = bulk(signed_in, {"action": "tag", "tag": "VIP", "ids": [str(a), str(b)]})
    assert "Tag added to 2 of 2 customers." in signed_in.get(response.headers["location"]).text
    with workspace(runtime, tenant) as ws:
        assert [ws.get(Customer, i).user_id for i in (a, b, c)] == [seller, tenant["user_id"], seller]
        assert links.targets(ws, links.TAG, "customer", a) and not links.targets(ws, links.TAG, "customer", c)


def test_delete_asks_first_then_deletes(signed_in, runtime, tenant):
    (a, b, c), _ = _three(runtime, tenant)
    confirm = bulk(signed_in, {"action": "delete", "ids": [str(a), str(b)]})
    assert confirm.status_code == 200 and "Delete 2 customers?" in confirm.text
    with workspace(runtime, tenant) as ws:
        assert not ws.get(Customer, a).deleted
    response = bulk(signed_in, {"action": "delete", "confirm": "1", "ids": [str(a), str(b)]})
    assert "2 customers deleted." in signed_in.get(response.headers["location"]).text
    with workspace(runtime, tenant) as ws:
        assert ws.get(Customer, a).deleted and ws.get(Customer, b).deleted and not ws.get(Customer, c).deleted


def test_nothing_is_done_when_one_id_is_unknown_or_nothing_is_chosen(signed_in, runtime, tenant, other_tenant):
    (a, b, c), seller = _three(runtime, tenant)
    with workspace(runtime, other_tenant) as ws:
        theirs = customers.create(ws, {"name": "Theirs"}).id
    for ids in ([str(a), HUGE], [str(a), str(theirs)]):
        response = bulk(signed_in, {"action": "owner", "user_id": str(seller), "ids": ids})
        assert response.status_code == 404
    with workspace(runtime, tenant) as ws:
        assert ws.get(Customer, a).user_id == tenant["user_id"]
    response = bulk(signed_in, {"action": "tag", "tag": "X", "ids": []})
    assert response.status_code == 400 and "choose at least one customer" in response.text
    response = bulk(signed_in, {"action": "owner", "user_id": HUGE, "ids": [str(a)]})
    assert response.status_code == 400 and "choose an active user as responsible" in response.text
    response = bulk(signed_in, {"action": "launch", "ids": [str(a)]})
    assert response.status_code == 400


# -- the other lists ---------------------------------------------------------------------------


def _some_of_each(runtime, tenant):
    with workspace(runtime, tenant) as ws:
        harbour = customers.create(ws, {"name": "Harbour"}).id
        made = {
            "contacts": [contacts.create(ws, {"name": n, "surname": "Holm", "customer_id": harbour}).id
                         for n in ("Anna", "Bo", "Carl")],
            "opportunities": [opportunities.create(ws, {"title": t, "customer_id": harbour}).id
                              for t in ("Boat", "Sail", "Mast")],
            "activities": [calls.SERVICE.create(ws, {"description": d, "customer_id": harbour}).id
                           for d in ("Call back", "Visit", "Mail")],
            "tickets": [tickets.create(ws, {"title": t, "customer_id": harbour}).id for t in ("Leak", "Noise", "Rust")],
            "products": [products.create(ws, {"name": p, "number": f"P-{i}"}).id
                         for i, p in enumerate(("Rope", "Oar", "Cleat"))],
        }
        seller = ws.create(User, username="seller2", name="Sel", surname="Ler", active=True).id
    return made, seller


MODELS = {"contacts": Contact, "opportunities": Opportunity, "activities": Activity, "tickets": Ticket,
          "products": Product}


def test_every_list_exports_and_deletes_its_selected_rows_after_a_confirm_step(signed_in, runtime, tenant):
    made, _ = _some_of_each(runtime, tenant)
    for key, (a, b, c) in made.items():
        listed = signed_in.get(f"/{key}" + ("?show=all" if key == "activities" else ""))
        assert f'form="bulk" name="ids" value="{a}"' in listed.text, key
        response = post_form(signed_in, f"/{key}", {"action": "export", "ids": [str(a), str(b)]},
                             action=f"/{key}/bulk")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv"), key
        assert len(list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))) == 3
        confirm = post_form(signed_in, f"/{key}", {"action": "delete", "ids": [str(a), str(b)]}, action=f"/{key}/bulk")
        noun = key if key != "activities" else "activities"
        assert confirm.status_code == 200 and f"Delete 2 {noun}?" in confirm.text, key
        with workspace(runtime, tenant) as ws:
            assert not ws.get(MODELS[key], a).deleted
        done = post_form(signed_in, f"/{key}", {"action": "delete", "confirm": "1", "ids": [str(a), str(b)],
                                               "query": "q=x"}, action=f"/{key}/bulk")
        assert done.status_code == 303 and done.headers["location"] == f"/{key}?q=x"
        assert f"2 {noun} deleted." in signed_in.get(done.headers["location"]).text
        with workspace(runtime, tenant) as ws:
            assert [ws.get(MODELS[key], i).deleted for i in (a, b, c)] == [True, True, False], key


def test_owner_and_tag_where_the_kind_has_them(signed_in, runtime, tenant):
    made, seller = _some_of_each(runtime, tenant)
    for key, label in (("opportunities", "Salesperson"), ("activities", "Assignee"), ("tickets", "Assignee")):
        a, b, _ = made[key]
        response = post_form(signed_in, f"/{key}", {"action": "owner", "user_id": str(seller), "ids": [str(a), str(b)]},
                             action=f"/{key}/bulk")
        assert f"{label} changed on 2 of 2 {key}." in signed_in.get(response.headers["location"]).text
        with workspace(runtime, tenant) as ws:
            assert ws.get(MODELS[key], a).user_id == seller and ws.get(MODELS[key], made[key][2]).user_id != seller
    for key, source in (("contacts", "contact"), ("opportunities", "opportunity")):
        a, b, c = made[key]
        response = post_form(signed_in, f"/{key}", {"action": "tag", "tag": "VIP", "ids": [str(a), str(b)]},
                             action=f"/{key}/bulk")
        assert f"Tag added to 2 of 2 {key}." in signed_in.get(response.headers["location"]).text
        with workspace(runtime, tenant) as ws:
            assert links.targets(ws, links.TAG, source, a) and not links.targets(ws, links.TAG, source, c)
    # What a kind does not have is neither offered nor done.
    assert 'value="owner"' not in signed_in.get("/contacts").text
    assert 'value="tag"' not in signed_in.get("/products").text and 'value="owner"' not in signed_in.get("/products").text
    for key, data in (("contacts", {"action": "owner", "user_id": str(seller)}),
                      ("products", {"action": "tag", "tag": "X"}), ("tickets", {"action": "tag", "tag": "X"})):
        response = post_form(signed_in, f"/{key}", {**data, "ids": [str(made[key][0])]}, action=f"/{key}/bulk")
        assert response.status_code == 400 and "choose an action from the list" in response.text, key


def test_one_unknown_or_foreign_id_changes_nothing_on_any_list(signed_in, runtime, tenant, other_tenant):
    made, seller = _some_of_each(runtime, tenant)
    with workspace(runtime, other_tenant) as ws:
        theirs = tickets.create(ws, {"title": "Theirs"}).id
    a, _, gone = made["tickets"]
    with workspace(runtime, tenant) as ws:
        tickets.SERVICE.delete(ws, ws.get(Ticket, gone))
    for ids in ([str(a), HUGE], [str(a), str(theirs)], [str(a), str(gone)]):
        response = post_form(signed_in, "/tickets", {"action": "delete", "confirm": "1", "ids": ids},
                             action="/tickets/bulk")
        assert response.status_code == 404 and "ticket" in response.text
    response = post_form(signed_in, "/activities", {"action": "owner", "user_id": HUGE,
                                                     "ids": [str(made["activities"][0])]}, action="/activities/bulk")
    assert response.status_code == 400 and "choose an active user as assignee" in response.text
    with workspace(runtime, tenant) as ws:
        assert not ws.get(Ticket, a).deleted
