"""The unit of work every face calls core services through.

A :class:`Workspace` is one transaction in one tenant on behalf of one user.
It commits when its ``with`` block ends normally and rolls back otherwise, so
a write either happens whole or not at all. :meth:`Workspace.atomic` nests a
savepoint, which is how a batch keeps a failed command from leaving a trace.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

from sqlalchemy import Select, event, func, select
from sqlalchemy.orm import Session

import polycrm.core.derived  # noqa: F401  (installs the session events and derive hooks)
import polycrm.platform.outbox  # noqa: F401  (records changes of shared records in the outbox)
from polycrm.core import limits, revision, write_turns
from polycrm.core.blobs import BlobStore
from polycrm.core.errors import NotFound
from polycrm.core.models import Tenant, TenantScoped
from polycrm.store.engine import Database

M = TypeVar("M", bound=TenantScoped)

_MISSING = object()

# Rows :meth:`Workspace.get` keeps alive (the session's identity map holds
# unchanged rows only weakly), so that the reads that follow one write (the
# face's check of a reference, the service's, the reply's) find the row there.
RECENT_ROWS = 256


class Workspace:
    def __init__(
        self,
        db: Database,
        tenant_id: int,
        user_id: int | None = None,
        *,
        blobs: BlobStore | None = None,
        write: bool = True,
        profile_id: int | None = None,
    ):
        self.db = db
        self.tenant_id = tenant_id
        self.user_id = user_id
        self.profile_id = profile_id
        self.blobs = blobs
        self.session: Session = db.session()
        self.session.info["tenant_id"] = tenant_id
        self.session.info["write"] = write
        # Who acts, for the field-level history (core.history).
        self.session.info["user_id"] = user_id
        self._recent: deque[TenantScoped] = deque(maxlen=RECENT_ROWS)
        self._since = time.monotonic()
        if write and db.is_sqlite:
            # BEGIN IMMEDIATE after a turn of the write queue (polycrm/store/write_turns.py).
            self.session.connection(execution_options={"polycrm_write": True})

    def share_write_lock(self) -> bool:
        """Between the commands of a long batch: if this transaction has held
        the write lock for :data:`~polycrm.core.write_turns.WRITE_SLICE` and
        another writer may be waiting, commit what is done and begin again
        behind the waiting writers (polycrm/core/write_turns.py). Returns
        whether it committed. Only call it where the work so far may stand
        on its own (a batch's finished commands do)."""
        if not self.session.info.get("write", True):
            return False
        if time.monotonic() - self._since < write_turns.WRITE_SLICE:
            return False
        if self.db.is_sqlite:
            turns = write_turns.turns_of(self.db)
            if turns is None or not turns.waiting():
                return False
            # The commit gives the turn to the first writer waiting; beginning
            # again queues this one behind the others.
            self.session.commit()
            self.session.connection(execution_options={"polycrm_write": True})
        else:
            self.session.commit()  # releases the row and advisory locks others may wait for
        self._since = time.monotonic()
        return True

    # -- transaction -------------------------------------------------------
    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.session.commit()
            else:
                self.session.rollback()
        finally:
            self.session.close()

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """Run a block in a savepoint: on error nothing of it remains."""
        nested = self.session.begin_nested()
        try:
            yield
            self.session.flush()
        except BaseException:
            if nested.is_active:
                nested.rollback()
            raise
        else:
            if nested.is_active:
                nested.commit()

    def flush(self) -> None:
        self.session.flush()

    def rollback(self) -> None:
        """Undo everything this workspace wrote so far (it stays open for reading)."""
        self.session.rollback()

    # -- what this unit of work wrote -------------------------------------------
    def created_here(self, kind: str, id_: Any) -> bool:
        """Whether row ``id_`` of table ``kind`` was inserted by this workspace.

        Ids are never reused for a live reference (soft deletes, and
        PostgreSQL sequences), so nothing written before this transaction
        points at such a row: whatever refers to it was written here.
        """
        return (kind, id_) in self.session.info.get(_CREATED, ())

    def wrote(self, kind: str) -> bool:
        """Whether this workspace inserted, changed or deleted rows of table
        ``kind`` (or ran a statement whose table it cannot tell)."""
        written = self.session.info.get(_WRITTEN, ())
        return kind in written or _ANY_TABLE in written

    def note_write(self, kind: str) -> None:
        """Record a write of table ``kind`` made past the ORM (a driver-level
        batch), so that :meth:`wrote` knows it and the commit counts it in the
        tenant's revision (core/revision.py)."""
        self.session.info.setdefault(_WRITTEN, set()).add(kind)

    def no_referrers(self, kind: str, id_: Any, referrer: str) -> bool:
        """True when no row of table ``referrer`` can point at row ``id_`` of
        ``kind``: the row was created here and nothing of ``referrer`` was
        written here. The reply to a create is then built without reading
        links and children back (they cannot exist)."""
        return self.created_here(kind, id_) and not self.wrote(referrer)

    # -- reading -----------------------------------------------------------
    def tenant_settings(self) -> dict[str, Any]:
        """The tenant's own settings (defaults a face may show)."""
        tenant = self.session.get(Tenant, self.tenant_id)
        return dict(tenant.settings or {}) if tenant else {}

    def get(self, model: type[M], id_: Any, *, include_deleted: bool = True) -> M | None:
        key = limits.id_in_range(id_)
        if key is None:
            return None
        # A row this unit of work already loaded comes from the identity map,
        # without a query; any other is selected (scoped to the tenant as every query).
        obj = self.session.get(model, key)
        if obj is None or obj.tenant_id != self.tenant_id:
            return None
        self._recent.append(obj)
        if obj.deleted and not include_deleted:
            return None
        return obj

    def require(self, model: type[M], id_: Any, what: str | None = None, *, include_deleted: bool = False) -> M:
        obj = self.get(model, id_, include_deleted=include_deleted)
        if obj is None:
            raise NotFound(f"{what or model.__tablename__} {id_} not found")
        return obj

    def by_ids(self, model: type[M], ids: Iterable[Any], *, include_deleted: bool = True) -> dict[int, M]:
        """Rows by id, fetched in one query; ids that are empty or unknown are left out."""
        wanted = sorted({key for key in map(limits.id_in_range, ids) if key})
        if not wanted:
            return {}
        stmt = select(model).where(model.id.in_(wanted))
        if not include_deleted:
            stmt = stmt.where(model.deleted.is_(False))
        return {obj.id: obj for obj in self.session.scalars(stmt)}

    def scalars(self, stmt: Select) -> list[Any]:
        return list(self.session.scalars(stmt))

    def first(self, stmt: Select) -> Any:
        return self.session.scalars(stmt.limit(1)).first()

    def rows(self, stmt: Select) -> list[Mapping[str, Any]]:
        """Plain row mappings: the lean path for lists and syncs."""
        return list(self.session.execute(stmt).mappings())

    def count(self, stmt: Select) -> int:
        return self.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0

    # -- writing -----------------------------------------------------------
    def add(self, obj: M) -> M:
        obj.tenant_id = self.tenant_id
        self.session.add(obj)
        self.session.flush()
        return obj

    def create(self, model: type[M], values: Mapping[str, Any] | None = None, **more: Any) -> M:
        obj = model()
        obj.extra = {}
        patch(obj, {**(values or {}), **more})
        return self.add(obj)

    def update(self, obj: M, values: Mapping[str, Any]) -> bool:
        self.lock_json(obj, values)
        changed = patch(obj, values)
        if changed:
            self.session.flush()
        return changed

    def lock_json(self, obj: TenantScoped, values: Iterable[str]) -> None:
        """Before JSON columns (``extra``, ``addresses``) of a stored row are
        changed, lock the row and read those columns again.

        A JSON column is written whole, so two transactions each changing one
        key of it would otherwise both start from the value they read and the
        later commit would drop the earlier one's key. On PostgreSQL
        ``SELECT ... FOR UPDATE`` makes the second wait and then start from
        the first one's value; on SQLite the writing workspace already holds
        the database's write lock since its first statement (``BEGIN
        IMMEDIATE``). The lock is taken on every such update (not remembered):
        rolling back a savepoint releases row locks taken inside it.
        """
        if self.db.is_sqlite or obj not in self.session or obj.id is None:
            return
        json_columns = _json_columns(type(obj))
        touched = sorted({key.partition(".")[0] for key in values} & json_columns)
        if touched:
            self.session.flush()
            self.session.refresh(obj, attribute_names=touched, with_for_update=True)

    def delete(self, obj: TenantScoped) -> None:
        self.session.delete(obj)
        self.session.flush()

    def add_all(self, objs: Iterable[TenantScoped]) -> None:
        for obj in objs:
            obj.tenant_id = self.tenant_id
            self.session.add(obj)
        self.session.flush()


# Session info keys: rows inserted by the unit of work ((table, id)), and the
# tables it wrote to (_ANY_TABLE: a statement whose table is not known).
_CREATED = "polycrm_created"
_WRITTEN = "polycrm_written"
_ANY_TABLE = "*"


def created_in_session(session: Session, kind: str, id_: Any) -> bool:
    """:meth:`Workspace.created_here` for a bare session (the history's session events)."""
    return (kind, id_) in session.info.get(_CREATED, ())


@event.listens_for(Session, "after_flush")
def _note_flushed(session: Session, _ctx) -> None:
    # Still the pre-flush lists here, with the new rows' ids assigned.
    written = session.info.setdefault(_WRITTEN, set())
    if session.new:
        created = session.info.setdefault(_CREATED, set())
        for obj in session.new:
            table = getattr(obj, "__tablename__", _ANY_TABLE)
            created.add((table, getattr(obj, "id", None)))
            written.add(table)
    for obj in (*session.dirty, *session.deleted):
        written.add(getattr(obj, "__tablename__", _ANY_TABLE))


@event.listens_for(Session, "after_transaction_end")
def _forget_flushed(session: Session, transaction) -> None:
    # Once committed (a batch sharing the write lock) others may refer to the
    # new rows; once rolled back they are gone: start over.
    if transaction.parent is None:
        session.info.pop(_CREATED, None)
        session.info.pop(_WRITTEN, None)
        session.info.pop(revision.SEEN, None)


@event.listens_for(Session, "before_commit")
def _count_revision(session: Session) -> None:
    # A tenant's transaction that wrote moves the tenant's revision, in the same
    # transaction (core/revision.py). Its last changes are flushed first, so the
    # bump is its last statement: on PostgreSQL the tenant row stays locked only
    # for the COMMIT, and no other lock is taken after it (no deadlock).
    # Also called when a savepoint is released: the bump waits for the outer commit.
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None or not session.info.get("write", True) or session.in_nested_transaction():
        return
    session.flush()
    if session.info.get(_WRITTEN):
        revision.bump(session.connection(), tenant_id)


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state) -> None:
    if state.is_select:
        return
    entity = None
    if state.is_insert or state.is_update or state.is_delete:
        description = getattr(state.statement, "entity_description", None) or {}
        entity = description.get("entity") or description.get("table")
    table = getattr(entity, "__tablename__", None) or getattr(entity, "name", None)
    state.session.info.setdefault(_WRITTEN, set()).add(table or _ANY_TABLE)


