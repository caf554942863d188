"""``/api/endpoint.php``: parse the envelope, authenticate, run the batch.

The envelope travels in a parameter ``json``: in the query string (GET, or
POST with an empty body), in a urlencoded or multipart POST body, or as a raw
JSON body. Every answer is HTTP 200 with a JSON envelope; failures are
``status`` 0 with a ``msg``, at the top for the envelope and per command.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from polycrm.core import auth, revision, throttle
from polycrm.core.errors import CoreError
from polycrm.core.workspace import Workspace
from polycrm.faces import json_errors
from polycrm.faces.microbizz import table, wire
from polycrm.faces.microbizz.commands import Call
from polycrm.faces.microbizz.fields import RenderContext
from polycrm.platform import outbox
from polycrm.runtime import Runtime
from polycrm.sandbox import journal

log = logging.getLogger("polycrm.microbizz")

MAX_COMMANDS = 1000
# Next sync pages made ahead and not yet asked for, at most (one per sync in progress).
PREPARED_PAGES = 4


class EnvelopeError(Exception):
    def __init__(self, msg: str):
        super().__init__(msg)
        self.msg = msg


class ResponseTooLarge(Exception):
    """A batch whose answer would pass the response limits."""

    def __init__(self, max_rows: int, max_bytes: int):
        self.msg = (
            f"Response too large: the commands of this request return more than {max_rows} records or "
            f"{max_bytes} bytes; send fewer commands per request and fetch ...ByLastChange syncs "
            "page by page with resumekey"
        )
        super().__init__(self.msg)


class JSONResponse(Response):
    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def read_envelope_text(request: Request, max_part_size: int) -> str:
    """Find the ``json`` parameter wherever the client put it."""
    if request.method == "POST":
        content_type = request.headers.get("content-type", "").lower()
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            try:
                # Files up to the body limit (the middleware's), not the parser's 1 MB default.
                form = await request.form(max_part_size=max_part_size)
            except HTTPException as exc:
                raise EnvelopeError(f"Invalid request: {exc.detail}") from None
            value = form.get("json")
            if value is not None:
                return value if isinstance(value, str) else (await value.read()).decode("utf-8")
        else:
            body = (await request.body()).strip()
            if body[:1] in (b"{", b"["):
                return body.decode("utf-8")
            if body.startswith(b"json="):
                values = parse_qs(body.decode("utf-8"), keep_blank_values=True).get("json")
                if values:
                    return values[0]
    value = request.query_params.get("json")
    if value is None:
        raise EnvelopeError("Invalid request: no json parameter")
    return value


def parse_envelope(text: str) -> dict[str, Any]:
    try:
        envelope = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise EnvelopeError(json_errors.message("Invalid request: the json parameter is not valid JSON", exc)) from None
    if not isinstance(envelope, dict):
        raise EnvelopeError("Invalid request: the envelope must be a JSON object")
    return envelope


class MicrobizzAPI:
    def __init__(self, rt: Runtime):
        self.rt = rt
        self.clock = wire.Clock(rt.settings.timezone)
        self.pages = NextPages(self, PREPARED_PAGES) if rt.settings.microbizz_prepare_pages else None

    async def __call__(self, request: Request) -> Response:
        try:
            envelope = parse_envelope(await read_envelope_text(request, self.rt.settings.max_body_bytes))
        except UnicodeDecodeError:
            return self.failure("Invalid request: the json parameter is not UTF-8")
        except EnvelopeError as exc:
            return self.failure(exc.msg)
        address = request.client.host if request.client else None
        return await run_in_threadpool(self.handle, envelope, address)

    # -- envelope ------------------------------------------------------------
    def stamp(self, body: dict[str, Any]) -> JSONResponse:
        now = self.clock.now()
        body["date"] = now.strftime("%Y-%m-%d")
        body["time"] = now.strftime("%H:%M:%S")
        return JSONResponse(body)

    def failure(self, msg: str) -> JSONResponse:
        return self.stamp({"status": 0, "msg": msg, "results": []})

    def handle(self, envelope: dict[str, Any], address: str | None = None) -> Response:
        try:
            principal = self.authenticate(envelope, address)
            commands = envelope.get("commands")
            if isinstance(commands, dict):
                commands = [commands]
            if not isinstance(commands, list):
                raise EnvelopeError("Invalid request: commands must be a collection of commands")
            if len(commands) > MAX_COMMANDS:
                raise EnvelopeError(f"Invalid request: at most {MAX_COMMANDS} commands per request")
            halt = wire.read_bool(envelope.get("haltonerror"), "haltonerror")
            quiet = wire.read_bool(envelope.get("disable_callbacks"), "disable_callbacks")
        except EnvelopeError as exc:
            return self.failure(exc.msg)
        except wire.CommandError as exc:
            return self.failure(exc.msg)
        try:
            results, refused = self.run(principal, commands, halt, quiet)
        except ResponseTooLarge as exc:
            return self.failure(exc.msg)
        # The results arrive encoded (:meth:`run`): the envelope is put around them as bytes.
        now = self.clock.now()
        tail = orjson.dumps({"date": now.strftime("%Y-%m-%d"), "time": now.strftime("%H:%M:%S")})
        head = b'{"status":1,"msg":"OK","results":[' if refused is None else (
            b'{"status":0,"msg":' + orjson.dumps(refused) + b',"results":[')
        body = b"".join((head, b",".join(results), b"],", tail[1:]))
        del results
        return Response(body, media_type=JSONResponse.media_type)

    def authenticate(self, envelope: Mapping[str, Any], address: str | None = None) -> auth.Principal:
        """Read the contract off the wire; the credential policy is the core's
        (:func:`polycrm.core.auth.microbizz_principal`)."""
        raw_contract = envelope.get("contract")
        if raw_contract in (None, ""):
            raise EnvelopeError("Access denied: missing contract")
        try:
            contract = wire.read_int(raw_contract, "contract")
        except wire.CommandError:
            raise EnvelopeError(f"Access denied: invalid contract {raw_contract!r}") from None
        try:
            return auth.microbizz_principal(
                self.rt.db,
                contract,
                apikey=envelope.get("apikey"),
                username=envelope.get("username"),
                password=envelope.get("password"),
                accesstoken=envelope.get("accesstoken"),
                address=address,
            )
        except (auth.Denied, throttle.Throttled) as exc:
            commands = envelope.get("commands")
            commands = [commands] if isinstance(commands, Mapping) else commands
            names = ([raw.get("command") for raw in commands[:MAX_COMMANDS] if isinstance(raw, Mapping)]
                     if isinstance(commands, list) else None)
            journal.refused("microbizz", exc.claimed, names)
            raise EnvelopeError(f"Access denied: {exc.message}") from None

    # -- batch ---------------------------------------------------------------
    def run(
        self, principal: auth.Principal, commands: list[Any], halt: bool, quiet: bool = False
    ) -> tuple[list[bytes], str | None]:
        """Run a batch in one transaction; each command's result encoded as JSON,
        and the message of the first refused command whose entry fails the envelope
        (``ValidateSessionToken``: the envelope fails with it).

        Results are encoded as they come, so a batch holds its answer once (as
        bytes), not also as objects; past the response limits (rows, bytes:
        docs/limits.md) the batch stops, what it wrote since its last shared
        commit is rolled back, and it fails whole with :class:`ResponseTooLarge`.
        A batch that writes commits between commands when it has held the write
        lock for a slice and others wait (:meth:`Workspace.share_write_lock`).
        """
        journal.note("microbizz", principal, [raw.get("command") for raw in commands if isinstance(raw, Mapping)])
        plan = [(raw, table.find(raw.get("command")) if isinstance(raw, Mapping) else None) for raw in commands]
        writes = any(cmd is not None and cmd.writes for _raw, cmd in plan)
        pages = self.pages if not writes and len(plan) == 1 and plan[0][1] is not None else None
        if pages is not None:
            ready = pages.take(principal, plan[0][0], halt)
            if ready is not None:
                results, refused, next_raw = ready
                pages.prepare(principal, next_raw, halt)
                return results, refused
        results, refused, next_raw, _seen = self.run_plan(principal, plan, writes, halt, quiet)
        if pages is not None:
            pages.prepare(principal, next_raw, halt)
        return results, refused

    def run_plan(
        self, principal: auth.Principal, plan: list[tuple[Any, table.Command | None]], writes: bool, halt: bool,
        quiet: bool = False, *, with_revision: bool = False,
    ) -> tuple[list[bytes], str | None, dict[str, Any] | None, int | None]:
        """:meth:`run` of a planned batch; also the command that asks for the next page of a
        one-command sync (None if there is none) and, ``with_revision``, the tenant's revision
        the batch read (read first, see core/revision.py)."""
        max_rows, max_bytes = self.rt.settings.microbizz_max_rows, self.rt.settings.microbizz_max_bytes
        next_raw: dict[str, Any] | None = None
        seen: int | None = None
        results: list[bytes] = []
        rows = size = 0
        # Display names fetched by one command serve the next ones, until a
        # command that writes may have renamed something.
        names: dict[str, dict[int, str]] = {}
        refused: str | None = None
        with self.rt.workspace(principal, write=writes) as ws:
            if with_revision:
                seen = revision.current(ws)
            if quiet:
                # disable_callbacks: these changes fire no event hook of the sending app.
                ws.session.info[outbox.QUIET_CREDENTIAL] = principal.credential_id
            for raw, cmd in plan:
                writing = cmd is not None and cmd.writes
                result = self.run_one(ws, raw, cmd, None if writing else names)
                if writing:
                    names = {}
                encoded = orjson.dumps(result)
                rows += sum(len(value) for value in result.values() if isinstance(value, list))
                size += len(encoded)
                if rows > max_rows or size > max_bytes:
                    raise ResponseTooLarge(max_rows, max_bytes)
                results.append(encoded)
                if cmd is not None and cmd.fails_envelope and not result["status"] and refused is None:
                    refused = result["msg"]
                if halt and not result["status"]:
                    break
                if writes:
                    # A finished command stands on its own (docs/microbizz.md): a long
                    # batch lets waiting writers in between commands.
                    ws.share_write_lock()
                elif len(plan) == 1 and result["status"] and isinstance(result.get("resumekey"), str):
                    next_raw = {**raw, "resumekey": result["resumekey"]}
        return results, refused, next_raw, seen

    def run_one(
        self, ws: Workspace, raw: Any, cmd: table.Command | None, names: dict[str, dict[int, str]] | None = None
    ) -> dict[str, Any]:
        if not isinstance(raw, Mapping):
            return {"status": 0, "msg": "Invalid command: each command must be an object"}
        if cmd is None:
            name = raw.get("command")
            if name in (None, ""):
                return {"status": 0, "msg": "Invalid command: missing command name"}
            return {"status": 0, "msg": f"Unknown command: {name}"}
        call = Call(cmd.name, cmd.arguments, raw, ws, RenderContext(ws, self.clock, names=names), self.rt.settings)
        try:
            with ws.atomic():
                output = cmd.handler(call)
        except wire.CommandError as exc:
            return {"status": 0, "msg": exc.msg}
        except CoreError as exc:
            return {"status": 0, "msg": core_message(exc)}
        except Exception:
            log.exception("command %s failed", cmd.name)
            return {"status": 0, "msg": f"Internal error while running {cmd.name}"}
        return {"status": 1, **(output or {})}


class NextPages:
    """The next page of a resumekey sync, made while the client reads this one.

    A sync client asks for page N+1 only once it has parsed page N; meanwhile
    one thread of this process runs the command of page N+1 in a read
    workspace of its own, noting the tenant's revision it read. The request for
    that page (same credential and user, same command, same resumekey, and
    either the same other arguments or none) takes it if the tenant's stored
    revision is still the same, so it is what the request would have read
    itself (a page still being made is waited for: the request would do the
    same work). If anything was written meanwhile, or making the page failed,
    the request runs as usual. At most ``size`` pages are kept, the oldest
    dropped first; a page is taken once.

    Under a resumekey a sync command reads its start and its filters from the
    key alone (``commands._shared.sync_page``): ``changedate`` and
    ``changetime`` are not read, so they are left out of the comparison, and a
    request that sends only the key reads what the page was made from.
    """

    IGNORED_UNDER_A_KEY = ("changedate", "changetime")

    def __init__(self, api: MicrobizzAPI, size: int):
        self.api = api
        self.size = size
        self._pages: OrderedDict[tuple, tuple[bytes, Future]] = OrderedDict()
        self._lock = threading.Lock()
        self._maker: ThreadPoolExecutor | None = None

    @classmethod
    def _arguments(cls, raw: Mapping[str, Any]) -> bytes | None:
        """The command's arguments as compared: canonical JSON, without those a key overrides."""
        try:
            return orjson.dumps({k: v for k, v in raw.items() if k not in cls.IGNORED_UNDER_A_KEY},
                                option=orjson.OPT_SORT_KEYS)
        except TypeError:
            return None

    @staticmethod
    def _key(principal: auth.Principal, raw: Mapping[str, Any], halt: bool) -> tuple | None:
        name, resumekey = raw.get("command"), raw.get("resumekey")
        if not isinstance(name, str) or not isinstance(resumekey, str):
            return None
        return (principal.tenant_id, principal.user_id, principal.credential_id, halt, name, resumekey)

    def prepare(self, principal: auth.Principal, raw: dict[str, Any] | None, halt: bool) -> None:
        key = None if raw is None else self._key(principal, raw, halt)
        arguments = None if key is None else self._arguments(raw)
        if arguments is None:
            return
        plan = [(raw, table.find(raw.get("command")))]

        def make() -> tuple[list[bytes], str | None, dict[str, Any] | None, int | None]:
            return self.api.run_plan(principal, plan, False, halt, with_revision=True)

        with self._lock:
            if self._maker is None:
                self._maker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="polycrm-next-page")
            self._pages[key] = (arguments, self._maker.submit(make))
            while len(self._pages) > self.size:
                _key, (_arguments, dropped) = self._pages.popitem(last=False)
                dropped.cancel()

    def take(self, principal: auth.Principal, raw: Any, halt: bool
             ) -> tuple[list[bytes], str | None, dict[str, Any] | None] | None:
        key = self._key(principal, raw, halt) if isinstance(raw, Mapping) else None
        if key is None:
            return None
        with self._lock:
            found = self._pages.pop(key, None)
        if found is None:
            return None
        arguments, page = found
        asked = self._arguments(raw)
        if asked != arguments and asked != self._arguments({"command": key[4], "resumekey": key[5]}):
            return None
        try:
            results, refused, next_raw, seen = page.result()
        except Exception:  # noqa: BLE001 - the request runs the command itself and meets the error there
            return None
        if seen is None or revision.stored(self.api.rt.db, principal.tenant_id) != seen:
            return None
        return results, refused, next_raw


def core_message(exc: CoreError) -> str:
    """A core error in the Microbizz voice: name the field where there is one."""
    text = exc.message
    if exc.field and text.startswith(exc.field + " "):
        return f"Invalid value for {exc.field}: {text[len(exc.field) + 1:]}"
    return text[:1].upper() + text[1:]
