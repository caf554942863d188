"""Customer rules shared by every API: the write service (:data:`SERVICE`),
derived fields, lookups, the hierarchy.

Every API and the web pages create and update customers through
:func:`create` / :func:`update`, so these rules hold whoever writes:

- a new customer gets the type list's default entry and the acting user as
  seller unless they are given;
- the name is not empty;
- a type, main group or industry names a live entry of its list; a seller,
  our / their reference and alternate user name a live user / contact of
  this tenant; a parent is a live customer that does not make a cycle
  (each checked when written with a new value, so saving back what was read
  never fails on a reference that went away);
- a customer number, when given, is not carried by another live customer of
  the tenant, compared after trimming and ignoring case (:class:`NumberTaken`);
  with ``assign_number=True`` (centiaCRM) a customer written without one gets
  the next free number;
- the customer's ``latitude``/``longitude`` are its visiting address's
  coordinates: writing either side writes the other;
- custom inputs (``inputs=``, ``profile=``) are written with the row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, case, select

from polycrm.core import custom_fields, lookups, numbering, profiles
from polycrm.core.derived import (  # noqa: F401  (part of this module's interface)
    INTERIOR_PREFIX, STREET_NUMBER_PARTS, fold, street_line,
)
from polycrm.core.errors import Conflict, Invalid, NotFound
from polycrm.core.models import Contact, Customer, Profile, User, folded
from polycrm.core.query import rows
from polycrm.core.service import Service, Write, required_text
from polycrm.core.workspace import Workspace

ADDRESS_KINDS = ("visiting", "postal", "delivery", "invoice")
ADDRESS_PARTS = (
    "careof", "name", "street", "street2", "number", "letter", "interior_number",
    "suburb", "zip", "city", "state", "country", "email", "latitude", "longitude",
)


def street_line_patch(kind: str, line: str | None, current: Mapping[str, Any] | None) -> dict[str, Any]:
    """The patch that stores a one-line street (as an API without separate
    numbers writes it) in address ``kind``: the whole line becomes the street
    and the separate numbers are cleared, so none is shown twice. Writing
    back the line the address already reads as (a client saving what it
    read) changes nothing, so the numbers stay separate."""
    if (line or "").strip() == (street_line(current) or ""):
        return {}
    return {f"addresses.{kind}.street": line, **{f"addresses.{kind}.{p}": None for p in STREET_NUMBER_PARTS}}


def live() -> Any:
    """Customers that are neither closed nor deleted."""
    return (Customer.deleted.is_(False)) & (Customer.active.is_(True))


def by_number(ws: Workspace, number: str) -> Customer | None:
    return ws.first(select(Customer).where(Customer.number == str(number)).order_by(Customer.deleted, Customer.id))


def folded_number(number: Any) -> str:
    """A customer number as numbers are compared: trimmed, case ignored."""
    return str(number).strip().lower() if number is not None else ""


def by_folded_number(ws: Workspace, number: str) -> Customer | None:
    """The customer whose number equals ``number`` after trimming and ignoring
    case; a live one before a deleted one (an upsert by number finds it), and
    among those one stored exactly as given first. One query on the folded
    number index (0009); the few rows it finds are sorted, not the tenant."""
    given = str(number).strip()
    stmt = select(Customer).where(folded(Customer.number) == folded_number(number))
    exact_first = case((Customer.number == given, 0), else_=1)
    return ws.first(stmt.order_by(Customer.deleted, exact_first, Customer.id))


def for_upsert_by_number(ws: Workspace, number: str) -> Customer | None:
    """The customer an upsert by ``number`` writes (:func:`by_folded_number`),
    found with the tenant's customer-number lock held until the transaction
    ends: of several clients upserting one number at once, the first creates
    the customer and the others wait, then find and update it."""
    numbering.lock(ws, Customer.number)
    return by_folded_number(ws, number)


def number_holder(ws: Workspace, number: str, exclude: int | None = None) -> Customer | None:
    """Another live customer already carrying ``number`` (trimmed, case ignored).

    A prebuilt lookup of ids through ``ix_customer_number_folded``: every write
    that gives a number asks, and nearly always finds none (the ORM query cost
    more than the rest of the checks together)."""
    ids = rows.live_ids(ws, Customer, ("number",), lambda: [folded(Customer.__table__.c.number) == bindparam("number")],
                        number=folded_number(number))
    holder = next((id_ for id_ in ids if id_ != exclude), None)
    return None if holder is None else ws.get(Customer, holder)


def by_number_in_profile(ws: Workspace, profile: Profile, number: str) -> Customer | None:
    """The first live customer of a profile with this number."""
    stmt = select(Customer).where(
        Customer.number == str(number), Customer.deleted.is_(False), profiles.owned_by(Customer, profile)
    )
    return ws.first(stmt.order_by(Customer.id))


def by_name(ws: Workspace, name: str) -> Customer | None:
    return ws.first(select(Customer).where(Customer.name_folded == fold(name)).order_by(Customer.deleted, Customer.id))


def children(ws: Workspace, parent_id: int, *, recursive: bool = False, ignore_closed: bool = False) -> list[Customer]:
    """Direct children, or every descendant breadth first."""
    found: list[Customer] = []
    seen = {parent_id}
    frontier = [parent_id]
    while frontier:
        stmt = select(Customer).where(Customer.parent_id.in_(frontier)).order_by(Customer.id)
        batch = [c for c in ws.scalars(stmt) if c.id not in seen]
        seen.update(c.id for c in batch)
        frontier = [c.id for c in batch] if recursive else []
        found.extend(batch)
    if ignore_closed:
        found = [c for c in found if c.active and not c.deleted]
    return found


def ancestors(ws: Workspace, customer: Customer, *, ignore_closed: bool = False) -> list[Customer]:
    """Parents nearest first; stops at a cycle."""
    chain: list[Customer] = []
    seen = {customer.id}
    current = customer
    while current.parent_id and current.parent_id not in seen:
        parent = ws.get(Customer, current.parent_id)
        if parent is None:
            break
        seen.add(parent.id)
        chain.append(parent)
        current = parent
    if ignore_closed:
        chain = [c for c in chain if c.active and not c.deleted]
    return chain


def check_parent(ws: Workspace, customer_id: int | None, parent_id: int | None, field: str = "parent") -> int | None:
    """Validate a parent reference: it must exist and must not create a cycle."""
    if not parent_id:
        return None
    parent = ws.get(Customer, parent_id)
    if parent is None:
        raise Invalid(f"{field} {parent_id} does not exist", field=field)
    if customer_id is not None:
        if parent.id == customer_id or any(a.id == customer_id for a in ancestors(ws, parent)):
            raise Invalid(f"{field} {parent_id} would make the customer its own ancestor", field=field)
    return parent.id


def feed_filter(*, skip_deleted: bool = False, ignore_closed: bool = False) -> list[Any]:
    """Conditions for a customer sync."""
    where: list[Any] = []
    if skip_deleted or ignore_closed:
        where.append(Customer.deleted.is_(False))
    if ignore_closed:
        where.append(Customer.active.is_(True))
    return where


# -- the write service ---------------------------------------------------------
LOOKUPS = {"type_id": "customer_type", "maingroup_id": "maingroup", "industry_id": "industry"}
REFERENCES: dict[str, type] = {
    "user_id": User, "extra.ourreference": User, "extra.alternateuser_id": User, "extra.theirreference": Contact,
}


class NumberTaken(Conflict):
    """A customer number another live customer of the tenant already carries."""

    def __init__(self, number: str, holder: Customer, field: str = "number"):
        super().__init__(f"{field} {number} is already used", field=field)
        self.number = number
        self.holder = holder


def written(write: Write, path: str) -> bool:
    """Whether the write gives ``path`` a new value (any given value, when
    creating) that a check must verify: not one a rule filled in itself."""
    if not write.given(path) or path in write.trusted:
        return False
    return write.creating or write.values[path] != _stored(write.obj, path)


def _stored(obj: Any, path: str) -> Any:
    head, _, rest = path.partition(".")
    value = getattr(obj, head, None)
    while rest and value is not None:
        part, _, rest = rest.partition(".")
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _defaults(write: Write) -> None:
    """A new customer's type is its list's default entry and its seller the acting user, unless given."""
    if not write.creating:
        return
    profile = write.context.get("profile")
    if profile is not None:
        write.values.setdefault("profile_id", profile.id)
    if "type_id" not in write.values:
        entry = lookups.default(write.ws, "customer_type")
        write.values["type_id"] = entry.id if entry is not None else None
        write.trusted.add("type_id")
    if "user_id" not in write.values and write.ws.user_id:
        write.values["user_id"] = write.ws.user_id
        write.trusted.add("user_id")


def _references(write: Write) -> None:
    """Lookups name a live entry of their list, references a live row of this tenant."""
    ws = write.ws
    for path, kind in LOOKUPS.items():
        value = write.values.get(path)
        if value and written(write, path) and not lookups.exists(ws, kind, value):
            raise NotFound(f"{path} {value} not found", field=path)
    for path, model in REFERENCES.items():
        value = write.values.get(path)
        if value and written(write, path) and not rows.is_live(ws, model, value):
            raise NotFound(f"{path} {value} does not exist", field=path)


def _parent(write: Write) -> None:
    """A parent is a live customer and not the customer itself or one of its descendants."""
    if not written(write, "parent_id"):
        return
    parent_id = write.values["parent_id"] or None
    write.values["parent_id"] = parent_id
    if parent_id is None:
        return
    ws = write.ws
    parent = ws.get(Customer, parent_id, include_deleted=False)
    if parent is None:
        raise NotFound(f"parent_id {parent_id} does not exist", field="parent_id")
    own_id = write.obj.id if write.obj is not None else None
    if own_id is not None and (parent.id == own_id or any(a.id == own_id for a in ancestors(ws, parent))):
        raise Invalid(f"parent_id {parent_id} would make the customer its own ancestor", field="parent_id")
    write.values["parent_id"] = parent.id


def _number(write: Write) -> None:
    """A given number is free (trimmed, case ignored); centiaCRM's writes
    without one claim the next free number. Both hold the numbering lock,
    so two writers at once cannot take the same number."""
    ws = write.ws
    number = write.values.get("number")
    blank = number is None or not str(number).strip()
    if write.creating and blank:
        if write.context.get("assign_number"):
            numbering.lock(ws, Customer.number)
            write.values["number"] = numbering.next_free(ws, Customer.number)
        return
    if blank or not write.given("number"):
        return
    if not write.creating and folded_number(number) == folded_number(write.obj.number):
        return  # saving back its own number (in another case) is not a clash
    numbering.lock(ws, Customer.number)
    check_number(ws, number, write.obj)


def check_number(ws: Workspace, number: Any, customer: Customer | None = None) -> None:
    """:class:`NumberTaken` if another live customer than ``customer`` carries
    ``number`` (trimmed, case ignored). The service checks it on every write;
    a form may call it first to show the clash with its other errors."""
    if number is None or not str(number).strip():
        return
    holder = number_holder(ws, number, exclude=customer.id if customer is not None else None)
    if holder is not None:
        raise NumberTaken(str(number), holder)


def _coordinates(write: Write) -> None:
    """The customer's coordinates are its visiting address's: writing either writes the other."""
    values = write.values
    visiting = values.get("addresses.visiting")
    for axis in ("latitude", "longitude"):
        part = f"addresses.visiting.{axis}"
        if isinstance(visiting, Mapping) and axis in visiting:
            values[axis] = visiting[axis]
        elif part in values:
            values[axis] = values[part]
        elif axis in values:
            if isinstance(visiting, Mapping):
                values["addresses.visiting"] = visiting = {**visiting, axis: values[axis]}
            else:
                values[part] = values[axis]


def _inputs(write: Write) -> None:
    """Custom inputs of the caller's profile; on create the required ones must be given."""
    write_inputs(write, "customer")


