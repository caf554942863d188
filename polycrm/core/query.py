"""Generic filtered, sorted, paged listings described as data.

A face turns its query parameters into :class:`Criterion` objects (an
operator, a core path and a value) and :class:`Sort` keys; :func:`search`
builds the SQL, counts, and fetches one page. No face writes SQL itself.

Paths name a column (``"name"``), a part of a JSON column
(``"addresses.postal.city"``, ``"extra.warehouseid"``), or a column of a
referenced row (``"customer_id->customer.type_id"``: the row the foreign key
``customer_id`` points at, in the table named after ``->``).

Operators:

``eq``          equality (case-insensitive for text)
``like``        SQL LIKE with ``%`` wildcards, case-insensitive; without a
                ``%`` it is a case-insensitive exact match (``_`` is literal)
``in``          the value is one of a list of ids
``active``      0 = inactive, 1 = active, 2 = both
``flag``        a boolean column compared with 0/1
``from``/``to`` inclusive date bounds on a date or date-time column
``gte``/``lte`` plain inclusive comparisons with the value
``one_of``      the (text) value is one of a list
``ge``/``le``   at least / at most the value (any comparable type)
``set``         the path holds a value (not NULL); ``value`` False inverts
``fulltext``    every whitespace-separated term occurs in one of the paths
                (the folded ``search_text`` column where a model has one);
                terms of 3+ characters in ``customer.search_text`` go
                through a trigram index (see :data:`TRIGRAM_INDEXED`)
``custom``      custom-field pairs: ``[(field_id, value), ...]``, all must match
``followed_by`` followed by a user (a ``follow`` link from that user)
``linked``      linked to a record: ``Link(kind, source -> target)`` by value
``has``         a related row of ``value.model`` matches ``value.criteria``

A distance from a point is not a criterion: :func:`search` takes it as
``near_to`` (a :class:`Near`), finds the rows inside the circle and sorts
them itself.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Boolean, DateTime, String, Text, and_, case, false, func, literal_column, or_, select, true
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import Grouping
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from polycrm.core.models import ENTITIES, CustomValue, Link, TenantScoped
from polycrm.core.workspace import Workspace
from polycrm.store.engine import fts_tables

EARTH_RADIUS_KM = 6371.0088


def entity_kind(model: type[TenantScoped]) -> str:
    """The name a model goes by in links and custom fields (its table name)."""
    return model.__tablename__


@dataclass(frozen=True)
class Criterion:
    op: str
    path: str
    value: Any
    # For JSON paths: how to read the stored value ("str", "int", "float").
    cast: str = "str"


@dataclass(frozen=True)
class Near:
    lat: float
    lng: float
    km: float


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


@dataclass(frozen=True)
class Sort:
    path: str
    descending: bool = False
    # "text": case-insensitive; "numeric_text": digits compared as numbers;
    # "odd"/"even": odd (even) numbers first, then by number.
    mode: str = "plain"


@dataclass
class Page:
    """One page of a list: its rows and where it sits in the whole
    (the one page type of every face and the web pages)."""

    items: list[Any]
    total: int
    page: int
    per_page: int
    # id -> distance in km, when a ``near`` criterion was used.
    distances: dict[int, float] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """How many pages the rows fill (0 when there are none)."""
        return math.ceil(self.total / self.per_page) if self.per_page else 0

    @property
    def last_page(self) -> int:
        """The number of the last page: an empty list still has page 1."""
        return max(1, self.pages)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.last_page

    @property
    def first_index(self) -> int:
        """1-based position of the page's first row in the whole (0 when empty)."""
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)


class PageOutOfRange(ValueError):
    pass


# -- paths ---------------------------------------------------------------
def column(model: type[TenantScoped], path: str, cast: str = "str") -> Any:
    """The SQL expression of a core path on ``model``."""
    if "->" in path:
        fk, _, rest = path.partition("->")
        table, _, inner = rest.partition(".")
        other = ENTITIES[table]
        return (
            select(column(other, inner, cast))
            .where(other.id == getattr(model, fk))
            .correlate(model)
            .scalar_subquery()
        )
    head, _, rest = path.partition(".")
    attr = getattr(model, head)
    if not rest:
        return attr
    element = attr[tuple(rest.split("."))] if "." in rest else attr[rest]
    if cast == "int":
        return element.as_integer()
    if cast == "float":
        return element.as_float()
    return element.as_string()


