"""The request journal: every call to the three APIs and the OAuth endpoint, per tenant.

How an entry is made: :class:`~polycrm.sandbox.middleware.JournalMiddleware`
opens a *note* for each HTTP request (a context variable); the face that
handles it says which tenant, credential and operation it was with
:func:`note` (one line per face); when the response is complete the
middleware hands the entry, secrets masked (:mod:`~polycrm.sandbox.masking`),
to the :class:`Writer`, which inserts entries in batches on a thread of its
own, after the response. A request no face noted (web pages, the admin API,
a request no credential of any tenant opens) is not recorded: there is no
tenant to record it for, or it is not an API call.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import threading
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import bindparam, delete, func, insert, select

from polycrm.core import auth
from polycrm.core.errors import Invalid
from polycrm.core.models import Credential
from polycrm.sandbox.models import JournalEntry
from polycrm.store.engine import Database

APIS = ("microbizz", "cirrus", "centia", "oauth")
MAX_PAGE = 1000
# How long the journal writer gathers entries before it writes them (see Writer).
GATHER_SECONDS = 0.02
# How many bytes of bodies may wait for the writer before a request that would
# add more waits for room (see Writer.wait_for_room): a server answering faster
# than its journal can be written keeps its memory, not an unbounded backlog.
MAX_PENDING_BYTES = 4 * 1024 * 1024
# What an entry costs beside its bodies (headers, the other fields), roughly.
ENTRY_OVERHEAD_BYTES = 1024

_current: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("polycrm_journal", default=None)


def open_note() -> dict[str, Any]:
    """Start the note of one request (the middleware's part)."""
    found: dict[str, Any] = {}
    _current.set(found)
    return found


def note(api: str, principal: Any = None, operation: str | list[str] | None = None, *,
         writes: bool | None = None) -> None:
    """A face says what the current request is: its API, who called
    (a :class:`~polycrm.core.auth.Principal`) and the operation's name. Either
    may come later in a second call (centiaCRM ``Login`` knows the caller only
    after signing in). ``writes``: whether the operation writes, where the HTTP
    method does not say (centiaCRM); it decides whether ``Idempotency-Key`` applies."""
    found = _current.get()
    if found is None:
        return
    found["api"] = api
    if writes is not None:
        found["writes"] = writes
    if principal is not None:
        found["tenant_id"] = principal.tenant_id
        found["credential_id"] = principal.credential_id
        found["user_id"] = principal.user_id
    if operation is not None:
        found["operation"] = ",".join(str(o) for o in operation) if isinstance(operation, list) else operation
    check = found.get("check")
    if check is not None and "tenant_id" in found and "operation" in found:
        # Faults and rate limits (traffic.py), once the request is known; may raise.
        del found["check"]
        check(found)


def refused(api: str, claimed: "auth.Claimed | None", operation: str | list[str] | None = None) -> None:
    """A face says the current request was refused its credentials, and which
    tenant (and credential row) it named, if any: the journal records it there.
    No fault or rate limit applies to it (those act on requests that would run)."""
    found = _current.get()
    if found is None or claimed is None:
        return
    found["api"] = api
    found["tenant_id"] = claimed.tenant_id
    found["credential_id"] = claimed.credential_id
    found.pop("check", None)
    found.pop("idempotency", None)
    if operation is not None:
        found["operation"] = ",".join(str(o) for o in operation) if isinstance(operation, list) else operation


def refused_token(db: Database, api: str, kind: str, token: object, operation: str | None = None) -> None:
    """:func:`refused` for a token that opened nothing: the tenant whose token it
    is (expired or revoked), none for a token no tenant has."""
    if _current.get() is not None:
        refused(api, auth.claimed_by(db, kind, token), operation)


def refused_client(db: Database, client_id: object, operation: str) -> None:
    """:func:`refused` for an OAuth client that failed to authenticate: the tenant
    of a known client id (wrong or missing secret), none for an unknown one."""
    if _current.get() is not None:
        from polycrm.oauth.service import claimed_client

        refused("oauth", claimed_client(db, client_id), operation)


def noted_principal() -> dict[str, Any] | None:
    """What the current request's face noted so far (faults and limits read it)."""
    return _current.get()


class Writer:
    """Inserts journal entries after their responses, in batches, and keeps each
    tenant's journal at ``size`` entries (the oldest are dropped).

    The writer thread waits :data:`GATHER_SECONDS` after the first entry of a
    batch before it writes, so that a busy server writes one transaction (and
    one trim per tenant) for many requests instead of one per request; a
    reader of the journal calls :meth:`flush` first and so still sees every
    entry of its own process."""

    def __init__(self, db: Database, size: int, prepare=lambda raw: raw, gather: float | None = None,
                 max_pending_bytes: int | None = None):
        self.db, self.size, self.prepare = db, size, prepare
        self.gather = GATHER_SECONDS if gather is None else gather
        self.max_pending_bytes = MAX_PENDING_BYTES if max_pending_bytes is None else max_pending_bytes
        self.pending: list[dict[str, Any]] = []
        self.pending_bytes = 0
        self.arrived = threading.Condition(threading.Lock())
        # Notified when the writer takes what waits: a request waiting for room goes on.
        self.room = threading.Condition(self.arrived)
        # Held while a batch is taken and written: a flush waits for a batch in progress.
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.start_lock = threading.Lock()

    def full(self) -> bool:
        """Whether more bodies wait than :attr:`max_pending_bytes` allows."""
        return self.pending_bytes >= self.max_pending_bytes

    def wait_for_room(self, timeout: float = 30.0) -> None:
        """Block until the writer has taken the waiting entries (or ``timeout``
        passed: a journal that cannot write must not stop the server)."""
        deadline = time.monotonic() + timeout
        with self.room:
            while self.full():
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self.room.wait(left)

    def add(self, entry: dict[str, Any]) -> None:
        """Queue an entry; it never blocks (a caller that must not outrun the
        writer checks :meth:`full` and waits with :meth:`wait_for_room` first)."""
        size = ENTRY_OVERHEAD_BYTES + _body_bytes(entry.get("request_body")) + _body_bytes(entry.get("response_body"))
        with self.arrived:
            self.pending.append(entry)
            self.pending_bytes += size
            if len(self.pending) == 1 or self.full():
                self.arrived.notify()
        if self.thread is None:
            with self.start_lock:
                if self.thread is None:
                    self.thread = threading.Thread(target=self._run, name="polycrm-journal", daemon=True)
                    self.thread.start()

    def _run(self) -> None:
        while True:
            with self.arrived:
                while not self.pending:
                    self.arrived.wait()
                if self.gather:
                    # Gather, unless the queue fills first (then requests wait for it).
                    self.arrived.wait_for(self.full, timeout=self.gather)
            with self.lock:
                waiting = self._take()
                if waiting:
                    self._write(waiting)

    def _take(self) -> list[dict[str, Any]]:
        with self.arrived:
            taken, self.pending, self.pending_bytes = self.pending, [], 0
            self.room.notify_all()
        return taken

    def flush(self) -> None:
        """Write what is waiting now (a reader sees every entry of its own process)."""
        with self.lock:
            waiting = self._take()
            if waiting:
                self._write(waiting)

    def _write(self, entries: list[dict[str, Any]]) -> None:
        try:
            # Masked before the transaction, which on SQLite holds the write lock.
            entries = [self.prepare(e) for e in entries]
            with self.db.engine.connect().execution_options(polycrm_write=True) as conn, conn.begin():
                conn.execute(_INSERT, entries)
                for tenant_id in {e["tenant_id"] for e in entries}:
                    _trim(conn, tenant_id, self.size)
        except Exception:  # noqa: BLE001 - a journal that cannot write must not stop the server
            import logging

            logging.getLogger("polycrm.journal").exception("could not write %d journal entries", len(entries))


def _body_bytes(body: Any) -> int:
    """The size of a captured body: chunks (as the middleware hands them) or text."""
    if not body:
        return 0
    if isinstance(body, (str, bytes)):
        return len(body)
    return sum(len(chunk) for chunk in body)


_TABLE = JournalEntry.__table__
# Built once: building them for every batch was half of the writer's time.
_INSERT = insert(_TABLE)
_OLDEST_KEPT = (select(_TABLE.c.id).where(_TABLE.c.tenant_id == bindparam("tenant_id"))
                .order_by(_TABLE.c.id.desc()).limit(1).offset(bindparam("skip")))
_DROP_OLDER = delete(_TABLE).where(_TABLE.c.tenant_id == bindparam("tenant_id"),
                                   _TABLE.c.id < bindparam("oldest_kept"))


def _trim(conn, tenant_id: int, size: int) -> None:
    oldest_kept = conn.scalar(_OLDEST_KEPT, {"tenant_id": tenant_id, "skip": size - 1})
    if oldest_kept is not None:
        conn.execute(_DROP_OLDER, {"tenant_id": tenant_id, "oldest_kept": oldest_kept})


# -- reading -----------------------------------------------------------------------
def _int(value: Any, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Invalid(f"{name} must be a whole number", name) from None
    if not low <= number <= high:
        raise Invalid(f"{name} must be between {low} and {high}", name)
    return number


def entries(db: Database, tenant_id: int, filters: dict[str, str]) -> dict[str, Any]:
    """Entries newest first: ``api``, ``operation`` (``*`` matches anything),
    ``status`` (``404`` or ``4xx``), ``since`` (ISO time), ``limit`` (default 50),
    ``before`` (an id: the next page)."""
    t = JournalEntry.__table__
    unknown = set(filters) - {"api", "operation", "status", "since", "limit", "before", "format"}
    if unknown:
        raise Invalid(f"unknown parameter {sorted(unknown)[0]!r}", sorted(unknown)[0])
    where = [t.c.tenant_id == tenant_id]
    if filters.get("api"):
        if filters["api"] not in APIS:
            raise Invalid(f"api must be one of {', '.join(APIS)}", "api")
        where.append(t.c.api == filters["api"])
    if filters.get("operation"):
        pattern = filters["operation"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%")
        where.append(t.c.operation.like(pattern, escape="\\"))
    status = filters.get("status")
    if status:
        if len(status) == 3 and status[0] in "12345" and status[1:].lower() == "xx":
            low = int(status[0]) * 100
            where.append(t.c.status.between(low, low + 99))
        else:
            where.append(t.c.status == _int(status, "status", 100, 599))
    if filters.get("since"):
        try:
            since = dt.datetime.fromisoformat(filters["since"].replace("Z", "+00:00"))
        except ValueError:
            raise Invalid("since must be an ISO 8601 time, e.g. 2026-12-02T15:00:00Z", "since") from None
        if since.tzinfo is not None:
            since = since.astimezone(dt.UTC).replace(tzinfo=None)
        where.append(t.c.at >= since)
    if filters.get("before"):
        where.append(t.c.id < _int(filters["before"], "before", 1, 2**63 - 1))
    limit = _int(filters.get("limit") or 50, "limit", 1, MAX_PAGE)
    with db.engine.connect() as conn:
        rows = conn.execute(select(t).where(*where).order_by(t.c.id.desc()).limit(limit + 1)).all()
        credentials = _credentials(conn, {r.credential_id for r in rows if r.credential_id})
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "entries": [_entry(r, credentials) for r in rows],
        "next": {"before": rows[-1].id} if more else None,
    }


def _credentials(conn, ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    c = Credential.__table__
    rows = conn.execute(select(c.c.id, c.c.kind, c.c.user_id, c.c.key_id).where(c.c.id.in_(ids))).all()
    # A client id is public; for a token only its kind and row are shown.
    return {r.id: {"id": r.id, "kind": r.kind, "user_id": r.user_id,
                   **({"client_id": r.key_id} if r.kind == "cirrus.client" else {})} for r in rows}


def _entry(row, credentials: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at.isoformat() + "Z",
        "api": row.api,
        "operation": row.operation,
        "credential": credentials.get(row.credential_id, {"id": row.credential_id} if row.credential_id else None),
        "duration_ms": round(row.duration_ms, 3),
        "request": {"method": row.method, "url": row.url, "headers": row.request_headers, "body": row.request_body},
        "response": {"status": row.status, "headers": row.response_headers, "body": row.response_body},
    }


def clear(db: Database, tenant_id: int) -> int:
    with db.engine.connect().execution_options(polycrm_write=True) as conn, conn.begin():
        return conn.execute(delete(JournalEntry.__table__).where(JournalEntry.tenant_id == tenant_id)).rowcount


def count(db: Database, tenant_id: int) -> int:
    with db.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(JournalEntry.__table__)
                           .where(JournalEntry.tenant_id == tenant_id))


# -- HAR 1.2 -------------------------------------------------------------------------
REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
           413: "Payload Too Large", 422: "Unprocessable Entity", 429: "Too Many Requests",
           500: "Internal Server Error", 503: "Service Unavailable"}


def har(page: dict[str, Any], version: str) -> dict[str, Any]:
    """Entries as a HAR 1.2 log (oldest first, as browsers write them)."""
    return {"log": {
        "version": "1.2",
        "creator": {"name": "polycrm", "version": version},
        "entries": [_har_entry(e) for e in reversed(page["entries"])],
    }}


def _header_value(headers: list[list[str]], name: str) -> str:
    return next((v for k, v in headers if k.lower() == name), "")


def _har_entry(e: dict[str, Any]) -> dict[str, Any]:
    req, res = e["request"], e["response"]
    query = urlsplit(req["url"]).query
    request: dict[str, Any] = {
        "method": req["method"], "url": req["url"], "httpVersion": "HTTP/1.1", "cookies": [],
        "headers": [{"name": k, "value": v} for k, v in req["headers"]],
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(query, keep_blank_values=True)],
        "headersSize": -1, "bodySize": len(req["body"].encode()),
    }
    if req["body"]:
        request["postData"] = {"mimeType": _header_value(req["headers"], "content-type"), "text": req["body"]}
    return {
        "startedDateTime": e["at"], "time": e["duration_ms"],
        "request": request,
        "response": {
            "status": res["status"], "statusText": REASONS.get(res["status"], ""), "httpVersion": "HTTP/1.1",
            "cookies": [], "headers": [{"name": k, "value": v} for k, v in res["headers"]],
            "content": {"size": len(res["body"].encode()),
                        "mimeType": _header_value(res["headers"], "content-type"), "text": res["body"]},
            "redirectURL": "", "headersSize": -1, "bodySize": len(res["body"].encode()),
        },
        "cache": {}, "timings": {"send": 0, "wait": e["duration_ms"], "receive": 0},
        "comment": f"{e['api']} {e['operation']}",
    }
