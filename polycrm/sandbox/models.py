"""Tables of the sandbox toolkit.

They carry a ``tenant_id`` but are the sandbox's own bookkeeping, not the
tenant's CRM state, so ``info={"sandbox": True}`` keeps them out of snapshots
(a restore must not bring back an old journal or drop the snapshot it reads).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from polycrm.core.models import Base, utcnow


class Snapshot(Base):
    """A tenant's whole state at one moment: every tenant-scoped table's rows of
    that tenant, as one zlib-compressed JSON document (see snapshots.py)."""

    __tablename__ = "sandbox_snapshot"
    __table_args__ = (UniqueConstraint("tenant_id", "name"), {"info": {"sandbox": True}})
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(100))
    # "user" for a developer's snapshots; "initial" for the state the tenant was
    # created in, which ``reset {"to": "empty"}`` restores.
    kind: Mapped[str] = mapped_column(String(20), default="user")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class JournalEntry(Base):
    """One request to an API of a tenant, as the journal middleware saw it
    (secrets masked, bodies capped; see journal.py)."""

    __tablename__ = "sandbox_journal"
    __table_args__ = (Index("ix_sandbox_journal_tenant", "tenant_id", "id"), {"info": {"sandbox": True}})
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    api: Mapped[str] = mapped_column(String(20))
    operation: Mapped[str] = mapped_column(String(255))
    # The credential row that authenticated the call (never its secret).
    credential_id: Mapped[int | None] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(10))
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[float] = mapped_column(Float)
    request_headers: Mapped[list[Any]] = mapped_column(JSON)
    request_body: Mapped[str] = mapped_column(Text)
    response_headers: Mapped[list[Any]] = mapped_column(JSON)
    response_body: Mapped[str] = mapped_column(Text)


class FaultRule(Base):
    """A rule that delays or fails matching API requests of a tenant (faults.py)."""

    __tablename__ = "sandbox_fault"
    __table_args__ = (Index("ix_sandbox_fault_tenant", "tenant_id", "position"), {"info": {"sandbox": True}})
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False)
    position: Mapped[int] = mapped_column(Integer)
    # The rule as given (api, operation, probability, latency_ms, status, error, times, seed).
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Requests the rule matched, and those it acted on (at most ``times``).
    matched: Mapped[int] = mapped_column(Integer, default=0)
    hits: Mapped[int] = mapped_column(Integer, default=0)


class RateLimit(Base):
    """A vendor-like rate limit on one API of a tenant, counted per credential (limits.py)."""

    __tablename__ = "sandbox_limit"
    __table_args__ = (UniqueConstraint("tenant_id", "api"), {"info": {"sandbox": True}})
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False)
    api: Mapped[str] = mapped_column(String(20))
    per_second: Mapped[float | None] = mapped_column(Float)
    per_minute: Mapped[int | None] = mapped_column(Integer)
    burst: Mapped[int | None] = mapped_column(Integer)


class RateCounter(Base):
    """One credential's use of a rate limit: a token bucket and a minute window."""

    __tablename__ = "sandbox_rate"
    __table_args__ = (UniqueConstraint("limit_id", "credential_id"), {"info": {"sandbox": True}})
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    limit_id: Mapped[int] = mapped_column(ForeignKey("sandbox_limit.id", ondelete="CASCADE"), nullable=False)
    credential_id: Mapped[int] = mapped_column(Integer)
    tokens: Mapped[float] = mapped_column(Float)
    # Seconds since the epoch of the last refill, and the minute window counted.
    refilled_at: Mapped[float] = mapped_column(Float)
    minute: Mapped[int] = mapped_column(Integer)
    minute_count: Mapped[int] = mapped_column(Integer)


class IdempotentRequest(Base):
    """A write sent with an ``Idempotency-Key``: its body's hash and, once
    answered, the answer that a retry gets again (idempotency.py)."""

    __tablename__ = "sandbox_idempotency"
    __table_args__ = (UniqueConstraint("tenant_id", "caller", "key"), {"info": {"sandbox": True}})
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False)
    # The credential id (or minus the user id, as for rate limits).
    caller: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    # "running" until the first answer is stored, then "done".
    state: Mapped[str] = mapped_column(String(10))
    status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[list[Any] | None] = mapped_column(JSON)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