def _is_text(expr: Any) -> bool:
    return isinstance(getattr(expr, "type", None), (String, Text))


def _escape(text: str, *, percent: bool = False) -> str:
    text = text.replace("\\", "\\\\").replace("_", "\\_")
    return text.replace("%", "\\%") if percent else text


def like(expr: Any, pattern: str) -> Any:
    """Case-insensitive LIKE; ``%`` is the only wildcard."""
    return expr.ilike(_escape(pattern), escape="\\")


def same_text(expr: Any, text: str) -> Any:
    """Case-insensitive equality (LIKE without wildcards, on every dialect)."""
    return expr.ilike(_escape(text, percent=True), escape="\\")


# -- conditions ----------------------------------------------------------
def condition(model: type[TenantScoped], crit: Criterion) -> Any:
    op, value = crit.op, crit.value
    if op in ("eq", "like", "in", "active", "flag", "from", "to", "ge", "le"):
        expr = column(model, crit.path, crit.cast)
    if op == "ge":
        return expr >= value
    if op == "le":
        return expr <= value
    if op == "eq":
        if isinstance(value, str) and _is_text(expr):
            return same_text(expr, value)
        return expr == value
    if op == "like":
        return like(expr, str(value))
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
        return _fulltext(model, crit.path, str(value))
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


# Text columns with a trigram index, (table, path) -> the SQLite FTS5 table over
# it (migration 0002). On PostgreSQL the same columns have a pg_trgm GIN index,
# which the plain ILIKE uses by itself.
TRIGRAM_INDEXED = {("customer", "search_text"): "customer_fts"}
# A trigram index finds terms of at least three characters; shorter ones are scanned for.
MIN_TRIGRAM_TERM = 3


def _fulltext(model: type[TenantScoped], paths: str, text: str) -> Any:
    """Every whitespace-separated term occurs (case-insensitively) in one of the paths."""
    columns = [column(model, p) for p in paths.split(",")]
    terms = list(dict.fromkeys(t for t in text.casefold().split() if t))
    if not terms:
        return true()

    def scanned(term: str) -> Any:
        needle = "%" + _escape(term, percent=True) + "%"
        return or_(*(c.ilike(needle, escape="\\") for c in columns))

    fts_table = TRIGRAM_INDEXED.get((model.__tablename__, paths))
    indexed = [t for t in terms if fts_table and _trigram_term(t)]
    conditions = [scanned(t) for t in terms if t not in indexed]
    if indexed:
        conditions.insert(0, TrigramMatch(fts_table, _fts_condition(model, fts_table, indexed),
                                          and_(*(scanned(t) for t in indexed))))
    return and_(*conditions)


def _trigram_term(term: str) -> bool:
    # U+FFFE and U+FFFF are the only characters FTS5 does not index as they are.
    return len(term) >= MIN_TRIGRAM_TERM and "\ufffe" not in term and "\uffff" not in term


def _fts_condition(model: type[TenantScoped], fts_table: str, terms: Sequence[str]) -> Any:
    """``id IN (rows of the FTS table holding every term)``.

    Each term is an FTS5 phrase: with the trigram tokenizer, a run of
    consecutive trigrams, i.e. exactly the substring. The tokenizer folds case
    one character at a time, which leaves the already case-folded column and
    terms as they are (checked for every character ``str.casefold`` can
    produce but U+FFFE/U+FFFF), so it matches the rows ``ILIKE '%term%'`` does.
    """
    fts = sql_table(fts_table, sql_column("rowid"))
    phrases = " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)
    return model.id.in_(select(fts.c.rowid).where(literal_column(fts_table).op("MATCH")(phrases)))


