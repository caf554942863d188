"""Creating tenants: a new tenant starts as usable as a fresh vendor account."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from polycrm.core import auth, lookups
from polycrm.core.blobs import BlobStore
from polycrm.core.errors import Conflict
from polycrm.core.models import Profile, ProfileMember, Tenant, User
from polycrm.core.workspace import Workspace
from polycrm.sandbox import admin as sandbox_admin
from polycrm.sandbox import snapshots
from polycrm.store.engine import Database

FIRST_CONTRACT = 1000


@dataclass
class NewTenant:
    """What to create; every secret left empty is generated."""

    name: str
    contract: int | None = None
    username: str = "admin"
    password: str | None = None
    email: str | None = None
    microbizz_apikey: str | None = None
    cirrus_x_token: str | None = None
    cirrus_client_id: str | None = None
    cirrus_client_secret: str | None = None
    admin_key: str | None = None
    profile_name: str = "Main"
    user_name: str = "Admin"
    user_surname: str = "User"
    extra: dict[str, Any] = field(default_factory=dict)


def find(db: Database, name: str) -> Tenant | None:
    with auth.system_session(db) as session:
        return session.scalars(select(Tenant).where(Tenant.name == name)).first()


def create(db: Database, spec: NewTenant) -> dict[str, Any]:
    """Create a tenant with an admin user, a default profile, the default
    lookups and credentials for each API; return those credentials."""
    password = spec.password or secrets.token_urlsafe(12)
    apikey = spec.microbizz_apikey or secrets.token_urlsafe(24)
    x_token = spec.cirrus_x_token or secrets.token_urlsafe(32)
    client_id = spec.cirrus_client_id or "client-" + secrets.token_hex(8)
    client_secret = spec.cirrus_client_secret or secrets.token_urlsafe(32)
    admin_key = spec.admin_key or secrets.token_urlsafe(32)
    email = spec.email or f"{spec.username}@{_slug(spec.name)}.example.com"

    with auth.system_session(db) as session, session.begin():
        if db.is_sqlite:
            # Read, then write: take the write lock first, or a commit between the
            # two by anyone else makes SQLite refuse the upgrade ("database is locked").
            session.connection(execution_options={"polycrm_write": True})
        if session.scalars(select(Tenant).where(Tenant.name == spec.name)).first():
            raise Conflict(f"tenant {spec.name!r} already exists")
        contract = spec.contract
        if contract is None:
            contract = max(FIRST_CONTRACT, (session.scalar(select(func.max(Tenant.contract))) or FIRST_CONTRACT) + 1)
        elif session.scalars(select(Tenant).where(Tenant.contract == contract)).first():
            raise Conflict(f"contract {contract} is taken")
        tenant = Tenant(name=spec.name, contract=contract, settings={})
        session.add(tenant)
        session.flush()
        tenant_id = tenant.id

    with Workspace(db, tenant_id) as ws:
        admin = ws.create(
            User,
            username=spec.username,
            email=email,
            name=spec.user_name,
            surname=spec.user_surname,
            title="Administrator",
            is_admin=True,
            active=True,
            password_hash=auth.hash_password(password),
        )
        profile = ws.create(Profile, name=spec.profile_name, is_default=True, currency="DKK")
        ws.create(ProfileMember, profile_id=profile.id, user_id=admin.id)
        lookups.seed_defaults(ws, profile.id)
        session = ws.session
        auth.add_credential(session, tenant_id, admin.id, auth.MICROBIZZ_APIKEY, apikey)
        auth.add_credential(session, tenant_id, admin.id, auth.CIRRUS_XTOKEN, x_token)
        auth.add_credential(session, tenant_id, admin.id, auth.CIRRUS_CLIENT, client_secret, key_id=client_id)
        sandbox_admin.add_key(session, tenant_id, admin_key)
        admin_id, profile_id = admin.id, profile.id
    # The state ``reset {"to": "empty"}`` of the admin API goes back to.
    snapshots.save_initial(db, tenant_id)

    return {
        "tenant": spec.name,
        "tenant_id": tenant_id,
        "user_id": admin_id,
        "profile_id": profile_id,
        "microbizz": {"contract": contract, "apikey": apikey, "username": spec.username, "password": password},
        "cirrus": {"x_token": x_token, "client_id": client_id, "client_secret": client_secret},
        "centia": {"email": email, "password": password},
        "admin": {"key": admin_key},
    }


def workspace(db: Database, name: str, blobs: BlobStore | None = None) -> Workspace:
    """A workspace in the named tenant acting as its first admin."""
    tenant = find(db, name)
    if tenant is None:
        raise LookupError(f"no tenant named {name!r}")
    with auth.system_session(db) as session:
        admin = session.scalars(
            select(User).where(User.tenant_id == tenant.id).order_by(User.is_admin.desc(), User.id)
        ).first()
    return Workspace(db, tenant.id, admin.id if admin else None, blobs=blobs)


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum()) or "tenant"
