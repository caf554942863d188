"""The ASGI application: every face mounted on one Starlette app."""

from __future__ import annotations

import contextlib

from starlette.applications import Starlette
from starlette.middleware import Middleware

from polycrm.config import Settings
from polycrm.runtime import Runtime
from polycrm.sandbox.middleware import JournalMiddleware
from polycrm.store.engine import Database


def create_app(settings: Settings | None = None, db: Database | None = None) -> Starlette:
    from polycrm.faces import centia, cirrus, microbizz
    from polycrm import platform, web
    from polycrm.oauth import pages as oauth_pages
    from polycrm.sandbox import http as sandbox_http
    from polycrm.sandbox import pages as sandbox_pages

    rt = Runtime.from_settings(settings, db)
    routes = [
        *microbizz.routes(rt),
        *cirrus.routes(rt),
        *centia.routes(rt),
        *platform.routes(rt),
        *oauth_pages.routes(rt),
        *web.routes(rt),
        *sandbox_http.routes(rt),
        *sandbox_pages.routes(rt),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette):
        # Webhook delivery runs in the server itself (no extra daemon).
        with platform.delivering(rt):
            yield

    app = Starlette(routes=routes, middleware=[limits_middleware(rt), Middleware(JournalMiddleware, rt=rt)],
                    lifespan=lifespan)
    app.state.runtime = rt
    return app


def limits_middleware(rt: Runtime) -> Middleware:
    """Request size limits, refused in each API's own format (polycrm.http_limits)."""
    from polycrm.faces.microbizz.endpoint import MicrobizzAPI
    from polycrm.http_limits import LimitsMiddleware, refusal_for

    microbizz = MicrobizzAPI(rt)
    return Middleware(LimitsMiddleware, settings=rt.settings,
                      refusal=refusal_for(rt.settings, lambda _status, msg: microbizz.failure(f"Invalid request: {msg[:1].lower()}{msg[1:]}")))


def worker_app() -> Starlette:
    """The app of one process of ``polycrm serve --workers N`` (uvicorn's factory):
    settings from the environment the command set, migrations already applied."""
    from polycrm.cli import _tune_garbage_collector

    app = create_app()
    _tune_garbage_collector()
    return app