class TrigramMatch(ColumnElement[bool]):
    """Terms looked up in a trigram index: through the SQLite FTS5 table
    (``indexed``) where the database has one, as ``fallback`` (the ILIKE
    conditions, which PostgreSQL's GIN trigram index serves) everywhere else."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition in itself (no "= 1" added on SQLite)
    _traverse_internals = [
        ("fts_table", InternalTraversal.dp_string),
        ("indexed", InternalTraversal.dp_clauseelement),
        ("fallback", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, fts_table: str, indexed: Any, fallback: Any):
        self.fts_table = fts_table
        self.indexed = indexed
        self.fallback = fallback


@compiles(TrigramMatch)
def _compile_trigram_match(element: TrigramMatch, compiler: Any, **kw: Any) -> str:
    # Parenthesised, so that it stays one condition wherever it lands (NOT, OR).
    return compiler.process(Grouping(element.fallback), **kw)


@compiles(TrigramMatch, "sqlite")
def _compile_trigram_match_sqlite(element: TrigramMatch, compiler: Any, **kw: Any) -> str:
    # The engine notes which FTS tables exist (polycrm.store.engine) and
    # recompiles when that changes; a library without FTS5 trigram has none.
    if element.fts_table in fts_tables(compiler.dialect):
        return compiler.process(Grouping(element.indexed), **kw)
    return compiler.process(Grouping(element.fallback), **kw)


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


# -- geography -----------------------------------------------------------
def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance; :func:`_near_hits` computes the same, unrolled."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(center: Near) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) enclosing the circle; the longitude
    span widens towards the poles and covers everything near them."""
    dlat = math.degrees(center.km / EARTH_RADIUS_KM)
    min_lat, max_lat = center.lat - dlat, center.lat + dlat
    cos_lat = math.cos(math.radians(center.lat))
    if max_lat >= 90 or min_lat <= -90 or cos_lat < 1e-9:
        return max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0
    dlng = math.degrees(center.km / (EARTH_RADIUS_KM * cos_lat))
    if dlng >= 180:
        return min_lat, max_lat, -180.0, 180.0
    return min_lat, max_lat, center.lng - dlng, center.lng + dlng


def _near_hits(ws: Workspace, model: type[TenantScoped], center: Near, base: Iterable[Any],
               paths: tuple[str, str], order: Sequence[Any] = ()) -> list[tuple[int, float]]:
    """(id, km) of the rows meeting ``base`` within ``center.km``, in ``order``.

    The indexed latitude/longitude columns narrow the candidates to a
    bounding box in SQL (only id and coordinates are read); the exact
    great-circle distance then decides.
    """
    lat, lng = column(model, paths[0], "float"), column(model, paths[1], "float")
    min_lat, max_lat, min_lng, max_lng = bounding_box(center)
    box = [lat.is_not(None), lng.is_not(None), lat >= min_lat, lat <= max_lat]
    if min_lng < -180 or max_lng > 180:
        # The box crosses the antimeridian: two longitude ranges.
        lo, hi = ((min_lng + 360, max_lng) if min_lng < -180 else (min_lng, max_lng - 360))
        box.append(or_(lng >= lo, lng <= hi))
    elif (min_lng, max_lng) != (-180.0, 180.0):
        box += [lng >= min_lng, lng <= max_lng]
    rows = ws.session.execute(select(model.id, lat, lng).where(*base, *box).order_by(*order)).all()
    # haversine_km, unrolled with the centre's terms computed once (same
    # operations in the same order, so the same distances to the last bit).
    radians, sin, cos, asin, sqrt = math.radians, math.sin, math.cos, math.asin, math.sqrt
    p1 = radians(center.lat)
    cos_p1, km, lng0 = cos(p1), center.km, center.lng
    hits = []
    for id_, la, ln in rows:
        p2 = radians(float(la))
        a = sin((p2 - p1) / 2) ** 2 + cos_p1 * cos(p2) * sin(radians(float(ln) - lng0) / 2) ** 2
        d = 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(a)))
        if d <= km:
            hits.append((id_, d))
    return hits


# -- sorting and paging --------------------------------------------------
def order_by(model: type[TenantScoped], keys: Sequence[Sort], *, from_matches: bool = False) -> list[Any]:
    """ORDER BY clauses for the sort keys, ending with the id.

    ``from_matches``: the rows are few, so sort them after finding them by the
    filters rather than walking an index in sort order (see :class:`SortAfterFinding`).
    """
    clauses: list[Any] = []
    for key in keys:
        expr = column(model, key.path)
        if key.mode == "text":
            expr = func.lower(expr)
        exprs = [expr]
        if key.mode in ("numeric_text", "odd", "even"):
            # Digits sort as numbers: shorter first, then by text (both dialects).
            # The '' is a literal, not a parameter, so that an index on the same
            # expressions (customer: ix_customer_number_sort) can serve the sort.
            text = func.coalesce(expr, literal_column("''"))
            last = func.substr(text, func.length(text), 1)
            parity = case((last.in_(["1", "3", "5", "7", "9"]), 1), else_=0)
            exprs = [func.length(text), text]
            if key.mode == "odd":
                exprs.insert(0, -parity)
            elif key.mode == "even":
                exprs.insert(0, parity)
        for e in exprs:
            if from_matches:
                e = SortAfterFinding(e)
            clauses.append(e.desc() if key.descending else e.asc())
    last = SortAfterFinding(model.id) if from_matches else model.id
    clauses.append(last.desc() if keys and keys[0].descending else last.asc())
    return clauses


