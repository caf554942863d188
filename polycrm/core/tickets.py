"""Ticket rules shared by every API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from polycrm.core.errors import Invalid
from polycrm.core.models import Opportunity, Ticket
from polycrm.core.workspace import Workspace

STATUSES = ("open", "closed")


def create(ws: Workspace, values: Mapping[str, Any]) -> Ticket:
    """Create a ticket; a linked opportunity must be of the same customer when both are given."""
    opportunity_id = values.get("opportunity_id")
    if opportunity_id is not None:
        opportunity = ws.get(Opportunity, opportunity_id, include_deleted=False)
        if opportunity is None:
            raise Invalid(f"opportunity {opportunity_id} not found", field="opportunity_id")
        customer_id = values.get("customer_id")
        if customer_id is not None and opportunity.customer_id not in (None, customer_id):
            raise Invalid(
                f"opportunity {opportunity_id} does not belong to company {customer_id}", field="opportunity_id"
            )
    status = values.get("status") or "open"
    if status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}", field="status")
    return ws.create(Ticket, {**values, "status": status})
