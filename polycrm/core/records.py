"""Records of kinds that only one API knows in depth (procedures, subscriptions, ...).

A kind of record is written through its :class:`RecordService`: a record is
created with its kind (and active unless told), and keeps that kind. The
kinds below have no rules beyond that; kinds with more (missions, objects,
contracts, price lists, lead activities) have their service in the core
module that owns them, built on :class:`RecordService` where the kind is
all they need.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from polycrm.core import limits
from polycrm.core.errors import Invalid
from polycrm.core.models import Record
from polycrm.core.service import Service, Write
from polycrm.core.workspace import Workspace

LEAD = "lead"
SUBSCRIPTION = "subscription"
TEMPLATE = "template"


class RecordService(Service[Record]):
    """The write service of the records of one kind."""

    def __init__(self, kind: str, label: str, **options: Any) -> None:
        self.kind = kind
        super().__init__(Record, label, **{**options, "rules": [self._keep_kind, *options.get("rules", ())]})

    def _keep_kind(self, write: Write) -> None:
        if write.creating:
            write.values["kind"] = self.kind
            write.values.setdefault("active", True)
        elif write.given("kind") and write.values["kind"] != self.kind:
            raise Invalid(f"a {self.label} stays a {self.label}", field="kind")


LEADS = RecordService(LEAD, "lead")
SUBSCRIPTIONS = RecordService(SUBSCRIPTION, "subscription")
TEMPLATES = RecordService(TEMPLATE, "template")


def feed_filter(kind: str, *, skip_deleted: bool = False) -> list[Any]:
    where: list[Any] = [Record.kind == kind]
    if skip_deleted:
        where.append(Record.deleted.is_(False))
    return where


def of_customer(ws: Workspace, kind: str, customer_id: int) -> list[Record]:
    if limits.id_in_range(customer_id) is None:
        return []  # no customer can have it (and SQLite cannot bind it)
    stmt = select(Record).where(Record.kind == kind, Record.customer_id == customer_id, Record.deleted.is_(False))
    return ws.scalars(stmt.order_by(Record.id))
