"""Every rule of the OAuth apps: clients, codes, tokens, introspection, revocation.

The protocol pieces come from Authlib (PKCE S256 challenge, the RFC 6749
error classes, URI helpers); the grant handlers themselves are small
functions here, because Authlib's generic ``AuthorizationServer`` has no
Starlette integration and would need adapters larger than these rules
(docs/integrations.md, "OAuth apps"). Errors are raised as Authlib
:class:`~authlib.oauth2.rfc6749.errors.OAuth2Error` subclasses, which the
wire layer renders as RFC 6749 §5.2 JSON.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    UnauthorizedClientError,
    UnsupportedResponseTypeError,
)
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oauth2.rfc7636.challenge import CODE_CHALLENGE_PATTERN, CODE_VERIFIER_PATTERN
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from polycrm.core import auth
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.models import Credential, utcnow
from polycrm.oauth.models import OAuthClient, OAuthCode, OAuthToken
from polycrm.store.engine import Database

CIRRUS_REFRESH = "cirrus.refresh"
ACCESS_TTL = dt.timedelta(hours=1)
REFRESH_TTL = dt.timedelta(days=30)
CODE_TTL = dt.timedelta(seconds=60)
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


class InvalidClient(InvalidClientError):
    """Client authentication failed: 401 with a Basic challenge (RFC 6749 §5.2)."""

    status_code = 401


# -- clients -------------------------------------------------------------------------
def _check_redirect_uri(uri: str) -> str:
    uri = (uri or "").strip()
    parts = urlsplit(uri)
    if not parts.scheme or not (parts.netloc or parts.path) or parts.fragment or len(uri) > 2000:
        raise Invalid(f"redirect URI {uri!r} must be an absolute URI without a fragment", field="redirect_uri")
    if parts.scheme in ("http", "https") and not parts.netloc:
        raise Invalid(f"redirect URI {uri!r} has no host", field="redirect_uri")
    return uri


def add_client(session: Session, tenant_id: int, redirect_uris: list[str], *, public: bool = False,
               name: str = "") -> tuple[OAuthClient, str | None]:
    """Register a client; returns it and its secret (None for a public client).
    The secret is stored hashed (a ``cirrus.client`` credential) and shown once."""
    uris = [_check_redirect_uri(u) for u in redirect_uris if (u or "").strip()]
    if not uris:
        raise Invalid("at least one redirect URI is required", field="redirect_uri")
    name = (name or "").strip()
    if len(name) > 200:
        raise Invalid("name must be at most 200 characters", field="name")
    client_id = "oc_" + secrets.token_urlsafe(18)
    secret = None
    credential_id = None
    if not public:
        secret = auth.new_token(32)
        acting = auth.first_admin_id(session, tenant_id)
        credential_id = auth.add_credential(session, tenant_id, acting, auth.CIRRUS_CLIENT, secret, key_id=client_id).id
    client = OAuthClient(tenant_id=tenant_id, client_id=client_id, name=name or client_id, redirect_uris=uris,
                         public=public, credential_id=credential_id)
    session.add(client)
    session.flush()
    return client, secret


def clients(session: Session, tenant_id: int) -> list[OAuthClient]:
    return list(session.scalars(
        select(OAuthClient).where(OAuthClient.tenant_id == tenant_id, OAuthClient.removed_at.is_(None))
        .order_by(OAuthClient.id)))


def describe(client: OAuthClient) -> dict:
    return {"client_id": client.client_id, "name": client.name, "redirect_uris": list(client.redirect_uris),
            "public": client.public, "created_at": client.created_at.isoformat() + "Z"}


def remove_client(session: Session, tenant_id: int, client_id: str) -> None:
    """Remove a client: its secret and every token issued to it stop working."""
    client = session.scalars(select(OAuthClient).where(
        OAuthClient.tenant_id == tenant_id, OAuthClient.client_id == client_id,
        OAuthClient.removed_at.is_(None))).first()
    if client is None:
        raise NotFound(f"no OAuth client {client_id!r}")
    now = utcnow()
    client.removed_at = now
    issued = select(OAuthToken.credential_id).where(OAuthToken.client_pk == client.id)
    session.execute(update(Credential).where(
        Credential.revoked_at.is_(None),
        (Credential.id == client.credential_id) | Credential.id.in_(issued)).values(revoked_at=now))
    session.flush()


def live_client(session: Session, client_id: str) -> OAuthClient | None:
    if not auth._usable_text(client_id):
        return None
    return session.scalars(select(OAuthClient).where(
        OAuthClient.client_id == client_id, OAuthClient.removed_at.is_(None))).first()


# -- client authentication -----------------------------------------------------------
def claimed_client(db: Database, client_id: object) -> auth.Claimed | None:
    """The tenant a client id that failed to authenticate names (a confidential
    client's credential row, or a registered client); None for an unknown id."""
    found = auth.claimed_by(db, auth.CIRRUS_CLIENT, None, key_id=client_id)
    if found is not None or not isinstance(client_id, str) or not client_id:
        return found
    with auth.system_session(db) as session:
        client = live_client(session, client_id)
        return None if client is None else auth.Claimed(client.tenant_id)


@dataclass(frozen=True)
class Caller:
    """An authenticated client: its id, tenant, the row (None for a tenant's
    built-in client-credentials client) and the principal client credentials act as."""

    client_id: str
    tenant_id: int
    client_pk: int | None
    public: bool
    principal: auth.Principal | None


def authenticate(db: Database, client_id: str | None, secret: str | None, *, address: str | None = None,
                 allow_public: bool = True) -> Caller:
    """Who the client is, or :class:`InvalidClient`. With a secret, the check is
    the throttled one of :func:`polycrm.core.auth.oauth_client`; without, only a
    registered public client (``allow_public``) is accepted."""
    if not client_id:
        raise InvalidClient(description="client authentication is required")
    if secret is None:
        with auth.system_session(db) as session:
            client = live_client(session, client_id)
            if not allow_public or client is None or not client.public:
                raise InvalidClient(description="client authentication is required")
            return Caller(client.client_id, client.tenant_id, client.id, True, None)
    principal = auth.oauth_client(db, client_id, secret, address=address)
    if principal is None:
        raise InvalidClient(description="unknown client or wrong secret")
    with auth.system_session(db) as session:
        client = live_client(session, client_id)
        return Caller(client_id, principal.tenant_id, client.id if client else None, False, principal)


# -- authorization requests and codes -----------------------------------------------
class BadClientRequest(Exception):
    """An unknown client or unregistered redirect URI: shown to the user, never redirected."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class AuthorizationRequest:
    client: OAuthClient
    redirect_uri: str
    state: str | None
    scope: str | None
    code_challenge: str | None


def check_authorization(session: Session, tenant_id: int, params: dict[str, str]) -> AuthorizationRequest:
    """Validate ``/oauth/authorize`` parameters for the signed-in user's tenant.

    Raises :class:`BadClientRequest` for a bad client or redirect URI (no redirect
    is safe then) and an :class:`OAuth2Error` for anything the client should be
    told at its redirect URI; the latter carries ``redirect_uri`` and ``state``."""
    client = live_client(session, params.get("client_id") or "")
    if client is None or client.tenant_id != tenant_id:
        raise BadClientRequest("This app (client_id) is not registered with this CRM account.")
    redirect_uri = params.get("redirect_uri")
    if redirect_uri is None and len(client.redirect_uris) == 1:
        redirect_uri = client.redirect_uris[0]
    if redirect_uri not in client.redirect_uris:
        raise BadClientRequest("The redirect_uri is not one registered for this app.")
    state = params.get("state")

    def refuse(error: type[OAuth2Error], description: str) -> OAuth2Error:
        return error(description=description, state=state, redirect_uri=redirect_uri)

    if params.get("response_type") != "code":
        raise refuse(UnsupportedResponseTypeError, "response_type must be code")
    challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
    if challenge is None:
        if client.public:
            raise refuse(InvalidRequestError, "a public client must send code_challenge (PKCE S256)")
        if method is not None:
            raise refuse(InvalidRequestError, "code_challenge_method without code_challenge")
    else:
        if method != "S256":
            raise refuse(InvalidRequestError, "code_challenge_method must be S256")
        if not CODE_CHALLENGE_PATTERN.match(challenge):
            raise refuse(InvalidRequestError, "code_challenge is malformed")
    scope = params.get("scope") or None
    if scope is not None and len(scope) > 500:
        raise refuse(InvalidRequestError, "scope is too long")
    return AuthorizationRequest(client, redirect_uri, state, scope, challenge)


def create_code(session: Session, request: AuthorizationRequest, user_id: int) -> str:
    """A fresh authorization code for the approved request (valid :data:`CODE_TTL`)."""
    code = auth.new_token(32)
    session.add(OAuthCode(tenant_id=request.client.tenant_id, client_pk=request.client.id, user_id=user_id,
                          code_hash=auth.token_key(code), redirect_uri=request.redirect_uri,
                          code_challenge=request.code_challenge, scope=request.scope,
                          expires_at=utcnow() + CODE_TTL))
    session.flush()
    return code


# -- tokens ------------------------------------------------------------------------
def _issue(session: Session, caller: Caller, user_id: int | None, scope: str | None, *,
           refresh: bool, grant_id: str | None = None, code_id: int | None = None) -> dict:
    access = auth.new_token(32)
    cred = auth.add_credential(session, caller.tenant_id, user_id, auth.CIRRUS_BEARER, access, ttl=ACCESS_TTL)
    session.add(OAuthToken(tenant_id=caller.tenant_id, credential_id=cred.id, client_id=caller.client_id,
                           client_pk=caller.client_pk, token_type="access", scope=scope,
                           grant_id=grant_id, code_id=code_id))
    body = {"access_token": access, "token_type": "Bearer", "expires_in": int(ACCESS_TTL.total_seconds())}
    if refresh:
        token = auth.new_token(32)
        rcred = auth.add_credential(session, caller.tenant_id, user_id, CIRRUS_REFRESH, token, ttl=REFRESH_TTL)
        session.add(OAuthToken(tenant_id=caller.tenant_id, credential_id=rcred.id, client_id=caller.client_id,
                               client_pk=caller.client_pk, token_type="refresh", scope=scope,
                               grant_id=grant_id, code_id=code_id))
        body["refresh_token"] = token
    if scope:
        body["scope"] = scope
    session.flush()
    return body


def _write(db: Database) -> Session:
    return auth.system_session(db, write=True)


def _revoke_grant(session: Session, grant_id: str) -> None:
    issued = select(OAuthToken.credential_id).where(OAuthToken.grant_id == grant_id)
    session.execute(update(Credential).where(Credential.id.in_(issued), Credential.revoked_at.is_(None))
                    .values(revoked_at=utcnow()))


def client_credentials(db: Database, caller: Caller, scope: str | None) -> dict:
    if caller.public or caller.principal is None:
        raise UnauthorizedClientError(description="a public client cannot use client_credentials")
    with _write(db) as session, session.begin():
        return _issue(session, caller, caller.principal.user_id, scope, refresh=False)


def exchange_code(db: Database, caller: Caller, code: str | None, redirect_uri: str | None,
                  verifier: str | None) -> dict:
    """``grant_type=authorization_code`` (RFC 6749 §4.1.3, RFC 7636 §4.6)."""
    if caller.client_pk is None:
        raise UnauthorizedClientError(description="this client has no redirect URI; register an OAuth app")
    if not code:
        raise InvalidRequestError(description="code is required")
    error: OAuth2Error | None = None
    body: dict = {}
    with _write(db) as session, session.begin():
        found = session.scalars(select(OAuthCode).where(OAuthCode.code_hash == auth.token_key(code))).first()
        if found is None or found.client_pk != caller.client_pk:
            raise InvalidGrantError(description="unknown authorization code")
        # Single use, even under a race: only one request can flip used_at. A
        # failed attempt uses the code up too (no guessing the verifier).
        taken = session.execute(update(OAuthCode).where(OAuthCode.id == found.id, OAuthCode.used_at.is_(None))
                                .values(used_at=utcnow())).rowcount
        if not taken:
            # A replayed code: end what it granted (RFC 6749 §4.1.2).
            _revoke_grant(session, f"code:{found.id}")
            error = InvalidGrantError(description="the authorization code was already used")
        elif found.expires_at <= utcnow():
            error = InvalidGrantError(description="the authorization code has expired")
        elif redirect_uri != found.redirect_uri:
            error = InvalidGrantError(description="redirect_uri does not match the authorization request")
        elif found.code_challenge is not None and (not verifier or not CODE_VERIFIER_PATTERN.match(verifier)):
            error = InvalidGrantError(description="code_verifier is missing or malformed")
        elif found.code_challenge is not None and not hmac.compare_digest(
                create_s256_code_challenge(verifier), found.code_challenge):
            error = InvalidGrantError(description="code_verifier does not match the code_challenge")
        elif found.code_challenge is None and verifier is not None:
            error = InvalidGrantError(description="code_verifier sent for a code without code_challenge")
        else:
            body = _issue(session, caller, found.user_id, found.scope, refresh=True,
                          grant_id=f"code:{found.id}", code_id=found.id)
    # Raised after the commit, so the used-up code (and a revoked grant) stay so.
    if error is not None:
        raise error
    return body


def refresh(db: Database, caller: Caller, token: str | None, scope: str | None) -> dict:
    """``grant_type=refresh_token`` with rotation: the presented refresh token
    stops working; presenting it again ends the whole grant (RFC 9700 §4.14.2)."""
    if not token:
        raise InvalidRequestError(description="refresh_token is required")
    if not auth._usable_text(token):
        raise InvalidGrantError(description="unknown refresh token")
    with _write(db) as session, session.begin():
        row = session.execute(
            select(Credential, OAuthToken).join(OAuthToken, OAuthToken.credential_id == Credential.id)
            .where(Credential.kind == CIRRUS_REFRESH, Credential.key_id == auth.token_key(token))).first()
        if row is None or row[1].client_pk != caller.client_pk or caller.client_pk is None:
            raise InvalidGrantError(description="unknown refresh token")
        cred, link = row
        now = utcnow()
        if cred.revoked_at is not None:
            if link.grant_id:
                _revoke_grant(session, link.grant_id)
            pass  # a replay: raised below, after the commit that ended its grant
        elif cred.expires_at is not None and cred.expires_at <= now:
            raise InvalidGrantError(description="the refresh token has expired")
        elif scope and scope != link.scope and not set(scope.split()) <= set((link.scope or "").split()):
            raise InvalidScopeError(description="scope exceeds the one granted")
        else:
            taken = session.execute(update(Credential).where(Credential.id == cred.id, Credential.revoked_at.is_(None))
                                    .values(revoked_at=now)).rowcount
            if not taken:
                raise InvalidGrantError(description="the refresh token was already used or revoked")
            return _issue(session, caller, cred.user_id, scope or link.scope, refresh=True, grant_id=link.grant_id)
    # Only a replayed refresh token gets here.
    raise InvalidGrantError(description="the refresh token was already used or revoked")


def _find_token(session: Session, token: str, hint: str | None) -> tuple[Credential, OAuthToken | None] | None:
    if not auth._usable_text(token):
        return None
    kinds = [auth.CIRRUS_BEARER, CIRRUS_REFRESH]
    if hint == "refresh_token":
        kinds.reverse()
    for kind in kinds:
        row = session.execute(
            select(Credential, OAuthToken).outerjoin(OAuthToken, OAuthToken.credential_id == Credential.id)
            .where(Credential.kind == kind, Credential.key_id == auth.token_key(token))).first()
        if row is not None:
            return row[0], row[1]
    return None


def introspect(db: Database, caller: Caller, token: str | None, hint: str | None = None) -> dict:
    """RFC 7662: ``{"active": false}`` for anything that is not a live token
    of the caller's tenant; otherwise what the token is."""
    if not token:
        raise InvalidRequestError(description="token is required")
    if caller.public:
        raise InvalidClient(description="introspection needs a confidential client")
    with auth.system_session(db) as session:
        found = _find_token(session, token, hint)
        if found is None:
            return {"active": False}
        cred, link = found
        now = utcnow()
        if (cred.tenant_id != caller.tenant_id or cred.revoked_at is not None
                or (cred.expires_at is not None and cred.expires_at <= now)):
            return {"active": False}
        body: dict = {"active": True,
                      "token_type": "Bearer" if cred.kind == auth.CIRRUS_BEARER else "refresh_token",
                      "iat": int(cred.created_at.replace(tzinfo=dt.UTC).timestamp())}
        if cred.expires_at is not None:
            body["exp"] = int(cred.expires_at.replace(tzinfo=dt.UTC).timestamp())
        if link is not None:
            body["client_id"] = link.client_id
            if link.scope:
                body["scope"] = link.scope
        if cred.user_id is not None:
            body["sub"] = str(cred.user_id)
        return body


def revoke(db: Database, caller: Caller, token: str | None, hint: str | None = None) -> None:
    """RFC 7009: revoke a token issued to the caller (a refresh token takes its
    grant's access tokens with it). Unknown tokens and other clients' tokens
    are ignored silently, so the answer tells nothing about them."""
    if not token:
        raise InvalidRequestError(description="token is required")
    with _write(db) as session, session.begin():
        found = _find_token(session, token, hint)
        if found is None:
            return
        cred, link = found
        if link is None or link.client_id != caller.client_id or cred.tenant_id != caller.tenant_id:
            return
        if cred.revoked_at is None:
            cred.revoked_at = utcnow()
        if link.token_type == "refresh" and link.grant_id:
            _revoke_grant(session, link.grant_id)
