"""Delivering the outbox: a background thread of the running server.

Each pass does two things:

1. **fan out**: committed outbox events, in id order, become one
   :class:`~polycrm.platform.models.WebhookDelivery` per matching hook, with
   the body rendered once (so every retry sends the same bytes). Only one
   process fans out at a time (SQLite's write lock; a transaction-level
   advisory lock on PostgreSQL), so deliveries are numbered in commit order;
2. **send**: due deliveries are claimed with ``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL (several server processes never claim the same one) by moving
   their next try a lease ahead, then POSTed outside any transaction (10 s
   timeout). Per hook and record only the oldest unfinished delivery is
   due, which keeps commit order per record. A 2xx is delivered; 410 Gone
   disables the hook; anything else is retried after ``base * 2**(n-1)``
   seconds until the attempts run out.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import and_, delete, exists, select, text, update
from sqlalchemy.orm import Session, aliased

from polycrm.core.errors import Invalid
from polycrm.core.models import Credential, utcnow
from polycrm.core.workspace import Workspace
from polycrm.platform import outbox, webhooks
from polycrm.platform.apps import SESSION_TOKEN
from polycrm.platform.models import OutboxEvent, Webhook, WebhookDelivery
from polycrm.store.engine import Database

log = logging.getLogger("polycrm.webhooks")

TIMEOUT_S = 10.0
# A claimed delivery is not due again for this long (well beyond the timeout),
# so a process that dies mid-send leaves it to be retried, not lost.
LEASE_S = 60.0  # and at least (claim batch + 1) timeouts
EXCERPT = 500
FAN_OUT_LOCK = 0x706C6174  # PostgreSQL advisory lock key ("plat")

_WAKE = outbox.WAKE


def wake() -> None:
    """Ask the delivery thread of this process to run a pass now."""
    _WAKE.set()


def timeout_s() -> float:
    return float(os.environ.get("POLYCRM_WEBHOOK_TIMEOUT_S", str(TIMEOUT_S)))


def retry_base_s() -> float:
    return float(os.environ.get("POLYCRM_WEBHOOK_RETRY_BASE_S", "30"))


def max_attempts() -> int:
    return max(6, int(os.environ.get("POLYCRM_WEBHOOK_ATTEMPTS", "8")))


def log_days() -> float:
    return float(os.environ.get("POLYCRM_WEBHOOK_LOG_DAYS", "30"))


# How often a delivery thread prunes the outbox and the delivery log.
PRUNE_EVERY = dt.timedelta(hours=1)


def poll_s() -> float:
    return float(os.environ.get("POLYCRM_WEBHOOK_POLL_S", "2"))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect could lead past the address check; it counts as an answer.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect())


def post_form(url: str, body: bytes) -> tuple[int | None, str]:
    """POST an urlencoded form once (the Microbizz app negotiation)."""
    return post(url, body, {"Content-Type": "application/x-www-form-urlencoded"})


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """POST once; the HTTP status (None when no answer came) and an excerpt of the reply."""
    try:
        webhooks.check_url(url)
    except Invalid as exc:
        return None, exc.message
    request = urllib.request.Request(url, data=body, headers={**headers, "User-Agent": "polycrm-webhooks"}, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout_s()) as response:
            return response.status, response.read(EXCERPT).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        try:
            excerpt = exc.read(EXCERPT).decode("utf-8", "replace")
        except Exception:  # noqa: BLE001 (the excerpt is best effort)
            excerpt = ""
        return exc.code, excerpt
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"no answer: {reason}"[:EXCERPT]


class Deliverer:
    """Fans out and sends for one database; :meth:`run_pass` is one pass."""

    def __init__(self, db: Database, blobs: Any = None, sender: Callable[..., tuple[int | None, str]] = post,
                 timezone: str = "Europe/Copenhagen"):
        self.db = db
        self.blobs = blobs
        self.sender = sender
        # The Microbizz face's local time, for the dates in app event hooks.
        self.timezone = timezone
        self._pruned_at: dt.datetime | None = None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Session]:
        """A writing system session: committed at the end, rolled back on error."""
        with self.db.session() as session:
            session.info["system"] = True
            if self.db.is_sqlite:
                # BEGIN IMMEDIATE: take the write lock up front, never upgrade a read.
                session.connection(execution_options={"polycrm_write": True})
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            session.commit()

    # -- fan out ----------------------------------------------------------------
    def fan_out(self, batch: int = 200) -> int:
        with self.db.session() as probe:
            probe.info["system"] = True
            if probe.execute(select(OutboxEvent.id).where(OutboxEvent.dispatched.is_(False)).limit(1)).first() is None:
                return 0
        with self._transaction() as session:
            if not self.db.is_sqlite and not session.execute(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": FAN_OUT_LOCK}
            ).scalar():
                return 0
            events = list(session.scalars(
                select(OutboxEvent).where(OutboxEvent.dispatched.is_(False)).order_by(OutboxEvent.id).limit(batch)
            ))
            hooks_by_tenant: dict[int, list[Webhook]] = {}
            readers: dict[int, Workspace] = {}
            try:
                for event in events:
                    tenant_hooks = hooks_by_tenant.get(event.tenant_id)
                    if tenant_hooks is None:
                        tenant_hooks = list(session.scalars(
                            select(Webhook).where(Webhook.tenant_id == event.tenant_id, Webhook.active.is_(True))
                            .order_by(Webhook.id)
                        ))
                        hooks_by_tenant[event.tenant_id] = tenant_hooks
                    for hook in tenant_hooks:
                        if event.quiet_credential_id is not None and hook.credential_id == event.quiet_credential_id:
                            continue
                        for name, body in self.bodies(hook, event, readers):
                            session.add(WebhookDelivery(
                                tenant_id=event.tenant_id, webhook_id=hook.id, event_id=event.id, event=name,
                                record_key=f"{event.entity}:{event.record_id}", body=body.decode(),
                                status="pending", attempts=0, next_try_at=utcnow(),
                            ))
                    event.dispatched = True
            finally:
                for ws in readers.values():
                    ws.session.close()
            return len(events)

    def bodies(self, hook: Webhook, event: OutboxEvent, readers: dict[int, Workspace]) -> list[tuple[str, bytes]]:
        """The (event name, body) pairs one outbox event makes for one hook."""
        if hook.api == "polycrm":
            name, body = webhooks.polycrm_body(event)
            return [(name, body)] if not hook.events or name in hook.events else []
        if hook.api == "cirrus":
            from polycrm.faces.cirrus import events as cirrus_events

            name = cirrus_events.event_name(event.entity, event.op)
            if name is None or (hook.events and name not in hook.events):
                return []
            data = cirrus_events.render_record(self.reader(readers, event.tenant_id), event.entity, event.record_id)
            made = webhooks.cirrus_body(event, data)
            return [made] if made else []
        if hook.api == "microbizz" and hook.hook:
            from polycrm.faces.microbizz import events as microbizz_events

            body = microbizz_events.form_body(
                self.reader(readers, event.tenant_id), self.timezone, hook.hook, event,
            )
            return [(hook.hook, body)] if body is not None else []
        return []

    def reader(self, readers: dict[int, Workspace], tenant_id: int) -> Workspace:
        ws = readers.get(tenant_id)
        if ws is None:
            ws = Workspace(self.db, tenant_id, None, blobs=self.blobs, write=False)
            readers[tenant_id] = ws
        return ws

    # -- send -------------------------------------------------------------------
    def claim(self, batch: int = 5) -> list[tuple[int, str, bytes, dict[str, str]]]:
        """Due deliveries, leased to this process: (id, url, body, headers)."""
        now = utcnow()
        earlier = aliased(WebhookDelivery)
        with self.db.session() as probe:
            # Read first: an idle pass must not take SQLite's write lock.
            probe.info["system"] = True
            due = select(WebhookDelivery.id).where(
                WebhookDelivery.status == "pending", WebhookDelivery.next_try_at <= now
            ).limit(1)
            if probe.execute(due).first() is None:
                return []
        with self._transaction() as session:
            stmt = (
                select(WebhookDelivery)
                .where(
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.next_try_at <= now,
                    ~exists().where(and_(
                        earlier.webhook_id == WebhookDelivery.webhook_id,
                        earlier.record_key == WebhookDelivery.record_key,
                        earlier.status == "pending",
                        earlier.id < WebhookDelivery.id,
                    )),
                )
                .order_by(WebhookDelivery.id)
                .limit(batch)
            )
            if not self.db.is_sqlite:
                stmt = stmt.with_for_update(skip_locked=True, of=WebhookDelivery)
            claimed = []
            for d in session.scalars(stmt):
                hook = session.get(Webhook, d.webhook_id)
                if hook is None or not hook.active:
                    d.status, d.next_try_at = "disabled", None
                    continue
                d.attempts += 1
                d.next_try_at = now + dt.timedelta(seconds=max(LEASE_S, 6 * timeout_s()))
                body = d.body.encode()
                claimed.append((d.id, hook.url, body, webhooks.signed_headers(hook, d.id, body)))
            return claimed

    def record(self, delivery_id: int, status: int | None, excerpt: str) -> None:
        with self._transaction() as session:
            d = session.get(WebhookDelivery, delivery_id)
            if d is None:
                return
            d.last_status, d.response_excerpt = status, excerpt[:EXCERPT]
            if status is not None and 200 <= status < 300:
                d.status, d.next_try_at, d.delivered_at = "delivered", None, utcnow()
            elif status == 410:
                hook = session.get(Webhook, d.webhook_id)
                if hook is not None:
                    hook.active, hook.disabled_reason = False, f"the receiver answered 410 Gone (delivery {d.id})"
                d.status, d.next_try_at = "disabled", None
                session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.webhook_id == d.webhook_id, WebhookDelivery.status == "pending")
                    .values(status="disabled", next_try_at=None)
                )
            elif d.attempts >= max_attempts():
                d.status, d.next_try_at = "failed", None
            else:
                d.next_try_at = utcnow() + dt.timedelta(seconds=retry_base_s() * 2 ** (d.attempts - 1))

    def send_due(self) -> int:
        claimed = self.claim()
        for delivery_id, url, body, headers in claimed:
            status, excerpt = self.sender(url, body, headers)
            self.record(delivery_id, status, excerpt)
        return len(claimed)

    def prune(self, now: dt.datetime | None = None) -> tuple[int, int]:
        """Forget fanned-out events older than a day and finished deliveries older
        than ``POLYCRM_WEBHOOK_LOG_DAYS`` (the log's reach); returns both counts.
        Session tokens of interface hooks a day past their expiry go too."""
        now = now or utcnow()
        with self._transaction() as session:
            events = session.execute(
                delete(OutboxEvent).where(
                    OutboxEvent.dispatched.is_(True), OutboxEvent.created_at < now - dt.timedelta(days=1)
                )
            ).rowcount
            logged = session.execute(
                delete(WebhookDelivery).where(
                    WebhookDelivery.status != "pending",
                    WebhookDelivery.created_at < now - dt.timedelta(days=log_days()),
                )
            ).rowcount
            # Interface-hook session tokens are made per page view: drop the expired ones.
            session.execute(delete(Credential).where(
                Credential.kind == SESSION_TOKEN, Credential.expires_at < now - dt.timedelta(days=1)
            ))
        return events, logged

    def run_pass(self) -> None:
        while self.fan_out():
            pass
        while self.send_due():
            pass
        now = utcnow()
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            self.prune(now)


class DeliveryThread(threading.Thread):
    """Runs :class:`Deliverer` passes until stopped: started by the app's lifespan."""

    def __init__(self, deliverer: Deliverer):
        super().__init__(name="polycrm-webhooks", daemon=True)
        self.deliverer = deliverer
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.deliverer.run_pass()
            except Exception:  # noqa: BLE001 (a bad pass must not end delivery; it is retried)
                log.exception("webhook delivery pass failed")
            _WAKE.wait(poll_s())
            _WAKE.clear()

    def stop(self) -> None:
        self._stopping.set()
        _WAKE.set()
        self.join(timeout=timeout_s() + 5)
