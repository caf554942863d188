"""Bulk actions on the customer list: export CSV, change responsible, add tag, delete (confirmed)."""

from __future__ import annotations

import csv
import io

from polycrm.core import customers, links
from polycrm.core.models import Customer, User
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
    response = bulk(signed_in, {"action": "seller", "user_id": str(seller), "ids": [str(a), str(c)]})
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
        response = bulk(signed_in, {"action": "seller", "user_id": str(seller), "ids": ids})
        assert response.status_code == 404
    with workspace(runtime, tenant) as ws:
        assert ws.get(Customer, a).user_id == tenant["user_id"]
    response = bulk(signed_in, {"action": "tag", "tag": "X", "ids": []})
    assert response.status_code == 400 and "choose at least one customer" in response.text
    response = bulk(signed_in, {"action": "seller", "user_id": HUGE, "ids": [str(a)]})
    assert response.status_code == 400 and "choose an active user as responsible" in response.text
    response = bulk(signed_in, {"action": "launch", "ids": [str(a)]})
    assert response.status_code == 400
