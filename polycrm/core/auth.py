"""Credentials: password hashing, API keys and bearer tokens.

Secrets are never stored in clear. Passwords use scrypt; random tokens and
API keys are stored as their SHA-256 (they carry enough entropy for that),
which also makes them indexable for lookup.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import threading
import weakref
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from polycrm.core import throttle
from polycrm.core.errors import CoreError
from polycrm.core.limits import INT32
from polycrm.core.models import Credential, Tenant, User, utcnow
from polycrm.core.query.paths import same_text
from polycrm.store.engine import Database

# Credential kinds.
MICROBIZZ_APIKEY = "microbizz.apikey"
MICROBIZZ_ACCESSTOKEN = "microbizz.accesstoken"
CIRRUS_XTOKEN = "cirrus.xtoken"
CIRRUS_CLIENT = "cirrus.client"
CIRRUS_BEARER = "cirrus.bearer"
CENTIA_TOKEN = "centia.token"

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@dataclass(frozen=True)
class Claimed:
    """The tenant (and the credential row, if one was named) that a refused
    request was meant for: what it names, not whom it proves to be. The
    sandbox journals a refused request under it (docs/sandbox.md)."""

    tenant_id: int
    credential_id: int | None = None


class Denied(CoreError):
    """Credentials that open nothing. ``message`` is the reason the caller is
    told (a face wraps it in its own envelope, e.g. ``Access denied: ...``);
    ``claimed``: the tenant the request named, when it named one."""

    def __init__(self, message: str, field: str | None = None, *, claimed: Claimed | None = None):
        super().__init__(message, field)
        self.claimed = claimed


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, salt_b64, digest_b64 = stored.split("$")
    digest = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt_b64), dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the tenant and user a credential resolves to."""

    tenant_id: int
    user_id: int | None
    credential_id: int | None = None


class _VerifiedCache:
    """Remembers recently verified passwords so each request needn't pay scrypt.

    Keyed by a keyed hash of (user row, password hash, password), so a changed
    password or user invalidates the entry by itself.
    """

    def __init__(self, size: int = 4096, ttl: float = 300.0):
        self._key = secrets.token_bytes(32)
        self._seen: dict[bytes, dt.datetime] = {}
        self._size, self._ttl = size, dt.timedelta(seconds=ttl)
        self._lock = threading.Lock()

    def _k(self, *parts: str) -> bytes:
        return hmac.new(self._key, "\x00".join(parts).encode(), hashlib.sha256).digest()

    def verify(self, user: User, password: str) -> bool:
        key = self._k(str(user.id), user.password_hash or "", password)
        now = utcnow()
        with self._lock:
            seen = self._seen.get(key)
            if seen and now - seen < self._ttl:
                return True
        if not verify_password(password, user.password_hash):
            return False
        with self._lock:
            if len(self._seen) >= self._size:
                self._seen.clear()
            self._seen[key] = now
        return True


password_cache = _VerifiedCache()


def system_session(db: Database, *, write: bool = False) -> Session:
    """A session outside any tenant. ``write=True`` for one that writes: on SQLite
    its transaction then takes the write lock at once (``BEGIN IMMEDIATE``), as a
    writing workspace's does; a read that later writes would fail with "database
    is locked" whenever another connection (a request, the journal writer) wrote
    in between."""
    session = db.sessions(bind=db.write_engine) if write else db.session()
    session.info["system"] = True
    return session


def add_credential(
    session: Session,
    tenant_id: int,
    user_id: int | None,
    kind: str,
    secret: str,
    *,
    key_id: str | None = None,
    ttl: dt.timedelta | None = None,
) -> Credential:
    """Store a credential. Without ``key_id`` the secret itself is the key
    (stored hashed); with one, the secret is checked by its hash."""
    cred = Credential(
        tenant_id=tenant_id,
        user_id=user_id,
        kind=kind,
        key_id=key_id if key_id is not None else token_key(secret),
        secret_hash=token_key(secret) if key_id is not None else None,
        expires_at=utcnow() + ttl if ttl else None,
    )
    session.add(cred)
    session.flush()
    return cred


def find_credential(session: Session, kind: str, token: str, *, key_id: str | None = None) -> Credential | None:
    """Resolve a token (or a key id + secret) to a live credential."""
    lookup = key_id if key_id is not None else token_key(token)
    cred = session.scalars(select(Credential).where(Credential.kind == kind, Credential.key_id == lookup)).first()
    if cred is None or cred.revoked_at is not None:
        return None
    if cred.expires_at is not None and cred.expires_at <= utcnow():
        return None
    if key_id is not None and not hmac.compare_digest(cred.secret_hash or "", token_key(token)):
        return None
    return cred


