"""``POST /oauth/token``: OAuth 2.0 client credentials grant (RFC 6749 §4.4).

The client authenticates with HTTP Basic (``client_id:client_secret``,
form-url-encoded as §2.3.1 asks) or, as §2.3.1 also allows, with
``client_id``/``client_secret`` in the form body. A token is a random
bearer token valid for :data:`TOKEN_TTL`; it acts as the user the client
belongs to. Errors are RFC 6749 §5.2 JSON bodies.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from urllib.parse import parse_qsl, unquote_plus

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from polycrm.core import auth, throttle
from polycrm.sandbox import journal

TOKEN_TTL = dt.timedelta(hours=1)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _json(status: int, body: dict, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers={**NO_STORE, **(headers or {})})


def _error(status: int, code: str, description: str, headers: dict[str, str] | None = None) -> Response:
    return _json(status, {"error": code, "error_description": description}, headers)


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


def token_endpoint(rt):
    async def endpoint(request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        raw = (await request.body()).decode("utf-8", "replace")
        if content_type not in ("application/x-www-form-urlencoded", ""):
            return _error(400, "invalid_request", "send the parameters form-url-encoded")
        form: dict[str, list[str]] = {}
        for key, value in parse_qsl(raw, keep_blank_values=True):
            form.setdefault(key, []).append(value)
        if any(len(values) > 1 for values in form.values()):
            return _error(400, "invalid_request", "a parameter was sent more than once")
        params = {k: v[0] for k, v in form.items()}

        header = request.headers.get("authorization")
        basic = _basic(header) if header else None
        if header and basic is None:
            return _error(401, "invalid_client", "malformed Basic credentials",
                          {"WWW-Authenticate": 'Basic realm="oauth"'})
        if basic and ("client_secret" in params):
            return _error(400, "invalid_request", "use one client authentication method")
        client_id, secret = basic or (params.get("client_id"), params.get("client_secret"))
        grant = params.get("grant_type")
        if not grant:
            return _error(400, "invalid_request", "grant_type is required")
        if not client_id or secret is None:
            return _error(401, "invalid_client", "client authentication is required",
                          {"WWW-Authenticate": 'Basic realm="oauth"'})
        address = request.client.host if request.client else None
        try:
            principal = await run_in_threadpool(auth.oauth_client, rt.db, client_id, secret, address=address)
        except throttle.Throttled as exc:
            return _error(429, "invalid_client", exc.message, {"Retry-After": str(exc.retry_after)})
        journal.note("oauth", principal, "token")
        if principal is None:
            return _error(401, "invalid_client", "unknown client or wrong secret",
                          {"WWW-Authenticate": 'Basic realm="oauth"'})
        if grant != "client_credentials":
            known = grant in ("authorization_code", "refresh_token", "password", "implicit")
            return _error(400, "unauthorized_client" if known else "unsupported_grant_type",
                          f"grant_type {grant!r} is not available to this client" if known
                          else f"grant_type {grant!r} is not supported")
        token, expires = await run_in_threadpool(auth.issue_token, rt.db, principal, auth.CIRRUS_BEARER, TOKEN_TTL)
        body = {"access_token": token, "token_type": "Bearer", "expires_in": int(TOKEN_TTL.total_seconds())}
        if params.get("scope"):
            body["scope"] = params["scope"]
        return _json(200, body)

    return endpoint

