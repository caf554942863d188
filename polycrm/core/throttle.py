"""Throttling of password and secret checks (docs/security.md).

Every check of a password or client secret (web sign-in, centiaCRM
``Login``, the OAuth token endpoint's client secret, a Microbizz envelope's
apikey + username + password) goes through :func:`guarded`, which counts
failures under two keys: the **account** (realm + the login as given) and
the client's **address**. A key's first failures are free
(:data:`FREE_FAILURES` per account, :data:`FREE_ADDRESS_FAILURES` per
address, so people behind one NAT are not locked out by one of them); each
one after that blocks the key for twice as long as the one before, from
:data:`FIRST_DELAY` up to :data:`MAX_DELAY`. While a key is blocked every
attempt is refused with :class:`Throttled` *without checking the password*,
so a right password does not get through either, and the attempt is not
counted. A success clears the account's count (not the address's). Counts
older than :data:`FORGET_AFTER` start again.

The counts live in the database (table ``login_throttle``), so every
process of an installation sees the same ones. The clock is
:data:`clock` (a module attribute, so tests can move time on).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy import Float, Integer, String, case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from polycrm.core.models import Base
from polycrm.store.engine import Database

log = logging.getLogger("polycrm.throttle")

FREE_FAILURES = 5
FREE_ADDRESS_FAILURES = 20
FIRST_DELAY = 1.0  # seconds
MAX_DELAY = 15 * 60.0
FORGET_AFTER = 24 * 3600.0

clock: Callable[[], float] = time.time

T = TypeVar("T")


class LoginThrottle(Base):
    """Failed checks of one key (an account or an address). Not tenant-scoped:
    it is consulted before anyone is known."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure: Mapped[float] = mapped_column(Float)
    blocked_until: Mapped[float] = mapped_column(Float)


class Throttled(Exception):
    """Too many failed checks: retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        unit = "second" if retry_after == 1 else "seconds"
        self.message = f"too many failed sign-in attempts; try again in {retry_after} {unit}"
        # The tenant the refused request named (polycrm.core.auth.Claimed), where the caller knows it.
        self.claimed = None
        super().__init__(self.message)


def delay_after(failures: int, free: int) -> float:
    """Seconds a key stays blocked after its ``failures``-th failure."""
    if failures <= free:
        return 0.0
    return min(MAX_DELAY, FIRST_DELAY * 2 ** min(failures - free - 1, 30))


def _keys(realm: str, account: str | None, address: str | None) -> list[tuple[str, int]]:
    keys = []
    if account:
        keys.append((f"account:{realm}:{account.strip().casefold()}"[:320], FREE_FAILURES))
    if address:
        keys.append((f"address:{address}"[:320], FREE_ADDRESS_FAILURES))
    return keys


def check(session: Session, keys: Iterable[tuple[str, int]]) -> set[str]:
    """:class:`Throttled` if any of the keys is blocked now; else the keys that have a count."""
    names = [key for key, _free in keys]
    if not names:
        return set()
    now = clock()
    rows = session.execute(
        select(LoginThrottle.key, LoginThrottle.blocked_until).where(LoginThrottle.key.in_(names))
    ).all()
    until = max((blocked for _key, blocked in rows), default=0.0)
    if until > now:
        raise Throttled(max(1, math.ceil(until - now)))
    return {key for key, _blocked in rows}


def record_failure(db: Database, keys: Iterable[tuple[str, int]]) -> None:
    """Count one failure for each key, blocking those past their free ones."""
    keys = list(keys)
    if not keys:
        return
    now = clock()
    insert = sqlite_insert if db.is_sqlite else pg_insert
    with _writing(db) as session:
        for key, free in keys:
            stmt = insert(LoginThrottle).values(key=key, failures=1, last_failure=now, blocked_until=0.0)
            table = LoginThrottle.__table__.c
            # A count not added to for FORGET_AFTER starts again.
            stale = table.last_failure < now - FORGET_AFTER
            stmt = stmt.on_conflict_do_update(
                index_elements=["key"],
                set_={"failures": case((stale, 1), else_=table.failures + 1), "last_failure": now},
            ).returning(LoginThrottle.failures)
            failures = session.execute(stmt).scalar_one()
            wait = delay_after(failures, free)
            if wait:
                session.execute(
                    LoginThrottle.__table__.update().where(table.key == key).values(blocked_until=now + wait)
                )
                log.warning("throttle: %s failed %d times, blocked for %.0f s", key, failures, wait)
        session.commit()


def record_success(db: Database, counted: Iterable[str]) -> None:
    """Forget the account's failures (the address keeps its count); ``counted``:
    the keys :func:`check` found, so the usual success writes nothing."""
    accounts = [key for key in counted if key.startswith("account:")]
    if not accounts:
        return
    with _writing(db) as session:
        session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(accounts)))
        session.commit()


def guarded(
    db: Database, realm: str, account: str | None, address: str | None, verify: Callable[[], T | None],
    *, session: Session | None = None,
) -> T | None:
    """Run one credential check (``verify``: its result, or None when wrong)
    unless the account or address is blocked (:class:`Throttled`); count the
    outcome. ``session`` is a session the caller already has open for reading."""
    keys = _keys(realm, account, address)
    if session is not None:
        counted = check(session, keys)
    else:
        with _reading(db) as own:
            counted = check(own, keys)
    result = verify()
    if result is None:
        record_failure(db, keys)
        log.info("throttle: failed %s check for %r from %s", realm, account, address)
    elif counted:
        record_success(db, counted)
    return result


def _reading(db: Database) -> Session:
    session = db.session()
    session.info["system"] = True  # before any tenant is known
    return session


def _writing(db: Database) -> Session:
    """A session whose transaction takes the write lock first (SQLite: BEGIN IMMEDIATE)."""
    session = _reading(db)
    if db.is_sqlite:
        session.connection(execution_options={"polycrm_write": True})
    return session
