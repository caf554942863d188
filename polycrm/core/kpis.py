"""Key figures (KPIs) of a user, over a period, with the team's average.

The KPIs a tenant shows are the lookup list ``kpi``: ``code`` names one of
the :data:`MEASURES`, ``extra.period`` is ``day``, ``week``, ``month`` or
``year`` (the current one, in UTC), ``extra.location`` is ``dashboard`` or
``all``. The average is the measure summed over every active user of the
tenant, divided by their number.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from polycrm.core.models import Activity, Lookup, Opportunity, Order, User
from polycrm.core.workspace import Workspace

PERIODS = ("day", "week", "month", "year")


def period_start(period: str, today: dt.date | None = None) -> dt.date:
    today = today or dt.datetime.now(dt.UTC).date()
    if period == "day":
        return today
    if period == "week":
        return today - dt.timedelta(days=today.weekday())
    if period == "year":
        return today.replace(month=1, day=1)
    return today.replace(day=1)


def _since(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _activities(since: dt.date, closed: bool = False) -> Any:
    stmt = select(Activity.user_id, func.count(Activity.id)).where(Activity.deleted.is_(False), Activity.start >= _since(since))
    if closed:
        stmt = stmt.where(Activity.closed.is_(True))
    return stmt.group_by(Activity.user_id)


def _won(since: dt.date) -> Any:
    return (select(Opportunity.user_id, func.count(Opportunity.id))
            .where(Opportunity.deleted.is_(False), Opportunity.status == "won", Opportunity.closed_at >= _since(since))
            .group_by(Opportunity.user_id))


def _order_value(since: dt.date) -> Any:
    return (select(Order.user_id, func.coalesce(func.sum(Order.price), 0))
            .where(Order.deleted.is_(False), Order.placedate >= since).group_by(Order.user_id))


# measure code -> a query of (user_id, value) rows for the period starting at a day
MEASURES = {
    "activities": _activities,
    "closed_activities": lambda since: _activities(since, closed=True),
    "won_opportunities": _won,
    "order_value": _order_value,
}


def measure(ws: Workspace, kpi: Lookup, user_id: int) -> tuple[Decimal, Decimal]:
    """(the user's value, the average over active users) of one KPI."""
    build = MEASURES.get(kpi.code or "")
    if build is None:
        return Decimal(0), Decimal(0)
    per_user = {row[0]: Decimal(str(row[1])) for row in ws.session.execute(build(period_start(period_of(kpi)))).all()}
    users = [u.id for u in ws.scalars(select(User).where(User.deleted.is_(False), User.active.is_(True)))]
    total = sum((per_user.get(u, Decimal(0)) for u in users), Decimal(0))
    average = total / len(users) if users else Decimal(0)
    return per_user.get(user_id, Decimal(0)), average


def period_of(kpi: Lookup) -> str:
    period = (kpi.extra or {}).get("period")
    return period if period in PERIODS else "month"


def format_number(value: Decimal) -> str:
    """Whole numbers without decimals, others with two."""
    return str(int(value)) if value == value.to_integral_value() else f"{value:.2f}"
