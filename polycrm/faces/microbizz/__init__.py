"""The Microbizz command API at ``/api/endpoint.php``."""

from __future__ import annotations


def routes(rt) -> list:
    from starlette.routing import Route

    from polycrm.faces.microbizz.endpoint import MicrobizzAPI

    api = MicrobizzAPI(rt)

    async def endpoint(request):
        return await api(request)

    from starlette.responses import Response

    from polycrm.faces.microbizz.schema import document

    import orjson

    schema = orjson.dumps(document())

    async def schema_json(_request):
        return Response(schema, media_type="application/json")

    return [Route("/api/endpoint.php", endpoint, methods=["GET", "POST"]),
            Route("/api/schema.json", schema_json, methods=["GET"])]
