"""Creating many customers at once (``polycrm load``): the customer service's
rules, applied set-wise per batch, and the database's bulk insert.

:class:`CustomerBatches` gives every new customer what
:data:`polycrm.core.customers.SERVICE` would (``create``), without a query per
row:

- per row, in Python: the value limits (:mod:`polycrm.core.limits`), the
  defaults (the type list's default entry, looked up once per load, and the
  acting user as seller), a name that is not blank, the coordinates shared
  with the visiting address, the derived ``name_folded`` and ``search_text``
  (:mod:`polycrm.core.derived`) and the created / changed stamps;
- per batch, one query each: the given lookup entries and references name
  live rows of this tenant, a parent is a live customer (of the tenant or of
  an earlier row of the same load), and a customer number is carried by no
  other live customer, neither in the database nor earlier in the load
  (trimmed, case ignored), under the numbering lock held for the whole load.

The rows then go in through the bulk path of the database: one
``executemany`` on SQLite (with the row-by-row insert triggers of the FTS5,
short-gram and R*Tree indexes set aside for the load, each index filled by one
statement per batch: :mod:`polycrm.store.index_fill`), ``COPY`` on PostgreSQL
(whose GIN and GiST indexes are maintained by the server). Ids are assigned before the insert, so a
later row can name an earlier one as its parent before either is written: on
SQLite the writing workspace holds the database's write lock (``BEGIN
IMMEDIATE``), so ``max(id) + 1`` onwards are free; on PostgreSQL they are
drawn from the table's sequence a batch at a time.

Everything happens in the caller's workspace, that is one transaction: a row
that breaks a rule raises :class:`~polycrm.core.errors.CoreError` naming the
row (``located``) and the caller's rollback leaves nothing of the load.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from operator import itemgetter
from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import Boolean, select, text

from polycrm.core import customers, lookups, numbering
from polycrm.core.derived import customer_texts
from polycrm.core.errors import Conflict, CoreError, Invalid, NotFound, located
from polycrm.core.models import Customer, Lookup, utcnow
from polycrm.core import limits
from polycrm.core.service import Write, required_text
from polycrm.core.workspace import Workspace
from polycrm.store import index_fill

BATCH_SIZE = 2000
LOAD_CACHE_KIB = 32_768
# The in-memory buffer of each FTS5 index (trigram, short grams) for the load (its default
# is 1 MiB): fewer, larger segments to write and merge (measured on the trigram index:
# 1.15 s -> 0.75 s of CPU for 100,000 rows).
LOAD_FTS_HASH_BYTES = 32 * 1024 * 1024
FTS_DEFAULT_HASH_BYTES = 1024 * 1024
# A load of at least this many rows, and at least 1 / MERGE_SHARE of the table, ends with
# its FTS5 indexes merged (CustomerBatches._merge_pays).
MERGE_MIN_ROWS = 1000
MERGE_SHARE = 4

_name_required = required_text("name")
_JSON_COLUMNS = ("addresses", "extra")
_UNSET = object()


def _with_path(root: dict | None, path: list[str], value: Any) -> dict:
    """``root`` with ``path`` set to ``value`` (removed for None), as
    ``workspace._set_path`` sets it; the dicts along the path are copies, so
    the caller's value stays as it was."""
    top = dict(root or {})
    target = top
    for part in path[:-1]:
        nxt = target.get(part)
        target[part] = nxt = dict(nxt) if isinstance(nxt, dict) else {}
        target = nxt
    if value is None:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return top