def resolve_token(db: Database, kind: str, token: str) -> Principal | None:
    """The principal of a live token of ``kind`` (as :func:`find_credential` decides), or None.

    Every API request asks this, so it runs one prepared statement on a pooled
    DBAPI connection (no session, no ORM objects, no transaction of its own on
    SQLite): about 20 us instead of 300. It is a fresh lookup each time, not a
    cache, so a revoked or deleted credential fails the next request in every
    process at once (docs/security.md)."""
    row = _token_lookup(db).run(kind, token_key(token))
    if row is None:
        return None
    credential_id, tenant_id, user_id, expires_at, revoked_at = row
    if revoked_at is not None or (expires_at is not None and expires_at <= utcnow()):
        return None
    return Principal(tenant_id, user_id, credential_id)


class _TokenLookup:
    """``SELECT`` of a credential by kind and key, compiled once for a database's
    dialect and run on a raw pooled connection; the stored times are converted
    by the columns' own result processors (SQLite keeps them as text)."""

    def __init__(self, db: Database):
        c = Credential.__table__
        dialect = db.engine.dialect
        statement = select(c.c.id, c.c.tenant_id, c.c.user_id, c.c.expires_at, c.c.revoked_at).where(
            c.c.kind == bindparam("kind"), c.c.key_id == bindparam("key_id"))
        self.compiled = statement.compile(dialect=dialect)
        self.sql = self.compiled.string
        self.positional = self.compiled.positiontup if self.compiled.positional else None
        self.engine = db.engine
        self.to_time = [c.c[name].type.dialect_impl(dialect).result_processor(dialect, None)
                        for name in ("expires_at", "revoked_at")]

    def run(self, kind: str, key_id: str) -> tuple | None:
        values = {"kind": kind, "key_id": key_id}
        params = tuple(values[name] for name in self.positional) if self.positional is not None else values
        conn = self.engine.raw_connection()
        try:
            cursor = conn.cursor()
            try:
                cursor.execute(self.sql, params)
                row = cursor.fetchone()
            finally:
                cursor.close()
        finally:
            conn.close()  # back to the pool, which ends the read (rollback) where one began
        if row is None:
            return None
        expires, revoked = (value if convert is None or value is None else convert(value)
                            for convert, value in zip(self.to_time, row[3:]))
        return row[0], row[1], row[2], expires, revoked


_token_lookups: "weakref.WeakKeyDictionary[Database, _TokenLookup]" = weakref.WeakKeyDictionary()


def _token_lookup(db: Database) -> _TokenLookup:
    found = _token_lookups.get(db)
    if found is None:
        found = _token_lookups.setdefault(db, _TokenLookup(db))
    return found


def claimed_by(db: Database, kind: str, token: object, *, key_id: object = None) -> Claimed | None:
    """The tenant a credential that opens nothing names: a token (or, with
    ``key_id``, a client id) that exists but is expired, revoked or sent with
    the wrong secret. None for one no tenant has."""
    lookup = key_id if key_id is not None else token
    if not _usable_text(lookup) or not lookup:
        return None
    with system_session(db) as session:
        cred = session.execute(select(Credential.tenant_id, Credential.id).where(
            Credential.kind == kind, Credential.key_id == (lookup if key_id is not None else token_key(lookup))
        ).order_by(Credential.id).limit(1)).first()
    return None if cred is None else Claimed(cred.tenant_id, cred.id)


def issue_token(db: Database, principal: Principal, kind: str, ttl: dt.timedelta) -> tuple[str, dt.datetime]:
    token = new_token(32)
    with system_session(db, write=True) as session, session.begin():
        cred = add_credential(session, principal.tenant_id, principal.user_id, kind, token, ttl=ttl)
        return token, cred.expires_at


def revoke_token(db: Database, kind: str, token: str) -> bool:
    with system_session(db, write=True) as session, session.begin():
        cred = find_credential(session, kind, token)
        if cred is None:
            return False
        cred.revoked_at = utcnow()
        return True


def tenant_by_contract(session: Session, contract: int) -> Tenant | None:
    return session.scalars(select(Tenant).where(Tenant.contract == contract)).first()


def user_by_login(session: Session, tenant_id: int, login: str) -> User | None:
    """A user of a tenant by user name or e-mail (case-insensitive e-mail)."""
    user = session.scalars(
        select(User).where(User.tenant_id == tenant_id, User.username == login, User.deleted.is_(False))
    ).first()
    if user is None and "@" in login:
        user = session.scalars(
            select(User).where(User.tenant_id == tenant_id, same_text(User.email, login), User.deleted.is_(False))
        ).first()
    return user


def first_admin_id(session: Session, tenant_id: int) -> int | None:
    """The user a tenant-wide credential acts as: its first admin (or user)."""
    return session.scalar(
        select(User.id).where(User.tenant_id == tenant_id).order_by(User.is_admin.desc(), User.id).limit(1)
    )


