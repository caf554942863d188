"""Web pages of the integration platform.

``/api-access/webhooks`` lists the tenant's hooks and recent deliveries, adds
a hook (its secret is shown once, on the page that answers the form),
removes one and resends a delivery. ``/api-access/apps`` registers Microbizz
apps and lists and disconnects connected ones (tenant admins only).
``/appconnect/`` is the app connect flow: entry, consent, confirmation.
The customer page's app tabs come from :func:`customer_tabs`.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from polycrm.core import signin
from polycrm.core.errors import CoreError, Forbidden
from polycrm.platform import apps, webhooks
from polycrm.web.handler import SECURITY_HEADERS, Ctx, Web
from polycrm.web.session import CSRF_FIELD

URL = "/api-access/webhooks"


def _admin(ctx: Ctx) -> None:
    if not ctx.user.is_admin:
        raise Forbidden("Only a tenant administrator can manage webhooks.")


def _page(ctx: Ctx, status: int = 200, **values) -> Response:
    session, tenant_id = ctx.ws.session, ctx.ws.tenant_id
    return ctx.render(
        "webhooks.html", status,
        hooks=[webhooks.describe(h) for h in webhooks.hooks(session, tenant_id)],
        log=webhooks.deliveries(session, tenant_id, limit=100),
        apis=webhooks.APIS, events=webhooks.EVENTS, title="Webhooks", **values,
    )


def show(ctx: Ctx) -> Response:
    _admin(ctx)
    return _page(ctx)


def add(ctx: Ctx) -> Response:
    _admin(ctx)
    form = {k: str(ctx.form.get(k) or "") for k in ("url", "api", "events")}
    try:
        hook, secret = webhooks.add(ctx.ws.session, ctx.ws.tenant_id, form["url"], form["api"], form["events"].split(","))
    except CoreError as exc:
        return _page(ctx, 400, error=exc.message, form=form)
    return _page(ctx, created={"id": hook.id, "secret": secret})


def remove(ctx: Ctx) -> Response:
    _admin(ctx)
    hook_id = int(ctx.request.path_params["id"])
    webhooks.remove(ctx.ws.session, ctx.ws.tenant_id, hook_id)
    return ctx.redirect(URL, f"Webhook {hook_id} removed.")


def resend(ctx: Ctx) -> Response:
    _admin(ctx)
    new_id = webhooks.replay(ctx.ws.session, ctx.ws.tenant_id, int(ctx.request.path_params["id"]))
    return ctx.redirect(URL, f"Queued again as delivery {new_id}.")


def routes(rt) -> list:
    web = Web(rt)
    page = web.page
    return [
        Route(APPS_URL, page(apps_show), methods=["GET"]),
        Route(APPS_URL, page(apps_register), methods=["POST"]),
        Route(APPS_URL + "/connections/{id:int}/disconnect", page(apps_disconnect), methods=["POST"]),
        Route("/appconnect/", appconnect_entry(web), methods=["GET", "POST"]),
        Route(CONSENT_URL, page(appconnect_consent), methods=["GET"]),
        Route("/appconnect/confirm", appconnect_confirm(web), methods=["POST"]),
        Route(URL, page(show), methods=["GET"]),
        Route(URL, page(add), methods=["POST"]),
        Route(URL + "/{id:int}/remove", page(remove), methods=["POST"]),
        Route(URL + "/deliveries/{id:int}/resend", page(resend), methods=["POST"]),
    ]


# -- Microbizz apps ---------------------------------------------------------------------
APPS_URL = "/api-access/apps"


def _apps_page(ctx: Ctx, status: int = 200, **values) -> Response:
    session, tenant_id = ctx.ws.session, ctx.ws.tenant_id
    return ctx.render(
        "apps.html", status, apps=apps.apps_of(session, tenant_id),
        connections=apps.connections(session, tenant_id), title="Microbizz apps", **values,
    )


def apps_show(ctx: Ctx) -> Response:
    _admin(ctx)
    return _apps_page(ctx)


def apps_register(ctx: Ctx) -> Response:
    _admin(ctx)
    form = {k: str(ctx.form.get(k) or "") for k in ("publicid", "secret", "title")}
    try:
        app = apps.register(ctx.ws.session, ctx.ws.tenant_id, form["publicid"], form["secret"], form["title"])
    except CoreError as exc:
        return _apps_page(ctx, 400, error=exc.message, form={**form, "secret": ""})
    return ctx.redirect(APPS_URL, f"App {app.title} registered.")


def apps_disconnect(ctx: Ctx) -> Response:
    _admin(ctx)
    apps.disconnect(ctx.ws.session, ctx.ws.tenant_id, int(ctx.request.path_params["id"]))
    return ctx.redirect(APPS_URL, "App disconnected; its access token no longer works.")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def appconnect_consent(ctx: Ctx) -> Response:
    """GET /appconnect/?request=...: the app and the hooks it asks for, to confirm."""
    raw = ctx.request.query_params.get("request")
    try:
        wanted = apps.parse_request(raw)
        app = apps.find_app(ctx.ws.session, ctx.ws.tenant_id, wanted["publicid"])
    except CoreError as exc:
        return ctx.web.error_page(ctx, 400, "Cannot connect this app", exc.message)
    response = ctx.render("appconnect.html", app=app, wanted=wanted, raw=raw, title=f"Connect {app.title}")
    # The confirmation ends in a redirect to the app's return URL.
    response.headers["Content-Security-Policy"] = (
        SECURITY_HEADERS["Content-Security-Policy"] + " " + _origin(wanted["returnurl"])
    )
    return response


def appconnect_entry(web: Web):
    """GET or POST /appconnect/ with ``request``: a cross-site entry point, so no
    CSRF token is asked; it only moves the request into the consent page's URL."""

    async def endpoint(request: Request) -> Response:
        raw = request.query_params.get("request")
        if request.method == "POST" and raw is None:
            raw = (await request.form()).get("request")
        if not isinstance(raw, str) or not raw:
            ctx = Ctx(web, request, web.codec.load(request))
            return web.error_page(ctx, 400, "Cannot connect this app", "The request field is missing.")
        return RedirectResponse(CONSENT_URL + "?" + urlencode({"request": raw}), status_code=303)

    return endpoint