class CustomerBatches:
    """Collects new customers and writes them a batch at a time (module docstring)."""

    def __init__(self, ws: Workspace, batch_size: int | None = None, index_thread: bool = False) -> None:
        """``index_thread``: on SQLite, index each batch in a thread while the caller makes the
        next (:meth:`_executemany`); a caller that uses the workspace's connection between
        :meth:`add` calls must call :meth:`wait` first (the loader does, for a lookup)."""
        self.ws = ws
        self.index_thread = index_thread
        self.batch_size = batch_size or BATCH_SIZE
        self.table = Customer.__table__
        self.columns = [c.key for c in self.table.columns]
        self.checks = limits.for_model(Customer)
        self.written = 0
        self._blank = self._blank_row()
        self._pending: list[tuple[str, dict[str, Any], Write]] = []
        self._next_id: int | None = None
        self._free_ids: deque[int] = deque()
        self._numbers: dict[str, str] = {}  # folded number -> the row of this load that has it
        self._locked = False
        self._default_type: Any = _UNSET
        self._insert_sql: str | None = None
        self._processors: list[tuple[str, Any]] = []
        # The index insert triggers set aside for the load, and the FTS5 buffer sizes it changed.
        self._triggers_aside: list[index_fill.SetAside] = []
        self._fts_hashes: dict[str, Any] = {}
        self._cache_size: int | None = None
        # How many rows the load will bring, about (the loader's estimate from how far into the
        # file the first batch took it); None: as many as the first batch.
        self.expected_rows: Any = None
        self._indexes_aside: list[str] = []
        self._first_id: int | None = None
        # SQLite: the index statements of the batch written last, running in a thread of their own
        # while the next batch is made (see _executemany).
        self._indexer: ThreadPoolExecutor | None = None
        self._indexing: Future | None = None

    # -- the row ----------------------------------------------------------------
    def add(self, values: Mapping[str, Any], where: str) -> int:
        """Check one new customer's own rules and queue it; returns its id."""
        try:
            write = self._write(values)
            row = self._row(write.values)
        except CoreError as exc:
            raise located(exc, where) from None
        row["id"] = self._new_id()
        self._pending.append((where, row, write))
        if len(self._pending) >= self.batch_size:
            self.flush()
        return row["id"]

    def default_type_changed(self) -> None:
        """A customer type was added during the load: look the default entry up again."""
        self._default_type = _UNSET

    def _write(self, values: Mapping[str, Any]) -> Write:
        write: Write = Write(self.ws, None, {**customers.SERVICE.defaults, **values}, {}, creating=True)
        # customers._defaults, with the default entry looked up once.
        if "type_id" not in write.values:
            if self._default_type is _UNSET:
                self.wait()
                entry = lookups.default(self.ws, "customer_type")
                self._default_type = entry.id if entry is not None else None
            write.values["type_id"] = self._default_type
            write.trusted.add("type_id")
        if "user_id" not in write.values and self.ws.user_id:
            write.values["user_id"] = self.ws.user_id
            write.trusted.add("user_id")
        _name_required(write)
        customers._coordinates(write)
        return write

    def _row(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The full row ``values`` make (as Workspace.create's patch writes it), limits checked."""
        row = dict(self._blank)
        dotted: list[tuple[str, Any]] = []
        text_limits = self.checks.text
        for key, value in values.items():
            if "." in key:
                dotted.append((key, value))
                continue
            if key not in row:
                raise Invalid(f"customer has no field {key}", field=key)
            # The common case inline (short ASCII text without NUL); anything else through the full check.
            if not (type(value) is str and value.isascii() and len(value) <= text_limits.get(key, 0)
                    and "\x00" not in value):
                self.checks.check(key, value)
            row[key] = value
        for key, value in dotted:
            column, _, path = key.partition(".")
            if column not in _JSON_COLUMNS:
                raise Invalid(f"customer has no field {key}", field=key)
            if value is not None:
                limits.check_json(value, key)
            row[column] = _with_path(row[column], path.split("."), value)
        for column in _JSON_COLUMNS:
            if row[column] is None:
                row[column] = {}
        row["name_folded"], row["search_text"] = customer_texts(row.__getitem__)
        row["tenant_id"] = self.ws.tenant_id
        row["created_at"] = row["created_at"] or self._now
        row["changed_at"] = self._now
        return row

    def _blank_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for column in self.table.columns:
            default = column.default
            row[column.key] = default.arg if default is not None and default.is_scalar else None
        self._now = utcnow()
        return row

    def _new_id(self) -> int:
        if self.ws.db.is_sqlite:
            if self._next_id is None:
                # The writing workspace holds SQLite's write lock: no other id can appear meanwhile.
                highest = self.ws.session.connection().exec_driver_sql("SELECT max(id) FROM customer").scalar()
                self._next_id = self._first_id = (highest or 0) + 1
            self._next_id += 1
            return self._next_id - 1
        if not self._free_ids:
            drawn = self.ws.session.connection().execute(
                text("SELECT nextval(pg_get_serial_sequence('customer', 'id')) FROM generate_series(1, :n)"),
                {"n": self.batch_size},
            )
            self._free_ids.extend(sorted(drawn.scalars()))
        return self._free_ids.popleft()

    # -- the batch --------------------------------------------------------------
    def flush(self) -> None:
        """Check the pending rows' set-wise rules and insert them."""
        self.wait()
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        if self.ws.db.is_sqlite and self._insert_sql is None:
            self._prepare_sqlite(full=len(batch) >= self.batch_size)
        self._check_references(batch)
        self._check_parents(batch)
        self._check_numbers(batch)
        rows = [row for _, row, _ in batch]
        # Written past the ORM: tell the workspace, whose commit counts it in the tenant's revision.
        self.ws.note_write(self.table.name)
        if self.ws.db.is_sqlite:
            self._executemany(rows)
        else:
            self._copy(rows)
        self.written += len(rows)

    def finish(self) -> None:
        """Write what is pending and put back what the load set aside (the indexes, the FTS insert
        trigger and buffer size), in the load's transaction."""
        self.flush()
        self.wait()
        conn = self.ws.session.connection()
        for sql in self._indexes_aside:
            conn.exec_driver_sql(sql)
        self._indexes_aside = []
        index_fill.put_back(conn, self._triggers_aside)
        self._triggers_aside = []
        for fts, size in self._fts_hashes.items():
            conn.exec_driver_sql(f"INSERT INTO {fts}({fts}, rank) VALUES ('hashsize', ?)",
                                 (size or FTS_DEFAULT_HASH_BYTES,))
        if self._fts_hashes and self._merge_pays(conn):
            for fts in self._fts_hashes:
                conn.exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('optimize')")
        self._fts_hashes = {}
        self.release()

    def _merge_pays(self, conn: Any) -> bool:
        """Whether to merge the FTS5 indexes into one segment each at the end of the load.

        A load leaves its rows in a few large segments, halfway through a merge.
        FTS5 finishes such a merge a few pages at a time after each later
        commit, so every single write after a large load paid for it: 100,000
        customers loaded, a one-row insert cost 1.4 ms of CPU in the indexes
        against 0.55 ms once merged, for thousands of writes (and every 64th
        paid most: the p99). Merging costs about 6.5 us a row of the whole
        index, so it is done when the load brought at least a quarter of it."""
        stored = conn.exec_driver_sql("SELECT count(*) FROM customer").scalar() or 0
        return self.written >= MERGE_MIN_ROWS and self.written * MERGE_SHARE >= stored

    def wait(self) -> None:
        """Let the index statements of the batch written last finish, raising their error:
        before anything else uses the load's connection (the next batch, a lookup, the end)."""
        pending, self._indexing = self._indexing, None
        if pending is not None:
            pending.result()

    def release(self) -> None:
        """Give the connection its page cache size back (it returns to a pool: a server's,
        for the demo tenant); also after a failed load, whose rollback does not undo a PRAGMA.
        The index thread is done with first (its error, if any, raised after)."""
        try:
            self.wait()
        finally:
            if self._indexer is not None:
                self._indexer.shutdown()
                self._indexer = None
            if self._cache_size is not None:
                size, self._cache_size = int(self._cache_size), None
                self.ws.session.connection().exec_driver_sql(f"PRAGMA cache_size = {size}")

    def _prepare_sqlite(self, full: bool) -> None:
        """Before the first insert: the statement, the bind processors and the load's settings."""
        conn = self.ws.session.connection()
        dialect = conn.dialect
        # sqlite3 takes text, numbers, booleans and None as they are; dates and JSON need SQLAlchemy's form.
        self._processors = [
            (i, c.key, process) for i, c in enumerate(self.table.columns)
            if not isinstance(c.type, Boolean) and (process := c.type._cached_bind_processor(dialect)) is not None
        ]
        self._row_tuple = itemgetter(*(c.key for c in self.table.columns))
        names = ", ".join(dialect.identifier_preparer.quote(c.key) for c in self.table.columns)
        marks = ", ".join("?" for _ in self.table.columns)
        self._insert_sql = f"INSERT INTO customer ({names}) VALUES ({marks})"
        self._cache_size = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        # A larger page cache for the load's connection: the rows go into a dozen
        # indexes in as many orders (measured: a fifth less time at 100,000 rows).
        conn.exec_driver_sql(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
        if full and self._rebuild_pays(conn):
            self._set_indexes_aside(conn)
        # Inside the load's transaction, which holds SQLite's write lock: no other
        # connection writes a customer before finish() creates the triggers again,
        # and a failed load's rollback brings them back with everything else.
        self._triggers_aside = index_fill.set_aside(conn, "customer")
        for fts in (a.fts_table for a in self._triggers_aside if a.fts_table):
            self._fts_hashes[fts] = conn.exec_driver_sql(f"SELECT v FROM {fts}_config WHERE k = 'hashsize'").scalar()
            conn.exec_driver_sql(f"INSERT INTO {fts}({fts}, rank) VALUES ('hashsize', ?)", (LOAD_FTS_HASH_BYTES,))

    def _rebuild_pays(self, conn: Any) -> bool:
        """Whether building the table's indexes once after the load costs less than keeping them
        row by row: so when the load brings at least as many rows as the table (every tenant's)
        holds already (measured, 100,000 rows into an empty table: 1.2 s less of 3.9 s)."""
        expected = self.expected_rows() if callable(self.expected_rows) else self.batch_size
        stored = conn.exec_driver_sql("SELECT count(*) FROM customer").scalar()
        return expected >= stored

    def _set_indexes_aside(self, conn: Any) -> None:
        """Drop the customer table's indexes for the load; :meth:`finish` creates them again.

        As for the FTS trigger: inside the load's transaction, which holds
        SQLite's write lock; readers keep the schema (and indexes) of the last
        commit, and a failed load's rollback brings the indexes back unchanged.
        The load's own queries meanwhile need none of them (ids, lookups, and
        numbers of rows stored before the load: see :meth:`_check_numbers`).

        They are made again in the order they were made first (sqlite_master's
        rowid order, which is the order SQLite reads the schema in): without
        statistics the planner breaks a tie between equally good indexes by
        that order, and rebuilt by name a count of the live customers went
        through ix_customer_user (a table read per row) instead of the covering
        partial ix_customer_live."""
        found = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customer' "
            "AND sql IS NOT NULL ORDER BY rowid").all()
        quote = conn.dialect.identifier_preparer.quote
        for name, sql in found:
            conn.exec_driver_sql(f"DROP INDEX {quote(name)}")
        self._indexes_aside = [sql for _, sql in found]

    def _executemany(self, rows: list[dict[str, Any]]) -> None:
        conn = self.ws.session.connection()
        params = []
        processors = self._processors
        # Each processor's last value and its form: most rows share one object (the load's
        # created and changed stamp), whose form is made once instead of per row.
        last = [(None, None)] * len(processors)
        for row in rows:
            values = list(self._row_tuple(row))
            for n, (i, key, process) in enumerate(processors):
                value = row[key]
                if value is not None:
                    seen, bound = last[n]
                    if value is not seen:
                        bound = process(value)
                        last[n] = (value, bound)
                    values[i] = bound
            params.append(tuple(values))
        conn.exec_driver_sql(self._insert_sql, params)
        # The triggers' work, for the whole batch in one statement per index (for the FTS index
        # about ten times faster than row by row); the batch's ids are a run no other writer can enter.
        statements = index_fill.fill_statements(
            self._triggers_aside, "t.id BETWEEN ? AND ?", (rows[0]["id"], rows[-1]["id"]),
            [(row["id"], row["search_text"]) for row in rows])
        # Each statement is one step of SQLite's, which runs without Python's lock: in a thread,
        # the indexing of this batch (about a quarter of a load's CPU) overlaps the parsing and
        # checking of the next one. Nothing else uses the connection meanwhile: every other use
        # of it waits for the thread first (wait), so the order of the statements stays as it was.
        if not self.index_thread:
            _run_statements(conn, statements)
            return
        if self._indexer is None:
            self._indexer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="polycrm-load-index")
        self._indexing = self._indexer.submit(_run_statements, conn, statements)

    def _copy(self, rows: list[dict[str, Any]]) -> None:
        dbapi = self.ws.session.connection().connection.driver_connection
        quote = self.ws.db.engine.dialect.identifier_preparer.quote
        names = ", ".join(quote(c) for c in self.columns)
        json_at = [i for i, c in enumerate(self.columns) if c in _JSON_COLUMNS]
        with dbapi.cursor() as cur, cur.copy(f"COPY customer ({names}) FROM STDIN") as copy:
            for row in rows:
                values = [row[c] for c in self.columns]
                for i in json_at:
                    values[i] = orjson.dumps(values[i], default=str).decode()
                copy.write_row(values)

    def _check_references(self, batch: list) -> None:
        """customers._references for a batch: one query per list and per referenced model."""
        for path, kind in customers.LOOKUPS.items():
            wanted = self._given(batch, path)
            if wanted:
                ids = {key for key in map(limits.id_in_range, wanted) if key}
                live = set(self.ws.scalars(select(Lookup.id).where(
                    Lookup.id.in_(ids), Lookup.kind == kind, Lookup.deleted.is_(False))))
                for value, where in wanted.items():
                    if limits.id_in_range(value) not in live:
                        raise located(NotFound(f"{path} {value} not found", field=path), where)
        for path, model in customers.REFERENCES.items():
            wanted = self._given(batch, path)
            if wanted:
                ids = {key for key in map(limits.id_in_range, wanted) if key}
                live = set(self.ws.scalars(select(model.id).where(model.id.in_(ids), model.deleted.is_(False))))
                for value, where in wanted.items():
                    if limits.id_in_range(value) not in live:
                        raise located(NotFound(f"{path} {value} does not exist", field=path), where)

    @staticmethod
    def _given(batch: list, path: str) -> dict[Any, str]:
        if not any(path in write.values and path not in write.trusted for _, _, write in batch):
            return {}
        """Values the batch's rows give ``path`` (not filled in by a rule), each with its first row."""
        wanted: dict[Any, str] = {}
        for where, _, write in batch:
            value = write.values.get(path)
            if value and path not in write.trusted:
                wanted.setdefault(value, where)
        return wanted

    def _check_parents(self, batch: list) -> None:
        """customers._parent for new rows: a parent is a live customer (none can make a cycle yet)."""
        in_batch = {row["id"]: row for _, row, _ in batch}
        outside: dict[int, str] = {}
        for where, row, write in batch:
            parent_id = write.values.get("parent_id")
            if not parent_id:
                row["parent_id"] = None
                continue
            key = limits.id_in_range(parent_id)
            if key is None:
                raise located(NotFound(f"parent_id {parent_id} does not exist", field="parent_id"), where)
            row["parent_id"] = key
            parent = in_batch.get(key)
            if parent is not None:
                if parent["deleted"] or key >= row["id"]:
                    raise located(NotFound(f"parent_id {parent_id} does not exist", field="parent_id"), where)
            else:
                outside.setdefault(key, where)
        if outside:
            live = set(self.ws.scalars(select(Customer.id).where(
                Customer.id.in_(outside), Customer.deleted.is_(False))))
            for key, where in outside.items():
                if key not in live:
                    raise located(NotFound(f"parent_id {key} does not exist", field="parent_id"), where)

    def _check_numbers(self, batch: list) -> None:
        """customers._number for a batch: no other live customer (stored, or earlier in this load) has the number."""
        numbered: dict[str, tuple[str, Any]] = {}  # every number of the batch, with its first row
        live: dict[str, str] = {}  # the numbers the batch's live rows take
        for where, row, _ in batch:
            number = row["number"]
            if number is None or not str(number).strip():
                continue
            key = customers.folded_number(number)
            earlier = self._numbers.get(key) or live.get(key)
            if earlier is not None:
                raise located(Conflict(f"number {number} is already used (by {earlier})", field="number"), where)
            numbered.setdefault(key, (where, number))
            if not row["deleted"]:
                live[key] = where
        if not numbered:
            return
        if not self._locked:
            numbering.lock(self.ws, Customer.number)
            self._locked = True
        stored_before = select(customers.folded(Customer.number)).where(
            customers.folded(Customer.number).in_(numbered), Customer.deleted.is_(False))
        if self._first_id is not None:
            # SQLite: this load's rows are the ids from _first_id on, and their numbers are in
            # self._numbers; the rows before are few when the indexes are set aside.
            stored_before = stored_before.where(Customer.id < self._first_id)
        taken = self.ws.scalars(stored_before)
        for key in taken:
            where, number = numbered[key]
            holder = customers.number_holder(self.ws, number)
            raise located(customers.NumberTaken(str(number), holder), where)
        self._numbers.update(live)


def _run_statements(conn: Any, statements: list[tuple[str, tuple]]) -> None:
    for sql, params in statements:
        conn.exec_driver_sql(sql, params)
