"""The cirrus face (being built in its own issue)."""

from __future__ import annotations


def routes(rt) -> list:
    return []
