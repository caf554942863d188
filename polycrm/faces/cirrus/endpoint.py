"""The Cirrus endpoint: HTTP, authentication, masks, the envelope, core errors as Flask-RESTX errors.

Every served operation is matched by its own path and by each alias, with
and without a trailing slash (no redirects). A path that matches but with a
method the table does not list gets 405 with an ``Allow`` header; OPTIONS
answers with the same header and HEAD runs GET without the body, as Flask
does. A request runs in one workspace (one transaction): a handler that
fails leaves nothing behind.

A GET or HEAD that only reads answers with a weak ``ETag`` made of the
tenant's change revision (core/revision.py) and everything else the answer
depends on (credential and user, path and query, ``X-Fields``, today's date);
a request whose ``If-None-Match`` holds it gets 304 without running the
handler (docs/cirrus2.md, "Conditional GETs").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from polycrm.core import auth, revision
from polycrm.core import query as q
from polycrm.core.errors import CoreError
from polycrm.faces import json_errors
from polycrm.faces.answers import Answers, budget_from_environment
from polycrm.faces.cirrus import wire
from polycrm.faces.cirrus.errors import ApiError, core_error
from polycrm.faces.cirrus.handlers import Call
from polycrm.faces.cirrus.mask import MaskError, apply_mask, parse_mask
from polycrm.faces.cirrus.operations import SENT_NULL, Operation, all_paths, methods
from polycrm.faces.cirrus.views import Ctx
from polycrm.sandbox import journal

NOT_FOUND = (
    "The requested URL was not found on the server. If you entered the URL manually please check "
    "your spelling and try again."
)
NOT_ALLOWED = "The method is not allowed for the requested URL."
UNAUTHORIZED = "Missing or invalid credentials: send X-Token or Authorization: Bearer <token>"
BAD_JSON = "Failed to decode JSON object: the request body is not valid JSON"
MAX_BODY = 64 * 1024 * 1024
MAX_MASK = 2000


def entity_tag(revision_: int, principal: auth.Principal, request: Request, mask: str | None) -> str:
    """The weak ETag of a read-only GET: the same while the tenant's data and
    the request are. The dates are in it for answers that depend on the day
    (key figures, a call's default day), in UTC and in the server's zone."""
    # The path and query straight from the ASGI scope: building request.url
    # for them cost a fifth of the tag.
    scope = request.scope
    text = "\0".join(map(str, (principal.tenant_id, principal.credential_id, principal.user_id,
                                dt.datetime.now(dt.UTC).date(), dt.date.today(), scope.get("root_path", ""),
                                scope["path"], "" if mask is None else mask)))
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12)
    digest.update(b"\0" + scope.get("query_string", b""))
    return f'W/"{revision_}-{digest.hexdigest()}"'


def none_match(header: str | None, tag: str) -> bool | None:
    """Whether ``If-None-Match`` names ``tag`` (weak comparison); None for ``*``
    (any current answer matches, so the handler must say whether there is one)."""
    if header is None:
        return False
    if header.strip() == "*":
        return None
    opaque = tag[2:]
    for candidate in header.split(","):
        candidate = candidate.strip()
        candidate = candidate.removeprefix("W/")
        if candidate == opaque:
            return True
    return False


def json_response(status: int, body: Any, headers: dict[str, str] | None = None, *, head: bool = False) -> Response:
    content = b"" if head else orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    return Response(content, status_code=status, media_type="application/json", headers=headers)


@dataclass
class Route:
    pattern: re.Pattern
    # method -> operation
    operations: dict[str, Operation]
    # The path's first segment, None when it is a parameter (see Face.match).
    first: str | None = None

    @property
    def allow(self) -> str:
        methods = list(self.operations)
        if "GET" in methods:
            methods.append("HEAD")
        methods.append("OPTIONS")
        return ", ".join(methods)


def compile_path(path: str) -> re.Pattern:
    """``/accounts/{id}`` -> a regex; every path parameter is an unsigned int,
    except the ``…_type`` ones (a mission connection type, an object relation type)."""
    out = ""
    for part in re.split(r"(\{[^}]+\})", path.rstrip("/")):
        if part.startswith("{"):
            name = part[1:-1]
            out += rf"(?P<{name}>[a-z_]+)" if name.endswith("_type") else rf"(?P<{name}>[0-9]+)"
        else:
            out += re.escape(part)
    return re.compile("^" + out + r"/?\Z")


def build_routes(operations: list[Operation], paths_of) -> list[Route]:
    by_path: dict[str, dict[str, Operation]] = {}
    for operation in operations:
        for path in paths_of(operation.op):
            for method in operation_methods(operation):
                by_path.setdefault(path.rstrip("/") or "/", {}).setdefault(method, operation)
    routes = [Route(compile_path(path), ops, _first_literal(path)) for path, ops in by_path.items()]
    # Literal segments win over parameters (``/accounts/follow`` before ``/accounts/{id}``).
    routes.sort(key=lambda r: r.pattern.pattern.count("(?P<"))
    return routes


def _first_segment(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0]


def _first_literal(path: str) -> str | None:
    first = _first_segment(path)
    return None if "{" in first else first


def operation_methods(operation: Operation) -> list[str]:
    return methods(operation.op)


class Face:
    """The Cirrus face of one runtime."""

    def __init__(self, rt, operations: list[Operation]):
        self.rt = rt
        self.operations = operations
        self.routes = build_routes(operations, all_paths)
        self.answers = Answers(budget_from_environment())
        # The routes a path can match, by its first segment, in the order of
        # self.routes: a request tries a handful of patterns, not every one.
        anywhere = [r for r in self.routes if r.first is None]
        self.by_first: dict[str, list[Route]] = {}
        for first in {r.first for r in self.routes if r.first is not None}:
            self.by_first[first] = [r for r in self.routes if r.first in (first, None)]
        self.anywhere = anywhere

    def match(self, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.by_first.get(_first_segment(path), self.anywhere):
            m = route.pattern.match(path)
            if m:
                return route, m.groupdict()
        return None

    # -- authentication ------------------------------------------------------
    def principal(self, request: Request) -> auth.Principal | None:
        token = request.headers.get("x-token", "").strip()
        if token:
            found = auth.resolve_token(self.rt.db, auth.CIRRUS_XTOKEN, token)
            if found is not None:
                return found
        scheme, _, credentials = request.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return auth.resolve_token(self.rt.db, auth.CIRRUS_BEARER, credentials.strip())
        return None

    def journal_refused(self, request: Request, operation_id: str) -> None:
        """Journal a 401 under the tenant whose (expired or revoked) token it carried."""
        token = request.headers.get("x-token", "").strip()
        scheme, _, credentials = request.headers.get("authorization", "").strip().partition(" ")
        if token:
            journal.refused_token(self.rt.db, "cirrus", auth.CIRRUS_XTOKEN, token, operation_id)
        if scheme.lower() == "bearer" and credentials.strip() and not (journal.noted_principal() or {}).get("tenant_id"):
            journal.refused_token(self.rt.db, "cirrus", auth.CIRRUS_BEARER, credentials.strip(), operation_id)

    # -- dispatch --------------------------------------------------------------
    async def __call__(self, request: Request) -> Response:
        path = request.path_params.get("cirrus_path", "")
        method = request.method.upper()
        found = self.match(path)
        if found is None:
            return json_response(404, {"message": NOT_FOUND})
        route, raw_params = found
        if method == "OPTIONS":
            return Response(status_code=200, headers={"Allow": route.allow})
        head = method == "HEAD"
        operation = route.operations.get("GET" if head else method)
        if operation is None:
            return json_response(405, {"message": NOT_ALLOWED}, {"Allow": route.allow})
        try:
            body = await self.read_body(request, operation) if not head and method in ("POST", "PUT") else None
            if method in ("GET", "HEAD") and self.rt.db.engine.dialect.name == "sqlite":
                if operation.inline:
                    # A record by its id is a few indexed reads that never wait for a lock
                    # (SQLite WAL): cheaper on the event loop than the thread hand-over.
                    return self.handle(request, operation, raw_params, body, head)
                if not operation.binding.writes:
                    kept = self.kept_answer(request, operation, head)
                    if kept is not None:
                        return kept
            return await run_in_threadpool(self.handle, request, operation, raw_params, body, head)
        except ApiError as exc:
            return json_response(exc.status, exc.body(), exc.headers or None, head=head)

    def kept_answer(self, request: Request, operation: Operation, head: bool) -> Response | None:
        """A GET repeated while the tenant's data is unchanged, answered on the event
        loop from the answers kept by ETag (SQLite: two indexed reads, the token and
        the revision, instead of the thread hand-over and a read workspace). Only a
        200 is ever kept, so the same tag was valid input before; anything else (no
        valid credentials, If-None-Match, nothing kept) goes the usual way."""
        if not self.answers.budget or request.headers.get("if-none-match") is not None:
            return None
        principal = self.principal(request)
        if principal is None:
            return None
        tag = entity_tag(revision.stored(self.rt.db, principal.tenant_id), principal, request,
                         request.headers.get("x-fields"))
        kept = self.answers.get(tag)
        if kept is None:
            return None
        journal.note("cirrus", principal, operation.operation_id)
        return Response(b"" if head else kept, status_code=200, media_type="application/json",
                        headers={"ETag": tag})

    async def read_body(self, request: Request, operation: Operation) -> Any:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise ApiError(413, "The request body is too large")
        if not raw.strip():
            return None
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ApiError(400, json_errors.message(BAD_JSON, exc)) from None
        return SENT_NULL if body is None else body

    def handle(self, request: Request, operation: Operation, raw_params: dict[str, str], body: Any,
               head: bool) -> Response:
        principal = self.principal(request)
        if principal is None:
            self.journal_refused(request, operation.operation_id)
            raise ApiError(401, UNAUTHORIZED, headers={"WWW-Authenticate": 'Bearer realm="cirrus"'})
        journal.note("cirrus", principal, operation.operation_id)
        path_values: dict[str, Any] = {}
        for name, text in raw_params.items():
            if name.endswith("_type"):
                path_values[name] = text
                continue
            value = int(text)
            if value > wire.INT_MAX:
                raise ApiError(404, NOT_FOUND)
            path_values[name] = value
        multi: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            multi.setdefault(key, []).append(value)
        query = operation.parse_query(multi)
        mask = None
        if operation.op.get("x_fields"):
            header = request.headers.get("x-fields")
            if header is not None:
                if len(header) > MAX_MASK:
                    raise ApiError(400, f"Mask parse error: the mask is longer than {MAX_MASK} characters")
                try:
                    mask = parse_mask(header)
                except MaskError as exc:
                    raise ApiError(400, exc.message) from None
        body = operation.validate_body(body)
        write = request.method.upper() not in ("GET", "HEAD") or operation.binding.writes
        tag = None
        try:
            with self.rt.workspace(principal, write=write) as ws:
                if not write:
                    # The revision before any data is read (core/revision.py).
                    tag = entity_tag(revision.current(ws), principal, request, request.headers.get("x-fields"))
                    matched = none_match(request.headers.get("if-none-match"), tag)
                    if matched:
                        return Response(status_code=304, headers={"ETag": tag})
                    kept = self.answers.get(tag) if matched is False else None
                    if kept is not None:
                        return Response(b"" if head else kept, status_code=200, media_type="application/json",
                                        headers={"ETag": tag})
                ctx = Ctx(ws=ws, loader=q.Loader(ws), user_id=principal.user_id, mask=mask)
                call = Call(op=operation.op, ctx=ctx, path=path_values, query=query, body=body)
                result = operation.binding.handler(call)
            if mask is not None and not ctx.masked:
                result = apply_mask(result, mask)
        except CoreError as exc:
            raise core_error(exc) from None
        except MaskError as exc:
            # Raised while rendering through the mask (the generic handlers) or
            # applying it to the answer: the data does not fit it.
            raise ApiError(400, exc.message) from None
        if tag is None:
            return json_response(200, result, head=head)
        if matched is None:  # If-None-Match: * and there is a current answer
            return Response(status_code=304, headers={"ETag": tag})
        if head:
            return json_response(200, result, {"ETag": tag}, head=True)
        content = orjson.dumps(result, option=orjson.OPT_NON_STR_KEYS)
        self.answers.put(tag, content)
        return Response(content, status_code=200, media_type="application/json", headers={"ETag": tag})

