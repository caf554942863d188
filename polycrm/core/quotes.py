"""Quotations (Microbizz sales contracts, Cirrus quotes) and their lines.

:data:`SERVICE` writes a quote, :data:`LINE_SERVICE` its lines; the rules are
those of every sales document (:mod:`polycrm.core.sales`): a ``Q-00001``
number claimed under the tenant's lock, the default ``quote_status`` and the
acting user, live references, and a price that is the sum of the lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from polycrm.core import sales
from polycrm.core.models import Quote, QuoteLine
from polycrm.core.sales import LineService
from polycrm.core.service import Service
from polycrm.core.workspace import Workspace

PREFIX = "Q-"
LOOKUPS = {"status_id": "quote_status", "type_id": "quote_type", "extra.phaseid": "quote_phase", **sales.TERM_LOOKUPS}

SERVICE: Service[Quote] = Service(
    Quote, "quote",
    rules=[
        sales.references_rule(LOOKUPS),
        sales.number_rule(Quote.number, PREFIX),
        sales.head_defaults("quote_status"),
    ],
    after=[sales.price_follows_lines(QuoteLine, "quote_id")],
)

LINE_SERVICE = LineService(QuoteLine, "quote line", parent=Quote, fk="quote_id", parent_label="quotation")


def create(ws: Workspace, values: Mapping[str, Any], lines: Iterable[Mapping[str, Any]] = ()) -> Quote:
    """A quote and (optionally) its lines, the price being their sum."""
    quote = SERVICE.create(ws, values)
    entries = [(None, line) for line in lines]
    if entries:
        LINE_SERVICE.replace(ws, quote, entries)
    return quote



def update(ws: Workspace, quote: Quote, values: Mapping[str, Any],
           lines: Iterable[tuple[QuoteLine | None, Mapping[str, Any]]]) -> bool:
    """Write the head and make ``lines`` the quote's lines (see
    :meth:`~polycrm.core.sales.LineService.replace`); returns whether anything changed."""
    changed = SERVICE.update(ws, quote, values)
    return LINE_SERVICE.sync(ws, quote, list(lines)) or changed
