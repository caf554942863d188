"""The Products module: list, create and edit products (its lookup and input
lists are :mod:`.catalogs`)."""

from __future__ import annotations

from typing import Any

from polycrm.core import products, profiles, queries
from polycrm.core.errors import CoreError, renamed
from polycrm.core.models import Product
from polycrm.faces.centia import maps
from polycrm.faces.centia.modules._common import Call, inputs_of

# core product field -> the centia parameter an error names (``number`` -> ``sku``).
PRODUCT_PARAMETERS = {f.core: f.wire for f in maps.PRODUCT if f.writable}


def product_out(call: Call, product: Product, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    out = maps.to_wire(product, maps.PRODUCT)
    out["profile_id"] = product.profile_id if product.profile_id is not None else call.profile.id
    out["inputs"] = inputs
    return out


def product_full(call: Call, product: Product) -> dict[str, Any]:
    return product_out(call, product, inputs_of(call, "product", [product.id])[product.id])


def get_products(call: Call) -> dict[str, Any]:
    items = queries.products(call.ws, call.profile)
    inputs = inputs_of(call, "product", [p.id for p in items]) if call.args.get("with_inputs") else {}
    return {"products": [product_out(call, p, inputs.get(p.id)) for p in items]}


def create_product(call: Call) -> dict[str, Any]:
    values = maps.to_core(call.ws, call.profile, maps.PRODUCT, call.args)
    values["profile_id"] = call.profile.id
    try:
        product = products.create(call.ws, values, inputs=call.args.get("inputs", {}), profile_id=call.profile.id)
    except CoreError as exc:
        raise renamed(exc, PRODUCT_PARAMETERS) from None
    return {"product": product_full(call, product)}


def edit_product(call: Call) -> dict[str, Any]:
    product = profiles.require_own(call.ws, call.profile, Product, call.args["product_id"], "product", "product_id")
    values = maps.to_core(call.ws, call.profile, maps.PRODUCT, call.args)
    # Without ``inputs`` no custom value is touched.
    inputs = {"inputs": call.args["inputs"]} if "inputs" in call.args else {}
    try:
        products.update(call.ws, product, values, profile_id=call.profile.id, **inputs)
    except CoreError as exc:
        raise renamed(exc, PRODUCT_PARAMETERS) from None
    return {"product": product_full(call, product)}
