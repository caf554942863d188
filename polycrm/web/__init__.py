"""The web pages at ``/``: a small server-rendered UI on the core services.

Each page is an explicit route. The one catch-all, :class:`Fallback`, is
registered last and only answers a path no other route of the application
knows at all (not even for another method), so the API routes mounted
before these keep their own 404/405 answers. See docs/web.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from polycrm.web import lists as web_lists
from polycrm.web import pages, records
from polycrm.web import bulk as web_bulk
from polycrm.web import imports as web_imports
from polycrm.web import quotes as web_quotes
from polycrm.web.handler import HERE, SECURITY_HEADERS, Web


def routes(rt) -> list:
    web = Web(rt)
    page = web.page
    not_found = page(pages.not_found, public=True, reads_only=True)
    get, post = ["GET"], ["POST"]
    lists = []
    for spec in pages.LISTS.values():
        lists += [
            Route(spec.url, page(web_lists.list_page(spec)), methods=get),
            Route(f"{spec.url}/columns", page(web_lists.save_columns(spec)), methods=post),
            *([Route(f"{spec.url}/bulk", page(web_lists.bulk_action(spec)), methods=post)] if spec.bulk else []),
            Route(f"{spec.url}/views", page(web_lists.save_view(spec)), methods=post),
            Route(f"{spec.url}/views/{{view_id:int}}/delete", page(web_lists.delete_view(spec)), methods=post),
        ]
    return [
        Route("/", page(pages.dashboard), methods=get),
        Route("/signin", page(pages.sign_in_form, public=True), methods=get),
        Route("/signin", page(pages.sign_in, public=True), methods=post),
        Route("/signout", page(pages.sign_out), methods=post),
        Route("/customers/new", page(pages.customer_new), methods=get),
        Route("/customers/new", page(pages.customer_create), methods=post),
        Route("/customers/{id:int}", page(pages.customer_detail), methods=get),
        Route("/customers/{id:int}/edit", page(pages.customer_edit), methods=get),
        Route("/customers/{id:int}/edit", page(pages.customer_update), methods=post),
        Route("/customers/{id:int}/contacts/new", page(pages.contact_new), methods=get),
        Route("/customers/{id:int}/contacts/new", page(pages.contact_create), methods=post),
        Route("/documents/{id:int}/download", page(pages.document_download), methods=get),
        Route("/products/new", page(pages.product_new), methods=get),
        Route("/products/new", page(pages.product_create), methods=post),
        Route("/products/{id:int}/edit", page(pages.product_edit), methods=get),
        Route("/products/{id:int}/edit", page(pages.product_update), methods=post),
        Route("/activities", page(pages.activity_list), methods=get),
        Route("/activities/new", page(pages.activity_new), methods=get),
        Route("/activities/new", page(pages.activity_create), methods=post),
        Route("/activities/{id:int}/done", page(pages.activity_done), methods=post),
        Route("/activities/bulk", page(web_bulk.handler(pages.ACTIVITY_BULK)), methods=post),
        Route("/quotes/{id:int}", page(pages.quote_detail), methods=get),
        Route("/quotes/new", page(web_quotes.quote_new), methods=get),
        Route("/quotes/new", page(web_quotes.quote_create), methods=post),
        Route("/quotes/{id:int}/edit", page(web_quotes.quote_edit), methods=get),
        Route("/quotes/{id:int}/edit", page(web_quotes.quote_update), methods=post),
        Route("/quotes/{id:int}/pdf", page(web_quotes.quote_pdf_download), methods=get),
        *web_imports.routes(page),
        Route("/api-access", page(pages.api_access), methods=get),
        Route("/search", page(pages.global_search), methods=get),
        *records.routes(page, pages.RECORD_KINDS),
        Route("/opportunities/board", page(pages.opportunity_board), methods=get),
        Route("/opportunities/{id:int}", page(pages.opportunity_detail), methods=get),
        Route("/opportunities/{id:int}/edit", page(pages.opportunity_edit), methods=get),
        Route("/opportunities/{id:int}/edit", page(pages.opportunity_update), methods=post),
        Route("/opportunities/{id:int}/stage", page(pages.opportunity_move), methods=post),
        *lists,
        Mount("/static", StaticAssets(HERE / "static", not_found=not_found), name="static"),
        Fallback(not_found),
    ]


class Fallback(Route):
    """The styled not-found page for any address nothing else answers.

    It matches only when no other route of the app matches the path even
    partly (a known path with another method stays that route's 405), so
    the API faces keep their own answers for their own paths.
    """

    def __init__(self, endpoint) -> None:
        super().__init__("/{path:path}", endpoint)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        app = scope.get("app")
        others: list[BaseRoute] = list(getattr(getattr(app, "router", None), "routes", ()))
        for route in others:
            if route is not self and route.matches(scope)[0] != Match.NONE:
                return Match.NONE, {}
        return Match.FULL, {"endpoint": self.endpoint, "path_params": {}}


class StaticAssets(StaticFiles):
    """The package's stylesheet and scripts, sent with the pages' security headers
    (``nosniff`` is what keeps a browser from running a mistyped answer as a script
    or stylesheet). A file that is not there is the styled "Page not found" of any
    unknown address, not Starlette's plain-text 404; a method other than GET or
    HEAD stays a 405, with the headers too."""

    def __init__(self, directory, *, not_found: Callable[[Request], Awaitable[Response]]) -> None:
        super().__init__(directory=directory)
        self.not_found = not_found

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404:
                response = PlainTextResponse(exc.detail, exc.status_code, headers=exc.headers)
            else:
                # The fallback page reads no body (reads_only): the request needs no receive channel.
                response = await self.not_found(Request(scope))
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response
