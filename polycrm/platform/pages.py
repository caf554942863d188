"""Web pages under API access: webhooks and their delivery log.

``/api-access/webhooks`` lists the tenant's hooks and recent deliveries, adds
a hook (its secret is shown once, on the page that answers the form),
removes one and resends a delivery. Tenant admins only.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from polycrm.core.errors import CoreError, Forbidden
from polycrm.platform import webhooks
from polycrm.web.handler import Ctx, Web

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
    page = Web(rt).page
    return [
        Route(URL, page(show), methods=["GET"]),
        Route(URL, page(add), methods=["POST"]),
        Route(URL + "/{id:int}/remove", page(remove), methods=["POST"]),
        Route(URL + "/deliveries/{id:int}/resend", page(resend), methods=["POST"]),
    ]
