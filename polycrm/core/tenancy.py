"""Tenant scoping, applied by the session itself.

A session opened for a tenant (``session.info["tenant_id"]``) gets a filter
``tenant_id = :tenant`` on every ORM statement that touches a
:class:`~polycrm.core.models.TenantScoped` entity, and every new row is
stamped with that tenant. A session without a tenant refuses such queries
unless it is explicitly a system session (``session.info["system"]``).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, with_loader_criteria

from polycrm.core.errors import TenancyError
from polycrm.core.models import TenantScoped, utcnow


@event.listens_for(Session, "do_orm_execute")
def _scope_to_tenant(state) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    info = state.session.info
    tenant_id = info.get("tenant_id")
    if tenant_id is None:
        if info.get("system"):
            return
        if any(
            isinstance(getattr(d.get("entity"), "__mro__", None), tuple) and issubclass(d["entity"], TenantScoped)
            for d in _entities(state)
        ):
            raise TenancyError("tenant-scoped query outside a tenant")
        return
    state.statement = state.statement.options(_tenant_criteria(tenant_id))


# One option object per tenant: building it (a lambda element and its
# tracking) cost as much as a primary-key read; options are immutable.
_CRITERIA: dict[int, object] = {}
_MAX_CRITERIA = 10_000


def _tenant_criteria(tenant_id: int):
    found = _CRITERIA.get(tenant_id)
    if found is None:
        if len(_CRITERIA) >= _MAX_CRITERIA:
            _CRITERIA.clear()
        found = _CRITERIA[tenant_id] = _criteria_for(tenant_id)
    return found


def _criteria_for(tenant_id: int):
    return with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True)


def _entities(state) -> list[dict]:
    stmt = state.statement
    descs = getattr(stmt, "column_descriptions", None)
    if descs is None:
        descs = getattr(stmt, "entity_description", None)
        descs = [descs] if descs else []
    return [d for d in descs if d and d.get("entity") is not None]


SAVE_HOOKS: dict[type, list[Callable[[object], None]]] = {}


def on_save(model: type) -> Callable:
    """Register a function that derives fields of ``model`` before each write."""

    def register(fn: Callable[[object], None]) -> Callable[[object], None]:
        SAVE_HOOKS.setdefault(model, []).append(fn)
        return fn

    return register


@event.listens_for(Session, "before_flush")
def _stamp_rows(session: Session, _ctx, _instances) -> None:
    tenant_id = session.info.get("tenant_id")
    now = utcnow()
    for obj in list(session.new) + list(session.dirty):
        for hook in SAVE_HOOKS.get(type(obj), ()):
            hook(obj)
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if obj.tenant_id is None:
            if tenant_id is None:
                raise TenancyError("new record outside a tenant")
            obj.tenant_id = tenant_id
        elif tenant_id is not None and obj.tenant_id != tenant_id:
            raise TenancyError("record of another tenant")
        obj.created_at = obj.created_at or now
        obj.changed_at = now
        if obj.extra is None:
            obj.extra = {}
    for obj in session.dirty:
        if not isinstance(obj, TenantScoped):
            continue
        if tenant_id is not None and obj.tenant_id != tenant_id:
            raise TenancyError("record of another tenant")
        if session.is_modified(obj, include_collections=False):
            obj.changed_at = now
    for obj in session.deleted:
        if isinstance(obj, TenantScoped) and tenant_id is not None and obj.tenant_id != tenant_id:
            raise TenancyError("record of another tenant")
