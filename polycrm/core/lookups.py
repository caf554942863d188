"""The small named lists (lookups) and the defaults a new tenant starts with.

One table serves them all; ``kind`` selects the list. The same kind is what
each API reads under its own name (customer types = Cirrus account types =
centia company types; units = article units = centia measures; ...).

Every entry is written through :data:`SERVICE` (:func:`save` is the short
way): the kind is one of :data:`KINDS`, given when the entry is created and
never changed after; the name is not blank; an entry saved as the default
takes the flag from the other entries of its list (of the same ``code``
where the list is split by code, :data:`DEFAULT_PER_CODE`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, select

from polycrm.core.errors import Invalid, NotFound
from polycrm.core.models import Lookup
from polycrm.core.service import Service, Write, required_text
from polycrm.core.workspace import Workspace

# kind -> defaults for a fresh tenant: (name, {other fields and extra}).
# ``code`` marks the entries the core itself relies on (e.g. activity type "call").
DEFAULTS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "customer_type": [
        ("Customer", {"code": "K", "is_default": True, "extra": {"color": "#2e7d32", "typeiscustomer": 1}}),
        ("Prospect", {"code": "P", "extra": {"color": "#1565c0", "typeisprospect": 1}}),
        ("Supplier", {"code": "L", "extra": {"color": "#6d4c41"}}),
        ("Partner", {"code": "A", "extra": {"color": "#8e24aa"}}),
    ],
    "industry": [(n, {}) for n in ("Retail", "Manufacturing", "Services", "Construction", "IT and software", "Other")],
    "maingroup": [(n, {}) for n in ("Business", "Private", "Public sector")],
    "customer_role": [(n, {}) for n in ("Owner", "Buyer", "Technician", "Accounting")],
    "account_group": [],
    "activity_type": [
        ("Call", {"code": "call", "is_default": True, "extra": {"quick": 1}}),
        ("Meeting", {"code": "meeting"}),
        ("Visit", {"code": "visit"}),
        ("Task", {"code": "task"}),
        ("E-mail", {"code": "email"}),
    ],
    "activity_progression": [(n, {}) for n in ("Planned", "In progress", "Done")],
    "priority": [("Low", {}), ("Normal", {"is_default": True}), ("High", {}), ("Urgent", {})],
    "stage": [
        ("Prospecting", {"extra": {"probability": 10}}),
        ("Qualification", {"extra": {"probability": 25}}),
        ("Proposal", {"extra": {"probability": 50}}),
        ("Negotiation", {"extra": {"probability": 75}}),
        ("Closing", {"extra": {"probability": 90}}),
    ],
    "opportunity_status": [
        ("Open", {"is_default": True, "extra": {"won": 0, "lost": 0, "color": "#1565c0"}}),
        ("Won", {"code": "won", "extra": {"won": 1, "lost": 0, "color": "#2e7d32"}}),
        ("Lost", {"code": "lost", "extra": {"won": 0, "lost": 1, "color": "#c62828"}}),
    ],
    "opportunity_type": [("New business", {"is_default": True}), ("Renewal", {})],
    "opportunity_source": [("Website", {"is_default": True}), ("Referral", {}), ("Campaign", {}), ("Cold call", {})],
    "opportunity_estimate": [("Low", {"extra": {"value": "25"}}), ("Medium", {"extra": {"value": "50"}}), ("High", {"extra": {"value": "75"}})],
    "opportunity_progression": [(n, {}) for n in ("Identified", "Qualified", "Offered")],
    "lost_reason": [(n, {}) for n in ("Price", "Competitor", "No decision")],
    "win_reason": [(n, {}) for n in ("Price", "Product fit", "Relationship")],
    "contact_origin": [(n, {}) for n in ("Website", "Referral", "Trade show", "Cold call")],
    "contact_title": [(n, {}) for n in ("Mr.", "Ms.", "Dr.", "Eng.")],
    "contact_department": [(n, {}) for n in ("Sales", "Purchasing", "Finance", "IT", "Management")],
    "contact_position": [(n, {}) for n in ("Chief executive", "Manager", "Buyer", "Assistant")],
    "ticket_origin": [(n, {}) for n in ("Phone", "E-mail", "Web portal")],
    "ticket_case": [(n, {}) for n in ("Question", "Incident", "Complaint", "Request")],
    "unit": [("pcs", {"is_default": True}), ("hour", {}), ("kg", {}), ("m", {}), ("l", {})],
    "product_group": [("General", {})],
    "product_validity": [(n, {}) for n in ("One-time", "Monthly", "Yearly")],
    "product_discount": [("None", {"extra": {"value": 0}}), ("Standard", {"extra": {"value": 0.05}}), ("Partner", {"extra": {"value": 0.10}})],
    "tax": [("VAT 25%", {"extra": {"value": 0.25}}), ("VAT 16%", {"extra": {"value": 0.16}}), ("Exempt", {"extra": {"value": 0.0}})],
    "product_state": [(n, {}) for n in ("In use", "Spare", "Scrapped")],
    "budget_area": [(n, {}) for n in ("Operations", "Maintenance")],
    "ma_event": [],
    "quote_status": [
        ("Draft", {"is_default": True, "extra": {"metatype": "active"}}),
        ("Sent", {"extra": {"metatype": "active"}}),
        ("Accepted", {"extra": {"metatype": "order"}}),
        ("Rejected", {"extra": {"metatype": "denied"}}),
        ("Expired", {"extra": {"metatype": "expired"}}),
    ],
    "quote_type": [("Standard", {"is_default": True})],
    "quote_phase": [(n, {}) for n in ("Draft", "Negotiation", "Final")],
    "order_status": [
        ("New", {"is_default": True, "extra": {"step": 1}}),
        ("Confirmed", {"extra": {"step": 2}}),
        ("Delivered", {"extra": {"step": 3}}),
        ("Invoiced", {"extra": {"step": 4}}),
    ],
    "order_type": [("Standard", {"is_default": True})],
    "delivery_term": [("Ex works", {"is_default": True}), ("Delivered at place", {})],
    "delivery_type": [("Pickup", {"is_default": True}), ("Courier", {})],
    "payment_term": [("Net 8 days", {"extra": {"days": 8}}), ("Net 30 days", {"is_default": True, "extra": {"days": 30}})],
    "lead_status": [(n, {}) for n in ("New", "Contacted", "Qualified", "Disqualified")],
    "lead_source": [("Website", {"is_default": True}), ("Event", {})],
    "lead_activity_type": [(n, {}) for n in ("Call", "E-mail", "Meeting")],
    "sort_group": [],
    "price_group": [],
    "project_type": [(n, {}) for n in ("Internal", "Customer")],
    "user_role": [(n, {}) for n in ("Administrator", "Sales")],
    # Cirrus user departments (a tree through ``parent_id``); none to start with.
    "user_department": [],
    "tag": [],
    # Cirrus article lists (read through /articles/<list>; entries come from fixtures or the web pages).
    "brand": [],
    "budget_group": [],
    "discount_group": [],
    "material": [],
    "service_level": [],
    "volume_group": [],
    "warehouse": [],
    "warehouse_status": [],
    # Cirrus objects/contracts: one list, ``code`` = modelgroup / contracttype / contractstatus.
    "object_category": [
        ("Standard", {"code": "modelgroup", "is_default": True}),
        ("Service", {"code": "contracttype", "is_default": True}), ("Leasing", {"code": "contracttype"}),
        ("Active", {"code": "contractstatus", "is_default": True}), ("Ended", {"code": "contractstatus"}),
    ],
    # extra.activity_code: the activity type a challenge of this type counts (none: every activity).
    "challenge_type": [("Most activities", {"is_default": True}), ("Most meetings", {"extra": {"activity_code": "meeting"}}),
                       ("Most calls", {"extra": {"activity_code": "call"}})],
    # Key figures: ``code`` names the measure (see polycrm.core.kpis.MEASURES); extra: the
    # period it covers, whether it shows on the dashboard, its type and subtitle.
    "kpi": [
        ("Activities", {"code": "activities", "extra": {"period": "week", "location": "dashboard", "type": "count",
                                                        "subtitle": "Activities this week"}}),
        ("Closed activities", {"code": "closed_activities", "extra": {"period": "month", "location": "dashboard",
                                                                      "type": "count", "subtitle": "Done this month"}}),
        ("Won opportunities", {"code": "won_opportunities", "extra": {"period": "month", "location": "dashboard",
                                                                      "type": "count", "subtitle": "Won this month"}}),
        ("Order value", {"code": "order_value", "extra": {"period": "year", "location": "all", "type": "amount",
                                                          "subtitle": "Orders placed this year"}}),
    ],
    "template_category": [("General", {})],
    "template_language": [("English", {}), ("Svenska", {})],
    # The phone catalogue of the Cirrus integrations group, tied together by ``code``:
    # a model's extra.brand, a colour's/size's extra.models and a phone's
    # extra.model/colour/size name codes of the other lists.
    "phone_brand": [("Apple", {"code": "apple"}), ("Samsung", {"code": "samsung"})],
    "phone_model": [
        ("iPhone 15", {"code": "iphone15", "extra": {"brand": "apple"}}),
        ("Galaxy S24", {"code": "galaxys24", "extra": {"brand": "samsung"}}),
    ],
    "phone_colour": [
        ("Black", {"code": "black", "extra": {"models": ["iphone15", "galaxys24"]}}),
        ("Blue", {"code": "blue", "extra": {"models": ["iphone15"]}}),
    ],
    "phone_size": [
        ("128 GB", {"code": "128gb", "extra": {"models": ["iphone15", "galaxys24"]}}),
        ("256 GB", {"code": "256gb", "extra": {"models": ["iphone15", "galaxys24"]}}),
    ],
    "phone": [
        (f"{model} {colour} {size}", {"extra": {"model": m, "colour": c, "size": z, "price": price,
                                                "description": f"{model}, {colour.lower()}, {size}"}})
        for model, m, colours, prices in (("iPhone 15", "iphone15", ("Black", "Blue"), (9995, 11495)),
                                          ("Galaxy S24", "galaxys24", ("Black",), (8995, 9695)))
        for colour, c in ((name, name.lower()) for name in colours)
        for (size, z), price in zip((("128 GB", "128gb"), ("256 GB", "256gb")), prices)
    ],
}

KINDS = frozenset(DEFAULTS)


# Lists that hold one default per ``code`` (Cirrus object categories: model group,
# contract type and contract status each have theirs) instead of one per list.
DEFAULT_PER_CODE = frozenset({"object_category"})


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown lookup kind {kind!r}")
    return kind


def seed_defaults(ws: Workspace, profile_id: int | None, kinds: Iterable[str] | None = None) -> None:
    """Give a new tenant (or profile) the default lists."""
    rows = []
    for kind in kinds or DEFAULTS:
        for order, (name, attrs) in enumerate(DEFAULTS[kind], start=1):
            rows.append(
                Lookup(
                    kind=kind,
                    profile_id=profile_id,
                    name=name,
                    sortorder=order,
                    code=attrs.get("code"),
                    is_default=attrs.get("is_default", False),
                    extra=dict(attrs.get("extra", {})),
                )
            )
    ws.add_all(rows)


def query(kind: str, profile_id: int | None = None) -> Select:
    """Select a list, optionally only one profile's entries (shared ones too)."""
    stmt = select(Lookup).where(Lookup.kind == check_kind(kind), Lookup.deleted.is_(False))
    if profile_id is not None:
        stmt = stmt.where((Lookup.profile_id == profile_id) | Lookup.profile_id.is_(None))
    return stmt.order_by(Lookup.sortorder, Lookup.id)


