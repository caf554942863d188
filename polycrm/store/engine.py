"""Engines and session factories for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from polycrm.store.write_turns import WriteTurns


# SQLite FTS5 tables that migrations 0002 and 0008 make where the library supports
# them; ``polycrm.core.query.fulltext`` searches through the ones a database has.
FTS_TABLES = ("customer_fts", "contact_fts", "product_fts")
# The SQLite FTS5 tables of one- and two-character grams (migration 0025), and
# the positions table their triggers cut the grams by.
SHORT_TABLES = ("customer_short", "contact_short", "product_short")
SHORT_POSITIONS = "search_position"
# The SQLite R*Tree of customer points (migration 0021, where the library has the
# module); ``polycrm.core.query.geo`` finds nearto candidates through it.
RTREE_TABLES = ("customer_geo",)
INDEX_TABLES = FTS_TABLES + SHORT_TABLES + RTREE_TABLES


def fts_tables(dialect) -> frozenset[str]:
    """The index tables (:data:`INDEX_TABLES`) the database of an engine's dialect has
    (none on PostgreSQL, or before migrating).

    Noted on the dialect because that is what a statement is compiled for.
    """
    return getattr(dialect, "polycrm_fts_tables", frozenset())


def _note_fts_tables(engine: Engine, dbapi_conn) -> None:
    cur = dbapi_conn.cursor()
    marks = ", ".join("?" for _ in INDEX_TABLES)
    cur.execute(f"SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ({marks})", INDEX_TABLES)
    found = frozenset(row[0] for row in cur.fetchall())
    cur.close()
    if found != fts_tables(engine.dialect):
        # Compiled statements depend on it (polycrm.core.query): compile them again.
        engine.dialect.polycrm_fts_tables = found
        engine.clear_compiled_cache()


# Bytes a SQLite WAL file is truncated to after a checkpoint has reset it (PRAGMA journal_size_limit).
WAL_SIZE_LIMIT = 64 * 1024 * 1024

# SQLite's PRAGMA synchronous (POLYCRM_SQLITE_SYNCHRONOUS): what an acknowledged
# write survives; docs/deployment.md ("Durability") has the table and figures.
SQLITE_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
DEFAULT_SQLITE_SYNCHRONOUS = "NORMAL"


def sqlite_synchronous() -> str:
    value = (os.environ.get("POLYCRM_SQLITE_SYNCHRONOUS") or DEFAULT_SQLITE_SYNCHRONOUS).strip().upper()
    if value not in SQLITE_SYNCHRONOUS:
        raise ValueError(f"POLYCRM_SQLITE_SYNCHRONOUS must be one of {', '.join(SQLITE_SYNCHRONOUS)}, not {value!r}")
    return value


def _json_dumps(value) -> str:
    return orjson.dumps(value, default=str).decode()


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if not url.startswith(("sqlite", "postgresql")):
        # Every SQL the core and the sandbox write is for these two (the search,
        # spatial and digest functions): refuse another database here, once.
        raise ValueError(f"polycrm runs on SQLite or PostgreSQL, not {url.split(':', 1)[0]!r}")
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        synchronous = sqlite_synchronous()
        engine = create_engine(
            url,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
            connect_args={"check_same_thread": False, "timeout": 30},
            # As many kept connections as the server runs requests at once
            # (Starlette's thread pool holds 40): with the default 5, each
            # request beyond them opened a connection (its PRAGMAs and FTS
            # check) and closed it again, 11 % of a busy server's samples.
            pool_size=40,
            max_overflow=10,
            # The connection given back last is taken first: a server at 8
            # requests at once keeps using about 8 connections, whose page
            # caches (up to 2 MB each) stay warm, instead of cycling through
            # all 40 and filling every cache (peak RSS 195-211 -> see
            # docs/benchmarks.md).
            pool_use_lifo=True,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # A WAL that grew while readers kept a checkpoint from finishing (two workers under
            # load: 150-400 MB) is cut back to this size once a checkpoint has reset it.
            cur.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            cur.close()
            _note_fts_tables(engine, dbapi_conn)
            # Let SQLAlchemy own transactions; BEGIN IMMEDIATE avoids lock upgrades.
            dbapi_conn.isolation_level = None

        database = make_url(url).database
        _give_writers_turns(engine, f"{database}-writer" if database and database != ":memory:"
                            and not database.startswith("file:") else None)
        return engine
    return create_engine(
        url,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        # As on SQLite: the warmest connection first, the others idle.
        pool_use_lifo=True,
    )


# Marks (in a pooled connection's ``info``) a connection whose transaction holds a write turn.
_HOLDS_TURN = "polycrm_write_turn"


def _give_writers_turns(engine: Engine, lock_path: str | None) -> None:
    """Writing transactions (``polycrm_write``) begin ``BEGIN IMMEDIATE``, so
    they never upgrade a read lock; before it they take a turn of the engine's
    :class:`~polycrm.store.write_turns.WriteTurns`, given to the next writer as
    soon as their ``COMMIT`` or ``ROLLBACK`` has returned, so the writers of
    this process queue in order instead of polling in SQLite's busy handler;
    a turn on a database file also holds the lock (``lock_path``) that orders
    the writers of different processes."""
    turns = engine.polycrm_write_turns = WriteTurns(lock_path)
    dialect = engine.dialect
    plain_commit, plain_rollback = dialect.do_commit, dialect.do_rollback

    def give_turn(info) -> None:
        if info is not None and info.pop(_HOLDS_TURN, False):
            turns.release()

    def info_of(dbapi_conn):
        # The pool's proxy of a connection; a bare one (the dialect's first
        # connect: no attribute) or SQLAlchemy's ad-hoc proxy (its ``info``
        # raises NotImplementedError) never held a turn.
        try:
            return dbapi_conn.info
        except (AttributeError, NotImplementedError):
            return None

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):
        if not conn.get_execution_options().get("polycrm_write"):
            # Straight to the driver: a read's BEGIN through exec_driver_sql cost
            # as much as one of the read's own queries (an execution context).
            conn.connection.dbapi_connection.execute("BEGIN")
            return
        info = conn.info
        if not info.get(_HOLDS_TURN) and turns.acquire():
            info[_HOLDS_TURN] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            give_turn(info)
            raise

    # The dialect's own calls, not the engine's commit/rollback events: those
    # fire before the statement, and a turn given then would send the next
    # writer into the busy handler until the COMMIT is done. The pool's
    # rollback of a connection given back mid-transaction goes through here too.
    def do_commit(dbapi_conn) -> None:
        plain_commit(dbapi_conn)
        give_turn(info_of(dbapi_conn))

    def do_rollback(dbapi_conn) -> None:
        try:
            plain_rollback(dbapi_conn)
        finally:
            give_turn(info_of(dbapi_conn))

    dialect.do_commit = do_commit
    dialect.do_rollback = do_rollback

    @event.listens_for(engine, "checkin")
    def _sqlite_checkin(_dbapi_conn, record):
        # A connection given back without a COMMIT or ROLLBACK through the
        # dialect (invalidated, or its COMMIT failed) must not keep its turn.
        give_turn(record.info)


class Database:
    """An engine plus the session factory every unit of work is made from."""

    def __init__(self, url: str):
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # The same engine, whose transactions write (BEGIN IMMEDIATE on SQLite).
        self.write_engine = self.engine.execution_options(polycrm_write=True)
        # SQLite: the queue every writing transaction of this process takes a turn of first.
        self.write_turns: WriteTurns | None = getattr(self.engine, "polycrm_write_turns", None)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def session(self) -> Session:
        return self.sessions()

    def upgrade(self) -> None:
        from polycrm.store.migrate import upgrade

        upgrade(self)
        if self.is_sqlite:
            # The migration may just have made the FTS tables.
            with self.engine.connect() as conn:
                _note_fts_tables(self.engine, conn.connection.dbapi_connection)

    def dispose(self) -> None:
        self.engine.dispose()