class SortAfterFinding(ColumnElement[Any]):
    """A sort key that no index may serve, so the rows are found by the
    filters first and then sorted.

    Without statistics SQLite satisfies ``ORDER BY name LIMIT 50`` by walking
    the name index and testing each row against the filters: quick when many
    rows match, a walk through the whole tenant when few do. For a page of few
    matches (a selective fulltext search, a nearto circle) sorting the matches
    is cheaper; ``+expr`` (same value, same collation) tells SQLite so.
    PostgreSQL chooses by its statistics and gets the plain expression.
    """

    inherit_cache = True
    _traverse_internals = [("element", InternalTraversal.dp_clauseelement)]

    def __init__(self, element: Any):
        self.element = element
        self.type = element.type


@compiles(SortAfterFinding)
def _compile_sort_after_finding(element: SortAfterFinding, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.element, **kw)


@compiles(SortAfterFinding, "sqlite")
def _compile_sort_after_finding_sqlite(element: SortAfterFinding, compiler: Any, **kw: Any) -> str:
    return "+" + compiler.process(element.element.self_group(), **kw)


# Up to this many matching rows, a page is sorted from the matches (SortAfterFinding).
FEW_MATCHES = 1000


def search(
    ws: Workspace,
    model: type[TenantScoped],
    criteria: Sequence[Criterion] = (),
    *,
    sort: Sequence[Sort] = (),
    page: int = 1,
    per_page: int = 10,
    near_to: Near | None = None,
    near_paths: tuple[str, str] = ("latitude", "longitude"),
    include_deleted: bool = False,
) -> Page:
    """One page of the live rows of ``model`` that meet every criterion.

    A page past the last one raises :class:`PageOutOfRange` (page 1 of an
    empty result is an empty page).
    """
    conditions = [condition(model, c) for c in criteria]
    if not include_deleted:
        conditions.insert(0, model.deleted.is_(False))
    if near_to is not None:
        # The rows in the circle, already in page order: they are the total,
        # and the page is a slice of them (no count, no id list sent back).
        # The box finds the candidates; they are sorted after.
        hits = _near_hits(ws, model, near_to, conditions, near_paths, order_by(model, sort, from_matches=True))
        _check_page(page, per_page, len(hits))
        window = [id_ for id_, _ in hits[(page - 1) * per_page:page * per_page]]
        rows = {row.id: row for row in ws.scalars(select(model).where(model.id.in_(window)))} if window else {}
        return Page(items=[rows[i] for i in window if i in rows], total=len(hits), page=page, per_page=per_page,
                    distances=dict(hits))
    stmt = select(model).where(*conditions)
    total = ws.count(stmt)
    _check_page(page, per_page, total)
    order = order_by(model, sort, from_matches=total <= FEW_MATCHES)
    items = ws.scalars(stmt.order_by(*order).limit(per_page).offset((page - 1) * per_page))
    return Page(items=items, total=total, page=page, per_page=per_page)


def _check_page(page: int, per_page: int, total: int) -> None:
    if page < 1 or (page > 1 and (page - 1) * per_page >= total):
        raise PageOutOfRange(f"page {page} is out of range")


def every(ws: Workspace, model: type[TenantScoped], criteria: Sequence[Criterion] = (),
          *, sort: Sequence[Sort] = (), include_deleted: bool = False) -> list[Any]:
    """All live rows meeting the criteria (for short, unpaged lists)."""
    conditions = [condition(model, c) for c in criteria]
    if not include_deleted:
        conditions.insert(0, model.deleted.is_(False))
    return ws.scalars(select(model).where(*conditions).order_by(*order_by(model, sort)))


