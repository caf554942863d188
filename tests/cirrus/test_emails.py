"""Cirrus emails group (#207-#208, deprecated): e-mail activities."""

from __future__ import annotations

import datetime as dt

from tests.cirrus.helpers import VALIDATION, auth, new_account, url
from polycrm.core import lookups
from polycrm.core.models import Activity, Contact, User
from polycrm.core.workspace import Workspace


def test_email_activities_are_emails(client, runtime, tenant):
    account = new_account(client, tenant)
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        ws.update(ws.get(User, tenant["user_id"]), {"email": "me@crm.test"})
        email_type = lookups.by_code(ws, "activity_type", "email").id
        call_type = lookups.by_code(ws, "activity_type", "call").id
        contact = ws.create(Contact, customer_id=account["id"], name="Bo", email="bo@acme.test")
        ws.flush()
        old = ws.create(Activity, type_id=email_type, user_id=tenant["user_id"], customer_id=account["id"],
                        contact_id=contact.id, description="Offer", note="<p>Hi</p>", result="Hi",
                        start=dt.datetime(2026, 5, 1, 10), extra={"cc": ["boss@crm.test"]})
        new = ws.create(Activity, type_id=email_type, user_id=tenant["user_id"], description="Follow-up",
                        start=dt.datetime(2026, 5, 3, 9), extra={"to": "x@y.test"})
        ws.create(Activity, type_id=call_type, user_id=tenant["user_id"], description="Not a mail",
                  start=dt.datetime(2026, 5, 2))
        ws.flush()
        old_id, new_id = old.id, new.id
    h = auth(tenant)
    page = client.get(url("/emails/"), headers=h).json()
    assert [m["id"] for m in page["items"]] == [new_id, old_id]
    mail = client.get(url(f"/emails/{old_id}"), headers=h).json()
    assert mail == page["items"][1]
    assert mail == {"id": old_id, "sender": "me@crm.test", "to": ["bo@acme.test"], "cc": ["boss@crm.test"],
                    "subject": "Offer", "date": "2026-05-01T10:00:00Z", "body": "<p>Hi</p>", "text": "Hi"}

    def ids(**params):
        return [m["id"] for m in client.get(url("/emails/"), params=params, headers=h).json()["items"]]

    assert ids(sorting="date_asc") == [old_id, new_id]
    assert ids(accountid=account["id"]) == [old_id]
    assert ids(contactid=_contact(runtime, tenant)) == [old_id]
    assert ids(date="2026-05-03T00:00:00Z") == [new_id]


def _contact(runtime, tenant) -> int:
    from polycrm.core import query as q

    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        return q.every(ws, Contact, [q.Criterion("eq", "name", "Bo")])[0].id


def test_errors(client, runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        not_mail = ws.create(Activity, user_id=tenant["user_id"], description="call")
        ws.flush()
        not_mail_id = not_mail.id
    r = client.get(url(f"/emails/{not_mail_id}"), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": f"Email {not_mail_id} not found"}
    r = client.get(url("/emails/?date=yesterday"), headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"date": "'yesterday' is not a date-time (ISO 8601)"}, "message": VALIDATION}
    assert client.get(url("/emails/")).status_code == 401


def test_x_fields_mask(client, tenant):
    page = client.get(url("/emails/"), headers={**auth(tenant), "X-Fields": "{total}"}).json()
    assert page == {"total": 0}
