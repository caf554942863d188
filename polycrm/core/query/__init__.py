"""Generic filtered, sorted, paged listings described as data.

A face or a core module turns its parameters into :class:`Criterion` objects
(an operator, a core path and a value) and :class:`Sort` keys; :func:`search`
builds the SQL, counts, and fetches one :class:`Page`. No face writes SQL
itself. The package, each module importable on its own:

- :mod:`~polycrm.core.query.paths`: core paths as SQL, the criterion type,
  entity kinds and the one LIKE escaping function (:func:`escape_like`);
- :mod:`~polycrm.core.query.fulltext`: text searches through the trigram indexes;
- :mod:`~polycrm.core.query.criteria`: the operators (:func:`condition`);
- :mod:`~polycrm.core.query.geo`: distances and the ``near_to`` circle;
- :mod:`~polycrm.core.query.listing`: sorting, the paging rule, :func:`search`, :func:`every`;
- :mod:`~polycrm.core.query.loader`: :class:`Loader`, referenced rows for a page.

docs/rules/listing.md has the paging rule and which search uses which index.
"""

from polycrm.core.query.criteria import Has, LinkedTo, condition
from polycrm.core.query.fulltext import MIN_TRIGRAM_TERM, TRIGRAM_INDEXED, TrigramMatch
from polycrm.core.query.geo import EARTH_RADIUS_KM, Near, bounding_box, haversine_km
from polycrm.core.query.listing import (
    FEW_MATCHES,
    PAST_END,
    Page,
    PageOutOfRange,
    Sort,
    SortAfterFinding,
    every,
    order_by,
    search,
    settle_page,
)
from polycrm.core.query.loader import Loader
from polycrm.core.query.paths import Criterion, column, contains_text, entity_kind, escape_like, like, same_text

__all__ = [
    "EARTH_RADIUS_KM", "FEW_MATCHES", "MIN_TRIGRAM_TERM", "PAST_END", "TRIGRAM_INDEXED",
    "Criterion", "Has", "LinkedTo", "Loader", "Near", "Page", "PageOutOfRange", "Sort", "SortAfterFinding",
    "TrigramMatch", "bounding_box", "column", "condition", "contains_text", "entity_kind", "escape_like",
    "every", "haversine_km", "like", "order_by", "same_text", "search", "settle_page",
]
