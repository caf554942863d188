"""What the handler modules share: the call, paging, date spans, inputs, error names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from polycrm.core import custom_fields
from polycrm.core.auth import Principal
from polycrm.core.errors import CoreError, renamed
from polycrm.core.models import Profile
from polycrm.core.queries import DateRange
from polycrm.core.query import Page
from polycrm.core.workspace import Workspace
from polycrm.faces.centia.wire import MAX_INT, invalid

DEFAULT_PER_PAGE = 500
MAX_PER_PAGE = 5000


@dataclass
class Call:
    """What a handler gets: the workspace, the caller, the checked profile, the parsed parameters."""

    ws: Workspace
    principal: Principal
    profile: Profile | None
    args: dict[str, Any]


def searched_id(text: str) -> int | None:
    """The id a ``search_value`` names, if it can be one."""
    return int(text) if text.isdigit() and int(text) <= MAX_INT else None


def paging(call: Call) -> dict[str, int]:
    """The checked ``page`` and ``pagination`` of a list call, as the core's page and page size."""
    per_page = call.args.get("pagination", DEFAULT_PER_PAGE)
    page = call.args.get("page", 1)
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise invalid("pagination", f"must be between 1 and {MAX_PER_PAGE}")
    if page < 1:
        raise invalid("page", "must be 1 or more")
    return {"page": page, "per_page": per_page}


def page_response(key: str, page: Page, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"total": page.total, "current_page": page.page, "last_page": page.last_page, key: items}


def span(call: Call, name: str) -> DateRange:
    bounds = call.args.get(name)
    return DateRange(*bounds) if bounds else DateRange()


def inputs_of(call: Call, entity: str, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    return custom_fields.bulk_values(call.ws, entity, ids, call.profile.id)


def wire_named(exc: CoreError, names: Mapping[str, str]) -> CoreError:
    """A core error naming the centia parameter instead of the core field
    (``names``: core field -> parameter). Besides the messages
    :func:`~polycrm.core.errors.renamed` handles, the profile checks' "invalid
    value for <field>: ..." is renamed, and a line's field
    (``lines[0].product_id``) is named after its list (``products[0].product_id``)."""
    field = exc.field or ""
    head, bracket, rest = field.partition("[")
    wire = names.get(head)
    if wire is None:
        return exc
    wire_field = wire + bracket + rest
    out = renamed(exc, {field: wire_field})
    prefix = f"invalid value for {field}:"
    if exc.message.startswith(prefix):
        out.message = f"invalid value for {wire_field}:{exc.message[len(prefix):]}"
        out.args = (out.message,)
    return out
