"""Orders and quotes share their shape: a head with references and a list of
``rows``. This module describes both as data; not a group itself.

Rows on write replace the document's rows: an entry with the ``id`` of one
of its rows updates that row, an entry without ``id`` adds one (an
``article`` fills in the price, specification and unit it is not sent
with), rows left out are deleted. Totals are read, never written:
``totalprice`` = quantity × price, less ``discountpercent`` percent, less
``discountamount``; ``totalpricestatistics`` and ``totalalternativevalue``
are quantity × the row's statistics price and alternative value.

The rows are written through the document's line service
(:class:`polycrm.core.sales.LineService`), which fills in from the article,
checks the article and unit, and keeps the document's ``price`` the sum of
its row totals.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from polycrm.core import links, lookups, pricelists
from polycrm.core import sales
from polycrm.core.errors import CoreError
from polycrm.core.sales import LineService
from polycrm.core import query as q
from polycrm.core.models import Lookup, Product, Record, TenantScoped
from polycrm.core.workspace import get_path
from polycrm.faces.cirrus.errors import ApiError, FieldError
from polycrm.faces.cirrus.views import ID_NAME, TAG_REF, Ctx, View, attr, linked, ref, render
from polycrm.faces.cirrus.writers import Writer, Writes
from polycrm.faces.cirrus.groups._sales import ref_id
from polycrm.faces.cirrus.groups.pricelists import ARTICLE_REF, PRICE_GROUP, PRICELIST
from polycrm.faces.cirrus.schemas import MODELS
from polycrm.faces.cirrus.operations import INPUT_DEFS, input_schema


def _number(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def row_total(row: Any) -> float:
    return float(sales.line_total(row))


def times(path: str):
    return lambda ctx, row: float(_number(row.quantity) * _number(get_path(row, path)))


@dataclass
class Rows:
    """How one kind of document row is stored: wire field -> core path."""

    schema: str
    model: type[TenantScoped]
    fk: str
    # Scalar wire fields and the core path each is kept at.
    fields: dict[str, str]
    # Read-only fields: wire name -> reader.
    computed: dict[str, Any]

    def view(self) -> View:
        readers: dict[str, Any] = {name: attr(path) for name, path in self.fields.items()}
        readers.update(self.computed)
        readers.update({
            "pricelist": ref(Record, "extra.pricelist_id", PRICELIST),
            "pricegroup": ref(Lookup, "extra.pricegroup_id", PRICE_GROUP),
            "article": ref(Product, "product_id", ARTICLE_REF),
            "articleunit": ref(Lookup, "unit_id", ID_NAME),
            "tags": linked(Lookup, TAG_REF, links.TAG, outgoing=True, other_kind=links.LOOKUP),
        })
        return View(self.schema, readers)

    def input_schema(self) -> dict[str, Any]:
        """The request schema of a row: like the read model, but a new row has no id."""
        props = {}
        for name, t in MODELS[self.schema].items():
            if name in ("tags",):
                props[name] = input_schema("[IdObject]")
            elif name in self.computed:
                continue
            else:
                props[name] = input_schema(t)
        return {"type": "object", "properties": props}

    def reader(self, view: View):
        def read(ctx: Ctx, obj: Any) -> list:
            rows = ctx.loader.rows_where(self.model, [q.Criterion("eq", self.fk, obj.id)],
                                         (q.Sort("sortorder"),))
            return [render(ctx, view, row) for row in rows]

        return read

    def writer(self, service: LineService) -> Writer:
        """The ``rows`` writer: the document's lines become the entries, through ``service``."""

        def write(ctx: Ctx, obj: Any, value: Any, out: Writes) -> None:
            entries = [e for e in value or [] if isinstance(e, Mapping)]
            existing = {}
            if obj is not None:
                existing = {r.id: r for r in q.every(ctx.ws, self.model, [q.Criterion("eq", self.fk, obj.id)])}
            planned = []
            for index, entry in enumerate(entries, start=1):
                planned.append(self._plan(ctx, index, entry, existing))

            def save(ctx: Ctx, saved: Any) -> None:
                with rows_in_wire_terms():
                    lines = service.replace(ctx.ws, saved, [(current, values) for current, values, _ in planned])
                for line, (_, _, tags) in zip(lines, planned):
                    if tags is not None:
                        links.set_targets(ctx.ws, links.TAG, q.entity_kind(self.model), line.id, links.LOOKUP, tags)
                ctx.ws.flush()

            out.after.append(save)

        return write

    def _plan(self, ctx: Ctx, index: int, entry: Mapping, existing: dict) -> tuple:
        where = f"rows.{index - 1}"
        current = None
        if entry.get("id"):
            current = existing.get(int(entry["id"]))
            if current is None:
                raise FieldError(f"{where}: row {entry['id']} is not a row of this document", 404)
        values: dict[str, Any] = {}
        for name, path in self.fields.items():
            if name not in entry:
                continue
            values[path] = _convert(MODELS[self.schema][name], path, entry[name], where, name)
        if "article" in entry:
            # The line service checks the article and fills in what the row is not sent with.
            values["product_id"] = _id(ref_id(entry["article"]), where, "article")
        if "articleunit" in entry:
            values["unit_id"] = _id(ref_id(entry["articleunit"]), where, "articleunit")
        for name, path, kind in (("pricegroup", "extra.pricegroup_id", "price_group"),):
            if name in entry:
                id_ = ref_id(entry[name])
                if id_ and lookups.get(ctx.ws, kind, id_) is None:
                    raise FieldError(f"{name.capitalize()} {id_} not found", 404)
                values[path] = int(id_) if id_ else None
        if "pricelist" in entry:
            id_ = ref_id(entry["pricelist"])
            found = ctx.ws.get(Record, id_, include_deleted=False) if id_ else None
            if id_ and (found is None or found.kind != pricelists.LIST_KIND):
                raise FieldError(f"Pricelist {id_} not found", 404)
            values["extra.pricelist_id"] = int(id_) if id_ else None
        tags = None
        if "tags" in entry:
            tags = [ref_id(t) for t in entry["tags"] or [] if ref_id(t)]
            for id_ in tags:
                if lookups.get(ctx.ws, "tag", id_) is None:
                    raise FieldError(f"Tag {id_} not found", 404)
        return current, values, tags


