"""Cirrus contacts group (#52-#57): contacts are core contacts."""

from __future__ import annotations

from tests.cirrus.helpers import VALIDATION, auth, lookup_id, new_account, url
from polycrm.core.models import Contact
from polycrm.core.workspace import Workspace


def new_contact(client, tenant, account_id, **fields):
    body = {"name": "Ann", "surname": "Berg", "accountid": account_id, **fields}
    r = client.post(url("/contacts/"), json=body, headers=auth(tenant))
    assert r.status_code == 200, r.text
    return r.json()


def page(client, tenant, **params):
    r = client.get(url("/contacts/"), params=params, headers=auth(tenant))
    assert r.status_code == 200, r.text
    return [f"{c['name']} {c['surname']}" for c in r.json()["items"]]


def test_create_and_read(client, runtime, tenant):
    account = new_account(client, tenant)
    boss = new_contact(client, tenant, account["id"], name="Bo", surname="Boss")
    c = new_contact(client, tenant, account["id"], email="ann@acme.dk", officephone="+45 22", title="Buyer",
                    function="Purchasing", primarycontact=1, superiorid=boss["id"], socialmedia_li="ann-li",
                    city="Aarhus")
    assert c["account"]["id"] == account["id"] and c["account"]["name"] == account["name"]
    assert (c["officephone"], c["title"], c["primarycontact"], c["active"]) == ("+45 22", "Buyer", 1, 1)
    assert c["superior"] == {"id": boss["id"], "name": "Bo", "surname": "Boss", "title": None, "email": None,
                             "officephone": None, "cellphone": None, "number": None}
    assert c["photo"] == {"avatar": None, "photo": None}
    got = client.get(url(f"/contacts/{c['id']}"), headers=auth(tenant)).json()
    assert got == c
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        row = ws.get(Contact, c["id"])
        assert (row.phone, row.jobtitle, row.is_primary, row.customer_id) == ("+45 22", "Buyer", True, account["id"])
    # The account lists its contacts.
    account_view = client.get(url(f"/accounts/{account['id']}"), headers=auth(tenant)).json()
    assert [x["name"] for x in account_view["contacts"]] == ["Ann", "Bo"]


def test_create_errors(client, tenant):
    r = client.post(url("/contacts/"), json={"name": "Ann"}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"surname": "'surname' is a required property",
                                   "accountid": "'accountid' is a required property"}, "message": VALIDATION}
    r = client.post(url("/contacts/"), json={"name": "Ann", "surname": "B", "accountid": 777777}, headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"errors": {"accountid": "Account 777777 not found"}, "message": "Account 777777 not found"}


def test_update_is_partial(client, tenant):
    account = new_account(client, tenant)
    c = new_contact(client, tenant, account["id"], email="a@x.dk", city="Vejle")
    r = client.put(url(f"/contacts/{c['id']}"), json={"city": "Kolding", "active": 0}, headers=auth(tenant))
    assert r.status_code == 200
    assert (r.json()["city"], r.json()["email"], r.json()["active"]) == ("Kolding", "a@x.dk", 0)


def test_update_errors(client, tenant):
    r = client.put(url("/contacts/31337"), json={"city": "x"}, headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Contact 31337 not found"}
    account = new_account(client, tenant)
    c = new_contact(client, tenant, account["id"])
    r = client.put(url(f"/contacts/{c['id']}"), json={"surname": ""}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"surname": "'' does not match '\\\\S'"}, "message": VALIDATION}


def test_get_unknown_is_404(client, tenant):
    r = client.get(url("/contacts/9090"), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Contact 9090 not found"}


def test_filters_and_sorting(client, runtime, tenant):
    prospect = lookup_id(runtime, tenant, "customer_type", "Prospect")
    a = new_account(client, tenant, name="A")
    b = new_account(client, tenant, name="B", typeid=prospect)
    new_contact(client, tenant, a["id"], name="Ann", surname="Zed", email="ann@a.dk", city="Aarhus", title="CEO")
    new_contact(client, tenant, a["id"], name="Carl", surname="Young", primarycontact=1, cellphone="+46 1")
    new_contact(client, tenant, b["id"], name="Bea", surname="Xu", active=0, idnumber="ID-77")
    assert page(client, tenant) == ["Ann Zed", "Bea Xu", "Carl Young"]
    assert page(client, tenant, accountid=a["id"], sorting="name_desc") == ["Carl Young", "Ann Zed"]
    assert page(client, tenant, accounttypeids=str(prospect)) == ["Bea Xu"]
    assert page(client, tenant, accountuserids=str(tenant["user_id"]))[0] == "Ann Zed"
    assert page(client, tenant, active=0) == ["Bea Xu"]
    assert page(client, tenant, primarycontact=1) == ["Carl Young"]
    assert page(client, tenant, email="%@a.dk") == ["Ann Zed"]
    assert page(client, tenant, city="aarhus") == ["Ann Zed"]
    assert page(client, tenant, cellphone="+46%") == ["Carl Young"]
    assert page(client, tenant, title="ceo") == ["Ann Zed"]
    assert page(client, tenant, surname="X%") == ["Bea Xu"]
    assert page(client, tenant, fulltext="id-77") == ["Bea Xu"]
    assert page(client, tenant, sorting="surname_asc") == ["Bea Xu", "Carl Young", "Ann Zed"]
    assert page(client, tenant, sorting="primarycontact_desc")[0] == "Carl Young"
    r = client.get(url("/contacts/?primarycontact=5"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"primarycontact": "The value '5' is not a valid choice for 'primarycontact'."},
                        "message": VALIDATION}


def test_follow_unfollow_and_followedby(client, tenant):
    account = new_account(client, tenant)
    c = new_contact(client, tenant, account["id"])
    new_contact(client, tenant, account["id"], name="Other")
    body = {"key": c["id"], "userid": tenant["user_id"]}
    assert client.post(url("/contacts/follow"), json=body, headers=auth(tenant)).json() == {}
    assert page(client, tenant, followedby=tenant["user_id"]) == ["Ann Berg"]
    got = client.get(url(f"/contacts/{c['id']}"), headers=auth(tenant)).json()
    assert [f["id"] for f in got["followers"]] == [tenant["user_id"]]
    assert client.post(url("/contacts/unfollow"), json=body, headers=auth(tenant)).status_code == 200
    assert page(client, tenant, followedby=tenant["user_id"]) == []


def test_follow_errors(client, tenant):
    r = client.post(url("/contacts/follow"), json={"key": 123456, "userid": tenant["user_id"]}, headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Contact 123456 not found"}
    r = client.post(url("/contacts/unfollow"), json={"key": "x", "userid": 1}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"key": "'x' is not of type 'integer'"}, "message": VALIDATION}
