"""Fair turns at the write lock: a long batch lets waiting writers in (polycrm/core/write_turns.py)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select

from polycrm.core import write_turns
from polycrm.core.models import Customer
from polycrm.core.workspace import Workspace
from polycrm.core.write_turns import WriteTurns


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
