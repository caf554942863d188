"""Criteria as SQL conditions: :func:`condition` turns one :class:`Criterion`
(an operator, a core path and a value) into a WHERE condition.

Operators:

``eq``          equality (case-insensitive for text)
``like``        SQL LIKE with ``%`` wildcards, case-insensitive; without a
                ``%`` it is a case-insensitive exact match (``_`` is literal)
``in``          the value is one of a list of ids
``active``      0 = inactive, 1 = active, 2 = both
``flag``        a boolean column compared with 0/1
``from``/``to`` inclusive date bounds on a date or date-time column
``gte``/``lte`` plain inclusive comparisons with the value
``one_of``      the (text) value is one of a list (exactly, case and all)
``ge``/``le``   at least / at most the value (any comparable type)
``set``         the path holds a value (not NULL); ``value`` False inverts
``fulltext``    every whitespace-separated term occurs in one of the
                comma-separated paths (a date path as its ISO text
                ``YYYY-MM-DD``), through a trigram index where the path has
                one (:mod:`polycrm.core.query.fulltext`)
``contains``    the whole value, spaces and all, occurs in one of the paths
                (the same matching as ``fulltext``, one term)
``any``         at least one of the criteria in ``value`` holds (``path`` unused)
``custom``      custom-field pairs: ``[(field_id, value), ...]``, all must match
``followed_by`` followed by a user (a ``follow`` link from that user)
``linked``      linked to a record: ``Link(kind, source -> target)`` by value
``has``         a related row of ``value.model`` matches ``value.criteria``

``%`` and ``_`` in a ``fulltext``, ``contains`` or ``eq`` value are literal
characters; only ``like`` (and ``custom``) treat ``%`` as a wildcard.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, and_, false, or_, select, true

from polycrm.core.models import CustomValue, Link, TenantScoped
from polycrm.core.query.fulltext import contains, fulltext
from polycrm.core.query.paths import Criterion, column, entity_kind, is_text, like, same_text
from polycrm.core.query.prefix import prefix_condition


@dataclass(frozen=True)
class LinkedTo:
    """``linked``: records at one end of a link whose other end is ``ids``."""

    kind: str
    other_kind: str
    ids: tuple[int, ...]
    # True when the listed records are the link's source (the other end is the target).
    listed_is_source: bool = False
    value: str | None = None


@dataclass(frozen=True)
class Has:
    """``has``: at least one row of ``model`` whose ``fk`` points here matches."""

    model: type[TenantScoped]
    fk: str
    criteria: tuple[Criterion, ...] = ()


def condition(model: type[TenantScoped], crit: Criterion) -> Any:
    op, value = crit.op, crit.value
    if op in ("eq", "like", "in", "active", "flag", "from", "to", "ge", "le"):
        expr = column(model, crit.path, crit.cast)
    if op == "ge":
        return expr >= value
    if op == "le":
        return expr <= value
    if op == "eq":
        if isinstance(value, str) and is_text(expr):
            return same_text(expr, value)
        return expr == value
    if op == "like":
        matched = like(expr, str(value))
        prefix = prefix_condition(model, crit.path, str(value))
        return matched if prefix is None else and_(prefix, matched)
    if op == "in":
        ids = [int(v) for v in value]
        return expr.in_(ids) if ids else false()
    if op == "active":
        if int(value) == 2:
            return true()
        return expr.is_(bool(int(value)))
    if op == "flag":
        return expr.is_(bool(int(value)))
    if op in ("from", "to"):
        return _date_bound(expr, value, upper=op == "to")
    if op == "one_of":
        # Exact text values (``in`` is for ids).
        return column(model, crit.path, crit.cast).in_([str(v) for v in value]) if value else false()
    if op in ("gte", "lte"):
        # Plain comparisons (ISO date strings in JSON compare as text on every dialect).
        expr = column(model, crit.path, crit.cast)
        return expr >= value if op == "gte" else expr <= value
    if op == "set":
        expr = column(model, crit.path, crit.cast)
        return expr.is_not(None) if value else expr.is_(None)
    if op == "fulltext":
        return fulltext(model, crit.path, str(value))
    if op == "contains":
        return contains(model, crit.path, str(value))
    if op == "any":
        return or_(*(condition(model, c) for c in value)) if value else false()
    if op == "custom":
        return _custom(model, value)
    if op == "followed_by":
        return model.id.in_(
            select(Link.target_id).where(
                Link.kind == "follow", Link.source_kind == "app_user", Link.source_id == int(value),
                Link.target_kind == entity_kind(model), Link.deleted.is_(False),
            )
        )
    if op == "linked":
        return _linked(model, value)
    if op == "has":
        return _has(model, value)
    raise ValueError(f"unknown operator {op!r}")


def _date_bound(expr: Any, day: dt.date, *, upper: bool) -> Any:
    is_datetime = isinstance(getattr(expr, "type", None), DateTime)
    if upper:
        end = day + dt.timedelta(days=1)
        return expr < (dt.datetime.combine(end, dt.time()) if is_datetime else end)
    return expr >= (dt.datetime.combine(day, dt.time()) if is_datetime else day)


def _custom(model: type[TenantScoped], pairs: Sequence[tuple[int, str]]) -> Any:
    conditions = []
    for field_id, value in pairs:
        matches = like(CustomValue.value, value) if "%" in value else same_text(CustomValue.value, value)
        conditions.append(
            model.id.in_(
                select(CustomValue.entity_id).where(
                    CustomValue.field_id == int(field_id), CustomValue.deleted.is_(False), matches
                )
            )
        )
    return and_(*conditions) if conditions else true()


def _linked(model: type[TenantScoped], spec: LinkedTo) -> Any:
    me = entity_kind(model)
    if spec.listed_is_source:
        sub = select(Link.source_id).where(
            Link.kind == spec.kind, Link.source_kind == me,
            Link.target_kind == spec.other_kind, Link.target_id.in_(list(spec.ids)),
        )
    else:
        sub = select(Link.target_id).where(
            Link.kind == spec.kind, Link.target_kind == me,
            Link.source_kind == spec.other_kind, Link.source_id.in_(list(spec.ids)),
        )
    sub = sub.where(Link.deleted.is_(False))
    if spec.value is not None:
        sub = sub.where(Link.value == spec.value)
    return model.id.in_(sub)


def _has(model: type[TenantScoped], spec: Has) -> Any:
    other = spec.model
    conditions = [other.deleted.is_(False), *(condition(other, c) for c in spec.criteria)]
    return model.id.in_(select(getattr(other, spec.fk)).where(*conditions))
