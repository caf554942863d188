"""Request size limits, enforced before any face reads the request.

:class:`LimitsMiddleware` wraps the whole application. It refuses

- a request line (path and query) longer than ``max_url_bytes``: 414;
- request headers longer than ``max_header_bytes`` in total: 431;
- a body longer than ``max_body_bytes``: 413, told by ``Content-Length``
  before a byte of it is read; a body sent without a length (chunked) is
  read only up to the limit, so no request costs more memory than that.

Each refusal is said in the error format of the API the path belongs to
(:func:`refusal_for`): the Microbizz envelope (HTTP 200, ``status`` 0), the
Cirrus Flask-RESTX ``{"message": ...}``, OAuth's ``{"error": ...}``, the
centiaCRM ``success: false`` envelope, plain text for the web pages.
The limits come from :class:`~polycrm.config.Settings`; docs/limits.md
lists them with the others.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

import orjson
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from polycrm.config import Settings

# status, message -> the response in one API's format
Refusal = Callable[[int, str], Response]

TOO_LARGE, URL_TOO_LONG, HEADERS_TOO_LARGE = 413, 414, 431


def _json(status: int, body: Any) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _cirrus(status: int, message: str) -> Response:
    return _json(status, {"message": message})


def _oauth(status: int, message: str) -> Response:
    return _json(status, {"error": "invalid_request", "error_description": message})


def _centia(status: int, message: str) -> Response:
    from polycrm.faces.centia.wire import failure

    return _json(status, failure(message))


def _web(status: int, message: str) -> Response:
    return PlainTextResponse(message, status_code=status)


def refusal_for(settings: Settings, microbizz: Refusal) -> Callable[[Scope], Refusal]:
    """Which API's format a request's refusal takes, by its path."""
    from polycrm.faces.centia.endpoint import MODULE_ALIASES

    cirrus_prefix = settings.cirrus_prefix.rstrip("/") + "/"

    def pick(scope: Scope) -> Refusal:
        path: str = scope.get("path", "")
        if path == "/api/endpoint.php":
            return microbizz
        if path.startswith(cirrus_prefix) or path == cirrus_prefix.rstrip("/"):
            return _cirrus
        if path.startswith("/oauth/"):
            return _oauth
        if path.startswith("/api/"):
            return _centia
        if scope.get("method") == "POST" and path.strip("/").casefold() in MODULE_ALIASES:
            return _centia  # centiaCRM's bare POST /{module}
        return _web

    return pick


class LimitsMiddleware:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, *, settings: Settings, refusal: Callable[[Scope], Refusal]):
        self.app = app
        self.max_body = settings.max_body_bytes
        self.max_url = settings.max_url_bytes
        self.max_headers = settings.max_header_bytes
        self.refusal = refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        url = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string") or b"")
        if url > self.max_url:
            await self.refuse(scope, send, URL_TOO_LONG, f"The request URL is longer than {self.max_url} bytes")
            return
        headers = scope.get("headers") or []
        if sum(len(name) + len(value) + 4 for name, value in headers) > self.max_headers:
            await self.refuse(scope, send, HEADERS_TOO_LARGE,
                              f"The request headers are larger than {self.max_headers} bytes")
            return
        too_large = f"The request body is larger than {self.max_body} bytes (the limit of this server)"
        length = _content_length(headers)
        if length is not None:
            if length > self.max_body:
                await self.refuse(scope, send, TOO_LARGE, too_large)
                return
            await self.app(scope, receive, send)
            return
        if not _has_body(headers):
            await self.app(scope, receive, send)
            return
        # A body of unknown length: read it up to the limit, then hand it on.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            size += len(message.get("body", b""))
            if size > self.max_body:
                await self.refuse(scope, send, TOO_LARGE, too_large)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def refuse(self, scope: Scope, send: Send, status: int, message: str) -> None:
        response = self.refusal(scope)(status, message)
        # The unread body stays on the wire: this connection cannot be reused.
        response.headers["connection"] = "close"

        async def no_body() -> Message:
            return {"type": "http.disconnect"}

        await response(scope, no_body, send)


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(name.lower() == b"transfer-encoding" for name, _ in headers)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


HTTP_PARSERS = ("httptools", "h11")


def uvicorn_options(settings: Settings, http: str = "httptools") -> dict[str, Any]:
    """uvicorn settings that let a too-long URL or header reach the middleware.

    Each parser holds a request head in memory until it is complete; both are
    bounded at four times the limits, so a head somewhat past them is still
    answered (414/431 by the middleware) and a longer one gets a 400 and a
    closed connection. h11 has such a buffer of its own (16 KiB by default,
    below the limits: it closed the connection without an answer), made larger
    here; httptools has none, so :class:`BoundedHttpToolsProtocol` adds it.
    httptools is the default: it parses in C and costs less per request than
    h11 (docs/benchmarks.md); h11 stays selectable (``polycrm serve --http h11``).
    """
    if http not in HTTP_PARSERS:
        raise ValueError(f"http must be one of {', '.join(HTTP_PARSERS)}")
    return {"http": "polycrm.http_limits:BoundedHttpToolsProtocol" if http == "httptools" else "h11",
            "h11_max_incomplete_event_size": 4 * (settings.max_url_bytes + settings.max_header_bytes)}


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is a dependency; without it only h11 serves
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

URL_PARSER_MAX = 65535

if HttpToolsProtocol is not None:

    class BoundedHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[misc,valid-type]
        """uvicorn's httptools protocol with a bound on the request head.

        The bytes received while a head is incomplete are counted (from the
        first byte after the previous request up to the end of the headers);
        past ``h11_max_incomplete_event_size`` (the bound h11 applies, see
        :func:`uvicorn_options`) the request gets a 400 and the connection is
        closed, as h11 does, instead of the parser buffering without end.

        httptools' URL parser also refuses a request target longer than
        65,535 bytes (a 400 before any limit is checked); such a target in
        origin form (``/path?query``) is split here, so the middleware's 414
        (or the request, under a larger ``POLYCRM_MAX_URL_BYTES``) follows as
        under h11."""

        def __init__(self, config, *args, **kwargs):
            super().__init__(config, *args, **kwargs)
            self.head_bound = config.h11_max_incomplete_event_size
            self.head_bytes = 0
            self.reading_head = True

        def data_received(self, data: bytes) -> None:
            if self.reading_head:
                self.head_bytes += len(data)
                if self.head_bytes > self.head_bound:
                    self.reading_head = False
                    self.send_400_response("The request head is too large.")
                    return
            super().data_received(data)

        def on_headers_complete(self) -> None:
            self.reading_head = False
            self.head_bytes = 0
            target = self.url
            if len(target) <= URL_PARSER_MAX or not target.startswith(b"/"):
                super().on_headers_complete()
                return
            raw_path, _, query = target.split(b"#", 1)[0].partition(b"?")
            self.url = b"/"
            super().on_headers_complete()
            # The cycle holds this scope and its task has not run yet.
            path = raw_path.decode("ascii", "replace")
            self.scope["path"] = self.root_path + (urllib.parse.unquote(path) if "%" in path else path)
            self.scope["raw_path"] = self.root_path.encode("ascii") + raw_path
            self.scope["query_string"] = query

        def on_message_complete(self) -> None:
            self.reading_head = True
            super().on_message_complete()
