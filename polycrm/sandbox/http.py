"""The admin API under ``/_polycrm/``: a thin HTTP layer over the sandbox services.

Every call takes ``Authorization: Bearer <admin key>`` and acts on that key's
tenant only. Answers are JSON; errors are ``{"error": message}`` with 401 (no
or a wrong key), 400 (bad input), 404 (unknown name) or 409 (conflict).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from polycrm.core.errors import Conflict, CoreError, Invalid, NotFound
from polycrm.sandbox import admin, journal, middleware, snapshots, traffic

PREFIX = "/_polycrm"
STATUS = {Invalid: 400, NotFound: 404, Conflict: 409}


def polycrm_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("polycrm")
    except PackageNotFoundError:
        return "dev"


class BadRequest(Exception):
    """Input the admin API refuses before any service sees it."""


def json_response(value: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status_code=status, media_type="application/json")


def error(message: str, status: int) -> Response:
    return json_response({"error": message}, status)


async def read_any_json(request: Request) -> Any:
    body = await request.body()
    if not body.strip():
        return {}
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest("the body is not valid JSON") from None


async def read_json(request: Request) -> dict[str, Any]:
    """The request's JSON object body (an empty body is an empty object)."""
    value = await read_any_json(request)
    if not isinstance(value, dict):
        raise BadRequest("the body must be a JSON object")
    return value


Handler = Callable[[Request, int], Awaitable[Response]]


def admin_endpoint(rt, handler: Handler):
    """Authenticate by admin key, run the handler for that tenant, map errors."""

    async def endpoint(request: Request) -> Response:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return error("an admin key is required: Authorization: Bearer <admin key>", 401)
        tenant_id = await run_in_threadpool(admin.tenant_of, rt.db, key.strip())
        if tenant_id is None:
            return error("invalid admin key", 401)
        try:
            return await handler(request, tenant_id)
        except BadRequest as exc:
            return error(str(exc), 400)
        except CoreError as exc:
            return error(exc.message, STATUS.get(type(exc), 400))

    return endpoint


def routes(rt) -> list[Route]:
    db = rt.db

    async def snapshot_list(request: Request, tenant_id: int) -> Response:
        return json_response({"snapshots": await run_in_threadpool(snapshots.listing, db, tenant_id)})

    async def snapshot_save(request: Request, tenant_id: int) -> Response:
        body = await read_json(request)
        made = await run_in_threadpool(snapshots.save, db, tenant_id, snapshots.check_name(body.get("name")))
        return json_response(made, 201)

    async def snapshot_delete(request: Request, tenant_id: int) -> Response:
        await run_in_threadpool(snapshots.remove, db, tenant_id, request.path_params["name"])
        return Response(status_code=204)

    async def snapshot_restore(request: Request, tenant_id: int) -> Response:
        done = await run_in_threadpool(snapshots.restore, db, tenant_id, request.path_params["name"])
        return json_response({"restored": done["name"], "rows": done["rows"]})

    async def reset(request: Request, tenant_id: int) -> Response:
        body = await read_json(request)
        done = await run_in_threadpool(snapshots.reset, db, tenant_id, body.get("to"), rt.blobs)
        return json_response({"reset": done["to"]})

    async def journal_list(request: Request, tenant_id: int) -> Response:
        filters = dict(request.query_params)
        as_har = filters.get("format") == "har"
        if filters.get("format") not in (None, "", "har", "json"):
            raise BadRequest("format must be json or har")
        writer = middleware.writer_for(rt)
        await run_in_threadpool(writer.flush)
        page = await run_in_threadpool(journal.entries, db, tenant_id, filters)
        if as_har:
            return json_response(journal.har(page, polycrm_version()))
        return json_response(page)

    async def journal_clear(request: Request, tenant_id: int) -> Response:
        await run_in_threadpool(middleware.writer_for(rt).flush)
        return json_response({"deleted": await run_in_threadpool(journal.clear, db, tenant_id)})

    async def faults_get(request: Request, tenant_id: int) -> Response:
        return json_response({"rules": await run_in_threadpool(traffic.faults, db, tenant_id)})

    async def faults_put(request: Request, tenant_id: int) -> Response:
        body = await read_any_json(request)
        return json_response({"rules": await run_in_threadpool(traffic.set_faults, db, tenant_id, body)})

    async def faults_delete(request: Request, tenant_id: int) -> Response:
        await run_in_threadpool(traffic.clear_faults, db, tenant_id)
        return Response(status_code=204)

    async def limits_get(request: Request, tenant_id: int) -> Response:
        return json_response({"limits": await run_in_threadpool(traffic.rate_limits, db, tenant_id)})

    async def limits_put(request: Request, tenant_id: int) -> Response:
        body = await read_any_json(request)
        return json_response({"limits": await run_in_threadpool(traffic.set_limits, db, tenant_id, body)})

    async def limits_delete(request: Request, tenant_id: int) -> Response:
        await run_in_threadpool(traffic.clear_limits, db, tenant_id, request.query_params.get("api"))
        return Response(status_code=204)

    def route(path: str, handler: Handler, method: str) -> Route:
        return Route(PREFIX + path, admin_endpoint(rt, handler), methods=[method])

    return [
        route("/snapshots", snapshot_list, "GET"),
        route("/snapshots", snapshot_save, "POST"),
        route("/snapshots/{name}", snapshot_delete, "DELETE"),
        route("/snapshots/{name}/restore", snapshot_restore, "POST"),
        route("/reset", reset, "POST"),
        route("/journal", journal_list, "GET"),
        route("/journal", journal_clear, "DELETE"),
        route("/faults", faults_get, "GET"),
        route("/faults", faults_put, "PUT"),
        route("/faults", faults_delete, "DELETE"),
        route("/limits", limits_get, "GET"),
        route("/limits", limits_put, "PUT"),
        route("/limits", limits_delete, "DELETE"),
    ]
