"""Cirrus accounts group (#1-#16): accounts are core customers."""

from __future__ import annotations

from tests.cirrus.helpers import VALIDATION, auth, lookup_id, new_account, url
from polycrm.core import custom_fields, links
from polycrm.core.models import Activity, Contact, Customer, Document
from polycrm.core.workspace import Workspace


def get(client, tenant, path, **params):
    r = client.get(url(path), params=params, headers=auth(tenant))
    assert r.status_code == 200, r.text
    return r.json()


def names(page: dict) -> list[str]:
    return [a["name"] for a in page["items"]]


# -- create / read / update ---------------------------------------------------------
def test_create_returns_the_account_as_get_does(client, runtime, tenant):
    group = client.post(url("/accounts/accountgroups/"), json={"name": "Key accounts"}, headers=auth(tenant)).json()
    created = new_account(
        client, tenant, name="Acme", alt_name="ACME", number="1001", phone="+45 1", email="a@acme.dk",
        url="acme.dk", vatno="DK123", info="notes", socialmedia_li="acme-li", uservisitintervalweeks=4,
        addresses={"postal": {"street": "Main St", "number": "12", "zip": "8000", "city": "Aarhus"},
                   "visiting": {"city": "Aarhus", "coordinates": {"latitude": "56.1572", "longitude": "10.2107"}}},
        accountgroups=[{"id": group["id"]}],
    )
    assert created["id"] > 0
    assert created == get(client, tenant, f"/accounts/{created['id']}")
    assert created["url"] == "acme.dk" and created["vatno"] == "DK123" and created["info"] == "notes"
    assert created["active"] == 1
    assert created["type"]["id"] > 0 and created["user"]["id"] == tenant["user_id"]
    assert created["addresses"]["postal"]["street"] == "Main St"
    assert created["addresses"]["visiting"]["coordinates"] == {"latitude": "56.1572", "longitude": "10.2107", "distance": None}
    assert created["accountgroups"] == [{"id": group["id"], "name": "Key accounts"}]
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        customer = ws.get(Customer, created["id"])
        assert (customer.www, customer.vat, customer.description) == ("acme.dk", "DK123", "notes")
        assert (customer.latitude, customer.longitude) == (56.1572, 10.2107)
        assert customer.addresses["postal"]["city"] == "Aarhus"


def test_create_requires_the_documented_fields(client, tenant):
    r = client.post(url("/accounts/"), json={"alt_name": "x"}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"name": "'name' is a required property", "typeid": "'typeid' is a required property",
                                   "userid": "'userid' is a required property"}, "message": VALIDATION}


def test_create_rejects_wrong_types_and_blank_name(client, tenant):
    r = client.post(url("/accounts/"), json={"name": " ", "typeid": "one", "userid": tenant["user_id"]}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"name": "' ' does not match '\\\\S'", "typeid": "'one' is not of type 'integer'"},
                        "message": VALIDATION}


def test_create_with_unknown_references_is_404_and_writes_nothing(client, runtime, tenant):
    r = client.post(url("/accounts/"), json={"name": "X", "typeid": 999999, "userid": tenant["user_id"]}, headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"errors": {"typeid": "Account type 999999 not found"}, "message": "Account type 999999 not found"}
    r = client.post(url("/accounts/"), json={"name": "X", "typeid": lookup_id(runtime, tenant, "customer_type"),
                                              "userid": tenant["user_id"], "tags": [{"id": 424242}]}, headers=auth(tenant))
    assert r.status_code == 404
    assert r.json()["errors"] == {"tags": "Tag 424242 not found"}
    assert get(client, tenant, "/accounts/", active=2)["total"] == 0


def test_an_account_number_in_use_is_refused_ignoring_case(client, tenant):
    account = new_account(client, tenant, name="Numbered", number="ACC-1")
    body = {"name": "Again", "number": "acc-1", "typeid": account["type"]["id"], "userid": tenant["user_id"]}
    r = client.post(url("/accounts/"), json=body, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"number": "number acc-1 is already used"}, "message": VALIDATION}
    other = new_account(client, tenant, name="Other", number="ACC-2")
    r = client.put(url(f"/accounts/{other['id']}"), json={"number": "Acc-1"}, headers=auth(tenant))
    assert r.status_code == 400 and r.json()["errors"] == {"number": "number Acc-1 is already used"}
    # Its own number in another case is no clash.
    r = client.put(url(f"/accounts/{account['id']}"), json={"number": "acc-1"}, headers=auth(tenant))
    assert r.status_code == 200 and r.json()["number"] == "acc-1"


