"""The operation groups of Cirrus 2; each module has a ``BINDINGS`` table.

To add a group, write ``groups/<name>.py`` with its schemas, views, entities
and ``BINDINGS = {operationId: Binding}`` (the operationIds of
``operations.json``); it is found by itself (no list to edit, so groups
written at the same time do not collide). Modules whose name starts with
``_`` are shared helpers. An operation bound twice, a name the table does
not know or an operation nobody binds is an error when the tables are
collected (:func:`served_operations`).
"""

from __future__ import annotations

import pkgutil
from importlib import import_module

from polycrm.faces.cirrus.handlers import Binding
from polycrm.faces.cirrus.operations import Operation, resolve


def group_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def bindings() -> dict[str, Binding]:
    """Every group's table, merged: ``{operationId: Binding}``."""
    found: dict[str, Binding] = {}
    owner: dict[str, str] = {}
    for name in group_modules():
        table = getattr(import_module(f"{__name__}.{name}"), "BINDINGS", None)
        if table is None:
            continue
        clash = found.keys() & table.keys()
        if clash:
            raise ValueError(f"operations bound twice: {sorted(clash)} ({name} and {owner[min(clash)]})")
        found.update(table)
        owner.update(dict.fromkeys(table, name))
    return found


def served_operations() -> list[Operation]:
    return resolve(bindings())
