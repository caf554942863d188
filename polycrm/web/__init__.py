"""The web pages at ``/``."""

from __future__ import annotations


def routes(rt) -> list:
    return []