_JSON_COLUMNS: dict[type, frozenset[str]] = {}


def _json_columns(model: type[TenantScoped]) -> frozenset[str]:
    found = _JSON_COLUMNS.get(model)
    if found is None:
        found = _JSON_COLUMNS[model] = frozenset(limits.for_model(model).json)
    return found


def columns(model: type[TenantScoped]) -> list[Any]:
    """The ORM column attributes of a model, for lean row selects."""
    return [getattr(model, c.key) for c in model.__mapper__.column_attrs]


def patch(obj: TenantScoped, values: Mapping[str, Any]) -> bool:
    """Apply a partial update; dotted keys reach into JSON columns.

    ``{"extra.trade": "x"}`` sets one key of ``extra``;
    ``{"addresses.invoice.city": "y"}`` one part of one address. Only values
    that really differ are written, so an unchanged update keeps its
    ``changed_at``. Returns whether anything changed.
    """
    changed = False
    checks = limits.for_model(type(obj))
    json_updates: dict[str, dict] = {}
    for key, value in values.items():
        if "." in key:
            column, _, path = key.partition(".")
            if value is not None:
                limits.check_json(value, key)
            current = json_updates.get(column)
            if current is None:
                current = _deep_copy(getattr(obj, column) or {})
                json_updates[column] = current
            _set_path(current, path.split("."), value)
            continue
        if getattr(obj, key, _MISSING) is _MISSING and key not in obj.__mapper__.column_attrs:
            raise AttributeError(f"{type(obj).__name__} has no field {key}")
        checks.check(key, value)
        if getattr(obj, key) != value or (value is None and getattr(obj, key) is not None):
            setattr(obj, key, value)
            changed = True
    for column, new in json_updates.items():
        if (getattr(obj, column) or {}) != new:
            setattr(obj, column, new)
            changed = True
    return changed


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def _set_path(target: dict, path: list[str], value: Any) -> None:
    for part in path[:-1]:
        nxt = target.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            target[part] = nxt
        target = nxt
    if value is None:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value


def get_path(row: Any, path: str) -> Any:
    """Read a dotted core path from a row mapping or an ORM object."""
    head, _, rest = path.partition(".")
    value = row[head] if isinstance(row, Mapping) else getattr(row, head, None)
    while rest and value is not None:
        part, _, rest = rest.partition(".")
        value = value.get(part) if isinstance(value, dict) else None
    return value

