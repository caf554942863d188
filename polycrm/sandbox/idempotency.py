"""``Idempotency-Key`` on Cirrus and centiaCRM writes.

The first request with a key (per tenant and credential) is claimed as
"running" before the face writes anything, and its answer stored when it is
complete. Within 24 hours the same key with the same body gets that answer
again, without a second write; while the first is still running a retry waits
for it (up to :data:`WAIT_SECONDS`, then 409); the same key with another body
is a 422. Older keys are forgotten. An answer the first request never
completed (the server failed) frees its key again.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from polycrm.core.models import utcnow
from polycrm.sandbox.models import IdempotentRequest
from polycrm.store.engine import Database

KEEP = dt.timedelta(hours=24)
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05
MAX_KEY = 255


class Replay(BaseException):
    """The stored answer of an earlier request with the same key and body."""

    def __init__(self, status: int, headers: list[list[str]], body: bytes):
        super().__init__("idempotent replay")
        self.status, self.headers, self.body = status, headers, body


def _writing(db: Database):
    return db.engine.connect().execution_options(polycrm_write=True)


def claim(db: Database, tenant_id: int, caller: int, key: str, fingerprint: str) -> int | str:
    """Claim the key for this request (its row id), or raise :class:`Replay`,
    or return ``"conflict"`` (other body) or ``"busy"`` (still running after the wait)."""
    t = IdempotentRequest.__table__
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        with _writing(db) as conn, conn.begin():
            conn.execute(delete(t).where(t.c.tenant_id == tenant_id, t.c.created_at < utcnow() - KEEP))
            row = conn.execute(select(t).where(t.c.tenant_id == tenant_id, t.c.caller == caller,
                                               t.c.key == key)).first()
            if row is None:
                try:
                    with conn.begin_nested():
                        return conn.execute(insert(t).values(
                            tenant_id=tenant_id, caller=caller, key=key, fingerprint=fingerprint,
                            state="running", created_at=utcnow()).returning(t.c.id)).scalar_one()
                except IntegrityError:
                    # Another process claimed it between the read and the insert: look again.
                    continue
        if row.fingerprint != fingerprint:
            return "conflict"
        if row.state == "done":
            raise Replay(row.status, row.headers or [], row.body or b"")
        if time.monotonic() >= deadline:
            return "busy"
        time.sleep(POLL_SECONDS)


def complete(db: Database, claim_id: int, status: int, headers: list[list[str]], body: bytes) -> None:
    t = IdempotentRequest.__table__
    with _writing(db) as conn, conn.begin():
        conn.execute(update(t).where(t.c.id == claim_id).values(state="done", status=status, headers=headers,
                                                                  body=body))


def release(db: Database, claim_id: int) -> None:
    with _writing(db) as conn, conn.begin():
        conn.execute(delete(IdempotentRequest.__table__).where(IdempotentRequest.id == claim_id))


def stored_headers(raw: list[tuple[bytes, bytes]]) -> list[list[str]]:
    """The headers worth replaying (not the ones the server sets per response)."""
    skip = {"content-length", "date", "server", "retry-after"}
    return [[k.decode("latin-1"), v.decode("latin-1")] for k, v in raw if k.decode("latin-1").lower() not in skip]


def usable_key(value: str) -> bool:
    return 0 < len(value) <= MAX_KEY and value.isprintable()


def fingerprint_of(method: str, path: str, query: str, body_hash: str) -> str:
    import hashlib

    return hashlib.sha256(f"{method} {path}?{query}\n{body_hash}".encode()).hexdigest()