def _id(value: Any, where: str, name: str) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise FieldError(f"{where}.{name}: {value!r} is not an id") from None


# A core error about a row's field, as Cirrus words it: core field -> wire label.
ROW_LABELS = {"product_id": "Article", "unit_id": "Articleunit"}


@contextmanager
def rows_in_wire_terms() -> Iterator[None]:
    """A 404 naming ``rows`` for a row's unknown article or unit (as the plan's own checks)."""
    try:
        yield
    except CoreError as exc:
        label = ROW_LABELS.get(exc.field or "")
        if label is None:
            raise
        # The core message names the field and then the id: "product 7 not found".
        message = f"{label} {exc.message.split()[1]} not found"
        raise ApiError(404, message, {"rows": message}) from None


def _convert(t: str, path: str, value: Any, where: str, name: str) -> Any:
    if value is None:
        return 0 if path == "sortorder" else None
    try:
        if t == "num":
            number = Decimal(str(value))
            return number if "." not in path else float(number)
        if t == "int":
            return int(value)
    except (ArithmeticError, ValueError):
        raise FieldError(f"{where}.{name}: {value!r} is not a number") from None
    return value


def parent_value(model: type[TenantScoped], fk: str, attr_name: str):
    """A row field read from its document (``accountid`` of an order row)."""

    def read(ctx: Ctx, row: Any) -> Any:
        parent = ctx.loader.get(model, getattr(row, fk))
        return getattr(parent, attr_name) if parent is not None else None

    return read


def register_row_input(rows: Rows) -> None:
    INPUT_DEFS[f"{rows.schema}In"] = rows.input_schema()


def csv_ids(path: str):
    """A comma-separated id list sent as a plain string (``accountids`` of orders)."""

    def build(value: Any) -> list[q.Criterion]:
        ids = value if isinstance(value, list) else []
        if isinstance(value, str):
            ids = [int(p) for p in value.split(",") if p.strip().lstrip("-").isdigit()]
        return [q.Criterion("in", path, ids)]

    return build


def mission_filter(kind: str):
    """``missionids`` (+ ``missionresult``): documents linked to those missions
    (links of kind ``mission``, mission record -> document; the value is the result)."""

    def build(query: Mapping[str, Any]) -> list[q.Criterion]:
        ids = query.get("missionids")
        if not ids:
            return []
        result = query.get("missionresult")
        return [q.Criterion("linked", "id", q.LinkedTo(
            "mission", q.entity_kind(Record), tuple(ids), value=None if result is None else str(result)))]

    return build


__all__ = ["Rows", "csv_ids", "mission_filter", "parent_value", "register_row_input", "row_total",
           "rows_in_wire_terms", "times"]
