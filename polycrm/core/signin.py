"""Interactive sign-in: a person proves who they are with a password.

The APIs authenticate with their own credentials (API keys, tokens); people
using the web pages sign in with their tenant, user name (or e-mail) and
password (:func:`sign_in`). centiaCRM's ``Login`` gives only an e-mail
address and a password, no tenant (:func:`sign_in_by_email`). Both end up as
the same :class:`~polycrm.core.auth.Principal`.
"""

from __future__ import annotations

import datetime as dt
import functools

from sqlalchemy import select
from sqlalchemy.orm import Session

from polycrm.core import auth, throttle
from polycrm.core.query import same_text
from polycrm.core.models import Tenant, User, utcnow
from polycrm.core.workspace import Workspace
from polycrm.store.engine import Database


@functools.cache
def _decoy_hash() -> str:
    """A password hash checked when no such user exists, so a wrong user name
    or e-mail costs as much time as a wrong password and does not reveal
    which exist. Made on first use (hashing is deliberately slow), then kept."""
    return auth.hash_password("polycrm-decoy-password")


def _refuse(password: str) -> None:
    """Spend the time checking a password would have taken."""
    auth.verify_password(password, _decoy_hash())


def find_tenant(session: Session, name_or_contract: str) -> Tenant | None:
    """A tenant by its name, or by its Microbizz contract number."""
    key = name_or_contract.strip()
    tenant = session.scalars(select(Tenant).where(Tenant.name == key)).first()
    if tenant is None:
        # People rarely remember the capitalisation; accept it when unambiguous.
        stmt = select(Tenant).where(same_text(Tenant.name, key)).limit(2)
        matches = session.scalars(stmt).all()
        tenant = matches[0] if len(matches) == 1 else None
    if tenant is None and key.isdigit() and len(key) <= 9:  # beyond that it cannot be a contract
        tenant = auth.tenant_by_contract(session, int(key))
    return tenant


def sign_in(db: Database, tenant: str, login: str, password: str, *,
            address: str | None = None) -> auth.Principal | None:
    """The principal for valid credentials of an active user, else None;
    :class:`~polycrm.core.throttle.Throttled` after too many failures of this
    login or from this ``address`` (the client's)."""
    return throttle.guarded(db, f"web:{tenant.strip().casefold()}", login, address,
                            lambda: _sign_in(db, tenant, login, password))


def _sign_in(db: Database, tenant: str, login: str, password: str) -> auth.Principal | None:
    with auth.system_session(db) as session:
        found = find_tenant(session, tenant) if tenant.strip() else None
        user = auth.user_by_login(session, found.id, login.strip()) if found and login.strip() else None
        if user is None or not user.active or not user.password_hash:
            _refuse(password)
            return None
        if not auth.password_cache.verify(user, password):
            return None
        return auth.Principal(found.id, user.id)


def sign_in_by_email(db: Database, email: str, password: str, *,
                     address: str | None = None) -> auth.Principal | None:
    """The principal of an active user with this e-mail and password, else None
    (throttled as :func:`sign_in`).

    The e-mail is looked up across tenants (case-insensitively); the first
    active user, by tenant and user id, whose password matches is the one
    signed in.
    """
    return throttle.guarded(db, "email", email or "", address, lambda: _sign_in_by_email(db, email, password))


def _sign_in_by_email(db: Database, email: str, password: str) -> auth.Principal | None:
    email = (email or "").strip()
    with auth.system_session(db) as session:
        candidates = []
        if email:
            candidates = session.scalars(
                select(User)
                .where(same_text(User.email, email), User.deleted.is_(False), User.active.is_(True))
                .order_by(User.tenant_id, User.id)
            ).all()
        candidates = [u for u in candidates if (u.email or "").casefold() == email.casefold() and u.password_hash]
        if not candidates:
            _refuse(password)
            return None
        for user in candidates:
            if auth.password_cache.verify(user, password):
                return auth.Principal(user.tenant_id, user.id)
        return None


def claimed_by_email(db: Database, email: object) -> auth.Claimed | None:
    """The tenant a refused e-mail sign-in names: the one tenant with an active
    user of that e-mail; None when no tenant or several have one (the request
    does not say which it meant)."""
    email = email.strip() if isinstance(email, str) else ""
    if not email or not auth._usable_text(email):
        return None
    with auth.system_session(db) as session:
        tenants = set(session.scalars(
            select(User.tenant_id).where(same_text(User.email, email), User.deleted.is_(False), User.active.is_(True))
        ).all())
    return auth.Claimed(tenants.pop()) if len(tenants) == 1 else None


def active_user(ws: Workspace, user_id: int | None) -> User | None:
    """The signed-in user if they still exist and may still sign in."""
    user = ws.get(User, user_id)
    if user is None or user.deleted or not user.active:
        return None
    return user


# -- web sessions ---------------------------------------------------------------------
# A signed-in web session is a credential row; the cookie carries only its
# random id, so signing out (revoking the row) ends the session on the server.
WEB_SESSION = "web.session"
SESSION_TTL = dt.timedelta(hours=12)


def open_session(db: Database, principal: auth.Principal) -> str:
    """A new session id for the signed-in principal (valid :data:`SESSION_TTL`)."""
    token, _expires = auth.issue_token(db, principal, WEB_SESSION, SESSION_TTL)
    return token


def session_principal(db: Database, session_id: object) -> auth.Principal | None:
    """Who a session id belongs to, unless it is unknown, expired or signed out."""
    if not isinstance(session_id, str) or not session_id:
        return None
    return auth.resolve_token(db, WEB_SESSION, session_id)


def close_session(ws: Workspace, session_id: object) -> None:
    """Sign a session out, in the request's own transaction."""
    if isinstance(session_id, str) and session_id:
        cred = auth.find_credential(ws.session, WEB_SESSION, session_id)
        if cred is not None and cred.tenant_id == ws.tenant_id:
            cred.revoked_at = utcnow()
            ws.flush()
