"""Cirrus settings group (#188-#189)."""

from __future__ import annotations

from tests.cirrus.helpers import VALIDATION, auth, url


def test_defaults_then_deep_partial_updates(client, tenant, other_tenant):
    h = auth(tenant)
    first = client.get(url("/settings/"), headers=h).json()
    assert first["currency"] == "SEK" and first["sales"] == {"defaultinterest": 0}
    assert first["portal"]["name"] is None and first["fieldsales"]["headlines"] == []
    r = client.put(url("/settings/"), headers=h, json={
        "portal": {"name": "Acme AB", "city": "Lund"},
        "fieldsales": {"activitytypes": {"knock": 3}, "headlines": [{"title": "Hi", "body": "Welcome"}],
                       "signaturefields": [1, 2]}})
    assert r.status_code == 200, r.text
    saved = r.json()
    assert saved == client.get(url("/settings/"), headers=h).json()
    assert saved["portal"]["name"] == "Acme AB" and saved["fieldsales"]["activitytypes"]["knock"] == 3
    again = client.put(url("/settings/"), headers=h, json={"portal": {"city": "Malmö"}, "currency": "EUR"}).json()
    assert (again["portal"]["name"], again["portal"]["city"], again["currency"]) == ("Acme AB", "Malmö", "EUR")
    assert again["fieldsales"]["signaturefields"] == [1, 2]
    # Another tenant's settings are its own.
    assert client.get(url("/settings/"), headers=auth(other_tenant)).json()["portal"]["name"] is None


def test_bad_settings_are_400(client, tenant):
    r = client.put(url("/settings/"), headers=auth(tenant), json={"sales": {"defaultinterest": "high"}})
    assert r.status_code == 400
    assert r.json() == {"errors": {"sales.defaultinterest": "'high' is not of type 'integer'"}, "message": VALIDATION}
    assert client.get(url("/settings/"), headers=auth(tenant)).json()["sales"]["defaultinterest"] == 0


def test_x_fields_mask_and_401(client, tenant):
    h = {**auth(tenant), "X-Fields": "{currency,sales{defaultinterest}}"}
    assert client.get(url("/settings/"), headers=h).json() == {"currency": "SEK", "sales": {"defaultinterest": 0}}
    assert client.get(url("/settings/")).status_code == 401