def test_update_changes_only_the_fields_sent(client, runtime, tenant):
    account = new_account(client, tenant, phone="1", addresses={"postal": {"city": "Aarhus", "zip": "8000"}})
    tag = _tag(runtime, tenant, "VIP")
    r = client.put(url(f"/accounts/{account['id']}"),
                   json={"phone": "2", "addresses": {"postal": {"zip": "8200"}}, "tags": [{"id": tag}], "active": 0},
                   headers=auth(tenant))
    assert r.status_code == 200, r.text
    updated = r.json()
    assert updated["phone"] == "2" and updated["name"] == account["name"]
    assert updated["addresses"]["postal"]["city"] == "Aarhus" and updated["addresses"]["postal"]["zip"] == "8200"
    assert updated["tags"] == [{"id": tag, "name": "VIP", "type": None}]
    assert updated["active"] == 0
    assert updated == get(client, tenant, f"/accounts/{account['id']}")


def test_update_unknown_account_is_404(client, tenant):
    r = client.put(url("/accounts/987654"), json={"phone": "2"}, headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"message": "Account 987654 not found"}


def test_update_rejects_a_parent_cycle(client, tenant):
    parent = new_account(client, tenant, name="Parent")
    child = new_account(client, tenant, name="Child", parentaccountid=parent["id"])
    assert child["parentaccount"]["id"] == parent["id"]
    r = client.put(url(f"/accounts/{parent['id']}"), json={"parentaccountid": child["id"]}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json()["message"] == VALIDATION
    assert "parentaccountid" in r.json()["errors"]


def test_get_unknown_account_is_404(client, tenant):
    r = client.get(url("/accounts/55555"), headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"message": "Account 55555 not found"}


def test_read_expands_contacts_files_and_followers(client, runtime, tenant):
    account = new_account(client, tenant)
    with Workspace(runtime.db, tenant["tenant_id"], blobs=runtime.blobs) as ws:
        ws.create(Contact, customer_id=account["id"], name="Ann", surname="Berg", jobtitle="CEO", is_primary=True)
        from polycrm.core.documents import store_bytes
        doc = ws.create(Document, filename="offer.pdf", blob_sha256=store_bytes(ws, b"%PDF"))
        links.link(ws, links.FILE, "document", doc.id, "customer", account["id"])
    client.post(url("/accounts/follow"), json={"key": account["id"], "userid": tenant["user_id"]}, headers=auth(tenant))
    got = get(client, tenant, f"/accounts/{account['id']}")
    assert got["contacts"][0]["name"] == "Ann" and got["contacts"][0]["primary"] == 1 and got["contacts"][0]["title"] == "CEO"
    assert got["files"] == [{"id": doc.id, "name": "offer.pdf"}]
    assert [f["id"] for f in got["followers"]] == [tenant["user_id"]]


# -- listing and filters ------------------------------------------------------------------
def test_list_filters(client, runtime, tenant):
    other_type = lookup_id(runtime, tenant, "customer_type", "Prospect")
    a = new_account(client, tenant, name="Alpha Shipping", phone="+45 11", addresses={"postal": {"city": "Odense"}},
                    externalkey="ext-1", vatno="DK1")
    b = new_account(client, tenant, name="Beta Foods", typeid=other_type, addresses={"invoice": {"city": "Vejle"}})
    c = new_account(client, tenant, name="Gamma Shipping", active=0)
    assert names(get(client, tenant, "/accounts/")) == ["Alpha Shipping", "Beta Foods"]
    assert names(get(client, tenant, "/accounts/", active=0)) == ["Gamma Shipping"]
    assert get(client, tenant, "/accounts/", active=2)["total"] == 3
    assert names(get(client, tenant, "/accounts/", name="%shipping", active=2)) == ["Alpha Shipping", "Gamma Shipping"]
    assert names(get(client, tenant, "/accounts/", name="beta foods")) == ["Beta Foods"]
    assert names(get(client, tenant, "/accounts/", name="Beta")) == []
    assert names(get(client, tenant, "/accounts/", typeid=other_type)) == ["Beta Foods"]
    assert names(get(client, tenant, "/accounts/", typeids=f"{other_type}, ")) == ["Beta Foods"]
    assert names(get(client, tenant, "/accounts/", postal_city="odense")) == ["Alpha Shipping"]
    assert names(get(client, tenant, "/accounts/", invoiceaddress_city="V%")) == ["Beta Foods"]
    assert names(get(client, tenant, "/accounts/", phone="+45%")) == ["Alpha Shipping"]
    assert names(get(client, tenant, "/accounts/", externalkey="ext-1")) == ["Alpha Shipping"]
    assert names(get(client, tenant, "/accounts/", vatno="DK1")) == ["Alpha Shipping"]
    assert names(get(client, tenant, "/accounts/", userids=f"{tenant['user_id']}", sorting="name_desc")) == ["Beta Foods", "Alpha Shipping"]
    assert get(client, tenant, "/accounts/", userid=tenant["user_id"] + 1000)["total"] == 0
    assert {a["id"], b["id"], c["id"]} == {x["id"] for x in get(client, tenant, "/accounts/", active=2)["items"]}


def test_fulltext_searches_names_and_addresses(client, tenant):
    new_account(client, tenant, name="Nordic Tools", addresses={"visiting": {"street": "Havnegade 4", "city": "Aalborg"}})
    new_account(client, tenant, name="Southern Paints")
    assert names(get(client, tenant, "/accounts/", fulltext="havnegade")) == ["Nordic Tools"]
    assert names(get(client, tenant, "/accounts/", fulltext="nordic aalborg")) == ["Nordic Tools"]
    assert names(get(client, tenant, "/accounts/", fulltext="paints")) == ["Southern Paints"]


def test_nearto_filters_by_distance_and_fills_it_in(client, tenant):
    def at(name, lat, lng):
        return new_account(client, tenant, name=name, addresses={"visiting": {"coordinates": {"latitude": lat, "longitude": lng}}})

    at("Copenhagen", "55.6761", "12.5683")
    at("Roskilde", "55.6415", "12.0803")
    at("Aarhus", "56.1629", "10.2039")
    page = get(client, tenant, "/accounts/", nearto="55.6761,12.5683", distance="40")
    assert names(page) == ["Copenhagen", "Roskilde"]
    distances = {a["name"]: float(a["addresses"]["visiting"]["coordinates"]["distance"]) for a in page["items"]}
    assert distances["Copenhagen"] == 0 and 29 < distances["Roskilde"] < 33
    assert names(get(client, tenant, "/accounts/", nearto="{56.16, 10.2}", distance="5")) == ["Aarhus"]
    r = client.get(url("/accounts/?nearto=north&distance=5"), headers=auth(tenant))
    assert r.status_code == 400 and "nearto" in r.json()["errors"]


def test_dynamicfield_pairs_filter(client, runtime, tenant):
    a = new_account(client, tenant, name="A")
    new_account(client, tenant, name="B")
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        field = custom_fields.define(ws, "customer", "Segment")
        custom_fields.set_values(ws, "customer", a["id"], {field.slug: "Retail"})
    assert names(get(client, tenant, "/accounts/", dynamicfield_id=field.id, dynamicfield_val="retail")) == ["A"]
    assert names(get(client, tenant, "/accounts/", dynamicfield_id=field.id, dynamicfield_val="Ret%")) == ["A"]
    assert names(get(client, tenant, "/accounts/", dynamicfield_id=field.id, dynamicfield_val="Other")) == []
    # An id without a value (or the reverse) is ignored.
    assert get(client, tenant, "/accounts/", dynamicfield_id=field.id)["total"] == 2
    r = client.get(url("/accounts/?dynamicfield_id=x&dynamicfield_val=y"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"dynamicfield_id": "invalid literal for int() with base 10: 'x'"}, "message": VALIDATION}


def test_followedby_and_activity_filters(client, runtime, tenant):
    a = new_account(client, tenant, name="Followed")
    b = new_account(client, tenant, name="With call")
    client.post(url("/accounts/follow"), json={"key": a["id"], "userid": tenant["user_id"]}, headers=auth(tenant))
    call_type = lookup_id(runtime, tenant, "activity_type", "Call")
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        ws.create(Activity, customer_id=b["id"], type_id=call_type, user_id=tenant["user_id"], closed=False)
    assert names(get(client, tenant, "/accounts/", followedby=tenant["user_id"])) == ["Followed"]
    assert names(get(client, tenant, "/accounts/", activity=1, activity_type=call_type, activity_closed=0)) == ["With call"]
    assert names(get(client, tenant, "/accounts/", activity=1, activity_closed=1)) == []


def test_sorting_by_postal_street_number(client, tenant):
    for n in ("10", "9", "2", "11"):
        new_account(client, tenant, name=f"No {n}", addresses={"postal": {"number": n}})
    assert names(get(client, tenant, "/accounts/", sorting="postaladdress_number_asc")) == ["No 2", "No 9", "No 10", "No 11"]
    assert names(get(client, tenant, "/accounts/", sorting="postaladdress_odd_asc")) == ["No 9", "No 11", "No 2", "No 10"]
    assert names(get(client, tenant, "/accounts/", sorting="postaladdress_even_asc")) == ["No 2", "No 10", "No 9", "No 11"]
    assert names(get(client, tenant, "/accounts/", sorting="number_asc"))[0].startswith("No")


def test_sorting_by_number_sorts_numbers_as_numbers(client, tenant):
    for number in ("100", "20", "3", None, "20A"):
        new_account(client, tenant, name=f"N{number}", **({"number": number} if number else {}))
    new_account(client, tenant, name="Closed", number="1", active=0)
    # Shorter first, then by text: "100" before "20A" (both three characters).
    assert names(get(client, tenant, "/accounts/", sorting="number_asc")) == ["NNone", "N3", "N20", "N100", "N20A"]
    assert names(get(client, tenant, "/accounts/", sorting="number_desc")) == ["N20A", "N100", "N20", "N3", "NNone"]


# -- coordinates -------------------------------------------------------------------------------
def test_coordinates_list(client, tenant):
    a = new_account(client, tenant, name="Placed", addresses={"visiting": {"coordinates": {"latitude": "55.5", "longitude": "12.25"}}})
    new_account(client, tenant, name="Nowhere")
    page = get(client, tenant, "/accounts/accountcoordinates", per_page=500)
    assert page["items"] == [{"accountid": a["id"], "addresstype": "visiting", "latitude": "55.5", "longitude": "12.25", "distance": None}]
    assert get(client, tenant, "/accounts/coordinates", nearto="55.5,12.25", distance="1")["items"][0]["distance"] == "0"
    r = client.get(url("/accounts/accountcoordinates?per_page=1001"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"per_page": "1001 is greater than the maximum of 1000"}, "message": VALIDATION}


# -- account groups and types ----------------------------------------------------------------------
def test_account_groups(client, tenant):
    h = auth(tenant)
    g = client.post(url("/accounts/accountgroups/"), json={"name": "Partners"}, headers=h).json()
    client.post(url("/accounts/groups/"), json={"name": "Alpha group"}, headers=h)
    assert client.get(url(f"/accounts/accountgroups/{g['id']}"), headers=h).json() == {"id": g["id"], "name": "Partners"}
    r = client.put(url(f"/accounts/accountgroups/{g['id']}"), json={"name": "Key partners"}, headers=h)
    assert r.json() == {"id": g["id"], "name": "Key partners"}
    assert names(get(client, tenant, "/accounts/accountgroups/")) == ["Alpha group", "Key partners"]
    assert names(get(client, tenant, "/accounts/accountgroups/", fulltext="key")) == ["Key partners"]
    account = new_account(client, tenant, accountgroups=[{"id": g["id"]}])
    assert names(get(client, tenant, "/accounts/accountgroups/", accountid=account["id"])) == ["Key partners"]


def test_account_group_errors(client, tenant):
    h = auth(tenant)
    r = client.post(url("/accounts/accountgroups/"), json={}, headers=h)
    assert r.json() == {"errors": {"name": "'name' is a required property"}, "message": VALIDATION}
    r = client.get(url("/accounts/accountgroups/4040"), headers=h)
    assert r.status_code == 404 and r.json() == {"message": "Accountgroup 4040 not found"}
    r = client.put(url("/accounts/accountgroups/4040"), json={"name": "x"}, headers=h)
    assert r.status_code == 404


def test_account_types_list(client, tenant):
    types = client.get(url("/accounts/accounttypes"), headers=auth(tenant)).json()
    assert [t["name"] for t in types] == ["Customer", "Prospect", "Supplier", "Partner"]
    assert types[0]["isdefault"] == 1 and types[0]["typeiscustomer"] == 1 and types[1]["typeisprospect"] == 1


def test_account_types_need_auth(client):
    assert client.get(url("/accounts/accounttypes")).status_code == 401


# -- follow / unfollow ----------------------------------------------------------------------------------
def test_follow_and_unfollow(client, tenant):
    account = new_account(client, tenant)
    body = {"key": account["id"], "userid": tenant["user_id"]}
    r = client.post(url("/accounts/follow"), json=body, headers=auth(tenant))
    assert r.status_code == 200 and r.json() == {}
    assert len(get(client, tenant, f"/accounts/{account['id']}")["followers"]) == 1
    assert client.post(url("/accounts/unfollow"), json=body, headers=auth(tenant)).status_code == 200
    assert get(client, tenant, f"/accounts/{account['id']}")["followers"] == []


def test_follow_errors(client, tenant):
    account = new_account(client, tenant)
    r = client.post(url("/accounts/follow"), json={"key": account["id"]}, headers=auth(tenant))
    assert r.json() == {"errors": {"userid": "'userid' is a required property"}, "message": VALIDATION}
    r = client.post(url("/accounts/follow"), json={"key": 999999, "userid": tenant["user_id"]}, headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Account 999999 not found"}
    r = client.post(url("/accounts/unfollow"), json={"key": account["id"], "userid": 999999}, headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"errors": {"userid": "User 999999 not found"}, "message": "User 999999 not found"}


# -- budgets ------------------------------------------------------------------------------------------------
def test_budget_put_get_delete(client, tenant):
    account = new_account(client, tenant)
    path = f"/accounts/{account['id']}/budget/2026/3"
    r = client.put(url(path), json={"budget": 5000}, headers=auth(tenant))
    assert r.status_code == 200
    budget = r.json()
    assert budget["year"] == 2026 and budget["month"] == 3 and budget["budget"] == 5000
    assert client.get(url(f"/accounts/{account['id']}/budgets/2026/3"), headers=auth(tenant)).json() == budget
    r = client.put(url(path), json={"budget": 6000}, headers=auth(tenant))
    assert r.json() == {**budget, "budget": 6000}
    assert client.delete(url(path), headers=auth(tenant)).json() == {}
    r = client.get(url(path), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": f"No budget for account {account['id']} in 2026-03"}


def test_budget_errors(client, tenant):
    account = new_account(client, tenant)
    r = client.put(url(f"/accounts/{account['id']}/budget/2026/13"), json={"budget": 1}, headers=auth(tenant))
    assert r.status_code == 400 and r.json() == {"errors": {"month": "13 is not a month (1-12)"}, "message": VALIDATION}
    r = client.get(url(f"/accounts/{account['id']}/budget/1800/0"), headers=auth(tenant))
    assert r.status_code == 400 and r.json() == {"errors": {"year": "1800 is not a year between 1900 and 9999",
                                                            "month": "0 is not a month (1-12)"}, "message": VALIDATION}
    r = client.put(url(f"/accounts/{account['id']}/budget/2026/1"), json={"budget": "lots"}, headers=auth(tenant))
    assert r.json() == {"errors": {"budget": "'lots' is not of type 'integer'"}, "message": VALIDATION}
    r = client.delete(url("/accounts/999999/budget/2026/1"), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Account 999999 not found"}


# -- merge ----------------------------------------------------------------------------------------------------
def test_merge_moves_everything_and_deletes_the_source(client, runtime, tenant):
    target = new_account(client, tenant, name="Target")
    source = new_account(client, tenant, name="Source")
    child = new_account(client, tenant, name="Child", parentaccountid=source["id"])
    with Workspace(runtime.db, tenant["tenant_id"], blobs=runtime.blobs) as ws:
        contact = ws.create(Contact, customer_id=source["id"], name="Pia")
        activity = ws.create(Activity, customer_id=source["id"])
        from polycrm.core.documents import store_bytes
        doc = ws.create(Document, filename="a.txt", blob_sha256=store_bytes(ws, b"a"))
        links.link(ws, links.FILE, "document", doc.id, "customer", source["id"])
    r = client.post(url(f"/accounts/{target['id']}/merge/{source['id']}"), headers=auth(tenant))
    assert r.status_code == 200, r.text
    merged = r.json()
    assert merged["id"] == target["id"]
    assert [c["name"] for c in merged["contacts"]] == ["Pia"]
    assert [f["id"] for f in merged["files"]] == [doc.id]
    assert client.get(url(f"/accounts/{source['id']}"), headers=auth(tenant)).status_code == 404
    assert get(client, tenant, f"/accounts/{child['id']}")["parentaccount"]["id"] == target["id"]
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        assert ws.get(Contact, contact.id).customer_id == target["id"]
        assert ws.get(Activity, activity.id).customer_id == target["id"]
        assert ws.get(Customer, source["id"]).deleted is True


def test_merge_errors(client, tenant):
    a = new_account(client, tenant)
    r = client.put(url(f"/accounts/{a['id']}/merge/{a['id']}"), headers=auth(tenant))
    assert r.status_code == 409
    assert r.json() == {"message": "an account cannot be merged into itself"}
    r = client.post(url(f"/accounts/{a['id']}/merge/999999"), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Account 999999 not found"}


# -- helpers ---------------------------------------------------------------------------------------------------
def _tag(runtime, tenant, name):
    from polycrm.core import lookups

    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        return lookups.save(ws, "tag", {"name": name}).id

