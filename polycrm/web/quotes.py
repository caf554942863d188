"""Quote pages: create and edit a quote with its lines, and its PDF.

The form sends the head fields once and each line's inputs as repeated
fields (``line_id``, ``line_product``, ``line_text``, ...), one value per row
in page order, so the browser script can add rows by copying one. Every
write goes through :mod:`polycrm.core.quotes`; the totals the page shows
are the core's line maths (``sales.line_total``), recomputed on every save.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote as url_quote

from starlette.responses import Response

from polycrm.core import browse, lookups, sales
from polycrm.core import quotes as core_quotes
from polycrm.core import limits
from polycrm.core.errors import CoreError
from polycrm.core.models import Customer, Product, Quote, QuoteLine, User
from polycrm.web import forms
from polycrm.web.forms import Field
from polycrm.web.handler import Ctx

QUOTE_FIELDS: tuple[Field, ...] = (
    Field("title", "Title", "title"),
    Field("customer", "Customer", "customer_id", "select", required=True, choices="customer"),
    Field("status", "Status", "status_id", "select", choices="quote_status"),
    Field("placed", "Placed", "placedate", "date"),
    Field("valid", "Valid until", "validtodate", "date"),
    Field("currency", "Currency", "currencycode", max_length=8, hint="A code such as DKK or EUR."),
    Field("description", "Description", "description", "textarea", max_length=10000),
)
# The inputs of one line, in the order the row shows them.
LINE_INPUTS = ("product", "text", "quantity", "price", "discountpercent", "discountamount")
LINE_LABELS = {"product": "Product", "text": "Text", "quantity": "Quantity", "price": "Unit price",
               "discountpercent": "Discount %", "discountamount": "Discount amount"}
BLANK_ROWS = 2  # empty rows offered under the lines (more with the page's "Add line" button)
MAX_LINES = 500
TEXT_LIMIT = 4000


@dataclass
class LineRow:
    """One row of the line table as the form shows it."""

    index: int
    line_id: str = ""
    values: dict[str, str] = field(default_factory=dict)
    total: Decimal | None = None

    def input_id(self, name: str) -> str:
        return f"line{self.index}-{name}"

    def error_key(self, name: str) -> str:
        return f"line{self.index}_{name}"


# -- reading the form ----------------------------------------------------------------


def _number(text: str, label: str, example: str) -> Decimal:
    try:
        return forms.parse_money(text, label)
    except ValueError as exc:
        raise ValueError(str(exc).replace("e.g. 1250.50", f"e.g. {example}")) from None


def _rows_from_form(ctx: Ctx) -> list[LineRow]:
    columns = {name: ctx.form_list(f"line_{name}") for name in ("id", *LINE_INPUTS)}
    count = max(len(v) for v in columns.values())
    removed = set(ctx.form_list("line_remove"))
    rows = []
    for index in range(count):
        if str(index) in removed:
            continue
        value = {name: (columns[name][index].strip() if index < len(columns[name]) else "") for name in LINE_INPUTS}
        line_id = columns["id"][index].strip() if index < len(columns["id"]) else ""
        blank = not line_id and not any(value[k] for k in LINE_INPUTS if k != "quantity")
        if not blank:
            rows.append(LineRow(len(rows), line_id, value))
    return rows


def _read_lines(ctx: Ctx, rows: list[LineRow], existing: dict[int, QuoteLine],
                errors: dict[str, str]) -> list[tuple[QuoteLine | None, dict[str, Any]]]:
    """Each row's core values (or its errors, keyed ``line<i>_<input>``)."""
    if len(rows) > MAX_LINES:
        errors["lines"] = f"A quote can have at most {MAX_LINES} lines."
        return []
    entries: list[tuple[QuoteLine | None, dict[str, Any]]] = []
    for row in rows:
        v, n = row.values, row.index + 1
        line: QuoteLine | None = None
        if row.line_id:
            key = limits.id_in_range(row.line_id)
            line = existing.get(key) if key is not None else None
            if line is None:
                errors[row.error_key("text")] = f"Line {n} is no longer on this quote; reload the page."
                continue
        values: dict[str, Any] = {}
        product: Product | None = None
        if v["product"]:
            key = limits.id_in_range(v["product"])
            product = ctx.ws.get(Product, key, include_deleted=False) if key is not None else None
            if product is None:
                errors[row.error_key("product")] = f"Line {n}: the chosen product does not exist; choose one from the list."
            else:
                values["product_id"] = product.id
        elif line is not None and line.product_id:
            values.update(product_id=None, product_number=None)  # the product was taken off the line
        if len(v["text"]) > TEXT_LIMIT:
            errors[row.error_key("text")] = f"Line {n}: the text can be at most {TEXT_LIMIT} characters."
        elif v["text"]:
            values["text"] = v["text"]
        elif not v["product"]:
            errors[row.error_key("text")] = f"Line {n} needs a product or a text."
        elif line is not None:
            values["text"] = None
        for name, example in (("quantity", "2 or 1.5"), ("price", "1250.50"), ("discountpercent", "10"),
                              ("discountamount", "50")):
            label = f"Line {n}: {LINE_LABELS[name].lower()}"
            if not v[name]:
                if name == "quantity":
                    values["quantity"] = Decimal(1)  # a line without a quantity is one of it
                elif name == "price" and not v["product"]:
                    errors[row.error_key(name)] = f"{label} is required for a line without a product."
                elif name != "price" or line is not None and product is None:
                    values[name] = None
                # an empty price with a product: a new line takes the product's price
                continue
            try:
                values[name] = _number(v[name], label, example)
            except ValueError as exc:
                errors[row.error_key(name)] = str(exc)
                continue
            if name == "discountpercent" and values[name] > 100:
                errors[row.error_key(name)] = f"{label} can be at most 100."
        if line is not None and "price" not in values and product is not None and product.id != line.product_id:
            values["price"] = product.price  # another product: its price, as a new line would get
        entries.append((line, values))
    return entries


