"""Microbizz ...ByLastChange syncs: changedate/changetime, filters, resumekeys
and a 2,000-customer sync with writes between its pages."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.microbizz.helpers import MB, add_user, paged_client, sync_all
from sqlalchemy import select, update

from polycrm.core.models import Customer, Record
from polycrm.core.workspace import Workspace
from polycrm.faces.microbizz.wire import Clock, encode_resumekey


def set_changed_at(runtime, tenant, ids: list[int], when: dt.datetime) -> None:
    """Backdate rows (a bulk UPDATE bypasses the write stamping on purpose)."""
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        ws.session.execute(update(Customer).where(Customer.id.in_(ids)).values(changed_at=when))


def ids_of(items: list[dict]) -> list[int]:
    return [item["id"] for item in items]


def test_changedate_and_changetime(client, runtime, tenant):
    mb = MB(client, tenant)
    early, late, now = (mb.customer(name=n)["id"] for n in ("Early", "Late", "Now"))
    # 09:00 and 12:00 UTC are 10:00 and 13:00 in Copenhagen (winter time).
    set_changed_at(runtime, tenant, [early], dt.datetime(2020, 3, 1, 9, 0))
    set_changed_at(runtime, tenant, [late], dt.datetime(2020, 3, 1, 12, 0))

    def synced(**args) -> list[int]:
        return ids_of(mb.call("GetCustomersByLastChange", **args)["customers"])

    assert synced() == [early, late, now]
    assert synced(changedate="2020-03-01") == [early, late, now]
    assert synced(changedate="2020-02-29", changetime="23:59") == [early, late, now]
    assert synced(changedate="2020-03-01", changetime="11:00") == [late, now]
    # A change at exactly the given moment is sent (again) rather than missed.
    assert synced(changedate="01-03-2020", changetime="13:00:00") == [late, now]
    assert synced(changedate="01/03/2020", changetime="13.01") == [now]
    assert synced(changedate="2020-03-02") == [now]
    assert mb.fail("GetCustomersByLastChange", changedate="2020-03-02", changetime="7 pm") == (
        "Invalid value for changetime: '7 pm' is not a time (HH:MM:SS)"
    )


def test_customer_sync_filters_and_qfoncheckout(client, runtime, tenant):
    mb = MB(client, tenant)
    live = mb.customer(name="Live")["id"]
    closed = mb.customer(name="Closed", isclosed=1)["id"]
    deleted = mb.customer(name="Deleted", isdeleted=1)["id"]
    result = mb.call("GetCustomersByLastChange", changedate="2000-01-01")
    assert ids_of(result["customers"]) == [live, closed, deleted]
    assert result["qfoncheckout"] == 0 and "resumekey" not in result
    assert ids_of(mb.call("GetCustomersByLastChange", skip_deleted=1)["customers"]) == [live, closed]
    assert ids_of(mb.call("GetCustomersByLastChange", ignoreclosed="true")["customers"]) == [live]
    assert mb.fail("GetCustomersByLastChange", skip_deleted="sometimes") == (
        "Invalid value for skip_deleted: 'sometimes' is not a boolean (1/0, true/false, yes/no)"
    )


def test_resumekeys(runtime, tenant):
    with paged_client(runtime, 2) as small:
        mb = MB(small, tenant)
        ids = [mb.customer(name=f"C{i}", isclosed=int(i == 3))["id"] for i in range(6)]
        first = mb.call("GetCustomersByLastChange", changedate="2000-01-01", ignoreclosed=1)
        assert ids_of(first["customers"]) == ids[:2] and first["resumekey"]
        # The key carries the start point and the filters: nothing else need be sent.
        second = mb.call("GetCustomersByLastChange", resumekey=first["resumekey"])
        assert ids_of(second["customers"]) == [ids[2], ids[4]]
        last = mb.call("GetCustomersByLastChange", resumekey=second["resumekey"])
        assert ids_of(last["customers"]) == [ids[5]]
        assert "resumekey" not in last
        # Resending the original filters along with the key changes nothing.
        again = mb.call("GetCustomersByLastChange", resumekey=first["resumekey"], changedate="2000-01-01", ignoreclosed=1)
        assert ids_of(again["customers"]) == [ids[2], ids[4]]
        # A page that ends exactly at the last record still says there is no more.
        _, pages = sync_all(mb, "GetCustomersByLastChange", "customers", ignoreclosed=1, changedate="2000-01-01")
        assert [len(p["customers"]) for p in pages] == [2, 2, 1]
        mb.call("CreateUpdateCustomerByID", customer={"id": ids[3], "isclosed": 0})
        everything, pages = sync_all(mb, "GetCustomersByLastChange", "customers")
        assert ids_of(everything) == ids and [len(p["customers"]) for p in pages] == [2, 2, 2]
        assert "resumekey" not in pages[-1]
        for bad in ("garbage", first["resumekey"][:-3], 12345):
            assert mb.fail("GetCustomersByLastChange", resumekey=bad) == "Invalid resumekey"
        # A key of another command is refused too.
        for i in range(3):
            mb.product(title=f"P{i}")
        products_key = mb.call("GetProductsByLastChange")["resumekey"]
        assert mb.fail("GetCustomersByLastChange", resumekey=products_key) == "Invalid resumekey"


SYNC_SIZE = 2000
PAGE_SIZE = 500


@pytest.fixture
def many_customers(runtime, tenant) -> list[int]:
    """2,000 customers, made straight through the core."""
    with Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"]) as ws:
        objs = [Customer(name=f"Bulk {i:04d}", number=f"B{i:04d}", extra={}, addresses={}) for i in range(SYNC_SIZE)]
        ws.add_all(objs)
        return [c.id for c in objs]


def test_sync_of_2000_customers_with_writes_between_pages(runtime, tenant, many_customers):
    """Every customer arrives exactly once, however the data changes while
    the client pages."""
    with paged_client(runtime, PAGE_SIZE) as paged:
        mb = MB(paged, tenant)
        writer = MB(paged, tenant)  # another client of the same tenant
        seen: list[int] = []
        received: dict[int, dict] = {}
        changed_ahead: dict[int, str] = {}
        created_during: list[int] = []
        pages = 0
        result = mb.call("GetCustomersByLastChange", changedate="2000-01-01")
        while True:
            pages += 1
            assert len(result["customers"]) <= PAGE_SIZE
            seen.extend(ids_of(result["customers"]))
            received.update((c["id"], c) for c in result["customers"])
            if "resumekey" not in result:
                break
            # Between pages another client changes customers already sent and
            # customers not yet sent, and creates new ones.
            city = f"Changed before page {pages + 1}"
            sent = seen[-3:]
            unsent = [i for i in many_customers if i > seen[-1]][:2] + [i for i in many_customers if i > seen[-1]][-2:]
            commands = [
                {"command": "CreateUpdateCustomerByID", "customer": {"id": cid, "city": city}} for cid in sent + unsent
            ]
            commands += [
                {"command": "CreateUpdateCustomerByCustomerNumber",
                 "customer": {"customernumber": f"N{pages}-{k}", "name": f"New {pages}-{k}"}}
                for k in range(2)
            ]
            body = writer.batch(*commands)
            assert all(r["status"] == 1 for r in body["results"]), body
            changed_ahead.update((cid, city) for cid in unsent)
            created_during.extend(r["customer"]["id"] for r in body["results"][-2:])
            result = mb.call("GetCustomersByLastChange", resumekey=result["resumekey"])

    assert pages >= SYNC_SIZE // PAGE_SIZE + 1
    assert len(seen) == len(set(seen)), "a customer was sent twice"
    assert set(many_customers) <= set(seen), "a customer was missed"
    assert set(created_during) <= set(seen), "a customer created during the sync was missed"
    assert set(seen) == set(many_customers) | set(created_during)
    assert seen == sorted(seen)
    # A customer changed before the sync reached it arrives with its latest data.
    assert changed_ahead
    assert {cid: received[cid]["city"] for cid in changed_ahead} == changed_ahead


def test_follow_up_sync_from_the_first_page_stamp(runtime, tenant, many_customers):
    """A client syncs from the envelope date/time of its previous sync's first
    page: it gets every customer changed since then, including those changed
    during the previous sync after they had been sent."""
    with paged_client(runtime, PAGE_SIZE) as paged:
        mb = MB(paged, tenant)
        first = mb.batch({"command": "GetCustomersByLastChange", "changedate": "2000-01-01"})
        stamp_date, stamp_time = first["date"], first["time"]
        result = first["results"][0]
        seen = ids_of(result["customers"])
        # Change customers on both sides of the cursor, then finish the sync.
        behind, ahead = seen[:5], many_customers[-5:]
        for cid in behind + ahead:
            mb.call("CreateUpdateCustomerByID", customer={"id": cid, "phone": "changed"})
        new_id = mb.customer(name="Created meanwhile")["id"]
        rest, _ = sync_all(mb, "GetCustomersByLastChange", "customers", resumekey=result["resumekey"])
        seen += ids_of(rest)
        assert sorted(seen) == sorted(many_customers + [new_id])
        assert set(behind).isdisjoint(ids_of(rest))  # already sent: not again in this sync

        follow_up, _ = sync_all(mb, "GetCustomersByLastChange", "customers", changedate=stamp_date, changetime=stamp_time)
    follow_ids = ids_of(follow_up)
    assert len(follow_ids) == len(set(follow_ids))
    assert set(behind + ahead + [new_id]) <= set(follow_ids)
    # ... and nothing that did not change since the stamp (same-second changes count as after).
    since = Clock(runtime.settings.timezone).to_utc(dt.date.fromisoformat(stamp_date), dt.time.fromisoformat(stamp_time))
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        expected = set(ws.scalars(select(Customer.id).where(Customer.changed_at >= since)))
    assert set(follow_ids) == expected


def test_a_forged_resumekey_cannot_widen_a_sync(client, runtime, tenant):
    """The key is the client's to keep, so it is checked like any input: it
    may not switch a record sync to another kind of record, nor read another
    user's favourites."""
    mb = MB(client, tenant)
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        ws.create(Record, kind="subscription", name="Not a procedure")
    other_id, other_creds = add_user(runtime, tenant, "hanne")
    mb.product(productnumber="X1", title="Hers")
    MB(client, tenant, **other_creds).call("AddFavoriteProduct", productnumber="X1")
    forged = [
        ("GetProceduresByLastChange", {"kind": "subscription", "skip_deleted": False}),
        ("GetProductsByLastChange", {"skip_deleted": False, "ignore_closed": False, "favorites_of": other_id,
                                     "include_prices": True}),
        ("GetCustomersByLastChange", {"ignore_closed": False, "skip_deleted": False, "where": "1=1"}),
        ("GetCustomersByLastChange", {"ignore_closed": "yes", "skip_deleted": False}),
    ]
    for command, filters in forged:
        assert mb.fail(command, resumekey=encode_resumekey(command, None, 0, filters)) == "Invalid resumekey"
    # A well-formed key of the caller's own switches works.
    own = encode_resumekey("GetProductsByLastChange", None, 0, {
        "skip_deleted": False, "ignore_closed": False, "only_favorites": True, "include_prices": True,
    })
    assert mb.call("GetProductsByLastChange", resumekey=own)["products"] == []
    assert mb.call("GetProceduresByLastChange", changedate="2000-01-01")["procedures"] == []
