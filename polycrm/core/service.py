"""The one write path of an entity: :class:`Service`.

Every face and page creates, updates and deletes a shared entity through its
service (``customers.SERVICE``, ``products.SERVICE``, ...), so the same record
obeys the same rules whoever writes it. A write runs, in order:

1. the values' limits (:mod:`polycrm.core.limits`, done by
   :func:`polycrm.core.workspace.patch`), checked before any rule reads them;
2. the reference checks the service declares: each foreign key names a live
   row of this tenant, and a lookup column names an entry of its list;
3. the entity's rules, in order: ``rule(write)`` may change ``write.values``
   (defaults, derived fields, claimed numbers) or raise
   :class:`~polycrm.core.errors.Invalid` / :class:`~polycrm.core.errors.Conflict`
   naming the core field;
4. the row is written (:meth:`Workspace.create` / :meth:`Workspace.update`),
   then each ``after(write)`` step (lines, custom inputs, totals).

A failed step raises before anything of the write is flushed, or inside the
caller's transaction (or a batch command's savepoint), so nothing is left
half-written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from polycrm.core import limits
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.models import Lookup, TenantScoped
from polycrm.core.workspace import Workspace

M = TypeVar("M", bound=TenantScoped)


@dataclass
class Write(Generic[M]):
    """One write in progress, as the rules see it."""

    ws: Workspace
    # The row being updated; None while creating (set once it is written).
    obj: M | None
    values: dict[str, Any]
    # What the caller knows besides the values (profile, inputs, lines, ...).
    context: dict[str, Any] = field(default_factory=dict)
    creating: bool = True
    # Set by an ``after`` step that changed something besides the row (lines, inputs).
    changed: bool = False
    # Paths a rule filled in from the tenant's own live rows (a list's default
    # entry, the acting user): the reference checks need not look them up again.
    trusted: set[str] = field(default_factory=set)

    def get(self, path: str, default: Any = None) -> Any:
        """The value ``path`` will have after the write: the new one if given, else the stored one."""
        if path in self.values:
            return self.values[path]
        if self.obj is None:
            return default
        head, _, rest = path.partition(".")
        value = getattr(self.obj, head, default)
        while rest and value is not None:
            part, _, rest = rest.partition(".")
            value = value.get(part) if isinstance(value, dict) else None
        return default if value is None else value

    def given(self, path: str) -> bool:
        return path in self.values


Rule = Callable[[Write], None]


class Service(Generic[M]):
    """Create, update and delete rows of one model with its rules."""

    def __init__(
        self,
        model: type[M],
        label: str,
        *,
        defaults: Mapping[str, Any] | None = None,
        references: Mapping[str, type[TenantScoped]] | None = None,
        lookups: Mapping[str, str] | None = None,
        rules: Iterable[Rule] = (),
        after: Iterable[Rule] = (),
        soft_delete: bool = True,
    ) -> None:
        self.model = model
        self.label = label
        self.defaults = dict(defaults or {})
        self.references = dict(references or {})
        self.lookups = dict(lookups or {})
        self.rules = list(rules)
        self.after = list(after)
        self.soft_delete = soft_delete

    # -- the verbs ------------------------------------------------------------
    def create(self, ws: Workspace, values: Mapping[str, Any], **context: Any) -> M:
        write: Write[M] = Write(ws, None, {**self.defaults, **values}, context, creating=True)
        self._check(write)
        write.obj = ws.create(self.model, write.values)
        for step in self.after:
            step(write)
        return write.obj

    def update(self, ws: Workspace, obj: M, values: Mapping[str, Any], **context: Any) -> bool:
        """Apply a partial update; returns whether anything changed."""
        write: Write[M] = Write(ws, obj, dict(values), context, creating=False)
        self._check(write)
        changed = ws.update(obj, write.values)
        for step in self.after:
            step(write)
        return changed or write.changed

    def delete(self, ws: Workspace, obj: M) -> None:
        """Delete a row: marked deleted (so syncs see it go) unless the service removes rows."""
        if self.soft_delete:
            ws.update(obj, {"deleted": True})
        else:
            ws.delete(obj)

    # -- checks ---------------------------------------------------------------
    def _check(self, write: Write[M]) -> None:
        checks = limits.for_model(self.model)
        for key, value in write.values.items():
            if "." in key:
                if value is not None:
                    limits.check_json(value, key)
            else:
                checks.check(key, value)
        self.check_references(write)
        for rule in self.rules:
            rule(write)

    def check_references(self, write: Write[M]) -> None:
        """Each declared reference that is given names a live row of this tenant."""
        ws = write.ws
        for key, kind in self.lookups.items():
            value = write.values.get(key)
            if value:
                require_lookup(ws, kind, value, key)
        for key, target in self.references.items():
            value = write.values.get(key)
            if value and ws.get(target, value, include_deleted=False) is None:
                raise Invalid(f"{key} {value} does not exist", field=key)


def require_lookup(ws: Workspace, kind: str, value: Any, field: str) -> Lookup:
    """The live entry ``value`` of list ``kind``, or :class:`Invalid` naming ``field``."""
    entry = ws.get(Lookup, value, include_deleted=False)
    if entry is None or entry.kind != kind:
        raise Invalid(f"{field} {value} does not exist", field=field)
    return entry


def required_text(*paths: str) -> Rule:
    """A rule: each of ``paths``, when written (or on create), holds non-blank text."""

    def rule(write: Write) -> None:
        for path in paths:
            if (write.creating or write.given(path)) and not str(write.get(path) or "").strip():
                raise Invalid(f"{path} must not be empty", field=path)

    return rule


def live_references(references: Mapping[str, tuple[type[TenantScoped], str]]) -> Rule:
    """A rule: each given reference ``path -> (model, label)`` names a live row of
    this tenant, else :class:`~polycrm.core.errors.NotFound` "<label> <id> not found"
    naming the path (the wording the faces already answer with)."""

    def rule(write: Write) -> None:
        for path, (model, label) in references.items():
            value = write.values.get(path)
            if value and write.ws.get(model, value, include_deleted=False) is None:
                raise NotFound(f"{label} {value} not found", field=path)

    return rule
