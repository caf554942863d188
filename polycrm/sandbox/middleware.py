"""ASGI middleware that records API requests in the journal (see journal.py)
and answers the requests an injected fault or a rate limit refuses (traffic.py).

It copies what passes through (the request body as the app reads it, the
response as it is sent, each up to the body limit), and hands the entry to
the journal writer just before the last byte of the response goes out, so a
client that asks the journal right after its call finds it. Masking and the
insert happen on the writer's thread, not on the request's path.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
import weakref
from typing import Any

from polycrm.core.models import utcnow
from starlette.concurrency import run_in_threadpool

from polycrm.sandbox import idempotency, journal, masking, traffic

ADMIN_PREFIX = "/_polycrm"
_writers: "weakref.WeakKeyDictionary[Any, journal.Writer]" = weakref.WeakKeyDictionary()


def writer_for(rt) -> journal.Writer:
    """The journal writer of a database (one per process and database)."""
    found = _writers.get(rt.db)
    if found is None:
        found = _writers.setdefault(rt.db, journal.Writer(rt.db, rt.settings.journal_size, masked))
    return found


def masked(raw: dict[str, Any]) -> dict[str, Any]:
    """A raw capture as a journal row: secrets masked, bodies as text."""
    limit = raw.pop("limit")
    request_cut, response_cut = raw.pop("request_cut", False), raw.pop("response_cut", False)
    request_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw.pop("request_headers")]
    response_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw.pop("response_headers")]
    request_type = journal_header(request_headers, "content-type")
    response_type = journal_header(response_headers, "content-type")
    query = raw.pop("query")
    request_body = _text(raw.pop("request_body"), limit)
    host = journal_header(request_headers, "host") or "localhost"
    url = f"{raw.pop('scheme')}://{host}{raw.pop('path')}" + (f"?{masking.form_text(query)}" if query else "")
    return {
        **raw,
        "url": url,
        "request_headers": masking.headers(request_headers),
        "request_body": masking.body(request_body, request_type, cut=request_cut),
        "response_headers": masking.headers(response_headers),
        "response_body": _masked_answer(raw.pop("response_body"), raw.pop("response_whole", None), limit,
                                        response_type, response_cut),
    }


# The masked text of the last few answers recorded, by the identity of their bytes:
# an answer sent again as the very same object (a repeated page from the answers
# cache) is decoded and masked once, not on every request (for a page of 50
# accounts, most of the journal's work). The entry holds the bytes, so their id
# cannot be reused while it is kept; looking up by id costs no hashing of the body.
_MASKED_ANSWERS: dict[int, tuple[bytes, int, str, bool, str]] = {}
MASKED_ANSWERS_KEPT = 16
# Larger answers are not kept here (at most 16 x 256 KB alive beyond the answers cache).
MASKED_ANSWER_MAX_BYTES = 256 * 1024
_MASKED_ANSWERS_LOCK = threading.Lock()


def _masked_answer(chunks: list[bytes], whole: bytes | None, limit: int, content_type: str, cut: bool) -> str:
    """The masked text of an answer's recorded ``chunks`` (cut at ``limit``); ``whole``:
    the answer as sent, when it went in one piece (what its text is kept by)."""
    if whole is None:
        return masking.body(_text(chunks, limit), content_type, cut=cut)
    kept = _MASKED_ANSWERS.get(id(whole))
    if kept is not None and kept[0] is whole and kept[1:4] == (limit, content_type, cut):
        return kept[4]
    text = masking.body(_text(chunks, limit), content_type, cut=cut)
    with _MASKED_ANSWERS_LOCK:  # the writer's thread, and a response's when the queue is full
        while len(_MASKED_ANSWERS) >= MASKED_ANSWERS_KEPT:
            _MASKED_ANSWERS.pop(next(iter(_MASKED_ANSWERS)))
        _MASKED_ANSWERS[id(whole)] = (whole, limit, content_type, cut, text)
    return text


def journal_header(pairs: list[tuple[str, str]], name: str) -> str:
    return next((v for k, v in pairs if k.lower() == name), "")


def _text(chunks: list[bytes], limit: int) -> str:
    return b"".join(chunks)[:limit].decode("utf-8", "replace")


class JournalMiddleware:
    def __init__(self, app, rt):
        self.app, self.rt = app, rt
        self.limit = rt.settings.journal_body_limit
        self.recording = rt.settings.journal_size > 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        note = journal.open_note()
        note["check"] = lambda found: traffic.check(self.rt.db, found)
        key = _header(scope, b"idempotency-key")
        body_hash = hashlib.sha256() if key is not None else None
        if key is not None:
            note["idempotency"] = {"key": key, "method": scope["method"], "path": scope["path"],
                                   "query": scope.get("query_string", b"").decode("latin-1"), "hash": body_hash}
        limit = self.limit
        started, at = time.perf_counter(), utcnow()
        request_body: list[bytes] = []
        response_body: list[bytes] = []
        full_body: list[bytes] = []
        sizes = {"request": 0, "response": 0}
        response: dict[str, Any] = {"status": 500, "headers": []}
        done = False

        async def capture_receive():
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                if body_hash is not None:
                    body_hash.update(chunk)
                if sizes["request"] < limit:
                    request_body.append(chunk[: limit - sizes["request"]])
                sizes["request"] += len(chunk)
            return message

        def to_record() -> bool:
            """Whether this request is yet to be recorded (it named a tenant; the journal is on)."""
            return not done and "tenant_id" in note and self.recording

        def finish() -> None:
            nonlocal done
            if not to_record():
                return
            done = True
            writer_for(self.rt).add({
                "tenant_id": note["tenant_id"], "at": at, "api": note.get("api", ""),
                "operation": (note.get("operation") or "")[:255], "credential_id": note.get("credential_id"),
                "method": scope["method"], "scheme": scope.get("scheme", "http"), "path": scope["path"],
                "query": scope.get("query_string", b"").decode("latin-1"),
                "status": 0 if note.get("reset") else response["status"],
                "duration_ms": (time.perf_counter() - started) * 1000,
                "request_headers": list(scope.get("headers", [])), "request_body": request_body,
                "response_headers": response["headers"], "response_body": response_body, "limit": limit,
                "response_whole": response.get("whole"),
                "request_cut": sizes["request"] > limit, "response_cut": sizes["response"] > limit,
            })

        async def capture_send(message):
            if message["type"] == "http.response.start":
                if note.get("latency_ms"):
                    await asyncio.sleep(note["latency_ms"] / 1000)
                response["status"] = message["status"]
                response["headers"] = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                if (not sizes["response"] and not message.get("more_body", False)
                        and len(chunk) <= MASKED_ANSWER_MAX_BYTES):
                    response["whole"] = chunk  # the whole answer in one: its masked text may be kept
                if sizes["response"] < limit:
                    response_body.append(chunk[: limit - sizes["response"]])
                sizes["response"] += len(chunk)
                if "idempotency_claim" in note:
                    full_body.append(chunk)
                if not message.get("more_body", False):
                    if "idempotency_claim" in note:
                        # Stored before the last byte goes out: a retry that
                        # follows the answer finds it complete.
                        await run_in_threadpool(
                            idempotency.complete, self.rt.db, note.pop("idempotency_claim"), response["status"],
                            idempotency.stored_headers(response["headers"]), b"".join(full_body))
                    if to_record():
                        writer = writer_for(self.rt)
                        if writer.full():
                            # The journal is behind: this answer waits (off the
                            # event loop) rather than the backlog growing.
                            await run_in_threadpool(writer.wait_for_room)
                    finish()
            await send(message)

        try:
            await self._run(scope, capture_receive, capture_send, note)
        finally:
            claim = note.pop("idempotency_claim", None)
            if claim is not None:
                # The first request never completed its answer: free the key.
                await run_in_threadpool(idempotency.release, self.rt.db, claim)
            finish()

    async def _run(self, scope, receive, send, note) -> None:
        try:
            await self.app(scope, receive, send)
        except idempotency.Replay as replay:
            headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in replay.headers]
            headers += [(b"content-length", str(len(replay.body)).encode()), (b"idempotent-replayed", b"true")]
            await send({"type": "http.response.start", "status": replay.status, "headers": headers})
            await send({"type": "http.response.body", "body": replay.body})
        except traffic.Refusal as refusal:
            if refusal.latency_ms:
                await asyncio.sleep(refusal.latency_ms / 1000)
            if refusal.status == "reset":
                note["reset"] = True
                # Promise a body and send none: the server closes the connection
                # and the client sees it dropped mid-response.
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-length", b"1024"), (b"content-type", b"application/json")]})
                raise ConnectionResetError("polycrm sandbox: injected connection reset") from None
            await refusal_response(self.rt, refusal)(scope, receive, send)


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1").strip()
    return None


def refusal_response(rt, refusal: traffic.Refusal):
    """A refused request's answer in its API's own error format (docs/sandbox.md)."""
    from starlette.responses import JSONResponse

    status = int(refusal.status)
    headers = refusal.headers
    if refusal.api == "microbizz":
        from polycrm.faces.microbizz.endpoint import MicrobizzAPI

        # The envelope failure every Microbizz client checks first (status 0, msg).
        answer = MicrobizzAPI(rt).failure(refusal.message)
        # A rate limit is refused the Microbizz way, on HTTP 200; a fault keeps its status.
        answer.status_code = 200 if refusal.rate_limited else status
        answer.headers.update(headers)
        return answer
    if refusal.api == "centia":
        from polycrm.faces.centia.wire import failure

        return JSONResponse(failure(refusal.message), status_code=status, headers=headers)
    if refusal.api == "oauth":
        code = "slow_down" if refusal.rate_limited else "temporarily_unavailable"
        return JSONResponse({"error": code, "error_description": refusal.message}, status_code=status, headers=headers)
    # Cirrus: the Flask-RESTX body.
    return JSONResponse({"message": refusal.message}, status_code=status, headers=headers)