def items(ws: Workspace, kind: str, profile_id: int | None = None) -> list[Lookup]:
    return ws.scalars(query(kind, profile_id))


def get(ws: Workspace, kind: str, id_: Any) -> Lookup | None:
    obj = ws.get(Lookup, id_)
    if obj is None or obj.kind != kind or obj.deleted:
        return None
    return obj


def exists(ws: Workspace, kind: str, id_: Any) -> bool:
    """Whether ``id_`` is a live entry of the list ``kind`` (what a write's
    checks ask: one indexed lookup, no object built)."""
    from polycrm.core.query import rows  # here: the query package imports modules that import this one

    return rows.is_live(ws, Lookup, id_, kind=kind)


def require(ws: Workspace, kind: str, id_: Any, what: str | None = None) -> Lookup:
    obj = get(ws, kind, id_)
    if obj is None:
        raise NotFound(f"{what or kind.replace('_', ' ')} {id_} not found", field=what)
    return obj


def ref(ws: Workspace, kind: str, id_: Any, field: str) -> int | None:
    """Validate an optional reference to a lookup entry; 0/None/"" mean none."""
    if id_ in (None, "", 0, "0"):
        return None
    try:
        key = int(id_)
    except (TypeError, ValueError):
        raise Invalid(f"{field} must be a number", field=field) from None
    if get(ws, kind, key) is None:
        raise NotFound(f"{field} {key} not found", field=field)
    return key