def write_inputs(write: Write, entity: str) -> None:
    """Write ``inputs=`` (slug: value) for the row; a profile's create checks its required inputs."""
    inputs, profile = write.context.get("inputs"), write.context.get("profile")
    if inputs is None and not (write.creating and profile is not None):
        return
    custom_fields.set_values(
        write.ws, entity, write.obj.id, inputs or {},
        profile_id=profile.id if profile is not None else None, creating=write.creating,
    )
    if inputs:
        write.changed = True


def _drop_emptied_addresses(write: Write) -> None:
    """With ``drop_emptied_addresses=True`` (a form clearing every part of an
    address), an address left without parts is removed, not kept as ``{}``."""
    if not write.context.get("drop_emptied_addresses"):
        return
    emptied = {f"addresses.{kind}": None for kind, a in (write.obj.addresses or {}).items() if a == {}}
    if emptied and write.ws.update(write.obj, emptied):
        write.changed = True


SERVICE: Service[Customer] = Service(
    Customer, "customer",
    rules=[_defaults, required_text("name"), _references, _parent, _number, _coordinates],
    after=[_inputs, _drop_emptied_addresses],
)


def create(ws: Workspace, values: Mapping[str, Any], *, profile: Profile | None = None,
           inputs: Mapping[str, Any] | None = None, assign_number: bool = False) -> Customer:
    """Create a customer with its rules (module docstring); ``assign_number``
    gives one written without a number the next free one."""
    return SERVICE.create(ws, values, profile=profile, inputs=inputs, assign_number=assign_number)


def update(ws: Workspace, customer: Customer, values: Mapping[str, Any], *, profile: Profile | None = None,
           inputs: Mapping[str, Any] | None = None, drop_emptied_addresses: bool = False) -> bool:
    """Partially update a customer with its rules; returns whether anything changed."""
    return SERVICE.update(ws, customer, values, profile=profile, inputs=inputs,
                          drop_emptied_addresses=drop_emptied_addresses)


def delete(ws: Workspace, customer: Customer) -> None:
    """Mark a customer deleted (syncs see it go)."""
    SERVICE.delete(ws, customer)
