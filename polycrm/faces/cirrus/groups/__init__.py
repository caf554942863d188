"""The operation groups of Cirrus 2; each module has a ``BINDINGS`` table.

To add a group, write ``groups/<name>.py`` with its models, views, entities
and ``BINDINGS = {operation number: Binding}``; it is found by itself (no
list to edit, so groups written at the same time do not collide). Modules
whose name starts with ``_`` or that have no ``BINDINGS`` are shared
helpers. Operations without a binding are not served (and are not in
``swagger.json``).
"""

from __future__ import annotations

import pkgutil
from importlib import import_module

from polycrm.faces.cirrus.handlers import Binding


def group_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def bindings() -> dict[int, Binding]:
    found: dict[int, Binding] = {}
    owner: dict[int, str] = {}
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
