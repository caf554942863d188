"""Tenant admin keys: the credential of the admin API under ``/_polycrm/``.

An admin key belongs to its tenant only (no user), is stored as its SHA-256
like every token, and is never part of a snapshot, so a restore or reset
cannot lock the developer out.
"""

from __future__ import annotations

from sqlalchemy import select

from polycrm.core import auth
from polycrm.core.models import Credential
from polycrm.store.engine import Database

ADMIN_KEY = "polycrm.admin"


def add_key(session, tenant_id: int, key: str) -> None:
    auth.add_credential(session, tenant_id, None, ADMIN_KEY, key)


def tenant_of(db: Database, key: str) -> int | None:
    """The tenant an admin key opens, or None."""
    if not key or "\x00" in key:
        return None
    principal = auth.resolve_token(db, ADMIN_KEY, key)
    return principal.tenant_id if principal else None


def has_key(db: Database, tenant_id: int) -> bool:
    with auth.system_session(db) as session:
        return session.scalar(
            select(Credential.id).where(Credential.tenant_id == tenant_id, Credential.kind == ADMIN_KEY).limit(1)
        ) is not None
