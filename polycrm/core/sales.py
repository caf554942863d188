"""What quotes and orders share: numbers, head references, lines and totals.

A quote (:mod:`polycrm.core.quotes`) and an order (:mod:`polycrm.core.orders`)
are both a *document*: a head with a number, references and a ``price``, and
a list of lines. The rules here are the same for both:

* **numbers** are ``<prefix><n>`` (``Q-00001``, ``O-00001``), claimed under
  the tenant's numbering lock (:func:`polycrm.core.numbering.lock`) as one
  more than the highest number of that form in use (deleted rows included,
  so a number is never handed out twice); an explicitly given number is kept
  if no other live document has it, else :class:`Conflict`;
* **references** (customer, contact, users, opportunity) name live rows of
  this tenant; lookup columns name live entries of their list;
* **line total** = quantity × price, less ``discountpercent`` percent, less
  ``discountamount`` (a line without a quantity or price counts zero);
* **price** of a document = the sum of its live lines' totals, kept by the
  line service after every line written or deleted, whichever API wrote it.
  A document without lines keeps the price written to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from polycrm.core import lookups, numbering, products
from polycrm.core.errors import Conflict, Invalid, NotFound
from polycrm.core.models import Contact, Customer, Opportunity, Product, TenantScoped, User
from polycrm.core.service import Rule, Service, Write
from polycrm.core.workspace import Workspace

CENT = Decimal("0.0001")

# Head references every document has: core field -> (model, what the message calls it).
HEAD_REFERENCES: dict[str, tuple[type[TenantScoped], str]] = {
    "customer_id": (Customer, "customer"), "contact_id": (Contact, "person"), "user_id": (User, "user"),
    "user2_id": (User, "user"), "opportunity_id": (Opportunity, "opportunity"),
}
# Lookup columns kept in ``extra`` that both documents have.
TERM_LOOKUPS = {
    "extra.deliveryterm_id": "delivery_term", "extra.paymentterm_id": "payment_term",
    "extra.deliverytype_id": "delivery_type",
}


def _number(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def line_total(line: Any) -> Decimal:
    """quantity × price, less the percentage discount, less the amount discount."""
    amount = _number(line.quantity) * _number(line.price)
    if line.discountpercent:
        amount -= amount * _number(line.discountpercent) / 100
    if line.discountamount:
        amount -= _number(line.discountamount)
    return amount


def document_total(lines: Iterable[Any]) -> Decimal:
    return sum((line_total(line) for line in lines), Decimal(0)).quantize(CENT)


# -- head rules ------------------------------------------------------------------------
def claim_number(ws: Workspace, column: Any, prefix: str, wanted: Any = None, *, exclude_id: int | None = None,
                 width: int = 5) -> str:
    """The number a document gets, with the tenant's numbering lock held."""
    numbering.lock(ws, column)
    model = column.class_
    if wanted not in (None, ""):
        stmt = select(model.id).where(column == str(wanted), model.deleted.is_(False))
        if exclude_id is not None:
            stmt = stmt.where(model.id != exclude_id)
        if ws.first(stmt) is not None:
            raise Conflict(f"number {wanted} is already used", field="number")
        return str(wanted)
    highest = 0
    for value in ws.scalars(select(column).where(column.like(f"{prefix}%")).distinct()):
        rest = str(value)[len(prefix):]
        if rest.isdigit():
            highest = max(highest, int(rest))
    return f"{prefix}{highest + 1:0{width}d}"


def number_rule(column: Any, prefix: str) -> Rule:
    """A new document without a number gets the next one; a given number must be free."""

    def rule(write: Write) -> None:
        if write.creating:
            write.values["number"] = claim_number(write.ws, column, prefix, write.values.get("number"))
        elif write.given("number") and write.values["number"] != write.obj.number:
            wanted = write.values["number"]
            if wanted in (None, ""):
                raise Invalid("number must not be empty", field="number")
            write.values["number"] = claim_number(write.ws, column, prefix, wanted, exclude_id=write.obj.id)

    return rule


def head_defaults(status_kind: str) -> Rule:
    """A new document is in the default status of its list and belongs to the acting user."""

    def rule(write: Write) -> None:
        if not write.creating:
            return
        if not write.values.get("status_id"):
            default = lookups.default(write.ws, status_kind)
            write.values["status_id"] = default.id if default else None
        if not write.values.get("user_id") and write.ws.user_id:
            write.values["user_id"] = write.ws.user_id

    return rule


def references_rule(lookup_fields: Mapping[str, str]) -> Rule:
    """Each given reference names a live row of this tenant, each lookup a live entry of its list."""

    def rule(write: Write) -> None:
        ws = write.ws
        for key, (model, what) in HEAD_REFERENCES.items():
            value = write.values.get(key)
            if value and ws.get(model, value, include_deleted=False) is None:
                raise NotFound(f"{what} {value} not found", field=key)
        for key, kind in lookup_fields.items():
            if write.values.get(key):
                lookups.require(ws, kind, write.values[key], key)

    return rule


def price_follows_lines(line_model: type[TenantScoped], fk: str) -> Rule:
    """An after-step: a price written to a document that has lines is the lines' sum again."""

    def step(write: Write) -> None:
        if not write.creating and write.given("price"):
            recompute(write.ws, write.obj, line_model, fk)

    return step


