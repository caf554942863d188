"""Fair turns at the write lock: every writing transaction of a process queues
for SQLite's write lock in order (polycrm/store/write_turns.py), and a long
batch lets waiting writers in (polycrm/core/write_turns.py)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from polycrm.core import throttle, write_turns
from polycrm.core.models import Customer
from polycrm.core.throttle import LoginThrottle
from polycrm.core.workspace import Workspace
from polycrm.core.write_turns import WriteTurns
from tests.core.test_races import run_clients


def ws_of(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"])


def _wait_until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_turns_are_given_in_the_order_asked():
    turns = WriteTurns()
    assert turns.acquire()
    order: list[str] = []

    def writer(name: str) -> None:
        assert turns.acquire()
        order.append(name)
        turns.release()

    threads = []
    for name in ("first", "second", "third"):
        thread = threading.Thread(target=writer, args=(name,))
        thread.start()
        threads.append(thread)
        _wait_until(lambda n=len(threads): len(turns._waiters) == n)
    turns.release()
    for thread in threads:
        thread.join(30)
    assert order == ["first", "second", "third"] and not turns.waiting()


def test_a_turn_not_given_in_time_is_given_up():
    turns = WriteTurns()
    assert turns.acquire()
    assert turns.acquire(timeout=0.01) is False
    assert not turns.waiting()
    turns.release()
    assert turns.acquire()


def test_a_long_batch_lets_a_waiting_writer_in_and_keeps_its_own_work(runtime, tenant, backend, monkeypatch):
    monkeypatch.setattr(write_turns, "WRITE_SLICE", 0.0)
    order: list[str] = []

    def single_write() -> None:
        with ws_of(runtime, tenant) as ws:
            ws.create(Customer, name="Single")
        order.append("single")

    with ws_of(runtime, tenant) as batch:
        batch.create(Customer, name="Batch 1")
        if backend == "sqlite":
            thread = threading.Thread(target=single_write)
            thread.start()
            _wait_until(lambda: write_turns.turns_of(runtime.db).waiting())
            assert batch.share_write_lock()
            # The batch began again behind the single write, which is done by now.
            order.append("batch")
            thread.join(30)
            assert order == ["single", "batch"]
        else:
            assert batch.share_write_lock()
        # What the batch did before sharing is committed: another transaction sees it.
        with Workspace(runtime.db, tenant["tenant_id"], write=False) as other:
            assert other.scalars(select(Customer.name).where(Customer.name == "Batch 1")) == ["Batch 1"]
        batch.create(Customer, name="Batch 2")
    with ws_of(runtime, tenant) as ws:
        names = set(ws.scalars(select(Customer.name)))
    assert {"Batch 1", "Batch 2"} <= names


def test_a_batch_alone_keeps_its_transaction(runtime, tenant, backend, monkeypatch):
    """Nobody waits on SQLite: nothing is committed early. (PostgreSQL commits each slice.)"""
    if backend != "sqlite":
        return
    monkeypatch.setattr(write_turns, "WRITE_SLICE", 0.0)
    with ws_of(runtime, tenant) as batch:
        batch.create(Customer, name="Alone")
        assert batch.share_write_lock() is False
        batch.rollback()
    with ws_of(runtime, tenant) as ws:
        assert ws.scalars(select(Customer.id).where(Customer.name == "Alone")) == []


def _names(runtime, tenant, prefix: str) -> set[str]:
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        return set(ws.scalars(select(Customer.name).where(Customer.name.like(prefix + "%"))))


def _throttle_keys(runtime, prefix: str) -> set[str]:
    with runtime.db.session() as session:
        return set(session.scalars(select(LoginThrottle.key).where(LoginThrottle.key.like(prefix + "%"))))


def test_concurrent_writes_from_threads_all_land(runtime, tenant):
    """Workspaces and writers outside them (the login throttle's upserts, as the
    request journal writes) in eight threads at once: every write is there."""
    prefix = f"landed-{uuid.uuid4().hex[:8]}-"
    each = 10

    def work(i: int) -> None:
        for n in range(each):
            if i % 2:
                throttle.record_failure(runtime.db, [(f"{prefix}{i}-{n}", 5)])
            else:
                with ws_of(runtime, tenant) as ws:
                    ws.create(Customer, name=f"{prefix}{i}-{n}")

    run_clients(work, 8)
    assert _names(runtime, tenant, prefix) == {f"{prefix}{i}-{n}" for i in range(0, 8, 2) for n in range(each)}
    assert _throttle_keys(runtime, prefix) == {f"{prefix}{i}-{n}" for i in range(1, 8, 2) for n in range(each)}
    turns = write_turns.turns_of(runtime.db)
    assert turns is None or (not turns._held and not turns.waiting())


def test_a_failing_write_leaves_no_trace_and_gives_its_turn_back(runtime, tenant):
    prefix = f"failed-{uuid.uuid4().hex[:8]}-"
    with pytest.raises(RuntimeError):
        with ws_of(runtime, tenant) as ws:
            ws.create(Customer, name=prefix + "workspace")
            ws.flush()
            raise RuntimeError("the write fails after its insert")
    with pytest.raises(RuntimeError):
        with runtime.db.write_engine.connect() as conn, conn.begin():
            conn.execute(LoginThrottle.__table__.insert().values(
                key=prefix + "connection", failures=1, last_failure=0.0, blocked_until=0.0))
            raise RuntimeError("the write fails after its insert")
    assert _names(runtime, tenant, prefix) == set()
    assert _throttle_keys(runtime, prefix) == set()
    turns = write_turns.turns_of(runtime.db)
    assert turns is None or not turns._held
    # The next writer goes straight in.
    with ws_of(runtime, tenant) as ws:
        ws.create(Customer, name=prefix + "after")
    assert _names(runtime, tenant, prefix) == {prefix + "after"}


def test_a_writer_outside_workspaces_queues_for_its_turn(runtime, tenant, backend):
    """On SQLite a plain writing connection waits in the queue, not in SQLite's busy handler."""
    if backend != "sqlite":
        assert write_turns.turns_of(runtime.db) is None
        return
    prefix = f"queued-{uuid.uuid4().hex[:8]}-"
    turns = write_turns.turns_of(runtime.db)
    done = threading.Event()

    def outside() -> None:
        throttle.record_failure(runtime.db, [(prefix + "outside", 5)])
        done.set()

    with ws_of(runtime, tenant) as ws:
        ws.create(Customer, name=prefix + "first")
        thread = threading.Thread(target=outside)
        thread.start()
        _wait_until(turns.waiting)
        assert not done.is_set()
    thread.join(30)
    assert done.is_set() and not turns._held
    assert _throttle_keys(runtime, prefix) == {prefix + "outside"}


