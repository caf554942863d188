"""Injected faults and emulated rate limits: the rules, and the check each API request passes.

Both are kept in the database (several server processes share them) and read
through a per-process cache of one second, so a request of a tenant without
rules costs no query; a request that matches a rule costs one short write
(the rule's counters, or the credential's bucket). The check runs when the
face has noted the request's tenant, credential and operation
(:func:`polycrm.sandbox.journal.note`), before the face opens its unit of
work; a refusal is raised as :class:`Refusal` and rendered by the middleware
in the API's own format, so nothing was written.
"""

from __future__ import annotations

import fnmatch
import math
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update

from polycrm.core.errors import Invalid
from polycrm.sandbox import idempotency
from polycrm.sandbox.journal import APIS
from polycrm.sandbox.models import FaultRule, RateCounter, RateLimit
from polycrm.store.engine import Database

CACHE_SECONDS = 1.0
RULE_KEYS = ("api", "operation", "probability", "latency_ms", "status", "error", "times", "seed")
LIMIT_KEYS = ("api", "per_second", "per_minute", "burst")


class Refusal(BaseException):
    """A request the sandbox answers itself: an injected fault or a rate limit.

    A BaseException so that no face's ``except Exception`` turns it into its
    own internal error on the way to the middleware."""

    def __init__(self, api: str, status: int | str, message: str, headers: dict[str, str] | None = None,
                 latency_ms: int = 0, rate_limited: bool = False):
        super().__init__(message)
        self.api, self.status, self.message = api, status, message
        self.headers = headers or {}
        self.latency_ms = latency_ms
        self.rate_limited = rate_limited


# -- validation ---------------------------------------------------------------------
def _number(rule: dict, key: str, low: float, high: float, *, whole: bool, default: Any) -> Any:
    value = rule.get(key, default)
    if value is None or value is default:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (whole and not float(value).is_integer()):
        raise Invalid(f"{key} must be a {'whole ' if whole else ''}number", key)
    if not low <= value <= high:
        raise Invalid(f"{key} must be between {low:g} and {high:g}", key)
    return int(value) if whole else float(value)


def _api(value: Any, *, wildcard: bool) -> str:
    allowed = (*APIS, "*") if wildcard else APIS
    if value not in allowed:
        raise Invalid(f"api must be one of {', '.join(allowed)}", "api")
    return value


def check_rule(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise Invalid("each rule must be an object", "rules")
    unknown = sorted(set(raw) - set(RULE_KEYS))
    if unknown:
        raise Invalid(f"unknown rule field {unknown[0]!r}", unknown[0])
    operation = raw.get("operation", "*")
    if not isinstance(operation, str) or not operation or len(operation) > 255:
        raise Invalid("operation must be a glob of 1-255 characters, e.g. \"Get*\"", "operation")
    status = raw.get("status")
    if status is not None and status != "reset":
        status = _number(raw, "status", 100, 599, whole=True, default=None)
    error = raw.get("error")
    if error is not None and (not isinstance(error, str) or len(error) > 1000):
        raise Invalid("error must be a text of at most 1000 characters", "error")
    rule = {
        "api": _api(raw.get("api", "*"), wildcard=True),
        "operation": operation,
        "probability": _number(raw, "probability", 0, 1, whole=False, default=1.0),
        "latency_ms": _number(raw, "latency_ms", 0, 60_000, whole=True, default=0),
        "status": status,
        "error": error,
        "times": _number(raw, "times", 1, 2**31 - 1, whole=True, default=None),
        "seed": _number(raw, "seed", -(2**31), 2**31 - 1, whole=True, default=None),
    }
    if rule["status"] is None and not rule["latency_ms"]:
        raise Invalid("a rule needs a status (a number or \"reset\") or a latency_ms", "status")
    return rule


def check_limit(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise Invalid("each limit must be an object", "limits")
    unknown = sorted(set(raw) - set(LIMIT_KEYS))
    if unknown:
        raise Invalid(f"unknown limit field {unknown[0]!r}", unknown[0])
    limit = {
        "api": _api(raw.get("api"), wildcard=False),
        "per_second": _number(raw, "per_second", 0.001, 100_000, whole=False, default=None),
        "per_minute": _number(raw, "per_minute", 1, 10_000_000, whole=True, default=None),
        "burst": _number(raw, "burst", 1, 100_000, whole=True, default=None),
    }
    if limit["per_second"] is None and limit["per_minute"] is None:
        raise Invalid("a limit needs per_second or per_minute", "per_second")
    if limit["burst"] is not None and limit["per_second"] is None:
        raise Invalid("burst needs per_second", "burst")
    return limit


def _items(body: Any, key: str) -> list[Any]:
    """A list given as is or as ``{key: [...]}`` (one object is one item)."""
    if isinstance(body, dict) and key in body and len(body) == 1:
        body = body[key]
    elif isinstance(body, dict):
        body = [body]
    if not isinstance(body, list):
        raise Invalid(f"send a list of {key}, or {{\"{key}\": [...]}}", key)
    return body


# -- the rules as the admin API sets them -------------------------------------------
def _writing(db: Database):
    return db.engine.connect().execution_options(polycrm_write=True)


def set_faults(db: Database, tenant_id: int, body: Any) -> list[dict[str, Any]]:
    rules = [check_rule(r) for r in _items(body, "rules")]
    t = FaultRule.__table__
    with _writing(db) as conn, conn.begin():
        conn.execute(delete(t).where(t.c.tenant_id == tenant_id))
        if rules:
            conn.execute(insert(t), [{"tenant_id": tenant_id, "position": i, "rule": r, "matched": 0, "hits": 0}
                                     for i, r in enumerate(rules)])
    CACHE.forget(tenant_id)
    return faults(db, tenant_id)


def faults(db: Database, tenant_id: int) -> list[dict[str, Any]]:
    t = FaultRule.__table__
    with db.engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.tenant_id == tenant_id).order_by(t.c.position)).all()
    return [{**r.rule, "matched": r.matched, "hits": r.hits} for r in rows]


