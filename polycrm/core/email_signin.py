"""Signing in with only an e-mail address and a password (no tenant given).

The e-mail is looked up across tenants (case-insensitively); the first active
user, by tenant and user id, whose password matches is the one signed in.
"""

from __future__ import annotations

from sqlalchemy import select

from polycrm.core import auth
from polycrm.core.models import User
from polycrm.store.engine import Database

# Checked when no user has the e-mail, so a wrong address costs as much time
# as a wrong password and does not reveal which addresses exist.
_DECOY_HASH = auth.hash_password("polycrm-decoy-password")


def sign_in(db: Database, email: str, password: str) -> auth.Principal | None:
    """The principal of an active user with this e-mail and password, else None."""
    email = (email or "").strip()
    with auth.system_session(db) as session:
        candidates = []
        if email:
            candidates = session.scalars(
                select(User)
                .where(User.email.ilike(email.replace("%", r"\%"), escape="\\"), User.deleted.is_(False), User.active.is_(True))
                .order_by(User.tenant_id, User.id)
            ).all()
        candidates = [u for u in candidates if (u.email or "").casefold() == email.casefold() and u.password_hash]
        if not candidates:
            auth.verify_password(password, _DECOY_HASH)
            return None
        for user in candidates:
            if auth.password_cache.verify(user, password):
                return auth.Principal(user.tenant_id, user.id)
        return None
