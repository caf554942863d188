"""The centiaCRM v1 face: ``POST /api/v1/{module}`` with ``{"method", "parameters"}``.

Routes only; :mod:`polycrm.faces.centia.endpoint` does the rest.
"""

from __future__ import annotations

from typing import Any


def routes(rt: Any) -> list:
    from starlette.routing import Route

    # Importing the endpoint registers the ``centia_module`` path convertor.
    from polycrm.faces.centia.endpoint import CentiaApi

    api = CentiaApi(rt)
    prefixed = (
        "/api/v1/{module}",
        "/api/v1/{module}/",
        "/api/v1",
        "/api/v1/",
        "/api/{module:centia_module}",
        "/api/{module:centia_module}/",
    )
    # The bare form takes POST only, so the web pages' GET lists at the same
    # paths (/contacts, /products, ...) stay reachable.
    bare = ("/{module:centia_module}", "/{module:centia_module}/")
    import orjson
    from starlette.responses import Response

    from polycrm.faces.centia.schema import document

    schema = orjson.dumps(document())

    async def schema_json(_request):
        return Response(schema, media_type="application/json")

    # Before the module routes, which would take "schema.json" for a module name.
    return [Route("/api/v1/schema.json", schema_json, methods=["GET"])] + [
        Route(path, api.endpoint, methods=["GET", "POST"]) for path in prefixed] + [
        Route(path, api.endpoint, methods=["POST"]) for path in bare
    ]
