"""Webhooks: registering them, their payloads and signatures, the delivery log.

Two kinds of webhook, one per wire format:

- ``polycrm``: events ``<entity>.created|updated|deleted``, payload
  ``{type, timestamp, data: {id, object, changed}}`` in the core's field
  names, signed per the Standard Webhooks specification (``whsec_`` secret);
- ``cirrus``: events ``CREATE_|UPDATE_|DELETE_`` x ``ACCOUNT``, ``CONTACT``,
  ``ACTIVITY``, ``OPPORTUNITY``, payload ``{event, data, postedAt}`` with
  ``data`` as the Cirrus REST API renders the record, signed with
  ``X-Hook-Signature`` (hex HMAC-SHA256 of the body, base64 secret).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import os
import secrets
import socket
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from polycrm.core.errors import Conflict, Invalid, NotFound
from polycrm.core.models import utcnow
from polycrm.faces.cirrus import events as cirrus_events
from polycrm.platform.models import Webhook, WebhookDelivery
from polycrm.platform import outbox
from polycrm.platform.outbox import TRACKED

APIS = ("polycrm", "cirrus")
POLYCRM_EVENTS = tuple(f"{entity}.{op}" for entity in TRACKED.values() for op in ("created", "updated", "deleted"))
EVENTS = {"polycrm": POLYCRM_EVENTS, "cirrus": cirrus_events.EVENTS}
ALLOW_PRIVATE_ENV = "POLYCRM_WEBHOOK_ALLOW_PRIVATE"


def private_allowed() -> bool:
    return os.environ.get(ALLOW_PRIVATE_ENV, "") in ("1", "true", "yes")


# -- targets ------------------------------------------------------------------
def check_url(url: str, *, allow_private: bool | None = None) -> None:
    """An http(s) URL whose host is public, or :class:`Invalid`.

    Loopback, private, link-local and other non-global addresses are refused
    (so a hosted polycrm cannot be pointed at its own network) unless
    ``POLYCRM_WEBHOOK_ALLOW_PRIVATE=1``. Names are resolved and every address
    they resolve to must pass; the check runs again before each send.
    """
    if not isinstance(url, str) or len(url) > 2000:
        raise Invalid("url must be an http or https URL", field="url")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("url must be an http or https URL", field="url")
    if allow_private is None:
        allow_private = private_allowed()
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError):
        raise Invalid(f"url host {parts.hostname} does not resolve", field="url") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            raise Invalid(
                f"url host {parts.hostname} is a private or loopback address ({address}); "
                f"set {ALLOW_PRIVATE_ENV}=1 to allow it",
                field="url",
            )


# -- secrets and signatures -----------------------------------------------------
def new_secret(api: str) -> str:
    raw = base64.b64encode(secrets.token_bytes(24)).decode()
    return "whsec_" + raw if api == "polycrm" else raw


def standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` keyed with the secret's bytes."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def cirrus_signature(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of the raw body keyed with the base64-decoded secret."""
    return hmac.new(base64.b64decode(secret), body, hashlib.sha256).hexdigest()


def signed_headers(hook: Webhook, delivery_id: int, body: bytes, now: dt.datetime | None = None) -> dict[str, str]:
    """The headers a delivery is sent with, signed for this attempt."""
    if hook.api == "polycrm":
        msg_id = f"msg_{delivery_id}"
        timestamp = int((now or dt.datetime.now(dt.UTC)).timestamp())
        return {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": standard_signature(hook.secret, msg_id, timestamp, body),
        }
    if hook.api == "cirrus":
        return {"Content-Type": "application/json", "X-Hook-Signature": cirrus_signature(hook.secret, body)}
    return {"Content-Type": "application/x-www-form-urlencoded"}


