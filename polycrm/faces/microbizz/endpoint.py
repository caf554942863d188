"""``/api/endpoint.php``: parse the envelope, authenticate, run the batch.

The envelope travels in a parameter ``json``: in the query string (GET, or
POST with an empty body), in a urlencoded or multipart POST body, or as a raw
JSON body. Every answer is HTTP 200 with a JSON envelope; failures are
``status`` 0 with a ``msg``, at the top for the envelope and per command.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from polycrm.core import auth, throttle
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
        max_rows, max_bytes = self.rt.settings.microbizz_max_rows, self.rt.settings.microbizz_max_bytes
        results: list[bytes] = []
        rows = size = 0
        # Display names fetched by one command serve the next ones, until a
        # command that writes may have renamed something.
        names: dict[str, dict[int, str]] = {}
        refused: str | None = None
        with self.rt.workspace(principal, write=writes) as ws:
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
        return results, refused

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


def core_message(exc: CoreError) -> str:
    """A core error in the Microbizz voice: name the field where there is one."""
    text = exc.message
    if exc.field and text.startswith(exc.field + " "):
        return f"Invalid value for {exc.field}: {text[len(exc.field) + 1:]}"
    return text[:1].upper() + text[1:]
