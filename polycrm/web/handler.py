"""How every page runs: session, sign-in check, CSRF check, one workspace.

:meth:`Web.page` wraps a page function ``fn(ctx) -> Response``. The wrapper
loads the session cookie, sends visitors without a session to the sign-in
page, rejects a POST whose CSRF token does not match, and opens one
:class:`~polycrm.core.workspace.Workspace` for the request. A response with
an error status rolls the workspace back, so a rejected form leaves nothing
behind; core errors become friendly error pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from polycrm.core import browse, signin, tenant_settings
from polycrm.core.auth import Principal
from polycrm.core.errors import CoreError, NotFound
from polycrm.core.models import User
from polycrm.core.workspace import Workspace
from polycrm.runtime import Runtime
from polycrm.web.forms import format_amount
from polycrm.web.session import CSRF_FIELD, Session, SessionCodec, load_secret

HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@dataclass
class Ctx:
    """What a page function gets: the request and its one unit of work.

    Page functions are plain (blocking) functions; they run in a worker thread.
    """

    web: Web
    request: Request
    session: Session
    form: dict[str, Any] = field(default_factory=dict)
    # Every (name, value) pair of a posted form, for inputs sent more than once.
    form_items: list[tuple[str, Any]] = field(default_factory=list)
    ws: Workspace | None = None
    user: User | None = None
    _tz: ZoneInfo | None = None
    _currency: str | None = None

    @property
    def tz(self) -> ZoneInfo:
        """The tenant's time zone: change times are stored in UTC and shown in it."""
        if self._tz is None:
            self._tz = tenant_settings.time_zone(self.ws) if self.ws is not None else ZoneInfo("UTC")
        return self._tz

    @property
    def currency(self) -> str:
        """The currency amounts without their own code are shown in (the user's profile's)."""
        if self._currency is None:
            self._currency = browse.display_currency(self.ws, self.user.id if self.user else None) if self.ws else ""
        return self._currency

    def local(self, moment: dt.datetime | None) -> dt.datetime | None:
        """A stored (naive UTC) moment in the tenant's time zone."""
        if moment is None:
            return None
        return moment.replace(tzinfo=dt.timezone.utc).astimezone(self.tz).replace(tzinfo=None)

    def today(self) -> dt.date:
        """Today's date where the tenant is."""
        return dt.datetime.now(self.tz).date()

    def amount(self, value: Any, currency: str | None = None) -> str:
        return format_amount(value, currency or self.currency or None) if isinstance(value, Decimal) else ""

    @property
    def rt(self) -> Runtime:
        return self.web.rt

    def int_param(self, name: str, default: int = 1) -> int:
        try:
            return int(self.request.query_params.get(name, default))
        except ValueError:
            return default

    def form_list(self, name: str) -> list[str]:
        """Every value posted under ``name`` (checkboxes of one group)."""
        return [str(v) for k, v in self.form_items if k == name and isinstance(v, str)]

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        return self.web.render(self, template, status, **values)

    def redirect(self, url: str, flash: str | None = None) -> RedirectResponse:
        if flash:
            self.session["flash"] = flash
        return RedirectResponse(url, status_code=303)


PageFn = Callable[[Ctx], Response]


class Web:
    def __init__(self, rt: Runtime):
        self.rt = rt
        self.codec = SessionCodec(load_secret(rt.settings.data_dir))
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["money"] = lambda v: format_amount(v) if isinstance(v, Decimal) else ("" if v is None else v)
        self.env.filters["amount"] = _amount
        self.env.filters["when"] = _when
        self.env.filters["moment"] = _moment

    # -- rendering ----------------------------------------------------------
    def render(self, ctx: Ctx, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(
            user=ctx.user,
            csrf_field=CSRF_FIELD,
            csrf_token=ctx.session.csrf,
            flash=ctx.session.pop("flash"),
            path=ctx.request.url.path,
            ctx=ctx,
            **values,
        )
        return HTMLResponse(html, status_code=status)

    def error_page(self, ctx: Ctx, status: int, title: str, message: str) -> HTMLResponse:
        return self.render(ctx, "error.html", status, title=title, message=message)

    # -- the page wrapper ------------------------------------------------------
    def page(self, fn: PageFn, *, public: bool = False, reads_only: bool = False) -> Callable[[Request], Awaitable[Response]]:
        """Wrap ``fn`` as an endpoint. ``public`` pages need no session; a signed-in
        visitor of one still gets the menu. ``reads_only`` pages open a read-only
        workspace whatever the method (the not-found page answers every method)."""
        async def endpoint(request: Request) -> Response:
            ctx = Ctx(self, request, self.codec.load(request))
            response = await self._run(ctx, fn, public, reads_only)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            response.headers.setdefault("Cache-Control", "no-store")
            self.codec.save(request, response, ctx.session)
            return response

        endpoint.__name__ = fn.__name__
        return endpoint

    async def _run(self, ctx: Ctx, fn: PageFn, public: bool, reads_only: bool = False) -> Response:
        if ctx.request.method == "POST" and not reads_only:
            posted = await ctx.request.form()
            ctx.form = dict(posted)
            ctx.form_items = list(posted.multi_items())
        # Database work is blocking; keep it off the event loop.
        return await run_in_threadpool(self._run_sync, ctx, fn, public, reads_only)

    def _run_sync(self, ctx: Ctx, fn: PageFn, public: bool, reads_only: bool = False) -> Response:
        request = ctx.request
        writing = request.method == "POST" and not reads_only
        principal = signin.session_principal(self.rt.db, ctx.session.get("sid"))
        if principal is None and ctx.session.get("sid"):
            ctx.session.clear()  # signed out, expired or unknown: the cookie is worth nothing
        signed_in = principal is not None
        if not public and not signed_in:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/signin?next={quote(target)}", status_code=303)
        if writing and not ctx.session.csrf_ok(ctx.form.get(CSRF_FIELD)):
            return self.error_page(
                ctx, 403, "Form expired",
                "This form was not sent from this page or has expired. Go back, reload the page and try again.",
            )
        if not signed_in:
            return fn(ctx)
        principal = Principal(principal.tenant_id, principal.user_id)
        with self.rt.workspace(principal, write=writing) as ws:
            ctx.ws = ws
            ws.session.info["source"] = "web"  # changes made here show as made on a web page
            ctx.user = signin.active_user(ws, principal.user_id)
            if ctx.user is None:
                ctx.session.clear()
                return RedirectResponse("/signin", status_code=303)
            try:
                response = fn(ctx)
            except NotFound as exc:
                ws.rollback()
                return self.error_page(ctx, 404, "Not found", exc.message)
            except CoreError as exc:
                ws.rollback()
                return self.error_page(ctx, 400, "Cannot do that", exc.message)
            if response.status_code >= 400:
                ws.rollback()
            return response


@pass_context
def _amount(context: Any, value: Any, currency: str | None = None) -> str:
    """An amount with thousands grouped and its currency (the record's own, else the user's)."""
    return context["ctx"].amount(value, currency)


@pass_context
def _moment(context: Any, value: Any) -> str:
    """A stored UTC moment shown in the tenant's time zone, with the zone's abbreviation."""
    ctx = context["ctx"]
    if not isinstance(value, dt.datetime):
        return _when(value)
    aware = value.replace(tzinfo=dt.timezone.utc).astimezone(ctx.tz)
    return aware.strftime("%Y-%m-%d %H:%M ") + (aware.tzname() or "")


def _when(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
