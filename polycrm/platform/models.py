"""Tables of the integration platform: hooks, the outbox and deliveries.

Like :class:`~polycrm.core.models.Credential` these carry a ``tenant_id`` but
are not :class:`~polycrm.core.models.TenantScoped`: the delivery thread reads
them across tenants in a system session, and every tenant-facing function in
:mod:`polycrm.platform.webhooks` filters by tenant explicitly.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from polycrm.core.models import Base, utcnow


class Webhook(Base):
    """A URL that hears about record changes, in one API's format."""

    __tablename__ = "webhook"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    # "polycrm" (Standard Webhooks) or "cirrus" (X-Hook-Signature).
    api: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(String(2000))
    # Event names this hook wants; empty = every event of its API.
    events: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Kept in clear: every delivery is signed with it (see docs/integrations.md).
    secret: Mapped[str] = mapped_column(String(200))
    # A Microbizz app's event hook: its hook name (customer/event_customer_change)
    # and the app connection's access-token credential (disable_callbacks, disconnect).
    hook: Mapped[str | None] = mapped_column(String(80))
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("credential.id", ondelete="CASCADE"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class OutboxEvent(Base):
    """One committed change of one record, waiting to be fanned out to hooks."""

    __tablename__ = "outbox_event"
    __table_args__ = (Index("ix_outbox_event_pending", "dispatched", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    # The core table name (customer, contact, ...) and the record's id.
    entity: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(Integer)
    # created / updated / deleted
    op: Mapped[str] = mapped_column(String(10))
    # {field: [old, new]} in the core's field names.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The record's columns after the change.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The credential whose request made the change, when it asked for no callbacks.
    quiet_credential_id: Mapped[int | None] = mapped_column(Integer)
    dispatched: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event for one hook: its body, attempts and outcome (the delivery log)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_due", "status", "next_try_at"),
        Index("ix_webhook_delivery_tenant", "tenant_id", "id"),
        Index("ix_webhook_delivery_order", "webhook_id", "record_key", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhook.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(Integer)
    # The event in the hook's own vocabulary: customer.updated, UPDATE_ACCOUNT, ...
    event: Mapped[str] = mapped_column(String(60))
    # entity:id, the unit deliveries are sent in commit order within.
    record_key: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)
    # pending / delivered / failed / disabled
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    next_try_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class MicrobizzApp(Base):
    """An app a tenant admin registered for the Microbizz app platform."""

    __tablename__ = "microbizz_app"
    __table_args__ = (UniqueConstraint("tenant_id", "publicid"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    publicid: Mapped[str] = mapped_column(String(100))
    # Kept in clear: the negotiation checks sha1(challenge + secret).
    secret: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AppConnection(Base):
    """A connected app: its access token (a credential) and the hooks it asked for."""

    __tablename__ = "app_connection"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("microbizz_app.id", ondelete="CASCADE"))
    credential_id: Mapped[int] = mapped_column(ForeignKey("credential.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(Integer)
    # Kept in clear as well as hashed in its credential: interface hooks pass
    # it to the app's iframe (the vendor's tab URL carries it).
    accesstoken: Mapped[str] = mapped_column(String(200))
    # [{modcode, hook, title, url}] as the app's request listed them.
    hooks: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    disconnected_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
