"""A Swedish personnummer as the integrations and bankid groups take it."""

from __future__ import annotations

from polycrm.core import personnummer
from polycrm.core.errors import Invalid
from polycrm.faces.cirrus.errors import ApiError

# Twelve digits, optionally with the customary separator before the last four.
PATTERN = r"^\s*[0-9]{8}[-+]?[0-9]{4}\s*$"


def person_number(value: object, field: str = "person_number") -> str:
    """A well-formed number (else 400) that is a valid personnummer: twelve digits
    with an impossible birth date or a wrong check digit identify no one (404)."""
    text = personnummer.check_format(value, field)
    try:
        return personnummer.validate(text, field)
    except Invalid as exc:
        raise ApiError(404, exc.message, {field: exc.message}) from None
