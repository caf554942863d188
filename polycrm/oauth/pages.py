"""Web pages of the OAuth apps.

``GET /oauth/authorize`` is the authorization endpoint (RFC 6749 §4.1.1): a
signed-out visitor goes to web sign-in and back; a signed-in one sees a
consent page whose form (CSRF-protected like every page) posts back to
``/oauth/authorize``. Approving redirects to the client with ``code`` and
``state``; denying with ``error=access_denied``. A bad client or redirect URI
is shown on an error page, never redirected. ``/api-access/oauth`` lists,
adds and removes the tenant's clients (tenant admins only).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import AccessDeniedError, OAuth2Error
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from polycrm.core.errors import CoreError, Forbidden
from polycrm.oauth import service
from polycrm.web.handler import SECURITY_HEADERS, Ctx, Web

AUTHORIZE_URL = "/oauth/authorize"
CLIENTS_URL = "/api-access/oauth"
FIELDS = ("response_type", "client_id", "redirect_uri", "state", "scope", "code_challenge", "code_challenge_method")


def _redirect_error(exc: OAuth2Error) -> Response:
    params = [("error", exc.error)]
    if exc.description:
        params.append(("error_description", exc.description))
    if exc.state:
        params.append(("state", exc.state))
    return RedirectResponse(add_params_to_uri(exc.redirect_uri, params), status_code=303)


def _check(ctx: Ctx, params: dict[str, str]):
    """The validated request, or the response that refuses it."""
    try:
        return service.check_authorization(ctx.ws.session, ctx.ws.tenant_id, params), None
    except service.BadClientRequest as exc:
        return None, ctx.web.error_page(ctx, 400, "Cannot authorize this app", exc.message)
    except OAuth2Error as exc:
        return None, _redirect_error(exc)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"


def authorize_show(ctx: Ctx) -> Response:
    query = ctx.request.query_params
    params = {k: query[k] for k in FIELDS if k in query}
    if any(len(query.getlist(k)) > 1 for k in FIELDS):
        return ctx.web.error_page(ctx, 400, "Cannot authorize this app", "A parameter was sent more than once.")
    request, refusal = _check(ctx, params)
    if refusal is not None:
        return refusal
    response = ctx.render("oauth_consent.html", app=request.client, params=params, scope=request.scope,
                          redirect_origin=_origin(request.redirect_uri), title=f"Authorize {request.client.name}")
    # The approved form ends in a redirect to the client; allow that one origin.
    response.headers["Content-Security-Policy"] = (
        SECURITY_HEADERS["Content-Security-Policy"] + " " + _origin(request.redirect_uri))
    return response


def authorize_decide(ctx: Ctx) -> Response:
    params = {k: str(ctx.form[k]) for k in FIELDS if isinstance(ctx.form.get(k), str)}
    request, refusal = _check(ctx, params)
    if refusal is not None:
        return refusal
    if ctx.form.get("decision") != "approve":
        return _redirect_error(AccessDeniedError(description="the user denied the request",
                                                 state=request.state, redirect_uri=request.redirect_uri))
    code = service.create_code(ctx.ws.session, request, ctx.user.id)
    found = [("code", code)] + ([("state", request.state)] if request.state is not None else [])
    return RedirectResponse(add_params_to_uri(request.redirect_uri, found), status_code=303)


# -- managing clients -------------------------------------------------------------------
def _admin(ctx: Ctx) -> None:
    if not ctx.user.is_admin:
        raise Forbidden("Only a tenant administrator can manage OAuth clients.")


def _clients_page(ctx: Ctx, status: int = 200, **values) -> Response:
    return ctx.render("oauth_clients.html", status,
                      clients=[service.describe(c) for c in service.clients(ctx.ws.session, ctx.ws.tenant_id)],
                      title="OAuth apps", **values)


def clients_show(ctx: Ctx) -> Response:
    _admin(ctx)
    return _clients_page(ctx)


def clients_add(ctx: Ctx) -> Response:
    _admin(ctx)
    form = {k: str(ctx.form.get(k) or "") for k in ("name", "redirect_uris")}
    public = ctx.form.get("public") == "1"
    try:
        client, secret = service.add_client(ctx.ws.session, ctx.ws.tenant_id, form["redirect_uris"].split(),
                                            public=public, name=form["name"])
    except CoreError as exc:
        return _clients_page(ctx, 400, error=exc.message, form=form)
    return _clients_page(ctx, created={"client_id": client.client_id, "client_secret": secret})


def clients_remove(ctx: Ctx) -> Response:
    _admin(ctx)
    client_id = str(ctx.form.get("client_id") or "")
    service.remove_client(ctx.ws.session, ctx.ws.tenant_id, client_id)
    return ctx.redirect(CLIENTS_URL, f"OAuth client {client_id} removed; its tokens no longer work.")


def routes(rt) -> list:
    page = Web(rt).page
    return [
        Route(AUTHORIZE_URL, page(authorize_show), methods=["GET"]),
        Route(AUTHORIZE_URL, page(authorize_decide), methods=["POST"]),
        Route(CLIENTS_URL, page(clients_show), methods=["GET"]),
        Route(CLIENTS_URL, page(clients_add), methods=["POST"]),
        Route(CLIENTS_URL + "/remove", page(clients_remove), methods=["POST"]),
    ]