def test_a_turn_ends_with_its_transaction_not_its_connection(runtime, tenant, backend):
    """A connection kept open after its commit does not keep the next writer waiting."""
    prefix = f"kept-{uuid.uuid4().hex[:8]}-"
    turns = write_turns.turns_of(runtime.db)
    with runtime.db.write_engine.connect() as conn:
        with conn.begin():
            conn.execute(LoginThrottle.__table__.insert().values(
                key=prefix + "1", failures=1, last_failure=0.0, blocked_until=0.0))
            assert turns is None or turns._held
        assert turns is None or not turns._held
        with ws_of(runtime, tenant) as ws:  # the same thread, the connection still open
            ws.create(Customer, name=prefix + "workspace")
        with conn.begin():  # the same connection writes again
            conn.execute(delete(LoginThrottle.__table__).where(LoginThrottle.key == prefix + "1"))
    assert turns is None or not turns._held
    assert _names(runtime, tenant, prefix) == {prefix + "workspace"}
    assert _throttle_keys(runtime, prefix) == set()


def test_two_writers_that_read_then_write_do_not_deadlock(runtime, tenant):
    """Two transactions that each read the same row and then write it, again and
    again at once: neither fails with a lock error, and every update counts."""
    with ws_of(runtime, tenant) as ws:
        row = ws.create(Customer, name="Counter", extra={"count": 0})
        ws.flush()
        customer_id = row.id
    rounds = 10

    def work(_i: int) -> None:
        for _ in range(rounds):
            with ws_of(runtime, tenant) as ws:
                customer = ws.get(Customer, customer_id)
                ws.lock_json(customer, ["extra"])  # PostgreSQL: the row lock; SQLite holds the write lock
                count = customer.extra["count"]
                ws.update(customer, {"name": f"Counter {count + 1}", "extra": {"count": count + 1}})

    run_clients(work, 2)
    with Workspace(runtime.db, tenant["tenant_id"], write=False) as ws:
        assert ws.get(Customer, customer_id).extra["count"] == 2 * rounds


