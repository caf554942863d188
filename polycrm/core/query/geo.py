"""Distances from a point: the circle a ``near_to`` search lists.

A distance is not a criterion: :func:`polycrm.core.query.search` takes it as
``near_to`` (a :class:`Near`), finds the rows inside the circle with
:func:`near_hits` and sorts them itself.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from polycrm.core.models import TenantScoped
from polycrm.core.query.paths import column
from polycrm.core.workspace import Workspace

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Near:
    lat: float
    lng: float
    km: float


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance; :func:`near_hits` computes the same, unrolled."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(center: Near) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) enclosing the circle; the longitude
    span widens towards the poles and covers everything near them."""
    dlat = math.degrees(center.km / EARTH_RADIUS_KM)
    min_lat, max_lat = center.lat - dlat, center.lat + dlat
    cos_lat = math.cos(math.radians(center.lat))
    if max_lat >= 90 or min_lat <= -90 or cos_lat < 1e-9:
        return max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0
    dlng = math.degrees(center.km / (EARTH_RADIUS_KM * cos_lat))
    if dlng >= 180:
        return min_lat, max_lat, -180.0, 180.0
    return min_lat, max_lat, center.lng - dlng, center.lng + dlng


def near_hits(ws: Workspace, model: type[TenantScoped], center: Near, base: Iterable[Any],
              paths: tuple[str, str], order: Sequence[Any] = ()) -> list[tuple[int, float]]:
    """(id, km) of the rows meeting ``base`` within ``center.km``, in ``order``.

    The indexed latitude/longitude columns narrow the candidates to a
    bounding box in SQL (only id and coordinates are read); the exact
    great-circle distance then decides.
    """
    lat, lng = column(model, paths[0], "float"), column(model, paths[1], "float")
    min_lat, max_lat, min_lng, max_lng = bounding_box(center)
    box = [lat.is_not(None), lng.is_not(None), lat >= min_lat, lat <= max_lat]
    if min_lng < -180 or max_lng > 180:
        # The box crosses the antimeridian: two longitude ranges.
        lo, hi = ((min_lng + 360, max_lng) if min_lng < -180 else (min_lng, max_lng - 360))
        box.append(or_(lng >= lo, lng <= hi))
    elif (min_lng, max_lng) != (-180.0, 180.0):
        box += [lng >= min_lng, lng <= max_lng]
    rows = ws.session.execute(select(model.id, lat, lng).where(*base, *box).order_by(*order)).all()
    # haversine_km, unrolled with the centre's terms computed once (same
    # operations in the same order, so the same distances to the last bit).
    radians, sin, cos, asin, sqrt = math.radians, math.sin, math.cos, math.asin, math.sqrt
    p1 = radians(center.lat)
    cos_p1, km, lng0 = cos(p1), center.km, center.lng
    hits = []
    for id_, la, ln in rows:
        p2 = radians(float(la))
        a = sin((p2 - p1) / 2) ** 2 + cos_p1 * cos(p2) * sin(radians(float(ln) - lng0) / 2) ** 2
        d = 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(a)))
        if d <= km:
            hits.append((id_, d))
    return hits