def recompute(ws: Workspace, document: TenantScoped, line_model: type[TenantScoped], fk: str,
              *, keep_without_lines: bool = True) -> bool:
    """Set the document's price to the sum of its live lines; returns whether it changed.

    With ``keep_without_lines`` a document without lines keeps its price (the
    one written to it); otherwise (its last line was just deleted) it is 0.
    """
    fk_column = getattr(line_model, fk)
    lines = ws.scalars(select(line_model).where(fk_column == document.id, line_model.deleted.is_(False)))
    if not lines and keep_without_lines:
        return False
    return ws.update(document, {"price": document_total(lines)})


# -- lines -----------------------------------------------------------------------------
class LineService(Service):
    """The lines of one kind of document: every write or delete keeps the document's price."""

    def __init__(self, model: type[TenantScoped], label: str, *, parent: type[TenantScoped], fk: str,
                 parent_label: str, rules: Iterable[Rule] = ()) -> None:
        self.parent, self.fk, self.parent_label = parent, fk, parent_label
        super().__init__(
            model, label, lookups={"unit_id": "unit"},
            rules=[self._parent_rule, _product_rule, *rules], after=[self._keep_total],
        )

    def _parent_rule(self, write: Write) -> None:
        """A line belongs to a live document of this tenant; a moved line also updates its old document."""
        if not write.creating and not write.given(self.fk):
            return
        parent_id = write.values.get(self.fk)
        if write.creating and not parent_id:
            raise Invalid(f"{self.parent_label} is required", field=self.fk)
        if write.ws.get(self.parent, parent_id, include_deleted=False) is None:
            raise NotFound(f"{self.parent_label} {parent_id} not found", field=self.fk)
        if not write.creating and getattr(write.obj, self.fk) != parent_id:
            write.context["moved_from"] = getattr(write.obj, self.fk)

    def _keep_total(self, write: Write) -> None:
        if write.context.get("recompute") is False:
            return
        for parent_id in {getattr(write.obj, self.fk), write.context.get("moved_from")} - {None}:
            document = write.ws.get(self.parent, parent_id)
            if document is not None:
                recompute(write.ws, document, self.model, self.fk, keep_without_lines=False)
                write.changed = True

    def delete(self, ws: Workspace, obj: TenantScoped, *, recompute_total: bool = True) -> None:
        super().delete(ws, obj)
        document = ws.get(self.parent, getattr(obj, self.fk))
        if recompute_total and document is not None:
            recompute(ws, document, self.model, self.fk, keep_without_lines=False)

    def replace(self, ws: Workspace, document: TenantScoped,
                entries: Iterable[tuple[TenantScoped | None, Mapping[str, Any]]]) -> list[TenantScoped]:
        """Make ``entries`` the document's lines: a ``(line, values)`` with a line updates
        it, ``(None, values)`` adds one, live lines left out are deleted; the price
        is recomputed once at the end. Returns the lines in entry order."""
        return self._replace(ws, document, entries)[0]

    def sync(self, ws: Workspace, document: TenantScoped,
             entries: Iterable[tuple[TenantScoped | None, Mapping[str, Any]]]) -> bool:
        """:meth:`replace`, answering whether any line or the price really changed
        (an unchanged form saves nothing and says so)."""
        return self._replace(ws, document, entries)[1]

    def _replace(self, ws: Workspace, document: TenantScoped,
                 entries: Iterable[tuple[TenantScoped | None, Mapping[str, Any]]]) -> tuple[list[TenantScoped], bool]:
        existing = ws.scalars(select(self.model).where(getattr(self.model, self.fk) == document.id,
                                                       self.model.deleted.is_(False)))
        saved, kept, changed = [], set(), False
        for index, (current, values) in enumerate(entries, start=1):
            if current is None:
                line = self.create(ws, {"sortorder": index, **values, self.fk: document.id}, recompute=False)
                changed = True
            else:
                changed = self.update(ws, current, values, recompute=False) or changed
                line = current
                kept.add(current.id)
            saved.append(line)
        for line in existing:
            if line.id not in kept:
                self.delete(ws, line, recompute_total=False)
                changed = True
        changed = recompute(ws, document, self.model, self.fk, keep_without_lines=False) or changed
        return saved, changed


def _product_rule(write: Write) -> None:
    """A line naming a product (by id, or by number) copies its number; a new line also
    takes the product's name, price and unit unless they are given."""
    ws, values = write.ws, write.values
    product: Product | None = None
    if values.get("product_id"):
        product = ws.get(Product, values["product_id"], include_deleted=False)
        if product is None:
            raise NotFound(f"product {values['product_id']} not found", field="product_id")
        values.setdefault("product_number", product.number)
    elif values.get("product_number") and not write.given("product_id"):
        product = products.by_number(ws, values["product_number"], include_deleted=False)
        if product is not None:
            values["product_id"] = product.id
    if product is not None and write.creating:
        values.setdefault("text", product.name)
        values.setdefault("price", product.price)
        values.setdefault("unit_id", product.unit_id)
