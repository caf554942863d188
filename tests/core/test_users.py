"""users.SERVICE (login names) and budgets.weeks (weekday spreading)."""

from __future__ import annotations

import pytest

from polycrm.core import budgets, users
from polycrm.core.errors import Conflict, Invalid
from polycrm.core.models import Record
from polycrm.core.workspace import Workspace


def ws_of(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"])


def test_login_name_is_the_email_else_name_surname_numbered(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        first = users.SERVICE.create(ws, {"email": "Ann@Example.com", "name": "Ann"})
        second = users.SERVICE.create(ws, {"email": "ann@example.com", "name": "Ann"})
        users.SERVICE.delete(ws, second)
        third = users.SERVICE.create(ws, {"email": "ann@example.com"})
        plain = users.SERVICE.create(ws, {"name": "Bo", "surname": "Ek"})
        assert [u.username for u in (first, second, third, plain)] == [
            "ann@example.com", "ann@example.com-2", "ann@example.com-3", "bo.ek"]


def test_a_given_login_name_must_be_free(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        ann = users.SERVICE.create(ws, {"username": "ann"})
        with pytest.raises(Conflict):
            users.SERVICE.create(ws, {"username": "ann"})
        assert users.SERVICE.update(ws, ann, {"username": "ann"}) is False


def test_the_same_login_name_in_another_tenant_is_free(runtime, tenant, other_tenant):
    with ws_of(runtime, tenant) as ws:
        users.SERVICE.create(ws, {"email": "same@example.com"})
    with Workspace(runtime.db, other_tenant["tenant_id"]) as ws:
        assert users.SERVICE.create(ws, {"email": "same@example.com"}).username == "same@example.com"


def test_a_70_kb_presentation_is_refused(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(Invalid):
            users.SERVICE.create(ws, {"name": "A", "extra.presentation": "x" * 70_000})


def test_budget_spreads_over_weekdays_remainder_first():
    row = Record(kind=budgets.USER, extra={"year": 2026, "month": 2, "budget": 22, "pipeline": 0})
    weeks = budgets.weeks(row)
    days = [d for w in weeks for d in w["days"]]
    assert len(days) == 20 and days[0]["day"] == "2026-02-02"
    assert [d["budget"] for d in days[:3]] == [2, 2, 1] and sum(d["budget"] for d in days) == 22
    assert weeks[0]["week"] == "2026-W06" and weeks[0]["budget"] == 7
    assert budgets.weeks(Record(kind=budgets.USER, extra={"year": 2026, "month": 13})) == []
