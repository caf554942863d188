"""The ASGI application: every face mounted on one Starlette app."""

from __future__ import annotations

from starlette.applications import Starlette

from polycrm.config import Settings
from polycrm.runtime import Runtime
from polycrm.store.engine import Database


def create_app(settings: Settings | None = None, db: Database | None = None) -> Starlette:
    from polycrm.faces import centia, cirrus, microbizz
    from polycrm import web
    from polycrm.sandbox import http as sandbox_http

    rt = Runtime.from_settings(settings, db)
    routes = [
        *microbizz.routes(rt),
        *cirrus.routes(rt),
        *centia.routes(rt),
        *web.routes(rt),
        *sandbox_http.routes(rt),
    ]
    app = Starlette(routes=routes)
    app.state.runtime = rt
    return app
