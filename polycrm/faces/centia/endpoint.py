"""The centiaCRM v1 endpoint: HTTP, bearer authentication, routing, the envelope.

A request is routed to its :class:`~polycrm.faces.centia.table.Method`
(lenient about the URL and the method name), the bearer token is checked, the
profile too, the parameters are parsed and the handler's answer is wrapped in
the centia envelope; a core error becomes ``success: false``. See
docs/centiacrm.md for every choice made here.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import JSONResponse

from polycrm.core import auth, profiles
from polycrm.core.errors import CoreError
from polycrm.core.models import User
from polycrm.faces import json_errors
from polycrm.faces.centia.modules._common import Call
from polycrm.faces.centia.table import METHODS, MODULES, PROFILE, Method
from polycrm.faces.centia.wire import ApiError, AuthError, EnvelopeError, failure, parse, success
from polycrm.sandbox import journal

log = logging.getLogger(__name__)

# Every spelling of a module slug a client may use, folded to lower case.
MODULE_ALIASES = {
    **{m: m for m in MODULES},
    "profile": "profiles",
    "company": "companies",
    "contact": "contacts",
    "product": "products",
    "opportunity": "opportunities",
    "ticket": "tickets",
}
BY_MODULE: dict[str, dict[str, Method]] = {}
BY_NAME: dict[str, list[Method]] = {}
for _m in METHODS:
    BY_MODULE.setdefault(_m.module, {})[_m.name.casefold()] = _m
    BY_NAME.setdefault(_m.name.casefold(), []).append(_m)


class ModuleConvertor(Convertor):
    """Matches a module slug in any case (used where the path has no /api/v1 prefix)."""

    regex = "(?i:" + "|".join(sorted(MODULE_ALIASES, key=len, reverse=True)) + ")"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("centia_module", ModuleConvertor())


def module_of(slug: str | None) -> str | None:
    if slug is None:
        return None
    module = MODULE_ALIASES.get(slug.strip().strip("/").casefold())
    if module is None:
        raise ApiError(f"unknown module: {slug}", 404)
    return module


def resolve(slug: str | None, method_name: Any) -> Method:
    """The method a request names: by URL module and method, ``Module.Method``, or a unique bare name."""
    if not isinstance(method_name, str) or not method_name.strip():
        raise EnvelopeError("missing method")
    module = module_of(slug)
    name = method_name.strip()
    if "." in name:
        dotted_module, _, name = name.rpartition(".")
        dotted = module_of(dotted_module)
        if module is not None and dotted != module:
            raise EnvelopeError(f"method {method_name} does not belong to module {module}")
        module = dotted
    key = name.casefold()
    if module is not None:
        found = BY_MODULE[module].get(key)
        if found is None:
            raise EnvelopeError(f"unknown method: {name} in module {module}")
        return found
    candidates = BY_NAME.get(key, [])
    if not candidates:
        raise EnvelopeError(f"unknown method: {name}")
    if len(candidates) > 1:
        modules = ", ".join(c.module for c in candidates)
        raise EnvelopeError(f"method {name} exists in several modules ({modules}); name the module")
    return candidates[0]


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "").strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    if scheme.casefold() == "bearer":
        return rest.strip() or None
    return header if " " not in header else None


def _with_surrogates(raw: bytes, exc: orjson.JSONDecodeError) -> Any:
    """A body orjson refused only for a lone surrogate, decoded after all, so
    that the core's text check refuses the field naming it (``name must be
    valid Unicode text``), as centiaCRM's own validation names fields. The
    standard decoder is used for this one case; its recursion limit is
    caught (orjson, which would have said "too deep", stopped at the surrogate)."""
    if "surrogate" not in str(exc) or b"\\u" not in raw:
        raise EnvelopeError(json_errors.message("request body is not valid JSON", exc)) from None
    try:
        return json.loads(raw)
    except RecursionError:
        raise EnvelopeError(f"request body is not valid JSON: it is nested deeper than {json_errors.MAX_DEPTH} levels") from None
    except ValueError:
        raise EnvelopeError(json_errors.message("request body is not valid JSON", exc)) from None


class CentiaApi:
    def __init__(self, rt: Any):
        self.rt = rt

    async def endpoint(self, request: Request) -> JSONResponse:
        try:
            if request.method != "POST":
                raise ApiError("use POST with a JSON body", 405)
            body = await self._body(request)
            method = resolve(request.path_params.get("module"), body.get("method"))
            raw = self._parameters(body.get("parameters"))
            # The database work is synchronous: keep it off the event loop.
            answer = await run_in_threadpool(self.dispatch, request, method, raw)
            return JSONResponse(success(answer))
        except ApiError as exc:
            return JSONResponse(failure(exc.message), status_code=exc.status, headers=exc.headers)
        except CoreError as exc:
            return JSONResponse(failure(exc.message))
        except Exception:
            log.exception("centia request failed")
            return JSONResponse(failure("internal error"), status_code=500)

    async def _body(self, request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw.strip():
            raise EnvelopeError("empty request body; send {\"method\": ..., \"parameters\": {...}}")
        try:
            # orjson: no recursion limit to hit (it refuses past 1024 levels).
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            body = _with_surrogates(raw, exc)
        if not isinstance(body, dict):
            raise EnvelopeError("request body must be a JSON object")
        return body

    def _parameters(self, raw: Any) -> dict[str, Any]:
        if raw is None or raw == [] or raw == "":
            return {}
        if not isinstance(raw, dict):
            raise EnvelopeError("parameters must be an object")
        return raw

    def dispatch(self, request: Request, method: Method, raw: dict[str, Any]) -> dict[str, Any]:
        token = bearer(request) if method.auth else None
        principal = auth.resolve_token(self.rt.db, auth.CENTIA_TOKEN, token) if token else None
        journal.note("centia", principal, f"{method.module}.{method.name}", writes=method.writes)
        if method.auth and principal is None:
            journal.refused_token(self.rt.db, "centia", auth.CENTIA_TOKEN, token, f"{method.module}.{method.name}")
            raise AuthError()
        if method.on_credentials:
            address = request.client.host if request.client else None
            return method.handler(self.rt, parse(raw, method.params), token, address)
        with self.rt.workspace(principal, write=method.writes) as ws:
            user = ws.get(User, principal.user_id)
            if user is None or user.deleted or not user.active:
                raise AuthError()
            profile = None
            if method.takes_profile:
                profile_id = parse(raw, (PROFILE,))["profile_id"]
                profile = profiles.require_access(ws, user.id, profile_id)
            return method.handler(Call(ws, principal, profile, parse(raw, method.params)))
