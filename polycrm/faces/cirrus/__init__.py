"""The Cirrus 2 face: a Flask-RESTX style REST API under ``Settings.cirrus_prefix``.

See docs/cirrus2.md for the behaviour where the vendor documentation is
silent, and :mod:`polycrm.faces.cirrus.groups` for how groups are added.
"""

from __future__ import annotations

from starlette.convertors import PathConvertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from polycrm.faces.cirrus import oauth

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


class AnyPathConvertor(PathConvertor):
    """Like ``path``, but also matches encoded newlines (``%0A``), which
    ``.*`` does not: such URLs must get the face's JSON 404, not Starlette's text."""

    regex = r"[\s\S]*"


register_url_convertor("anypath", AnyPathConvertor())


def routes(rt) -> list:
    import orjson

    from polycrm.faces.cirrus.groups import served_operations
    from polycrm.faces.cirrus.operations import canonical_path
    from polycrm.faces.cirrus.endpoint import Face
    from polycrm.faces.cirrus.swagger import document

    operations = served_operations()
    face = Face(rt, operations)
    prefix = rt.settings.cirrus_prefix.rstrip("/")
    spec = orjson.dumps(document(operations, prefix))

    async def swagger(request: Request) -> Response:
        return Response(spec, media_type="application/json")

    # One catch-all route per first path segment, so an empty prefix does
    # not swallow the other faces' URLs.
    segments = sorted({canonical_path(o.op).strip("/").split("/")[0] for o in operations}
                      | {alias.strip("/").split("/")[0] for o in operations for alias in o.op.get("path_aliases", [])})
    found = [Route(f"{prefix}/swagger.json", swagger, methods=["GET", "HEAD"]),
             *oauth.routes(rt)]
    for segment in segments:
        found.append(Route(f"{prefix}/{segment}{{rest:anypath}}", _mount(face, segment), methods=ALL_METHODS))
    if prefix:
        # Anything else under the prefix gets the JSON 404 too.
        found.append(Route(f"{prefix}/{{rest:anypath}}", _mount(face, ""), methods=ALL_METHODS))
    return found


def _mount(face, segment: str):
    async def endpoint(request: Request) -> Response:
        rest = request.path_params.get("rest", "")
        request.path_params["cirrus_path"] = f"/{segment}{rest}" if segment else f"/{rest}"
        return await face(request)

    return endpoint
