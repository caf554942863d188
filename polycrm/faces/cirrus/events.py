"""Cirrus webhook events: which records have them and how ``data`` is rendered.

The delivery side (:mod:`polycrm.platform.delivery`) asks this module to
render a changed record the way this face's REST API returns it (the vendor's
webhooks use its GraphQL shapes, which polycrm does not serve). It only reads.
"""

from __future__ import annotations

from typing import Any

from polycrm.core import query as q
from polycrm.core.workspace import Workspace
from polycrm.faces.cirrus.views import Ctx, render

# core entity -> Cirrus event noun
NOUNS = {"customer": "ACCOUNT", "contact": "CONTACT", "activity": "ACTIVITY", "opportunity": "OPPORTUNITY"}
VERBS = {"created": "CREATE", "updated": "UPDATE", "deleted": "DELETE"}
EVENTS = tuple(f"{verb}_{noun}" for noun in NOUNS.values() for verb in VERBS.values())


def event_name(entity: str, op: str) -> str | None:
    noun = NOUNS.get(entity)
    return f"{VERBS[op]}_{noun}" if noun else None


def _entities() -> dict[str, Any]:
    from polycrm.faces.cirrus.groups.accounts import ACCOUNT_ENTITY
    from polycrm.faces.cirrus.groups.activities import ACTIVITY_ENTITY
    from polycrm.faces.cirrus.groups.contacts import CONTACT_ENTITY
    from polycrm.faces.cirrus.groups.opportunities import OPPORTUNITY_ENTITY

    return {
        "customer": ACCOUNT_ENTITY, "contact": CONTACT_ENTITY,
        "activity": ACTIVITY_ENTITY, "opportunity": OPPORTUNITY_ENTITY,
    }


def render_record(ws: Workspace, entity: str, record_id: int) -> dict[str, Any] | None:
    """The record as ``GET /cirrus/<group>/<id>`` renders it (also once deleted), or None."""
    cirrus_entity = _entities()[entity]
    obj = ws.get(cirrus_entity.model, record_id)
    if obj is None:
        return None
    ctx = Ctx(ws=ws, loader=q.Loader(ws), user_id=ws.user_id)
    return render(ctx, cirrus_entity.view, obj)