def clear_faults(db: Database, tenant_id: int) -> None:
    with _writing(db) as conn, conn.begin():
        conn.execute(delete(FaultRule.__table__).where(FaultRule.tenant_id == tenant_id))
    CACHE.forget(tenant_id)


def set_limits(db: Database, tenant_id: int, body: Any) -> list[dict[str, Any]]:
    """Set the limits of the APIs named (an API not named keeps its limit)."""
    limits = [check_limit(r) for r in _items(body, "limits")]
    if len({x["api"] for x in limits}) != len(limits):
        raise Invalid("one limit per api", "api")
    t = RateLimit.__table__
    with _writing(db) as conn, conn.begin():
        for limit in limits:
            conn.execute(delete(t).where(t.c.tenant_id == tenant_id, t.c.api == limit["api"]))
            conn.execute(insert(t).values(tenant_id=tenant_id, **limit))
    CACHE.forget(tenant_id)
    return rate_limits(db, tenant_id)


def rate_limits(db: Database, tenant_id: int) -> list[dict[str, Any]]:
    t = RateLimit.__table__
    with db.engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.tenant_id == tenant_id).order_by(t.c.api)).all()
    return [{"api": r.api, "per_second": r.per_second, "per_minute": r.per_minute, "burst": r.burst} for r in rows]


def clear_limits(db: Database, tenant_id: int, api: str | None = None) -> None:
    t = RateLimit.__table__
    where = [t.c.tenant_id == tenant_id]
    if api:
        where.append(t.c.api == _api(api, wildcard=False))
    with _writing(db) as conn, conn.begin():
        conn.execute(delete(t).where(*where))
    CACHE.forget(tenant_id)


# -- the per-process cache ------------------------------------------------------------
@dataclass
class _Entry:
    until: float
    faults: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    limits: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)


class _Cache:
    # Keyed by (database, tenant): a process may serve several databases (the
    # suite's SQLite and PostgreSQL runtimes), whose tenant ids overlap.
    def __init__(self):
        self.entries: dict[tuple[int, int], _Entry] = {}
        self.lock = threading.Lock()

    def forget(self, tenant_id: int) -> None:
        """Forget the tenant's rules in every database (forgetting more than needed is harmless)."""
        with self.lock:
            for key in [k for k in self.entries if k[1] == tenant_id]:
                del self.entries[key]

    def get(self, db: Database, tenant_id: int) -> _Entry:
        now = time.monotonic()
        key = (id(db), tenant_id)
        with self.lock:
            found = self.entries.get(key)
        if found is not None and found.until > now:
            return found
        f, lim = FaultRule.__table__, RateLimit.__table__
        with db.engine.connect() as conn:
            rules = conn.execute(select(f.c.id, f.c.rule).where(f.c.tenant_id == tenant_id)
                                 .order_by(f.c.position)).all()
            limits = conn.execute(select(lim).where(lim.c.tenant_id == tenant_id)).all()
        entry = _Entry(now + CACHE_SECONDS, [(r.id, r.rule) for r in rules],
                       {r.api: (r.id, {"per_second": r.per_second, "per_minute": r.per_minute, "burst": r.burst})
                        for r in limits})
        with self.lock:
            self.entries[key] = entry
        return entry


CACHE = _Cache()


# -- the check --------------------------------------------------------------------------
def _matches(rule: dict[str, Any], api: str, operation: str) -> bool:
    if rule["api"] not in ("*", api):
        return False
    names = operation.split(",") if api == "microbizz" else [operation]
    return any(fnmatch.fnmatchcase(name, rule["operation"]) for name in names)


def check(db: Database, note: dict[str, Any]) -> None:
    """Refuse (raise :class:`Refusal`) or slow down (``note["latency_ms"]``) the noted request."""
    api, tenant_id = note.get("api", ""), note["tenant_id"]
    entry = CACHE.get(db, tenant_id)
    if entry.faults or entry.limits:
        _faults_and_limits(db, note, api, entry)
    if "idempotency" in note:
        _idempotent(db, note, api)


