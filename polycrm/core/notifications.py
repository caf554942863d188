"""Notifying a user about a record: a task activity on the user's list.

A notification is an open activity of type ``task`` owned by the user it is
for, linked to the customer/contact/opportunity it is about, so every API
that lists a user's activities shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from polycrm.core import lookups
from polycrm.core.models import Activity, utcnow
from polycrm.core.service import Write
from polycrm.core.workspace import Workspace


def notify(
    ws: Workspace,
    user_id: int,
    text: str,
    *,
    customer_id: int | None = None,
    contact_id: int | None = None,
    opportunity_id: int | None = None,
    about: tuple[str, int] | None = None,
) -> Activity:
    """Create the task that tells ``user_id`` about something; ``about`` is (kind, id)."""
    task = lookups.by_code(ws, "activity_type", "task")
    extra: dict[str, Any] = {"notification": True}
    if about is not None:
        extra["about_kind"], extra["about_id"] = about
    now = utcnow()
    return ws.create(
        Activity,
        type_id=task.id if task else None,
        user_id=user_id,
        customer_id=customer_id,
        contact_id=contact_id,
        opportunity_id=opportunity_id,
        description=text,
        date=now.date(),
        start=now,
        closed=False,
        extra=extra,
    )


def on_create(kind: str, label: str) -> Callable[[Write], None]:
    """An ``after`` step of a service: when the writer asks (``notify=True``),
    tell the new record's user about it, in the words ``comment=`` gives, else
    "New <label>: <title>". Tickets and opportunities notify alike."""

    def step(write: Write) -> None:
        obj = write.obj
        if not write.creating or not write.context.get("notify") or obj is None or not obj.user_id:
            return
        opportunity_id = obj.id if kind == "opportunity" else getattr(obj, "opportunity_id", None)
        notify(
            write.ws,
            obj.user_id,
            write.context.get("comment") or f"New {label}: {obj.title}",
            customer_id=obj.customer_id,
            contact_id=obj.contact_id,
            opportunity_id=opportunity_id,
            about=(kind, obj.id),
        )

    return step