def by_code(ws: Workspace, kind: str, code: str) -> Lookup | None:
    return ws.first(select(Lookup).where(Lookup.kind == kind, Lookup.code == code, Lookup.deleted.is_(False)).order_by(Lookup.id))


def by_name(ws: Workspace, kind: str, name: str, *, create: bool = False, profile_id: int | None = None) -> Lookup | None:
    found = ws.first(select(Lookup).where(Lookup.kind == kind, Lookup.name == name, Lookup.deleted.is_(False)).order_by(Lookup.id))
    if found is None and create:
        found = SERVICE.create(ws, {"kind": kind, "name": name, "profile_id": profile_id, "sortorder": 0})
    return found


def default(ws: Workspace, kind: str, profile_id: int | None = None) -> Lookup | None:
    entries = items(ws, kind, profile_id)
    for entry in entries:
        if entry.is_default:
            return entry
    return entries[0] if entries else None


def _kind_rule(write: Write) -> None:
    """A new entry names a known list; an entry never moves to another list."""
    if write.creating:
        kind = write.values.get("kind")
        if kind not in KINDS:
            raise Invalid(f"kind {kind!r} is not a list", field="kind")
        write.values.setdefault("sortorder", 0)
    elif write.given("kind") and write.values["kind"] != write.obj.kind:
        raise Invalid("kind of a list entry cannot change", field="kind")


