"""Product rules shared by every API: the write service, numbers, favourites, customer prices.

Every face and page writes a product through :data:`SERVICE`:

* a product has a non-blank name;
* its unit (``unit_id``) and group (``group_id``) name entries of this
  tenant's ``unit`` and ``product_group`` lists;
* its number is stored trimmed and, when not blank, is used by no other live
  product of the tenant, compared trimmed and case-insensitively
  (:func:`number_holder`). A product keeps a number it already has even if an
  older duplicate exists; the check runs when the number changes or a deleted
  product comes back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, delete, select

from polycrm.core import custom_fields, lookups, numbering
from polycrm.core.errors import Conflict
from polycrm.core.models import Customer, Favorite, IndividualPrice, Product, folded
from polycrm.core.query import rows
from polycrm.core.service import Service, Write, required_text
from polycrm.core.workspace import Workspace

# Product columns that point into a lookup list, and the list.
LOOKUPS = {"unit_id": "unit", "group_id": "product_group"}


def number_key(number: Any) -> str:
    """What two product numbers are compared by: trimmed, case folded."""
    return "" if number is None else str(number).strip().lower()


def number_holder(ws: Workspace, number: Any, exclude: int | None = None) -> Product | None:
    """The live product (other than ``exclude``) whose number equals ``number``
    trimmed and case-insensitively; None for a blank number."""
    key = number_key(number)
    if not key:
        return None
    ids = rows.live_ids(ws, Product, ("number",), lambda: [folded(Product.__table__.c.number) == bindparam("number")],
                        number=key)
    holder = next((id_ for id_ in ids if id_ != exclude), None)
    return None if holder is None else ws.get(Product, holder)


def _lookup_rule(write: Write) -> None:
    """Unit and group name live entries of their lists (another tenant's entry is not found)."""
    for column, kind in LOOKUPS.items():
        value = write.values.get(column)
        if value:
            lookups.require(write.ws, kind, value, column)


def _number_rule(write: Write) -> None:
    """The number is kept trimmed and unique among the tenant's live products."""
    obj = write.obj
    if write.given("number") and isinstance(write.values["number"], str):
        write.values["number"] = write.values["number"].strip()
    renumbered = write.given("number") and (
        write.creating or number_key(write.values["number"]) != number_key(obj.number)
    )
    revived = not write.creating and obj.deleted and write.given("deleted") and not write.values["deleted"]
    if write.get("deleted") or not (renumbered or revived):
        return
    number = write.get("number")
    if number_key(number):
        numbering.lock(write.ws, Product.number)  # two writers cannot both find the number free
    holder = number_holder(write.ws, number, exclude=None if obj is None else obj.id)
    if holder is not None:
        raise Conflict(f"number {number} is already used by {holder.name}", field="number")


def _custom_inputs(write: Write) -> None:
    """Custom field values given with the write (context ``inputs``, as a
    profile sees them: context ``profile_id``); on create every required
    field must get one. Without ``inputs`` no custom value is touched."""
    if "inputs" not in write.context:
        return
    custom_fields.set_values(
        write.ws, "product", write.obj.id, write.context["inputs"] or {},
        profile_id=write.context.get("profile_id"), creating=write.creating,
    )
    write.changed = True


SERVICE: Service[Product] = Service(
    Product, "product", rules=[required_text("name"), _lookup_rule, _number_rule], after=[_custom_inputs],
)


def create(ws: Workspace, values: Mapping[str, Any], **context: Any) -> Product:
    """Create a product (see :data:`SERVICE`; context: ``inputs``, ``profile_id``)."""
    return SERVICE.create(ws, values, **context)


def update(ws: Workspace, product: Product, values: Mapping[str, Any], **context: Any) -> bool:
    """Partially update a product; returns whether anything changed."""
    return SERVICE.update(ws, product, values, **context)


def delete_product(ws: Workspace, product: Product) -> None:
    """Mark a product deleted; quotation and order lines keep their copy of it."""
    SERVICE.delete(ws, product)


def by_number_or_key(ws: Workspace, number: str) -> Product | None:
    """The product a client means by ``number``: the live exact match, else the
    live product whose number equals it under the number rule, else a deleted
    exact match."""
    return by_number(ws, number, include_deleted=False) or number_holder(ws, number) or by_number(ws, number)


def for_upsert_by_number(ws: Workspace, number: str) -> Product | None:
    """The product an upsert by ``number`` writes (:func:`by_number_or_key`),
    found with the tenant's product-number lock held until the transaction
    ends, so concurrent upserts of one number make one product."""
    numbering.lock(ws, Product.number)
    return by_number_or_key(ws, number)


def by_number(ws: Workspace, number: str, *, include_deleted: bool = True) -> Product | None:
    stmt = select(Product).where(Product.number == str(number))
    if not include_deleted:
        stmt = stmt.where(Product.deleted.is_(False))
    return ws.first(stmt.order_by(Product.deleted, Product.id))


def by_numbers(ws: Workspace, numbers: Iterable[str]) -> dict[str, Product]:
    """Live products by number (the lowest id wins where numbers repeat)."""
    wanted = sorted({str(n) for n in numbers})
    found: dict[str, Product] = {}
    for start in range(0, len(wanted), 500):
        stmt = (
            select(Product)
            .where(Product.number.in_(wanted[start:start + 500]), Product.deleted.is_(False))
            .order_by(Product.id.desc())
        )
        for product in ws.scalars(stmt):
            found[product.number] = product
    return found


def feed_filter(*, skip_deleted: bool = False, ignore_closed: bool = False, favorites_of: int | None = None) -> list[Any]:
    where: list[Any] = []
    if skip_deleted or ignore_closed:
        where.append(Product.deleted.is_(False))
    if ignore_closed:
        where.append(Product.active.is_(True))
    if favorites_of is not None:
        where.append(Product.id.in_(select(Favorite.product_id).where(Favorite.user_id == favorites_of)))
    return where


# -- favourites --------------------------------------------------------------

def favorite_ids(ws: Workspace, user_id: int) -> set[int]:
    return set(ws.scalars(select(Favorite.product_id).where(Favorite.user_id == user_id)))


def favorite_numbers(ws: Workspace, user_id: int) -> list[str]:
    stmt = (
        select(Product.number)
        .join(Favorite, Favorite.product_id == Product.id)
        .where(Favorite.user_id == user_id)
        .order_by(Favorite.id)
    )
    return [n for n in ws.scalars(stmt) if n is not None]


def add_favorite(ws: Workspace, user_id: int, product: Product) -> None:
    exists = ws.first(select(Favorite).where(Favorite.user_id == user_id, Favorite.product_id == product.id))
    if exists is None:
        ws.create(Favorite, user_id=user_id, product_id=product.id)


def remove_favorite(ws: Workspace, user_id: int, product: Product) -> None:
    ws.session.execute(delete(Favorite).where(Favorite.user_id == user_id, Favorite.product_id == product.id))


def set_favorites(ws: Workspace, user_id: int, products: list[Product]) -> None:
    ws.session.execute(delete(Favorite).where(Favorite.user_id == user_id))
    for product in products:
        ws.create(Favorite, user_id=user_id, product_id=product.id)


# -- individual (customer) prices, in minor currency units -------------------

def set_individual_price(ws: Workspace, customer_id: int, product_id: int, price_minor: int) -> str:
    """Create or change one price; returns created, updated or unchanged."""
    found = ws.first(
        select(IndividualPrice).where(
            IndividualPrice.customer_id == customer_id, IndividualPrice.product_id == product_id
        )
    )
    if found is None:
        ws.create(IndividualPrice, customer_id=customer_id, product_id=product_id, price_minor=price_minor)
        return "created"
    return "updated" if ws.update(found, {"price_minor": price_minor}) else "unchanged"


def remove_individual_prices(ws: Workspace, product_ids: list[int], customer_id: int | None = None) -> int:
    stmt = delete(IndividualPrice).where(IndividualPrice.product_id.in_(product_ids))
    if customer_id is not None:
        stmt = stmt.where(IndividualPrice.customer_id == customer_id)
    return ws.session.execute(stmt).rowcount or 0


def individual_prices(ws: Workspace, customer_id: int) -> dict[int, int]:
    stmt = select(IndividualPrice.product_id, IndividualPrice.price_minor).where(IndividualPrice.customer_id == customer_id)
    return dict(ws.session.execute(stmt).all())


def update_individual_prices(
    ws: Workspace, customer: Customer, prices: Mapping[str, int], *, allow_create: bool
) -> dict[str, int]:
    """Bulk update by product number; unknown numbers (and new prices unless
    ``allow_create``) are skipped. Returns counts per outcome."""
    stats = {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0}
    products = by_numbers(ws, prices)
    existing = individual_prices(ws, customer.id)
    for number, price in prices.items():
        product = products.get(str(number))
        if product is None or (product.id not in existing and not allow_create):
            stats["skipped"] += 1
            continue
        stats[set_individual_price(ws, customer.id, product.id, price)] += 1
    return stats
