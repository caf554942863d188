"""The operation groups of Cirrus 2; each module has a ``BINDINGS`` table.

To add a group, write ``groups/<name>.py`` with its models, views, entities
and ``BINDINGS = {operation number: Binding}``, and list the module in
:data:`GROUPS`. Operations without a binding are not served (and are not
in ``swagger.json``).
"""

from __future__ import annotations

from importlib import import_module

from polycrm.faces.cirrus.framework import Binding

GROUPS = ("accounts",)


def bindings() -> dict[int, Binding]:
    found: dict[int, Binding] = {}
    for name in GROUPS:
        table = import_module(f"{__name__}.{name}").BINDINGS
        clash = found.keys() & table.keys()
        if clash:
            raise ValueError(f"operations bound twice: {sorted(clash)}")
        found.update(table)
    return found