def unset_other_defaults(ws: Workspace, entry: Lookup) -> bool:
    """Take the default flag from the other entries of ``entry``'s list; returns whether any had it."""
    stmt = select(Lookup).where(
        Lookup.kind == entry.kind, Lookup.is_default.is_(True), Lookup.id != entry.id, Lookup.deleted.is_(False)
    )
    if entry.kind in DEFAULT_PER_CODE:
        stmt = stmt.where(Lookup.code == entry.code)
    others = ws.scalars(stmt)
    for other in others:
        ws.update(other, {"is_default": False})
    return bool(others)


def _single_default(write: Write) -> None:
    """An entry saved as the default unsets the flag on the others of its list."""
    if write.given("is_default") and write.values["is_default"]:
        write.changed = unset_other_defaults(write.ws, write.obj) or write.changed


SERVICE: Service[Lookup] = Service(Lookup, "lookup", rules=[_kind_rule, required_text("name")], after=[_single_default])


def save(ws: Workspace, kind: str, values: Mapping[str, Any], entry: Lookup | None = None) -> Lookup:
    """Create or partially update an entry of list ``kind`` (see :data:`SERVICE`)."""
    if entry is None:
        return SERVICE.create(ws, {**values, "kind": kind})
    if entry.kind != kind:
        raise Invalid(f"entry {entry.id} is not in list {kind}", field="kind")
    SERVICE.update(ws, entry, values)
    return entry


def remove(ws: Workspace, entry: Lookup) -> None:
    """Retire an entry (marked deleted: rows pointing at it keep their id)."""
    SERVICE.delete(ws, entry)


def _lookup_fields() -> dict[type, dict[str, str]]:
    from polycrm.core import models as m

    return {
        m.Customer: {"type_id": "customer_type", "industry_id": "industry", "maingroup_id": "maingroup"},
        m.Contact: {
            "origin_id": "contact_origin", "title_id": "contact_title",
            "position_id": "contact_position", "department_id": "contact_department",
        },
        m.Product: {"unit_id": "unit", "group_id": "product_group"},
        m.Activity: {"type_id": "activity_type", "priority_id": "priority", "progressionstate_id": "activity_progression"},
        m.Opportunity: {
            "stage_id": "stage", "status_id": "opportunity_status",
            "type_id": "opportunity_type", "source_id": "opportunity_source",
        },
        m.Quote: {"status_id": "quote_status", "type_id": "quote_type"},
        m.Order: {"status_id": "order_status", "type_id": "order_type"},
        m.Ticket: {"origin_id": "ticket_origin", "case_id": "ticket_case", "priority_id": "priority"},
        m.QuoteLine: {"unit_id": "unit"},
        m.OrderLine: {"unit_id": "unit"},
    }


# model -> {foreign-key column -> lookup kind it points into}
LOOKUP_FIELDS = _lookup_fields()