# -- the Microbizz credential policy -------------------------------------------------
MICROBIZZ_WRONG_LOGIN = "wrong apikey, username or password"
MICROBIZZ_LOGIN_REQUIRED = "apikey, username and password are required"
MICROBIZZ_BAD_TOKEN = "invalid accesstoken"


def microbizz_principal(
    db: Database,
    contract: int,
    *,
    apikey: object = None,
    username: object = None,
    password: object = None,
    accesstoken: object = None,
    address: str | None = None,
) -> Principal:
    """Who a Microbizz envelope's credentials name, or :class:`Denied`.

    The contract picks the tenant. Then, in this order:

    1. a non-empty ``accesstoken`` that is an app-connect access token of
       that tenant, or one of its API keys (the vendor's "interchangeable"
       rule), is enough: the commands run as the credential's user, or as
       the tenant's first admin when the credential belongs to no user;
    2. otherwise ``apikey`` + ``username`` + ``password`` are all required: an
       API key of that tenant and an active user of that tenant (by user name
       or e-mail) with that password. The commands run as that user. So a
       stale access token next to valid user credentials is accepted (the
       login decides); an access token that opens nothing, sent alone, is
       refused as ``invalid accesstoken``.

    Every value is taken as the client sent it (any JSON type): a value that is
    not usable text simply matches nothing. A revoked or expired credential is
    no credential; another tenant's is refused like a wrong one.
    """
    if not INT32[0] <= contract <= INT32[1]:
        # No tenant can have it; asking the database would overflow its column.
        raise Denied(f"unknown contract {contract}")
    with system_session(db) as session:
        tenant = tenant_by_contract(session, contract)
        if tenant is None:
            raise Denied(f"unknown contract {contract}")
        try:
            return _microbizz_login(db, session, tenant, contract, apikey, username, password, accesstoken, address)
        except Denied as exc:
            # The contract names the tenant (and an API key of it, when one was sent).
            key = find_credential(session, MICROBIZZ_APIKEY, apikey) if _usable_text(apikey) and apikey else None
            exc.claimed = Claimed(tenant.id, key.id if key is not None and key.tenant_id == tenant.id else None)
            raise
        except throttle.Throttled as exc:
            exc.claimed = Claimed(tenant.id)
            raise


def _microbizz_login(db: Database, session: Session, tenant: Tenant, contract: int, apikey: object,
                     username: object, password: object, accesstoken: object, address: str | None) -> Principal:
    if accesstoken:
        cred = None
        if _usable_text(accesstoken):
            cred = find_credential(session, MICROBIZZ_ACCESSTOKEN, accesstoken) or find_credential(
                session, MICROBIZZ_APIKEY, accesstoken
            )
        if cred is not None and cred.tenant_id == tenant.id:
            return Principal(tenant.id, cred.user_id or first_admin_id(session, tenant.id), cred.id)
        if not any((apikey, username, password)):
            raise Denied(MICROBIZZ_BAD_TOKEN)
    if not all(isinstance(v, str) and v for v in (apikey, username, password)):
        raise Denied(MICROBIZZ_LOGIN_REQUIRED)
    if not all(map(_usable_text, (apikey, username, password))):
        raise Denied(MICROBIZZ_WRONG_LOGIN)

    def verify() -> Principal | None:
        cred = find_credential(session, MICROBIZZ_APIKEY, apikey)
        if cred is None or cred.tenant_id != tenant.id:
            return None
        user = user_by_login(session, tenant.id, username)
        if user is None or not user.active or not password_cache.verify(user, password):
            return None
        return Principal(tenant.id, user.id, cred.id)

    # Throttled per user name of the contract and per client address (core.throttle).
    principal = throttle.guarded(db, f"microbizz:{contract}", username, address, verify, session=session)
    if principal is None:
        raise Denied(MICROBIZZ_WRONG_LOGIN)
    return principal


def oauth_client(db: Database, client_id: str, secret: str, *, address: str | None = None) -> Principal | None:
    """The principal of an OAuth client whose secret matches, else None;
    :class:`~polycrm.core.throttle.Throttled` after too many failures."""
    def verify() -> Principal | None:
        with system_session(db) as session:
            cred = find_credential(session, CIRRUS_CLIENT, secret, key_id=client_id)
            return None if cred is None else Principal(cred.tenant_id, cred.user_id, cred.id)

    return throttle.guarded(db, "oauth", client_id, address, verify)


def _usable_text(value: object) -> bool:
    """Text a lookup can carry: a string without NUL or lone surrogates
    (PostgreSQL refuses the first, no encoder writes the second)."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
