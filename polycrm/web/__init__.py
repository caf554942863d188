"""The web pages at ``/``: a small server-rendered UI on the core services.

Each page is an explicit route (no catch-all), so the API routes mounted
before these keep their own 404/405 answers. See docs/web.md.
"""

from __future__ import annotations

from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from polycrm.web import pages
from polycrm.web.handler import HERE, Web


def routes(rt) -> list:
    web = Web(rt)
    page = web.page
    get, post = ["GET"], ["POST"]
    lists = [Route(spec.url, page(pages.list_page(spec)), methods=get) for spec in pages.LISTS.values()]
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
        Route("/quotes/{id:int}", page(pages.quote_detail), methods=get),
        Route("/api-access", page(pages.api_access), methods=get),
        *lists,
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
