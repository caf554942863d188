"""The Microbizz command API at ``/api/endpoint.php``."""

from __future__ import annotations


def routes(rt) -> list:
    from starlette.routing import Route

    from polycrm.faces.microbizz.endpoint import MicrobizzAPI

    api = MicrobizzAPI(rt)

    async def endpoint(request):
        return await api(request)

    return [Route("/api/endpoint.php", endpoint, methods=["GET", "POST"])]
