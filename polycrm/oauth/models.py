"""Tables of the OAuth apps: clients, authorization codes and issued tokens.

Like :class:`~polycrm.core.models.Credential` they carry a ``tenant_id`` but
are not tenant-scoped through the session filter: a token request names a
client before any tenant is known. Every tenant-facing function of
:mod:`polycrm.oauth.service` filters by tenant explicitly.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from polycrm.core.models import Base, utcnow


class OAuthClient(Base):
    """An app registered by a tenant admin. A confidential client's secret is
    its ``cirrus.client`` credential (hashed, throttled like today's clients);
    a public client has none and must use PKCE."""

    __tablename__ = "oauth_client"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # Exact redirect URIs (RFC 6749 §3.1.2.3: compared as strings).
    redirect_uris: Mapped[list[Any]] = mapped_column(JSON, default=list)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("credential.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    removed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class OAuthCode(Base):
    """An authorization code: single-use, short-lived, bound to its client,
    redirect URI, user and PKCE challenge. Stored as its SHA-256."""

    __tablename__ = "oauth_code"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_client.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    scope: Mapped[str | None] = mapped_column(String(500))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class OAuthToken(Base):
    """Which client a token (a credential row) was issued to, and with what.

    Access tokens are ``cirrus.bearer`` credentials, so the Cirrus API accepts
    them exactly like client-credentials tokens; refresh tokens are
    ``cirrus.refresh`` credentials. ``grant_id`` ties the tokens of one grant
    (a code and its refreshes) together, so revoking or a reused code ends them all.
    """

    __tablename__ = "oauth_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("credential.id", ondelete="CASCADE"), unique=True)
    # The client id as sent (also for clients that predate oauth_client rows).
    client_id: Mapped[str] = mapped_column(String(128), index=True)
    client_pk: Mapped[int | None] = mapped_column(ForeignKey("oauth_client.id", ondelete="CASCADE"))
    # access / refresh
    token_type: Mapped[str] = mapped_column(String(10))
    scope: Mapped[str | None] = mapped_column(String(500))
    grant_id: Mapped[str | None] = mapped_column(String(64), index=True)
    code_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
