"""The sandbox page under API access: snapshots, the request journal, faults and limits.

``/api-access/sandbox`` shows each, for tenant admins only, and its forms call
the same services as the admin API. Those services run in transactions of
their own, so a form handler first ends the page's unit of work (which holds
SQLite's write lock for a POST and has written nothing).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response
from starlette.routing import Route

from polycrm.core.errors import CoreError, Forbidden, Invalid
from polycrm.sandbox import journal, middleware, snapshots, traffic
from polycrm.web.handler import Ctx, Web

URL = "/api-access/sandbox"
FILTERS = ("api", "operation", "status")


def _admin(ctx: Ctx) -> None:
    if not ctx.user.is_admin:
        raise Forbidden("Only a tenant administrator can use the sandbox tools.")


def _free(ctx: Ctx) -> None:
    """End the page's own transaction before a sandbox service opens its own."""
    ctx.ws.session.commit()


def _pretty(text: str) -> str:
    try:
        return orjson.dumps(orjson.loads(text), option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONDecodeError:
        return text


def _page(ctx: Ctx, status: int = 200, **values: Any) -> Response:
    db, tenant_id = ctx.web.rt.db, ctx.ws.tenant_id
    params = ctx.request.query_params
    filters = {k: params[k] for k in FILTERS if params.get(k)}
    middleware.writer_for(ctx.web.rt).flush()
    try:
        page = journal.entries(db, tenant_id, {**filters, "limit": "100"})
    except Invalid as exc:
        page, values["journal_error"] = {"entries": []}, exc.message
    shown = None
    if params.get("entry", "").isdigit():
        found = journal.entries(db, tenant_id, {"before": str(int(params["entry"]) + 1), "limit": "1"})["entries"]
        if found and found[0]["id"] == int(params["entry"]):
            shown = found[0]
            shown["request"]["pretty"] = _pretty(shown["request"]["body"])
            shown["response"]["pretty"] = _pretty(shown["response"]["body"])
    return ctx.render(
        "sandbox.html", status, title="Sandbox",
        snapshots=snapshots.listing(db, tenant_id), entries=page["entries"], shown=shown, filters=filters,
        apis=journal.APIS, rules=traffic.faults(db, tenant_id), limits=traffic.rate_limits(db, tenant_id),
        **values,
    )


def show(ctx: Ctx) -> Response:
    _admin(ctx)
    return _page(ctx)


def _act(ctx: Ctx, action, done: str) -> Response:
    _admin(ctx)
    _free(ctx)
    try:
        action(ctx.web.rt, ctx.ws.tenant_id)
    except CoreError as exc:
        return _page(ctx, 400, error=exc.message)
    return ctx.redirect(URL, done)


def _json_form(ctx: Ctx, name: str) -> Any:
    try:
        return orjson.loads(str(ctx.form.get(name) or ""))
    except orjson.JSONDecodeError:
        raise Invalid(f"the {name} are not valid JSON", name) from None


def snapshot_save(ctx: Ctx) -> Response:
    name = str(ctx.form.get("name") or "")
    return _act(ctx, lambda rt, t: snapshots.save(rt.db, t, snapshots.check_name(name)), f"Saved snapshot {name}.")


def snapshot_restore(ctx: Ctx) -> Response:
    name = ctx.request.path_params["name"]
    return _act(ctx, lambda rt, t: snapshots.restore(rt.db, t, name), f"Restored snapshot {name}.")


def snapshot_delete(ctx: Ctx) -> Response:
    name = ctx.request.path_params["name"]
    return _act(ctx, lambda rt, t: snapshots.remove(rt.db, t, name), f"Deleted snapshot {name}.")


def reset(ctx: Ctx) -> Response:
    to = str(ctx.form.get("to") or "")
    return _act(ctx, lambda rt, t: snapshots.reset(rt.db, t, to, rt.blobs), f"Reset to {to}.")


def journal_clear(ctx: Ctx) -> Response:
    def clear(rt, tenant_id):
        middleware.writer_for(rt).flush()
        journal.clear(rt.db, tenant_id)

    return _act(ctx, clear, "Journal cleared.")


def faults_set(ctx: Ctx) -> Response:
    return _act(ctx, lambda rt, t: traffic.set_faults(rt.db, t, _json_form(ctx, "rules")), "Fault rules set.")


def faults_clear(ctx: Ctx) -> Response:
    return _act(ctx, lambda rt, t: traffic.clear_faults(rt.db, t), "Fault rules cleared.")


def limits_set(ctx: Ctx) -> Response:
    return _act(ctx, lambda rt, t: traffic.set_limits(rt.db, t, _json_form(ctx, "limits")), "Rate limits set.")


def limits_clear(ctx: Ctx) -> Response:
    return _act(ctx, lambda rt, t: traffic.clear_limits(rt.db, t), "Rate limits cleared.")


def routes(rt) -> list:
    page = Web(rt).page
    post = ["POST"]
    return [
        Route(URL, page(show), methods=["GET"]),
        Route(URL + "/snapshots", page(snapshot_save), methods=post),
        Route(URL + "/snapshots/{name}/restore", page(snapshot_restore), methods=post),
        Route(URL + "/snapshots/{name}/delete", page(snapshot_delete), methods=post),
        Route(URL + "/reset", page(reset), methods=post),
        Route(URL + "/journal/clear", page(journal_clear), methods=post),
        Route(URL + "/faults", page(faults_set), methods=post),
        Route(URL + "/faults/clear", page(faults_clear), methods=post),
        Route(URL + "/limits", page(limits_set), methods=post),
        Route(URL + "/limits/clear", page(limits_clear), methods=post),
    ]
