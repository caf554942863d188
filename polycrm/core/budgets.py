"""Monthly budgets of an account or a user.

A budget is a :class:`Record` of kind ``account_budget`` (its account in
``customer_id``) or ``user_budget`` (its user in ``user_id``); ``number`` and
``name`` are the period ``YYYY-MM``, and ``extra`` holds ``year``, ``month``
and the amounts (``budget``; a user's also ``pipeline``). There is at most
one live budget per owner and month: saving a month again updates it.

A month's amounts are spread evenly over its weekdays (:func:`weeks`): each
weekday gets the same whole share, the remainder one more on the first days,
grouped by ISO week.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from typing import Any

from polycrm.core import query as q
from polycrm.core.models import Record
from polycrm.core.workspace import Workspace

ACCOUNT, USER = "account_budget", "user_budget"
OWNER_PATH = {ACCOUNT: "customer_id", USER: "user_id"}


def period(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def find(ws: Workspace, kind: str, owner_id: int, year: int, month: int) -> Record | None:
    rows = q.every(ws, Record, [q.Criterion("eq", "kind", kind), q.Criterion("eq", OWNER_PATH[kind], owner_id),
                                q.Criterion("eq", "number", period(year, month))])
    return rows[0] if rows else None


def save(ws: Workspace, kind: str, owner_id: int, year: int, month: int, amounts: Mapping[str, Any],
         *, defaults: Mapping[str, Any]) -> Record:
    """Set a month's amounts (those given; a new budget starts from ``defaults``)."""
    values = {"extra.year": year, "extra.month": month, **{f"extra.{k}": v for k, v in amounts.items()}}
    row = find(ws, kind, owner_id, year, month)
    if row is not None:
        ws.update(row, values)
        return row
    values = {**{f"extra.{k}": v for k, v in defaults.items()}, **values}
    label = period(year, month)
    return ws.create(Record, {"kind": kind, OWNER_PATH[kind]: owner_id, "number": label, "name": label, **values})


def remove(ws: Workspace, row: Record) -> None:
    ws.update(row, {"deleted": True})


def spread(total: Any, days: list[dt.date]) -> list[int]:
    """``total`` in whole shares over ``days``; the remainder one more on the first days."""
    if not days:
        return []
    share, rest = divmod(int(total or 0), len(days))
    return [share + (1 if i < rest else 0) for i in range(len(days))]


def weekdays(year: int, month: int) -> list[dt.date]:
    """Monday to Friday of a month."""
    days = (dt.date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1))
    return [d for d in days if d.weekday() < 5]


def weeks(row: Record) -> list[dict[str, Any]]:
    """A budget's amounts (``budget`` and ``pipeline``) spread over its month's
    weekdays: ``[{week: "YYYY-Www", budget, pipeline, days: [{day, budget, pipeline}]}]``."""
    extra = row.extra or {}
    year, month = int(extra.get("year", 0)), int(extra.get("month", 0))
    if not (1 <= month <= 12 and 1 <= year <= 9999):
        return []
    days = weekdays(year, month)
    budget, pipeline = spread(extra.get("budget"), days), spread(extra.get("pipeline"), days)
    grouped: dict[str, dict[str, Any]] = {}
    for day, amount, piped in zip(days, budget, pipeline):
        iso = day.isocalendar()
        week = grouped.setdefault(f"{iso.year}-W{iso.week:02d}", {"budget": 0, "pipeline": 0, "days": []})
        week["budget"] += amount
        week["pipeline"] += piped
        week["days"].append({"day": day.isoformat(), "budget": amount, "pipeline": piped})
    return [{"week": key, **value} for key, value in grouped.items()]
