"""The Microbizz app platform: registered apps, app connect, session tokens.

An app is registered by a tenant admin (public id, secret, title). Its
connect request ``{publicid, negotiateurl, returnurl, hooks}`` is confirmed
by a signed-in user; polycrm then POSTs ``endpoint``, ``contract``,
``accesstoken`` and ``challenge`` to the negotiate URL and requires the
answer ``sha1(challenge + secret)`` in hex. Only then are the connection, its
access token (a ``microbizz.accesstoken`` credential, accepted by the
Microbizz API like an API key) and its hooks stored. Event hooks become
``webhook`` rows of api ``microbizz`` (delivered by the same outbox); the
other hooks are interface hooks (customer tabs).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import urllib.parse
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from polycrm.core import auth
from polycrm.core.errors import Conflict, Invalid, NotFound
from polycrm.core.models import Credential, Tenant, utcnow
from polycrm.platform import webhooks
from polycrm.platform.models import AppConnection, MicrobizzApp, Webhook
from polycrm.store.engine import Database

SESSION_TOKEN = "microbizz.sessiontoken"
# How long an interface hook's session token is valid after the page that made it.
SESSION_TOKEN_TTL = dt.timedelta(hours=1)
# The event hooks polycrm fires; other ``event_*`` hooks are stored but never fire.
EVENT_HOOKS = (
    "customer/event_customer_change",
    "customer/event_person_attach",
    "general/event_file_create",
    "general/event_file_change",
)


class ConnectFailed(Exception):
    """The app connect step failed; ``reason`` says why (nothing was stored)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# -- apps ---------------------------------------------------------------------------
def register(session: Session, tenant_id: int, publicid: str, secret: str, title: str = "") -> MicrobizzApp:
    publicid, title = (publicid or "").strip(), (title or "").strip()
    if not publicid or len(publicid) > 100:
        raise Invalid("publicid must be 1 to 100 characters", field="publicid")
    if not secret or len(secret) > 200:
        raise Invalid("secret must be 1 to 200 characters", field="secret")
    if len(title) > 200:
        raise Invalid("title must be at most 200 characters", field="title")
    taken = session.scalars(
        select(MicrobizzApp).where(MicrobizzApp.tenant_id == tenant_id, MicrobizzApp.publicid == publicid)
    ).first()
    if taken is not None:
        raise Conflict(f"an app with publicid {publicid!r} is already registered")
    app = MicrobizzApp(tenant_id=tenant_id, publicid=publicid, secret=secret, title=title or publicid)
    session.add(app)
    session.flush()
    return app


def apps_of(session: Session, tenant_id: int) -> list[MicrobizzApp]:
    return list(session.scalars(select(MicrobizzApp).where(MicrobizzApp.tenant_id == tenant_id).order_by(MicrobizzApp.id)))


def find_app(session: Session, tenant_id: int, publicid: str) -> MicrobizzApp:
    app = session.scalars(
        select(MicrobizzApp).where(MicrobizzApp.tenant_id == tenant_id, MicrobizzApp.publicid == publicid)
    ).first()
    if app is None:
        raise NotFound(f"no app with publicid {publicid!r} is registered", field="publicid")
    return app