def _idempotent(db: Database, note: dict[str, Any], api: str) -> None:
    """Claim the request's Idempotency-Key, or answer as its first request did."""
    asked = note.pop("idempotency")
    writes = note.get("writes") if api == "centia" else asked["method"] not in ("GET", "HEAD", "OPTIONS")
    if api not in ("cirrus", "centia") or not writes:
        return
    caller = _caller(note)
    if caller is None:
        return
    if not idempotency.usable_key(asked["key"]):
        raise Refusal(api, 400, f"Idempotency-Key must be 1-{idempotency.MAX_KEY} printable characters")
    fingerprint = idempotency.fingerprint_of(asked["method"], asked["path"], asked["query"],
                                             asked["hash"].hexdigest())
    claimed = idempotency.claim(db, note["tenant_id"], caller, asked["key"], fingerprint)
    if claimed == "conflict":
        raise Refusal(api, 422, "this Idempotency-Key was used with another request")
    if claimed == "busy":
        raise Refusal(api, 409, "a request with this Idempotency-Key is still running")
    note["idempotency_claim"] = claimed


def _caller(note: dict[str, Any]) -> int | None:
    # Counted per credential; a password sign-in (centiaCRM Login) has none and
    # counts for its user (as the negative user id, never a credential's id).
    return note.get("credential_id") or (-note["user_id"] if note.get("user_id") else None)


def _faults_and_limits(db: Database, note: dict[str, Any], api: str, entry: "_Entry") -> None:
    limit = entry.limits.get(api)
    caller = _caller(note)
    if limit is not None and caller is not None:
        _count(db, api, limit[0], limit[1], caller)
    operation = note.get("operation") or ""
    for rule_id, rule in entry.faults:
        if _matches(rule, api, operation) and _fires(db, rule_id, rule):
            message = rule["error"] or f"injected fault ({rule['status'] or 'latency'})"
            if rule["status"] is None:
                note["latency_ms"] = note.get("latency_ms", 0) + rule["latency_ms"]
                continue
            raise Refusal(api, rule["status"], message, latency_ms=rule["latency_ms"])


def _fires(db: Database, rule_id: int, rule: dict[str, Any]) -> bool:
    """Count the match; decide by the probability (seeded: the n-th match always
    decides alike); act at most ``times`` times."""
    t = FaultRule.__table__
    with _writing(db) as conn, conn.begin():
        matched = conn.execute(update(t).where(t.c.id == rule_id).values(matched=t.c.matched + 1)
                               .returning(t.c.matched)).scalar()
        if matched is None:
            return False
        roll = random.Random(f"{rule['seed']}:{matched}").random() if rule["seed"] is not None else random.random()
        if roll >= rule["probability"]:
            return False
        where = [t.c.id == rule_id]
        if rule["times"] is not None:
            where.append(t.c.hits < rule["times"])
        return conn.execute(update(t).where(*where).values(hits=t.c.hits + 1)).rowcount == 1


def _count(db: Database, api: str, limit_id: int, limit: dict[str, Any], credential_id: int) -> None:
    """One request of a credential against a limit: a token bucket of ``burst``
    (default: one second's worth) refilled at ``per_second``, and at most
    ``per_minute`` per calendar minute."""
    t = RateCounter.__table__
    now = time.time()
    minute = int(now // 60)
    per_second, per_minute = limit["per_second"], limit["per_minute"]
    capacity = float(limit["burst"] or max(1, math.ceil(per_second or 1)))
    with _writing(db) as conn, conn.begin():
        row = conn.execute(select(t).where(t.c.limit_id == limit_id, t.c.credential_id == credential_id)
                           .with_for_update()).first()
        if row is None:
            tokens, count, refilled = capacity, 0, now
        else:
            tokens, refilled = row.tokens, row.refilled_at
            count = row.minute_count if row.minute == minute else 0
        if per_second:
            tokens = min(capacity, tokens + (now - refilled) * per_second)
        retry = 0.0
        if per_second and tokens < 1:
            retry = (1 - tokens) / per_second
        if per_minute and count >= per_minute:
            retry = max(retry, (minute + 1) * 60 - now)
        allowed = retry == 0
        if allowed:
            tokens -= 1 if per_second else 0
            count += 1
        values = {"tokens": tokens, "refilled_at": now, "minute": minute, "minute_count": count}
        if row is None:
            conn.execute(insert(t).values(limit_id=limit_id, credential_id=credential_id, **values))
        else:
            conn.execute(update(t).where(t.c.id == row.id).values(**values))
    if allowed:
        return
    seconds = max(1, math.ceil(retry))
    if per_second:
        headers = {"X-RateLimit-Limit": f"{per_second:g}", "X-RateLimit-Remaining": "0",
                   "X-RateLimit-Reset": str(math.ceil(now + retry))}
    else:
        headers = {"X-RateLimit-Limit": str(per_minute), "X-RateLimit-Remaining": "0",
                   "X-RateLimit-Reset": str((minute + 1) * 60)}
    headers["Retry-After"] = str(seconds)
    raise Refusal(api, 429, f"rate limit exceeded: retry after {seconds} s", headers, rate_limited=True)