def appconnect_confirm(web: Web):
    """POST /appconnect/confirm: negotiate outside any open transaction, then
    store and send the browser to the app's return URL, or say what failed."""

    async def endpoint(request: Request) -> Response:
        session = web.codec.load(request)
        ctx = Ctx(web, request, session, form=dict(await request.form()))
        principal = await run_in_threadpool(signin.session_principal, web.rt.db, session.get("sid"))
        if principal is None:
            response = RedirectResponse("/signin", status_code=303)
        elif not session.csrf_ok(ctx.form.get(CSRF_FIELD)):
            response = web.error_page(ctx, 403, "Form expired", "Reload the app's connect page and try again.")
        else:
            tenant_id, user_id = principal.tenant_id, principal.user_id
            endpoint_url = str(request.base_url).rstrip("/") + "/api/endpoint.php"
            try:
                await run_in_threadpool(
                    apps.connect, web.rt.db, tenant_id, user_id, ctx.form.get("request"), endpoint_url,
                )
            except (CoreError, apps.ConnectFailed) as exc:
                reason = exc.reason if isinstance(exc, apps.ConnectFailed) else exc.message
                response = web.error_page(ctx, 400, "The app was not connected", reason)
            else:
                response = RedirectResponse(apps.parse_request(ctx.form.get("request"))["returnurl"], status_code=303)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        web.codec.save(request, response, session)
        return response

    return endpoint


CONSENT_URL = "/appconnect/consent"


def customer_tabs(ctx: Ctx, customer) -> list[dict[str, str]]:
    """The connected apps' tabs for a customer page (a fresh session token each view)."""
    return apps.customer_tabs(ctx.rt.db, ctx.ws.tenant_id, ctx.user.id, customer.id, customer.number)


def allow_frames(response: Response, tabs: list[dict[str, str]]) -> Response:
    """Let the customer page frame its apps' tab URLs (and nothing else)."""
    if tabs:
        origins = sorted({_origin(t["src"]) for t in tabs})
        response.headers["Content-Security-Policy"] = (
            SECURITY_HEADERS["Content-Security-Policy"] + "; frame-src " + " ".join(origins)
        )
    return response
