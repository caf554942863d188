"""What a commit is made to survive: SQLite's ``PRAGMA synchronous`` (default
NORMAL in WAL mode, ``POLYCRM_SQLITE_SYNCHRONOUS`` to change it) and
PostgreSQL's ``synchronous_commit``, which polycrm leaves at its default
(docs/deployment.md, "Durability"). tests/test_kill9.py kills a server under
write load."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from polycrm.store.engine import Database


def _pragmas(tmp_path) -> tuple[str, int]:
    db = Database(f"sqlite:///{tmp_path / 'durability.sqlite3'}")
    try:
        with db.engine.connect() as conn:
            return conn.exec_driver_sql("PRAGMA journal_mode").scalar(), conn.exec_driver_sql(
                "PRAGMA synchronous").scalar()
    finally:
        db.dispose()


def test_the_default_commit_survives_a_killed_process(runtime, backend, tmp_path, monkeypatch):
    if backend == "sqlite":
        monkeypatch.delenv("POLYCRM_SQLITE_SYNCHRONOUS", raising=False)
        # WAL + NORMAL: the commit's frames are written to the file before it returns.
        assert _pragmas(tmp_path) == ("wal", 1)
    else:
        # polycrm never sets it for its sessions, so a commit waits for the WAL flush unless the
        # server's operator chose otherwise (the test server of scripts/test runs with it off).
        with runtime.db.engine.connect() as conn:
            source = conn.execute(text(
                "SELECT source FROM pg_settings WHERE name = 'synchronous_commit'")).scalar()
        assert source in {"default", "configuration file", "command line", "environment variable"}


@pytest.mark.parametrize(("setting", "level"), [("off", 0), ("FULL", 2), (" extra ", 3), ("Normal", 1)])
def test_the_sqlite_setting_is_taken_from_the_environment(tmp_path, monkeypatch, setting, level):
    monkeypatch.setenv("POLYCRM_SQLITE_SYNCHRONOUS", setting)
    assert _pragmas(tmp_path) == ("wal", level)


def test_an_unknown_sqlite_setting_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("POLYCRM_SQLITE_SYNCHRONOUS", "sometimes")
    with pytest.raises(ValueError, match="POLYCRM_SQLITE_SYNCHRONOUS must be one of OFF, NORMAL, FULL, EXTRA, "
                                         "not 'SOMETIMES'"):
        Database(f"sqlite:///{tmp_path / 'refused.sqlite3'}")


def test_a_sqlite_wal_is_cut_back_after_a_checkpoint(tmp_path, monkeypatch):
    """journal_size_limit: a WAL that grew (a checkpoint kept from finishing by readers) does not
    keep its size once a checkpoint has reset it."""
    from polycrm.store import engine as store_engine

    assert store_engine.WAL_SIZE_LIMIT == 64 * 1024 * 1024
    monkeypatch.setattr(store_engine, "WAL_SIZE_LIMIT", 1_000_000)
    path = tmp_path / "wal.sqlite3"
    wal = tmp_path / "wal.sqlite3-wal"
    db = Database(f"sqlite:///{path}")
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_size_limit").scalar() == 1_000_000
            conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            conn.exec_driver_sql("CREATE TABLE big (v BLOB)")
            for _ in range(10):
                conn.exec_driver_sql("INSERT INTO big VALUES (zeroblob(1000000))")
                conn.commit()
            grown = wal.stat().st_size
            assert grown > 5_000_000
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            conn.exec_driver_sql("INSERT INTO big VALUES (1)")  # the first write after it resets the WAL
            conn.commit()
            assert wal.stat().st_size <= 1_000_000
    finally:
        db.dispose()