def _row_total(ctx: Ctx, row: LineRow) -> Decimal | None:
    """A row's total by the core's line maths, when its numbers can be read."""
    v = row.values
    try:
        numbers = {k: _number(v[k], k, "1") if v[k] else None
                   for k in ("quantity", "price", "discountpercent", "discountamount")}
    except ValueError:
        return None
    if numbers["quantity"] is None:
        numbers["quantity"] = Decimal(1)
    if numbers["price"] is None and v["product"]:
        key = limits.id_in_range(v["product"])
        product = ctx.ws.get(Product, key, include_deleted=False) if key is not None else None
        numbers["price"] = product.price if product is not None else None
    return sales.line_total(SimpleNamespace(**numbers)).quantize(Decimal("0.01"))


# -- the page --------------------------------------------------------------------------


def _rows_of(lines: Sequence[QuoteLine]) -> list[LineRow]:
    rows = []
    for index, line in enumerate(lines):
        values = {
            "product": str(line.product_id) if line.product_id else "",
            "text": line.text or "",
            "quantity": forms.format_decimal(line.quantity),
            "price": forms.format_decimal(line.price),
            "discountpercent": forms.format_decimal(line.discountpercent),
            "discountamount": forms.format_decimal(line.discountamount),
        }
        rows.append(LineRow(index, str(line.id), values, sales.line_total(line).quantize(Decimal("0.01"))))
    return rows


def _form(ctx: Ctx, quote: Quote | None, values: dict[str, str], rows: list[LineRow], status: int = 200,
          errors: dict[str, str] | None = None) -> Response:
    errors = errors or {}
    for row in rows:
        if row.total is None:
            row.total = _row_total(ctx, row)
    start = len(rows)
    shown = rows + [LineRow(start + i, "", {k: ("1" if k == "quantity" else "") for k in LINE_INPUTS})
                    for i in range(BLANK_ROWS)]
    options = {f.name: forms.choices(ctx.ws, f, selected=values.get(f.name, ""))
               for f in QUOTE_FIELDS if f.kind == "select"}
    products = browse.product_choices(ctx.ws)
    offered = {str(p["id"]) for p in products}
    extra = {r.values["product"] for r in rows if r.values["product"] and r.values["product"] not in offered}
    extra_products = [p for p in (ctx.ws.get(Product, limits.id_in_range(i), include_deleted=False)
                                  for i in extra if limits.id_in_range(i) is not None) if p is not None]
    product_options = [("", "— free text —", "")] + [
        (str(p["id"]), f"{p['name']} ({p['number']})" if p["number"] else p["name"], forms.format_decimal(p["price"]))
        for p in products
    ] + [(str(p.id), p.name, forms.format_decimal(p.price)) for p in extra_products]
    total = sum((r.total for r in rows if r.total is not None), Decimal(0))
    title = f"Edit quote {quote.number}" if quote is not None else "New quote"
    action = f"/quotes/{quote.id}/edit" if quote is not None else "/quotes/new"
    cancel = f"/quotes/{quote.id}" if quote is not None else "/quotes"
    line_errors = [(f"line{r.index}-{name}", errors[r.error_key(name)])
                   for r in rows for name in LINE_INPUTS if r.error_key(name) in errors]
    return ctx.render("quote_form.html", status, title=title, action=action, cancel=cancel,
                      groups=forms.grouped(QUOTE_FIELDS), fields=QUOTE_FIELDS, values=values, errors=errors,
                      options=options, rows=shown, product_options=product_options, inputs=LINE_INPUTS,
                      labels=LINE_LABELS, line_errors=line_errors, total=total,
                      currency=values.get("currency") or ctx.currency)


