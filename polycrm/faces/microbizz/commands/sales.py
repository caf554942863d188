"""Sales commands (vendor page: Sales commands) and Echo; the contract files are in :mod:`.documents`."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any

from polycrm.core import calls, lookups, pricing, products, quotes
from polycrm.core.errors import CoreError
from polycrm.core.models import Activity, InvoicePrice, Quote, QuoteLine
from polycrm.faces.microbizz import wire
from polycrm.faces.microbizz.commands import Call
from polycrm.faces.microbizz.commands._shared import lookup_list, rows_of, service_error, sync_page
from polycrm.faces.microbizz.commands.products import products_out
from polycrm.faces.microbizz.maps import (
    CALL, INVOICEPRICE, MAEVENT, PRODUCTUNIT, SALESCONTRACT, SALESCONTRACTLINE,
)


def echo(call: Call) -> dict[str, Any]:
    return {"answer": call.raw("text", "")}


# -- calls ---------------------------------------------------------------------

def calls_out(call: Call, activities: list[Activity]) -> list[dict[str, Any]]:
    rows = rows_of(activities)
    # A call planned through Cirrus or the web pages has no number of its own: its party's.
    numbers = calls.numbers_to_dial(call.ws, activities)
    for row in rows:
        # ... and a start and an end, not a duration.
        row["duration"] = calls.minutes(row["duration"], row["start"], row["stop"])
        row["phonenumber"] = row["phonenumber"] or numbers.get(row["id"])
    return CALL.many(rows, call.ctx)


def register_call(call: Call) -> None:
    number = call.str("phonenumber", required=True)
    day = call.date("calldate") or call.clock.now().date()
    duration = call.int("duration")
    if duration < 0:
        raise wire.invalid("duration", call.raw("duration"), "a positive number of minutes")
    calls.register(call.ws, {
        "phonenumber": number,
        "incoming": call.bool("incoming"),
        "start": call.clock.to_utc(day, call.time("calltime")),
        "duration": duration,
    })


def get_my_pending_calls(call: Call) -> dict[str, Any]:
    return {"calls": calls_out(call, calls.pending(call.ws, call.user_id))}


def end_call(call: Call) -> None:
    duration = call.int("duration") if call.has("duration") else None
    calls.end(call.ws, call.id("callid", required=True), duration=duration, result=call.str("note"), answer=call.raw("answer"))


def create_call(call: Call) -> dict[str, Any]:
    payload = call.obj("call")
    values = CALL.to_core(payload)
    day = wire.read_date(payload.get("calldate"), "call.calldate")
    if day is not None:
        values["start"] = call.clock.to_utc(day, wire.read_time(payload.get("calltime"), "call.calltime"))
    created = calls.create(call.ws, values, call.id("userid"))
    return {"call": calls_out(call, [created])[0]}


# -- lists ---------------------------------------------------------------------

def get_ma_events(call: Call) -> dict[str, Any]:
    return {"events": lookup_list(call, "ma_event", MAEVENT)}


def get_product_states(call: Call) -> dict[str, Any]:
    return {"states": lookup_list(call, "product_state"), "budgetareas": lookup_list(call, "budget_area")}


def get_product_units(call: Call) -> dict[str, Any]:
    return {"units": lookup_list(call, "unit", PRODUCTUNIT)}


def create_update_product_unit(call: Call) -> dict[str, Any]:
    payload = call.obj("unit")
    unit_id = wire.read_id(payload.get("id"), "unit.id")
    values = PRODUCTUNIT.to_core(payload)
    current = None
    if unit_id:
        current = lookups.get(call.ws, "unit", unit_id)
        if current is None:
            raise wire.CommandError(f"Unknown unit.id: {unit_id}")
    try:
        saved = lookups.save(call.ws, "unit", values, current)
    except CoreError as exc:
        raise service_error(exc, UNIT_WIRE_NAMES, values, creating=current is None) from None
    return {"unit": PRODUCTUNIT.to_wire(rows_of([saved])[0], call.ctx)}


# core field -> the wire field a lookups service error names.
UNIT_WIRE_NAMES = {f.core: f"{PRODUCTUNIT.name}.{f.wire}" for f in PRODUCTUNIT.writable.values()}


# -- quotations (sales contracts) ---------------------------------------------

def _quote_patch(call: Call, payload: Mapping[str, Any]) -> dict[str, Any]:
    patch = SALESCONTRACT.to_core(payload)
    statetext = payload.get("statetext")
    if statetext not in (None, ""):
        # The state is read-only by id; a client sets it by its name.
        state = lookups.by_name(call.ws, "quote_status", str(statetext))
        if state is None:
            raise wire.CommandError(f"Invalid value for salescontract.statetext: unknown state {statetext!r}")
        patch["status_id"] = state.id
    return patch


# Core fields of a quote whose errors name the wire field (the message keeps its wording).
_WIRE_FIELDS = {"extra.phaseid": "salescontract.phaseid", "number": "salescontract.number"}


@contextmanager
def _in_wire_terms(fields: Mapping[str, str]) -> Iterator[None]:
    """Name the wire field in a core error about one of ``fields``."""
    try:
        yield
    except CoreError as exc:
        wire_name = fields.get(exc.field or "")
        if wire_name is None:
            raise
        message = exc.message
        if message.startswith(exc.field + " "):
            message = wire_name + message[len(exc.field):]
        raise type(exc)(message, field=wire_name) from None


def quote_out(call: Call, quote: Quote) -> dict[str, Any]:
    return SALESCONTRACT.many(rows_of([quote]), call.ctx)[0]


def create_update_sales_contract(call: Call) -> dict[str, Any]:
    payload, quote = call.target("salescontract", Quote)
    patch = _quote_patch(call, payload)
    with _in_wire_terms(_WIRE_FIELDS):
        if quote is not None:
            quotes.SERVICE.update(call.ws, quote, patch)
        else:
            quote = quotes.SERVICE.create(call.ws, patch)
    return {"salescontract": quote_out(call, quote)}


def create_update_sales_contract_line(call: Call) -> dict[str, Any]:
    payload = call.obj("line", "salescontractline")
    line_id = wire.read_id(payload.get("id"), "line.id")
    patch = SALESCONTRACTLINE.to_core(payload)
    line = None
    if line_id:
        line = call.ws.get(QuoteLine, line_id)
        if line is None:
            raise wire.CommandError(f"Unknown line.id: {line_id}")
    elif not patch.get("quote_id"):
        raise wire.missing("line.contractid")
    if line is None:
        saved = quotes.LINE_SERVICE.create(call.ws, patch)
    else:
        quotes.LINE_SERVICE.update(call.ws, line, patch)
        saved = line
    return {"line": SALESCONTRACTLINE.many(rows_of([saved]), call.ctx)[0]}


def get_sales_contracts(call: Call) -> dict[str, Any]:
    paginate = call.bool("use_pagination") or call.has("resumekey")
    rows, key, _ = sync_page(call, Quote, {}, lambda: [], paginate=paginate)
    out: dict[str, Any] = {"salescontracts": SALESCONTRACT.many(rows, call.ctx)}
    if key:
        out["resumekey"] = key
    return out


def get_sales_contract_lines(call: Call) -> dict[str, Any]:
    rows, _, _ = sync_page(call, QuoteLine, {}, lambda: [], paginate=False)
    return {"lines": SALESCONTRACTLINE.many(rows, call.ctx)}


# -- favourites ----------------------------------------------------------------

def _product_by_number(call: Call):
    number = call.str("productnumber", required=True)
    product = products.by_number(call.ws, number, include_deleted=False)
    if product is None:
        raise wire.CommandError(f"Unknown productnumber: {number}")
    return product


def _one_product(call: Call, product) -> dict[str, Any]:
    return {"product": products_out(call, rows_of([product]))[0]}


def add_favorite_product(call: Call) -> dict[str, Any]:
    product = _product_by_number(call)
    products.add_favorite(call.ws, call.user_id, product)
    return _one_product(call, product)


def remove_favorite_product(call: Call) -> dict[str, Any]:
    product = _product_by_number(call)
    products.remove_favorite(call.ws, call.user_id, product)
    return _one_product(call, product)


def set_favorite_products(call: Call) -> None:
    numbers = [wire.read_str(n, "favorites") or "" for n in call.list("favorites")]
    found = products.by_numbers(call.ws, numbers)
    unknown = [n for n in numbers if n not in found]
    if unknown:
        raise wire.CommandError("Unknown productnumber: " + ", ".join(unknown))
    ordered = list(dict.fromkeys(numbers))
    products.set_favorites(call.ws, call.user_id, [found[n] for n in ordered])


def get_favorite_products(call: Call) -> dict[str, Any]:
    return {"favorites": products.favorite_numbers(call.ws, call.user_id)}


# -- invoice pricing -----------------------------------------------------------

def _source(call: Call) -> tuple[str, int]:
    return pricing.check_source(call.ws, call.str("source", required=True) or "", call.int("id"))


def _ips_out(call: Call, rows: list[InvoicePrice]) -> list[dict[str, Any]]:
    return INVOICEPRICE.many(rows_of(rows), call.ctx)


def get_invoice_pricing(call: Call) -> dict[str, Any]:
    source, source_id = _source(call)
    return {"ips": _ips_out(call, pricing.prices(call.ws, source, source_id))}


def create_update_invoice_pricing(call: Call) -> dict[str, Any]:
    source, source_id = _source(call)
    rows = []
    for index, raw in enumerate(call.list("ips", required=True), start=1):
        if not isinstance(raw, Mapping):
            raise wire.invalid(f"ips[{index}]", raw, "a price object")
        values = INVOICEPRICE.to_core(raw)
        rows.append(values)
    return {"ips": _ips_out(call, pricing.save(call.ws, source, source_id, rows))}