def iso_utc(moment: dt.datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def polycrm_body(event: Any) -> tuple[str, bytes]:
    name = f"{event.entity}.{event.op}"
    payload = {
        "type": name,
        "timestamp": iso_utc(event.created_at),
        "data": {"id": event.record_id, "object": event.snapshot, "changed": event.changes},
    }
    return name, orjson.dumps(payload)


def cirrus_body(event: Any, data: dict[str, Any] | None) -> tuple[str, bytes] | None:
    name = cirrus_events.event_name(event.entity, event.op)
    if name is None:
        return None
    payload = {"event": name, "data": data if data is not None else {"id": event.record_id}, "postedAt": iso_utc(event.created_at)}
    return name, orjson.dumps(payload)


# -- registering ----------------------------------------------------------------
def add(session: Session, tenant_id: int, url: str, api: str, events: Sequence[str] = ()) -> tuple[Webhook, str]:
    """Register a hook; returns it with its secret (shown once, kept for signing).

    These functions work in the caller's session and transaction (the CLI's
    system session, a web page's workspace) and filter by tenant themselves."""
    if api not in APIS:
        raise Invalid(f"api must be one of {', '.join(APIS)}", field="api")
    wanted = [e.strip() for e in events if e and e.strip()]
    unknown = [e for e in wanted if e not in EVENTS[api]]
    if unknown:
        raise Invalid(f"unknown {api} events: {', '.join(unknown)} (known: {', '.join(EVENTS[api])})", field="events")
    url = url.strip() if isinstance(url, str) else url
    check_url(url)
    secret = new_secret(api)
    hook = Webhook(tenant_id=tenant_id, api=api, url=url, events=wanted, secret=secret, active=True)
    session.add(hook)
    session.flush()
    return hook, secret


def hooks(session: Session, tenant_id: int) -> list[Webhook]:
    return list(session.scalars(
        select(Webhook).where(Webhook.tenant_id == tenant_id, Webhook.api.in_(APIS)).order_by(Webhook.id)
    ))


def remove(session: Session, tenant_id: int, hook_id: int) -> None:
    hook = session.get(Webhook, hook_id)
    if hook is None or hook.tenant_id != tenant_id or hook.api not in APIS:
        raise NotFound(f"webhook {hook_id} not found", field="id")
    session.delete(hook)
    session.flush()


def describe(hook: Webhook) -> dict[str, Any]:
    return {
        "id": hook.id, "api": hook.api, "url": hook.url, "events": list(hook.events or []),
        "active": hook.active, "disabled_reason": hook.disabled_reason, "created_at": iso_utc(hook.created_at),
    }


# -- the delivery log -------------------------------------------------------------
def deliveries(session: Session, tenant_id: int, *, failed: bool = False, limit: int = 200) -> list[dict[str, Any]]:
    """The tenant's deliveries, newest first (``failed``: the ones that gave up or were disabled)."""
    stmt = (
        select(WebhookDelivery, Webhook.url, Webhook.hook)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(WebhookDelivery.tenant_id == tenant_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    if failed:
        stmt = stmt.where(WebhookDelivery.status.in_(("failed", "disabled")))
    return [log_entry(d, url, hook) for d, url, hook in session.execute(stmt)]


def log_entry(d: WebhookDelivery, url: str, hook: str | None = None) -> dict[str, Any]:
    return {
        "id": d.id, "hook_id": d.webhook_id, "event": d.event, "target": url, "status": d.status,
        "attempts": d.attempts, "last_status": d.last_status, "response_excerpt": d.response_excerpt,
        "next_try": iso_utc(d.next_try_at) if d.next_try_at and d.status == "pending" else None,
        "created_at": iso_utc(d.created_at),
        "delivered_at": iso_utc(d.delivered_at) if d.delivered_at else None,
    }


def replay(session: Session, tenant_id: int, delivery_id: int) -> int:
    """Queue one delivery again, as a new log entry with the same body; returns its id."""
    old = session.get(WebhookDelivery, delivery_id)
    if old is None or old.tenant_id != tenant_id:
        raise NotFound(f"delivery {delivery_id} not found", field="id")
    hook = session.get(Webhook, old.webhook_id)
    if hook is None or not hook.active:
        raise Conflict(f"webhook {old.webhook_id} is disabled ({hook.disabled_reason if hook else 'removed'})")
    new = WebhookDelivery(
        tenant_id=tenant_id, webhook_id=old.webhook_id, event_id=old.event_id, event=old.event,
        record_key=old.record_key, body=old.body, status="pending", attempts=0, next_try_at=utcnow(),
    )
    session.add(new)
    session.flush()
    outbox.wake_after_commit(session)
    return new.id