def quote_new(ctx: Ctx) -> Response:
    values = forms.initial(QUOTE_FIELDS, None)
    default = lookups.default(ctx.ws, "quote_status")
    values.update(status=str(default.id) if default else "", placed=ctx.today().isoformat(), currency=ctx.currency)
    customer = ctx.request.query_params.get("customer", "")
    if customer.isdigit() and limits.id_in_range(customer) is not None:
        values["customer"] = customer
    return _form(ctx, None, values, [])


def _save(ctx: Ctx, quote: Quote | None) -> Response:
    existing = {line.id: line for line in browse.quote_lines(ctx.ws, quote.id)} if quote is not None else {}
    values, errors, raw = forms.read(ctx.ws, QUOTE_FIELDS, ctx.form)
    if values.get("currencycode"):
        values["currencycode"] = values["currencycode"].upper()
    rows = _rows_from_form(ctx)
    entries = _read_lines(ctx, rows, existing, errors)
    if not errors:
        try:
            if quote is None:
                head = {k: v for k, v in values.items() if v is not None}
                created = core_quotes.create(ctx.ws, head, [v for _, v in entries])
                return ctx.redirect(f"/quotes/{created.id}", f"Quote {created.number} created.")
            changed = core_quotes.update(ctx.ws, quote, values, entries)
            return ctx.redirect(f"/quotes/{quote.id}", "Changes saved." if changed else "No changes.")
        except CoreError as exc:
            ctx.ws.rollback()
            target = next((f.name for f in QUOTE_FIELDS if f.path == exc.field), None)
            errors[target or "title"] = exc.message
    return _form(ctx, quote, raw, rows, 400, errors)


def quote_create(ctx: Ctx) -> Response:
    return _save(ctx, None)


def quote_edit(ctx: Ctx) -> Response:
    quote = ctx.ws.require(Quote, ctx.request.path_params["id"], "quote")
    return _form(ctx, quote, forms.initial(QUOTE_FIELDS, quote), _rows_of(browse.quote_lines(ctx.ws, quote.id)))


def quote_update(ctx: Ctx) -> Response:
    return _save(ctx, ctx.ws.require(Quote, ctx.request.path_params["id"], "quote"))


def quote_pdf_download(ctx: Ctx) -> Response:
    # The PDF library (with its font tools) is imported on first use: it would
    # add about a second of start-up and tens of MB to every server process.
    from polycrm.web import quote_pdf

    quote = ctx.ws.require(Quote, ctx.request.path_params["id"], "quote")
    lines = browse.quote_lines(ctx.ws, quote.id)
    customer = browse.names(ctx.ws, Customer, {quote.customer_id})
    seller = browse.names(ctx.ws, User, {quote.user_id})
    units = browse.lookup_names(ctx.ws, {line.unit_id for line in lines} | {quote.status_id})
    data = quote_pdf.render(quote, lines, customer=customer.get(quote.customer_id, ""),
                            seller=seller.get(quote.user_id, ""), status=units.get(quote.status_id, ""),
                            units=units, currency=quote.currencycode or ctx.currency, tenant=browse.tenant_info(ctx.ws).name)
    name = f"quote-{quote.number or quote.id}.pdf"
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{url_quote(name)}"})

