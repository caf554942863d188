"""Product rules shared by every API: numbers, favourites, customer prices."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, select

from polycrm.core.models import Customer, Favorite, IndividualPrice, Product
from polycrm.core.workspace import Workspace


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
