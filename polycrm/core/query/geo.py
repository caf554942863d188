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

from sqlalchemy import func, or_, select, union_all
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table

from polycrm.core.models import Customer, TenantScoped
from polycrm.core.query.paths import column
from polycrm.core.workspace import Workspace
from polycrm.store.engine import fts_tables

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

    The candidates are narrowed to a bounding box in SQL (only id and
    coordinates are read), through the spatial index of customer points
    where there is one (:func:`spatial_candidates`); the exact great-circle
    distance then decides.
    """
    lat_read, lng_read = lat, lng = column(model, paths[0], "float"), column(model, paths[1], "float")
    min_lat, max_lat, min_lng, max_lng = bounding_box(center)
    indexed = model is Customer and paths == ("latitude", "longitude") and has_spatial_index(ws)
    if indexed and ws.session.get_bind().dialect.name == "sqlite":
        # ``+ 0.0`` (the same value for every float): SQLite then finds the rows by
        # the ids the R*Tree gives instead of walking the latitude band of ix_customer_geo.
        lat, lng = lat + 0.0, lng + 0.0
    box = [lat.is_not(None), lng.is_not(None), lat >= min_lat, lat <= max_lat]
    if min_lng < -180 or max_lng > 180:
        # The box crosses the antimeridian: two longitude ranges.
        lo, hi = ((min_lng + 360, max_lng) if min_lng < -180 else (min_lng, max_lng - 360))
        box.append(or_(lng >= lo, lng <= hi))
        lng_ranges = [(lo, 180.0), (-180.0, hi)]
    elif (min_lng, max_lng) != (-180.0, 180.0):
        box += [lng >= min_lng, lng <= max_lng]
        lng_ranges = [(min_lng, max_lng)]
    else:
        lng_ranges = [(-180.0, 180.0)]
    if indexed:
        box += spatial_candidates(ws, min_lat, max_lat, lng_ranges)
    rows = ws.session.execute(select(model.id, lat_read, lng_read).where(*base, *box).order_by(*order)).all()
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


# SQLite R*Tree of customer points and the PostgreSQL GiST index over them (migration 0021).
CUSTOMER_RTREE = "customer_geo"


def has_spatial_index(ws: Workspace) -> bool:
    dialect = ws.session.get_bind().dialect
    return dialect.name == "postgresql" or (dialect.name == "sqlite" and CUSTOMER_RTREE in fts_tables(dialect))


def spatial_candidates(ws: Workspace, min_lat: float, max_lat: float,
                       lng_ranges: Sequence[tuple[float, float]]) -> list[Any]:
    """Conditions that let the spatial index find the customers in the box.

    They are a superset of the box (the R*Tree rounds its 32-bit bounds
    outwards, PostgreSQL compares points with boxes within a small epsilon),
    so they only narrow the candidates: the exact box on the columns stays
    beside them and the rows found are the same. Without an index (a SQLite
    library lacking R*Tree) there are none.
    """
    dialect = ws.session.get_bind().dialect
    if dialect.name == "postgresql":
        point = func.point(Customer.longitude, Customer.latitude)
        boxes = [point.op("<@")(func.box(func.point(lo, min_lat), func.point(hi, max_lat))) for lo, hi in lng_ranges]
        return [or_(*boxes)]
    if dialect.name == "sqlite" and CUSTOMER_RTREE in fts_tables(dialect):
        rtree = sql_table(CUSTOMER_RTREE, sql_column("id"), sql_column("min_lat"), sql_column("max_lat"),
                          sql_column("min_lng"), sql_column("max_lng"))
        parts = [select(rtree.c.id).where(rtree.c.max_lat >= min_lat, rtree.c.min_lat <= max_lat,
                                          rtree.c.max_lng >= lo, rtree.c.min_lng <= hi) for lo, hi in lng_ranges]
        found = parts[0] if len(parts) == 1 else union_all(*parts)
        return [Customer.id.in_(found)]
    return []