# -- the connect request ----------------------------------------------------------------
def parse_request(raw: Any) -> dict[str, Any]:
    """The app's ``request`` (JSON text or an object), checked; :class:`Invalid` names what is wrong."""
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise Invalid("request is not valid JSON", field="request") from None
    if not isinstance(raw, dict):
        raise Invalid("request must be a JSON object", field="request")
    out: dict[str, Any] = {}
    for key in ("publicid", "negotiateurl", "returnurl"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise Invalid(f"request.{key} is required", field=f"request.{key}")
        out[key] = value.strip()
    for key in ("negotiateurl", "returnurl"):
        try:
            webhooks.check_url(out[key])
        except Invalid as exc:
            raise Invalid(f"request.{key}: {exc.message}", field=f"request.{key}") from None
    hooks = raw.get("hooks") or []
    if not isinstance(hooks, list):
        raise Invalid("request.hooks must be a list", field="request.hooks")
    out["hooks"] = []
    for n, hook in enumerate(hooks):
        if not isinstance(hook, dict):
            raise Invalid(f"request.hooks[{n}] must be an object", field="request.hooks")
        item = {k: str(hook.get(k) or "").strip() for k in ("modcode", "hook", "title", "url")}
        if not item["modcode"] or not item["hook"]:
            raise Invalid(f"request.hooks[{n}] needs modcode and hook", field="request.hooks")
        try:
            webhooks.check_url(item["url"])
        except Invalid as exc:
            raise Invalid(f"request.hooks[{n}].url: {exc.message}", field="request.hooks") from None
        out["hooks"].append(item)
    return out


def is_event_hook(hook: dict[str, Any]) -> bool:
    return hook["hook"].startswith("event_")


def hook_name(hook: dict[str, Any]) -> str:
    return f"{hook['modcode']}/{hook['hook']}"


def expected_answer(challenge: str, secret: str) -> str:
    return hashlib.sha1((challenge + secret).encode()).hexdigest()


def negotiate(url: str, fields: dict[str, str]) -> tuple[int | None, str]:
    """POST the negotiation form; the status and the answer's body."""
    from polycrm.platform.delivery import post_form

    return post_form(url, urllib.parse.urlencode(fields).encode())


def connect(
    db: Database, tenant_id: int, user_id: int | None, request: Any, endpoint: str,
    *, send: Callable[[str, dict[str, str]], tuple[int | None, str]] = negotiate,
) -> tuple[AppConnection, str]:
    """Run the negotiation and, on the right answer, store the connection.

    Raises :class:`Invalid`/:class:`NotFound` for a bad request or an
    unknown app and :class:`ConnectFailed` when the app answers wrongly;
    either way nothing is stored. Reconnecting an app replaces its previous
    connection (its token stops working, its hooks are replaced).
    """
    wanted = parse_request(request)
    with auth.system_session(db) as session:
        app = find_app(session, tenant_id, wanted["publicid"])
        contract = session.get(Tenant, tenant_id).contract
        secret, app_id = app.secret, app.id
    token, challenge = auth.new_token(32), secrets.token_hex(20)
    status, answer = send(wanted["negotiateurl"], {
        "endpoint": endpoint, "contract": str(contract), "accesstoken": token, "challenge": challenge,
    })
    if status is None or not 200 <= status < 300:
        raise ConnectFailed(f"the app's negotiate URL answered {status or 'nothing'}: {answer[:200]}")
    if not hmac.compare_digest(answer.strip().lower(), expected_answer(challenge, secret)):
        raise ConnectFailed("the app's answer to the challenge is wrong (expected sha1(challenge + secret) in hex)")
    with auth.system_session(db) as session, session.begin():
        if db.is_sqlite:
            session.connection(execution_options={"polycrm_write": True})
        for old in session.scalars(select(AppConnection).where(
            AppConnection.tenant_id == tenant_id, AppConnection.app_id == app_id,
            AppConnection.disconnected_at.is_(None),
        )):
            _disconnect(session, old)
        cred = auth.add_credential(session, tenant_id, user_id, auth.MICROBIZZ_ACCESSTOKEN, token)
        connection = AppConnection(
            tenant_id=tenant_id, app_id=app_id, credential_id=cred.id, user_id=user_id, accesstoken=token,
            hooks=wanted["hooks"],
        )
        session.add(connection)
        for hook in wanted["hooks"]:
            if is_event_hook(hook):
                session.add(Webhook(
                    tenant_id=tenant_id, api="microbizz", url=hook["url"], events=[], secret="",
                    hook=hook_name(hook), credential_id=cred.id, active=True,
                ))
        session.flush()
    return connection, token


def _disconnect(session: Session, connection: AppConnection) -> None:
    connection.disconnected_at = utcnow()
    cred = session.get(Credential, connection.credential_id)
    if cred is not None and cred.revoked_at is None:
        cred.revoked_at = utcnow()
    for hook in session.scalars(select(Webhook).where(Webhook.credential_id == connection.credential_id)):
        session.delete(hook)


def connections(session: Session, tenant_id: int) -> list[tuple[AppConnection, MicrobizzApp]]:
    """The tenant's live connections with their apps."""
    return [tuple(row) for row in session.execute(
        select(AppConnection, MicrobizzApp).join(MicrobizzApp, MicrobizzApp.id == AppConnection.app_id)
        .where(AppConnection.tenant_id == tenant_id, AppConnection.disconnected_at.is_(None))
        .order_by(AppConnection.id)
    )]


def disconnect(session: Session, tenant_id: int, connection_id: int) -> None:
    connection = session.get(AppConnection, connection_id)
    if connection is None or connection.tenant_id != tenant_id or connection.disconnected_at is not None:
        raise NotFound(f"app connection {connection_id} not found", field="id")
    _disconnect(session, connection)
    session.flush()


# -- interface hooks and session tokens ---------------------------------------------------
def customer_tabs(db: Database, tenant_id: int, user_id: int, customer_id: int, customer_number: str | None) -> list[dict[str, str]]:
    """The connected apps' customer interface hooks as tabs: title and iframe URL.

    Each page view gets one fresh session token for its user (valid for
    :data:`SESSION_TOKEN_TTL`), written in a transaction of its own so that
    a page that only reads stays a read.
    """
    with auth.system_session(db) as session:
        live = connections(session, tenant_id)
        tabs = [
            (hook, connection.accesstoken)
            for connection, _app in live for hook in connection.hooks
            if hook["modcode"] == "customer" and not is_event_hook(hook)
        ]
        if not tabs:
            return []
        contract = session.get(Tenant, tenant_id).contract
    sessiontoken = auth.new_token(24)
    with auth.system_session(db) as session, session.begin():
        auth.add_credential(session, tenant_id, user_id, SESSION_TOKEN, sessiontoken, ttl=SESSION_TOKEN_TTL)
    out = []
    for hook, accesstoken in tabs:
        query = urllib.parse.urlencode({
            "sessiontoken": sessiontoken, "accesstoken": accesstoken, "contract": contract, "id": customer_id,
            "customernumber": customer_number or "",
        })
        sep = "&" if "?" in hook["url"] else "?"
        out.append({"title": hook["title"] or hook["hook"], "src": f"{hook['url']}{sep}{query}"})
    return out


def session_token_user(session: Session, tenant_id: int, token: Any) -> int | None:
    """The user a live session token of this tenant was made for, or None."""
    if not isinstance(token, str) or not token or "\x00" in token:
        return None
    cred = auth.find_credential(session, SESSION_TOKEN, token)
    if cred is None or cred.tenant_id != tenant_id:
        return None
    return cred.user_id