# -- loading referenced rows ---------------------------------------------
class Loader:
    """Fetches referenced rows for serialising a page, once per (model, id)."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self._rows: dict[tuple[type, int], Any] = {}
        self._links: dict[tuple, list[int]] = {}
        self._children: dict[tuple, list[Any]] = {}

    def clear(self) -> None:
        """Forget what was loaded (after a write changed it)."""
        self._rows.clear()
        self._links.clear()
        self._children.clear()

    def get(self, model: type[TenantScoped], id_: int | None) -> Any:
        if not id_:
            return None
        key = (model, int(id_))
        if key not in self._rows:
            self._rows[key] = self.ws.get(model, id_)
        return self._rows[key]

    def many(self, model: type[TenantScoped], ids: Iterable[int]) -> list[Any]:
        wanted = [int(i) for i in ids if i]
        missing = [i for i in dict.fromkeys(wanted) if (model, i) not in self._rows]
        if missing:
            found = {r.id: r for r in self.ws.scalars(select(model).where(model.id.in_(missing)))}
            for i in missing:
                self._rows[(model, i)] = found.get(i)
        rows = [self._rows[(model, i)] for i in wanted]
        return [r for r in rows if r is not None and not r.deleted]

    def rows_where(self, model: type[TenantScoped], criteria: Sequence[Criterion], sort: Sequence[Sort] = ()) -> list[Any]:
        return every(self.ws, model, criteria, sort=sort)

    def prime_links(self, kind: str, me_kind: str, ids: Iterable[int], other_kind: str, *, outgoing: bool) -> None:
        """Load the links of many records at once (one query for a whole page)."""
        ids = [int(i) for i in ids]
        if not ids:
            return
        stmt = select(Link).where(Link.kind == kind, Link.deleted.is_(False))
        if outgoing:
            stmt = stmt.where(Link.source_kind == me_kind, Link.source_id.in_(ids), Link.target_kind == other_kind)
        else:
            stmt = stmt.where(Link.target_kind == me_kind, Link.target_id.in_(ids), Link.source_kind == other_kind)
        found: dict[int, list[int]] = {i: [] for i in ids}
        for row in self.ws.scalars(stmt.order_by(Link.id)):
            if outgoing:
                found[row.source_id].append(row.target_id)
            else:
                found[row.target_id].append(row.source_id)
        for id_, others in found.items():
            key = (kind, me_kind, id_, other_kind, None) if outgoing else (kind, other_kind, None, me_kind, id_)
            self._links[key] = others

    def children(self, model: type[TenantScoped], fk: str, parent_id: int, sort: Sequence[Sort] = ()) -> list[Any]:
        """Live rows whose ``fk`` points at ``parent_id``, in ``sort`` order."""
        key = (model, fk, parent_id, tuple(sort))
        if key not in self._children:
            self.prime_children(model, fk, [parent_id], sort)
        return self._children[key]

    def prime_children(self, model: type[TenantScoped], fk: str, parent_ids: Iterable[int],
                       sort: Sequence[Sort] = ()) -> None:
        parent_ids = [int(i) for i in parent_ids]
        if not parent_ids:
            return
        rows = every(self.ws, model, [Criterion("in", fk, parent_ids)], sort=sort)
        found: dict[int, list[Any]] = {i: [] for i in parent_ids}
        for row in rows:
            found[getattr(row, fk)].append(row)
            self._rows[(model, row.id)] = row
        for id_, children in found.items():
            self._children[(model, fk, id_, tuple(sort))] = children

    def linked_ids(self, kind: str, *, source_kind: str | None = None, source_id: int | None = None,
                   target_kind: str | None = None, target_id: int | None = None) -> list[int]:
        """Ids at the open end of the links matching the given end."""
        key = (kind, source_kind, source_id, target_kind, target_id)
        if key not in self._links:
            stmt = select(Link).where(Link.kind == kind, Link.deleted.is_(False))
            if source_id is not None:
                stmt = stmt.where(Link.source_kind == source_kind, Link.source_id == source_id)
                if target_kind:
                    stmt = stmt.where(Link.target_kind == target_kind)
                pick = "target_id"
            else:
                stmt = stmt.where(Link.target_kind == target_kind, Link.target_id == target_id)
                if source_kind:
                    stmt = stmt.where(Link.source_kind == source_kind)
                pick = "source_id"
            self._links[key] = [getattr(l, pick) for l in self.ws.scalars(stmt.order_by(Link.id))]
        return self._links[key]


__all__ = [
    "Criterion", "Has", "LinkedTo", "Loader", "Near", "Page", "PageOutOfRange", "Sort",
    "bounding_box", "column", "condition", "entity_kind", "every", "haversine_km", "like", "search",
]