# -- between processes: the lock file beside the database -------------------------
# A POSIX record lock belongs to a process, so another process is needed to see it.
_OTHER_PROCESS = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
if sys.argv[2] == "probe":
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        print("free")
    except OSError:
        print("locked")
else:  # hold it until told to let go
    fcntl.lockf(fd, fcntl.LOCK_EX)
    print("held", flush=True)
    sys.stdin.readline()
"""


def _other_process(path: str, what: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _OTHER_PROCESS, path, what], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)


def _seen_by_another_process(path: str) -> str:
    probe = _other_process(path, "probe")
    out, _ = probe.communicate(timeout=60)
    return out.strip()


def test_a_write_on_a_database_file_holds_the_lock_between_processes(runtime, backend):
    if backend != "sqlite":
        return
    turns = write_turns.turns_of(runtime.db)
    path = turns._process_lock.path
    assert path == str(Path(runtime.db.engine.url.database).resolve()) + "-writer"
    prefix = f"between-{uuid.uuid4().hex[:8]}-"
    with runtime.db.write_engine.connect() as conn:
        with conn.begin():
            conn.execute(LoginThrottle.__table__.insert().values(
                key=prefix + "1", failures=1, last_failure=0.0, blocked_until=0.0))
            assert _seen_by_another_process(path) == "locked"
        assert _seen_by_another_process(path) == "free"
    assert _throttle_keys(runtime, prefix) == {prefix + "1"}


def test_a_writer_waits_for_another_processes_write_and_then_goes_on(runtime, backend):
    """The other process holds only the lock file, not SQLite's lock: without
    the lock file the write would go straight through."""
    if backend != "sqlite":
        return
    turns = write_turns.turns_of(runtime.db)
    prefix = f"waits-{uuid.uuid4().hex[:8]}-"
    other = _other_process(turns._process_lock.path, "hold")
    try:
        assert other.stdout.readline().strip() == "held"
        done = threading.Event()

        def write() -> None:
            throttle.record_failure(runtime.db, [(prefix + "after", 5)])
            done.set()

        thread = threading.Thread(target=write)
        thread.start()
        _wait_until(lambda: turns._held)  # its turn taken, now at the other process's lock
        assert not done.is_set() and _throttle_keys(runtime, prefix) == set()
    finally:
        other.communicate("go\n", timeout=60)
    thread.join(30)
    assert done.is_set() and not turns._held
    assert _throttle_keys(runtime, prefix) == {prefix + "after"}


def test_a_lock_between_processes_not_got_in_time_leaves_the_writer_to_sqlite(tmp_path):
    turns = WriteTurns(str(tmp_path / "db.sqlite3-writer"))
    other = _other_process(turns._process_lock.path, "hold")
    try:
        assert other.stdout.readline().strip() == "held"
        assert turns.acquire(timeout=0.05) is True  # the turn, without the other process's lock
        assert turns._held and not turns._process_held
        turns.release()
        assert not turns._held
    finally:
        other.communicate("go\n", timeout=60)
    assert turns.acquire() and turns._process_held
    turns.release()
    assert _seen_by_another_process(turns._process_lock.path) == "free"


def test_engines_of_one_process_share_its_lock_between_processes(tmp_path):
    """A record lock is the process's: two engines on one file hold it together,
    and it is let go when the last of them lets go (not when the first does)."""
    path = str(tmp_path / "db.sqlite3-writer")
    first, second = WriteTurns(path), WriteTurns(path)
    assert first._process_lock is second._process_lock
    assert first.acquire() and second.acquire()  # the second does not wait for the first
    first.release()
    assert _seen_by_another_process(path) == "locked"
    second.release()
    assert _seen_by_another_process(path) == "free"
