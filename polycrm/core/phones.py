"""The phone catalogue (brands, models, colours, sizes, phones) kept as lookup lists.

The lists are tied together by ``code``: a model's ``extra.brand`` is its
brand's code, a colour's or size's ``extra.models`` lists the codes of the
models it exists for, and a phone's ``extra.model``/``colour``/``size`` name
one of each (``extra.price`` and ``extra.description`` describe it). Tenants
start with a small default catalogue; fixtures (``lookups``) load real ones.
"""

from __future__ import annotations

from polycrm.core import lookups
from polycrm.core.errors import NotFound
from polycrm.core.models import Lookup
from polycrm.core.workspace import Workspace


def brands(ws: Workspace) -> list[Lookup]:
    return lookups.items(ws, "phone_brand")


def models(ws: Workspace, brand_id: int | None = None) -> list[Lookup]:
    found = lookups.items(ws, "phone_model")
    if brand_id is None:
        return found
    brand = lookups.get(ws, "phone_brand", brand_id)
    if brand is None:
        raise NotFound(f"Phone brand {brand_id} not found", field="brandid")
    return [m for m in found if (m.extra or {}).get("brand") == brand.code]


def _model(ws: Workspace, model_id: int) -> Lookup:
    model = lookups.get(ws, "phone_model", model_id)
    if model is None:
        raise NotFound(f"Phone model {model_id} not found", field="modelid")
    return model


def options(ws: Workspace, model_id: int | None = None) -> tuple[list[Lookup], list[Lookup]]:
    """(colours, sizes) a model comes in; every colour and size without a model."""
    code = _model(ws, model_id).code if model_id is not None else None

    def fits(entry: Lookup) -> bool:
        return code is None or code in ((entry.extra or {}).get("models") or [])

    return ([c for c in lookups.items(ws, "phone_colour") if fits(c)],
            [s for s in lookups.items(ws, "phone_size") if fits(s)])


def phones(ws: Workspace, model_id: int, colour_id: int | None = None, size_id: int | None = None) -> list[Lookup]:
    model = _model(ws, model_id)
    wanted = {"model": model.code}
    for key, kind, id_ in (("colour", "phone_colour", colour_id), ("size", "phone_size", size_id)):
        if id_ is not None:
            entry = lookups.get(ws, kind, id_)
            if entry is None:
                raise NotFound(f"Phone {key} {id_} not found", field=f"{key}id")
            wanted[key] = entry.code
    return [p for p in lookups.items(ws, "phone")
            if all((p.extra or {}).get(key) == value for key, value in wanted.items())]
