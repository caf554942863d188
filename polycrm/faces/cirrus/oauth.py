"""The OAuth 2.0 endpoints of the Cirrus API: token, introspection, revocation, metadata.

``POST /oauth/token`` serves ``client_credentials`` (RFC 6749 §4.4),
``authorization_code`` (§4.1.3, with PKCE, RFC 7636) and ``refresh_token``
(§6, rotating). A confidential client authenticates with HTTP Basic
(``client_id:client_secret``, form-url-encoded as §2.3.1 asks) or with
``client_id``/``client_secret`` in the form body; a public client sends only
``client_id``. ``POST /oauth/introspect`` is RFC 7662, ``POST /oauth/revoke``
RFC 7009, ``/.well-known/oauth-authorization-server`` RFC 8414. Errors are
RFC 6749 §5.2 JSON bodies. The rules live in :mod:`polycrm.oauth.service`;
``GET /oauth/authorize`` is a web page (:mod:`polycrm.oauth.pages`).
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, unquote_plus

import orjson
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from polycrm.core import throttle
from polycrm.oauth import service
from polycrm.sandbox import journal

TOKEN_TTL = service.ACCESS_TTL
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="oauth"'}


def _json(status: int, body: dict, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers={**NO_STORE, **(headers or {})})


def _error(status: int, code: str, description: str, headers: dict[str, str] | None = None) -> Response:
    if status == 401:
        headers = {**BASIC_CHALLENGE, **(headers or {})}
    return _json(status, {"error": code, "error_description": description}, headers)


def _oauth_error(exc: OAuth2Error) -> Response:
    return _error(exc.status_code, exc.error, exc.description or exc.error)


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


class _Refused(Exception):
    def __init__(self, response: Response):
        self.response = response


async def _form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = (await request.body()).decode("utf-8", "replace")
    if content_type not in ("application/x-www-form-urlencoded", ""):
        raise _Refused(_error(400, "invalid_request", "send the parameters form-url-encoded"))
    form: dict[str, list[str]] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        form.setdefault(key, []).append(value)
    if any(len(values) > 1 for values in form.values()):
        raise _Refused(_error(400, "invalid_request", "a parameter was sent more than once"))
    return {k: v[0] for k, v in form.items()}


def _client_credentials(request: Request, params: dict[str, str]) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization")
    basic = _basic(header) if header else None
    if header and basic is None:
        raise _Refused(_error(401, "invalid_client", "malformed Basic credentials"))
    if basic and ("client_secret" in params):
        raise _Refused(_error(400, "invalid_request", "use one client authentication method"))
    if basic and params.get("client_id") not in (None, basic[0]):
        raise _Refused(_error(400, "invalid_request", "client_id differs from the Basic credentials"))
    return basic or (params.get("client_id"), params.get("client_secret"))


async def _authenticate(rt, request: Request, client_id, secret, operation: str, *, allow_public: bool = True):
    address = request.client.host if request.client else None
    try:
        return await run_in_threadpool(service.authenticate, rt.db, client_id, secret,
                                       address=address, allow_public=allow_public)
    except throttle.Throttled as exc:
        await run_in_threadpool(journal.refused_client, rt.db, client_id, operation)
        raise _Refused(_error(429, "invalid_client", exc.message, {"Retry-After": str(exc.retry_after)})) from None
    except OAuth2Error:
        await run_in_threadpool(journal.refused_client, rt.db, client_id, operation)
        raise


def token_endpoint(rt):
    async def endpoint(request: Request) -> Response:
        try:
            params = await _form(request)
            client_id, secret = _client_credentials(request, params)
            grant = params.get("grant_type")
            if not grant:
                return _error(400, "invalid_request", "grant_type is required")
            if not client_id or (secret is None and grant == "client_credentials"):
                journal.note("oauth", None, "token")
                await run_in_threadpool(journal.refused_client, rt.db, client_id, "token")
                return _error(401, "invalid_client", "client authentication is required")
            try:
                caller = await _authenticate(rt, request, client_id, secret, "token")
            except OAuth2Error as exc:
                journal.note("oauth", None, "token")
                return _oauth_error(exc)
            journal.note("oauth", caller.principal or _public_principal(caller), "token")
            if grant not in service.GRANT_TYPES:
                known = grant in ("password", "implicit")
                return _error(400, "unauthorized_client" if known else "unsupported_grant_type",
                              f"grant_type {grant!r} is not available to this client" if known
                              else f"grant_type {grant!r} is not supported")
            scope = params.get("scope") or None
            if grant == "client_credentials":
                body = await run_in_threadpool(service.client_credentials, rt.db, caller, scope)
            elif grant == "authorization_code":
                body = await run_in_threadpool(service.exchange_code, rt.db, caller, params.get("code"),
                                               params.get("redirect_uri"), params.get("code_verifier"))
            else:
                body = await run_in_threadpool(service.refresh, rt.db, caller, params.get("refresh_token"), scope)
            return _json(200, body)
        except _Refused as refused:
            return refused.response
        except OAuth2Error as exc:
            return _oauth_error(exc)

    return endpoint


def _public_principal(caller: service.Caller):
    from polycrm.core.auth import Principal

    return Principal(caller.tenant_id, None)


def introspection_endpoint(rt):
    """RFC 7662: a confidential client asks whether a token of its tenant is active."""
    async def endpoint(request: Request) -> Response:
        try:
            params = await _form(request)
            client_id, secret = _client_credentials(request, params)
            if not client_id or secret is None:
                await run_in_threadpool(journal.refused_client, rt.db, client_id, "introspect")
                return _error(401, "invalid_client", "introspection needs client authentication")
            caller = await _authenticate(rt, request, client_id, secret, "introspect", allow_public=False)
            journal.note("oauth", caller.principal, "introspect")
            body = await run_in_threadpool(service.introspect, rt.db, caller, params.get("token"),
                                           params.get("token_type_hint"))
            return _json(200, body)
        except _Refused as refused:
            return refused.response
        except OAuth2Error as exc:
            return _oauth_error(exc)

    return endpoint


def revocation_endpoint(rt):
    """RFC 7009: 200 whether or not the token was known."""
    async def endpoint(request: Request) -> Response:
        try:
            params = await _form(request)
            client_id, secret = _client_credentials(request, params)
            caller = await _authenticate(rt, request, client_id, secret, "revoke")
            journal.note("oauth", caller.principal or _public_principal(caller), "revoke")
            await run_in_threadpool(service.revoke, rt.db, caller, params.get("token"),
                                    params.get("token_type_hint"))
            return _json(200, {})
        except _Refused as refused:
            return refused.response
        except OAuth2Error as exc:
            return _oauth_error(exc)

    return endpoint


def metadata(base_url: str) -> dict:
    """The RFC 8414 document for a server reached at ``base_url`` (checked by Authlib)."""
    base = base_url.rstrip("/")
    auth_methods = ["client_secret_basic", "client_secret_post"]
    document = AuthorizationServerMetadata({
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "introspection_endpoint": f"{base}/oauth/introspect",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(service.GRANT_TYPES),
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [*auth_methods, "none"],
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": [*auth_methods, "none"],
    })
    if base.startswith("https://"):
        # Authlib's RFC 8414 check refuses a plain-http issuer (a development
        # server on http is served the same document unchecked).
        document.validate()
    return dict(document)


def metadata_endpoint(rt):
    async def endpoint(request: Request) -> Response:
        return Response(orjson.dumps(metadata(str(request.base_url))), media_type="application/json")

    return endpoint


def routes(rt) -> list:
    from starlette.routing import Route

    return [
        Route("/oauth/token", token_endpoint(rt), methods=["POST"]),
        Route("/oauth/introspect", introspection_endpoint(rt), methods=["POST"]),
        Route("/oauth/revoke", revocation_endpoint(rt), methods=["POST"]),
        Route("/.well-known/oauth-authorization-server", metadata_endpoint(rt), methods=["GET", "HEAD"]),
    ]
