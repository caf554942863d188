"""Product commands (vendor page: Product commands)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from polycrm.core import lookups, orders, products
from polycrm.core.errors import CoreError
from polycrm.core.models import Customer, Product
from polycrm.faces.microbizz import wire
from polycrm.faces.microbizz.commands import Call
from polycrm.faces.microbizz.commands._shared import rows_of, service_error, sync_page
from polycrm.faces.microbizz.maps import PRODUCT, PRODUCTGROUP, product_wire


def products_out(call: Call, rows: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    favorites = products.favorite_ids(call.ws, call.user_id) if call.user_id else set()
    for field in PRODUCT.fields:
        if field.names and field.core:
            call.ctx.prefetch(field.names, (r[field.core] for r in rows))
    return [product_wire(r, call.ctx, favorites) for r in rows]


def one_product(call: Call, product: Product | None) -> dict[str, Any]:
    call.ctx.include_prices = call.bool("include_prices")
    return {"products": products_out(call, rows_of([product]) if product else [])}


# core field -> the wire field a product service error names.
PRODUCT_WIRE_NAMES = {f.core: f"{PRODUCT.name}.{f.wire}" for f in PRODUCT.writable.values()}


def save_product(call: Call, payload: Mapping[str, Any], current: Product | None) -> dict[str, Any]:
    patch = PRODUCT.to_core(payload)
    try:
        if current is None:
            current = products.create(call.ws, patch)
        else:
            products.update(call.ws, current, patch)
    except CoreError as exc:
        raise service_error(exc, PRODUCT_WIRE_NAMES, patch, creating=current is None) from None
    # The caller just wrote the prices, so show them even if they are disabled.
    call.ctx.include_prices = True
    return {"product": products_out(call, rows_of([current]))[0]}


def create_update_product_by_id(call: Call) -> dict[str, Any]:
    payload, current = call.target("product", Product)
    return save_product(call, payload, current)


def create_update_product_by_number(call: Call) -> dict[str, Any]:
    payload = call.obj("product")
    number = call.key_in(payload, "product", "productnumber")
    return save_product(call, payload, products.for_upsert_by_number(call.ws, number))


def get_product_by_id(call: Call) -> dict[str, Any]:
    return one_product(call, call.ws.get(Product, call.id("productid", required=True)))


def get_product_by_number(call: Call) -> dict[str, Any]:
    return one_product(call, products.by_number(call.ws, call.str("productnumber", required=True)))


def get_products_by_last_change(call: Call) -> dict[str, Any]:
    filters = {
        "skip_deleted": call.bool("skip_deleted"),
        "ignore_closed": call.bool("ignoreclosed"),
        "only_favorites": call.bool("onlyfavorites"),
        "include_prices": call.bool("include_prices"),
    }

    def where(include_prices: bool = False, only_favorites: bool = False, **rest: Any) -> list[Any]:
        return products.feed_filter(**rest, favorites_of=call.user_id if only_favorites else None)

    rows, key, in_force = sync_page(call, Product, filters, where)
    call.ctx.include_prices = bool(in_force.get("include_prices"))
    out: dict[str, Any] = {"products": products_out(call, rows)}
    if key:
        out["resumekey"] = key
    return out


def delete_product_by_id(call: Call) -> None:
    product = call.ws.get(Product, call.id("productid", required=True))
    if product is not None:
        products.delete_product(call.ws, product)


def create_direct_order(call: Call) -> None:
    customer_id = call.id("customerid", required=True)
    raw_lines = call.list("lines", required=True)
    lines = []
    for index, raw in enumerate(raw_lines, start=1):
        if not isinstance(raw, Mapping):
            raise wire.invalid(f"lines[{index}]", raw, "an order line object")
        field = f"lines[{index}]"
        count = raw.get("count", raw.get("amount", raw.get("quantity")))
        lines.append({
            "product_id": wire.read_id(raw.get("productid"), f"{field}.productid"),
            "product_number": wire.read_str(raw.get("productnumber"), f"{field}.productnumber"),
            "quantity": wire.read_decimal(count, f"{field}.count"),
            "price": wire.read_decimal(raw.get("price"), f"{field}.price"),
            "text": wire.read_str(raw.get("title", raw.get("text")), f"{field}.title"),
        })
    if not lines:
        raise wire.CommandError("Invalid value for lines: there must be at least 1 order line")
    orders.create_direct(
        call.ws, customer_id, lines,
        {"note": call.str("note"), "deliverydate": call.date("deliverydate"), "placedate": call.clock.now().date()},
    )


def get_product_groups(call: Call) -> dict[str, Any]:
    groups = lookups.items(call.ws, "product_group")
    if not call.bool("inclchildren"):
        groups = [g for g in groups if not g.parent_id]
    return {"groups": PRODUCTGROUP.many(rows_of(groups), call.ctx)}


def _minor_units(value: Any, field: str) -> int:
    amount = wire.read_decimal(value, field)
    if amount is None:
        raise wire.missing(field)
    if amount != amount.to_integral_value():
        raise wire.invalid(field, value, "a whole number of minor units (øre/cent)")
    return int(amount)


def assign_individual_price(call: Call) -> None:
    price = _minor_units(call.raw("price"), "price")
    product = products.by_number(call.ws, call.str("productnumber", required=True), include_deleted=False)
    customer = call.ws.get(Customer, call.id("customerid", required=True))
    # The vendor documents success without effect when either is missing.
    if product is not None and customer is not None:
        products.set_individual_price(call.ws, customer.id, product.id, price)


def remove_individual_price(call: Call) -> None:
    number = call.str("productnumber", required=True)
    matching = [p.id for p in [products.by_number(call.ws, number)] if p is not None]
    if matching:
        products.remove_individual_prices(call.ws, matching, call.id("customerid"))


def update_individual_prices(call: Call) -> dict[str, Any]:
    customer_id = call.id("customerid", required=True)
    customer = call.ws.get(Customer, customer_id)
    if customer is None:
        raise wire.CommandError(f"Unknown customerid: {customer_id}")
    raw = call.raw("prices")
    if not isinstance(raw, Mapping):
        raise wire.invalid("prices", raw, "a set of prices by product number")
    prices = {str(number): _minor_units(value, f"prices.{number}") for number, value in raw.items()}
    stats = products.update_individual_prices(call.ws, customer, prices, allow_create=call.bool("allow_create"))
    return {"stats": stats}
