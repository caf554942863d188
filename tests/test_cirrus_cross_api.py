"""One record, three APIs: Cirrus accounts and articles are Microbizz customers and products."""

from __future__ import annotations

from cirrus_support import auth, new_account, url
from microbizz_helpers import MB


def test_account_created_through_cirrus_is_a_microbizz_customer(client, tenant):
    account = new_account(
        client, tenant, name="Fjord Fisk ApS", number="C-77", phone="+45 70", vatno="DK777", url="fjord.dk",
        addresses={"visiting": {"street": "Havnen 1", "zip": "9000", "city": "Aalborg",
                                "coordinates": {"latitude": "57.05", "longitude": "9.92"}},
                   "invoice": {"name": "Fjord Fisk Billing", "city": "Aalborg"}},
    )
    mb = MB(client, tenant)
    customer = mb.get_customer(account["id"])
    assert customer is not None
    assert (customer["name"], customer["customernumber"], customer["phone"]) == ("Fjord Fisk ApS", "C-77", "+45 70")
    assert (customer["vat"], customer["www"]) == ("DK777", "fjord.dk")
    assert (customer["address"], customer["zip"], customer["city"]) == ("Havnen 1", "9000", "Aalborg")
    assert customer["invoicename"] == "Fjord Fisk Billing"
    assert float(customer["latitude"]) == 57.05 and float(customer["longitude"]) == 9.92
    assert int(customer["sellerid"]) == tenant["user_id"]
    # A change through Cirrus shows in the Microbizz change feed.
    client.put(url(f"/accounts/{account['id']}"), json={"phone": "+45 71", "active": 0}, headers=auth(tenant))
    changed = mb.call("GetCustomersByLastChange", lastchange="2000-01-01 00:00:00")["customers"]
    mine = [c for c in changed if int(c["id"]) == account["id"]]
    assert mine and mine[0]["phone"] == "+45 71" and int(mine[0]["isclosed"]) == 1


def test_customer_created_through_microbizz_is_a_cirrus_account(client, tenant):
    mb = MB(client, tenant)
    customer = mb.customer(name="Bjerg Byg", customernumber="M-5", city="Vejle", zip="7100", phone="+45 75",
                           latitude=55.7, longitude=9.53)
    account = client.get(url(f"/accounts/{customer['id']}"), headers=auth(tenant)).json()
    assert (account["name"], account["number"], account["phone"]) == ("Bjerg Byg", "M-5", "+45 75")
    visiting = account["addresses"]["visiting"]
    assert (visiting["city"], visiting["zip"]) == ("Vejle", "7100")
    assert visiting["coordinates"]["latitude"] == "55.7" and visiting["coordinates"]["longitude"] == "9.53"
    found = client.get(url("/accounts/"), params={"nearto": "55.7,9.53", "distance": "1"}, headers=auth(tenant)).json()
    assert [a["id"] for a in found["items"]] == [customer["id"]]


def test_article_and_product_are_one_record(client, tenant):
    r = client.post(url("/articles/"), json={"name": "Hammer", "number": "H-1", "price": 120, "buyprice": 60,
                                             "description": "Claw hammer", "vat": 25}, headers=auth(tenant))
    article = r.json()
    mb = MB(client, tenant)
    products = mb.call("GetProductByID", productid=article["id"])["products"]
    assert products[0]["title"] == "Hammer" and products[0]["productnumber"] == "H-1"
    assert float(products[0]["price"]) == 120 and float(products[0]["costprice"]) == 60
    product = mb.product(title="Saw", productnumber="S-1", price=99.5)
    got = client.get(url(f"/articles/{product['id']}"), headers=auth(tenant)).json()
    assert (got["name"], got["number"], got["price"]) == ("Saw", "S-1", 99.5)

