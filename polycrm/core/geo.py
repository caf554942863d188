"""Countries (ISO 3166-1 alpha-2) and their states (ISO 3166-2 subdivisions).

The data is a JSON file in the package (``geo_data.json``); states are
shipped for the countries the CRM's users address most (Mexico, the United
States, Canada). Codes are the ISO codes; a state code is the part after the
country prefix (``MX-JAL`` -> ``JAL``).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("geo_data.json")


@cache
def _data() -> dict[str, Any]:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def countries() -> list[dict[str, str]]:
    """Every country as ``{code, name}``, by name."""
    return [dict(c) for c in _data()["countries"]]


def country(code: str | None) -> dict[str, str] | None:
    wanted = (code or "").strip().upper()
    return next((dict(c) for c in _data()["countries"] if c["code"] == wanted), None)


def states(country_code: str | None) -> list[dict[str, str]]:
    """The states of a country as ``{code, name, type}``; empty when none are known."""
    return [dict(s) for s in _data()["states"].get((country_code or "").strip().upper(), [])]
