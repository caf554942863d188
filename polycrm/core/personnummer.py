"""Swedish personal identity numbers, and the sandbox services built on them.

A personnummer is sent as 12 digits ``YYYYMMDDNNNC``: a birth date (the day
plus 60 for a coordination number), three serial digits and a Luhn check
digit computed over the last ten digits. The address lookup and the credit
check are deterministic sandbox services: everything they answer is derived
from the number, so the same number always gives the same person and the
same outcome. Credit checks are kept as :class:`Record` rows of kind
``credit_check``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass

from polycrm.core.errors import Invalid
from polycrm.core.models import Record
from polycrm.core.workspace import Workspace

CREDIT_CHECK = "credit_check"
_TWELVE = re.compile(r"^[0-9]{12}\Z")
_NAMESPACE = uuid.UUID("0b6f4c2e-5a51-4d0c-9d59-3f1f7b0a2c11")

GIVEN_FEMALE = ("Anna", "Eva", "Maria", "Karin", "Sara", "Elin", "Ida", "Linnea")
GIVEN_MALE = ("Erik", "Lars", "Karl", "Johan", "Anders", "Oskar", "Nils", "Axel")
SURNAMES = ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson",
            "Lindberg")
STREETS = ("Storgatan", "Drottninggatan", "Kungsgatan", "Vasagatan", "Skolgatan", "Kyrkogatan", "Parkvägen",
           "Ringvägen")
CITIES = (("Stockholm", "11"), ("Göteborg", "41"), ("Malmö", "21"), ("Uppsala", "75"), ("Västerås", "72"),
          ("Örebro", "70"), ("Linköping", "58"), ("Umeå", "90"))


def luhn_digit(nine: str) -> int:
    """The check digit of nine digits (weights 2,1,2,...)."""
    total = 0
    for i, ch in enumerate(nine):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


def birth_date(number: str) -> dt.date:
    day = int(number[6:8])
    return dt.date(int(number[:4]), int(number[4:6]), day - 60 if day > 60 else day)


def check_format(number: object, field: str = "person_number") -> str:
    """The number as 12 digits (a ``-``/``+`` separator is dropped); Invalid when it is not 12 digits."""
    text = str(number or "").strip().replace("-", "").replace("+", "")
    if not _TWELVE.match(text):
        raise Invalid(f"{number!r} is not a personal number of 12 digits (YYYYMMDDNNNC)", field=field)
    return text


def validate(number: object, field: str = "person_number") -> str:
    """The number as 12 digits; Invalid (naming ``field``) when it is not a valid personnummer."""
    text = check_format(number, field)
    try:
        born = birth_date(text)
    except ValueError:
        raise Invalid(f"{number!r} does not start with a valid birth date", field=field) from None
    if born > dt.date.today():
        raise Invalid(f"{number!r} has a birth date in the future", field=field)
    if luhn_digit(text[2:11]) != int(text[11]):
        raise Invalid(f"{number!r} has a wrong check digit", field=field)
    return text


def _pick(number: str, salt: str, options: tuple) -> object:
    digest = hashlib.sha256(f"{salt}:{number}".encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


@dataclass(frozen=True)
class Person:
    name: str
    surname: str
    street: str
    city: str
    zip: str


def person(number: str) -> Person:
    """The sandbox person of a (valid) number: the 11th digit is odd for men, as in real numbers."""
    given = GIVEN_MALE if int(number[10]) % 2 else GIVEN_FEMALE
    city, zip_prefix = _pick(number, "city", CITIES)  # type: ignore[misc]
    house = int(hashlib.sha256(f"house:{number}".encode()).hexdigest()[:4], 16) % 120 + 1
    zip_rest = int(hashlib.sha256(f"zip:{number}".encode()).hexdigest()[:4], 16) % 1000
    return Person(name=str(_pick(number, "given", given)), surname=str(_pick(number, "surname", SURNAMES)),
                  street=f"{_pick(number, 'street', STREETS)} {house}", city=city,
                  zip=f"{zip_prefix}{zip_rest // 100} {zip_rest % 100:02d}")


def age(number: str, today: dt.date | None = None) -> int:
    born, today = birth_date(number), today or dt.date.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def credit_outcome(number: str) -> str:
    """Minors are always denied; otherwise a stable 1-in-5 of numbers is denied."""
    if age(number) < 18:
        return "denied"
    return "denied" if int(hashlib.sha256(f"credit:{number}".encode()).hexdigest(), 16) % 5 == 0 else "approved"


def credit_check(ws: Workspace, number: str, user_id: int | None = None) -> Record:
    """Run (and keep) a sandbox credit check of a validated number."""
    record = ws.create(Record, {"kind": CREDIT_CHECK, "number": number, "name": number, "user_id": user_id,
                                "extra": {"status": "completed", "outcome": credit_outcome(number)}})
    ws.flush()
    ws.update(record, {"extra.correlationid": str(uuid.uuid5(_NAMESPACE, f"{number}:{record.id}")),
                       "extra.checkdate": record.created_at.replace(microsecond=0).isoformat()})
    return record
