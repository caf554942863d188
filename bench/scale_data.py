"""The customers of ``bench/scale_bench.py``, as a JSON Lines file for ``polycrm load``.

Names are made of a surname, a trade and a company form drawn from short
Swedish word lists (so a name prefix, a 5-character term and a 1- or
2-character term each find a share of the rows that stays the same at every
size), with a number, e-mail, phone, VAT number, visiting address and
coordinates. The same ``n`` and seed give the same file, which is written once
into the cache folder and reused.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

SURNAMES = [
    "Andersson", "Berg", "Björk", "Dahl", "Ek", "Forsberg", "Gustafsson", "Hedlund", "Holm", "Isaksson",
    "Johansson", "Karlsson", "Lindqvist", "Lund", "Magnusson", "Nilsson", "Nyström", "Olsson", "Persson",
    "Quist", "Sandberg", "Sjöberg", "Strand", "Svensson", "Wallin", "Åberg", "Öberg", "Zetterlund",
]
TRADES = [
    "Bygg", "Konsult", "El", "Måleri", "Transport", "Data", "Revision", "Fastigheter", "Trä", "VVS",
    "Städ", "Design", "Juridik", "Mekaniska", "Handel", "Kök", "Golv", "Plåt", "Xpress", "Yrkesskola",
]
FORMS = ["AB", "AB", "AB", "HB", "KB", "& Söner AB", "i Norden AB"]
CITIES = ["Stockholm", "Göteborg", "Malmö", "Uppsala", "Västerås", "Örebro", "Linköping", "Helsingborg",
          "Jönköping", "Norrköping", "Lund", "Umeå", "Gävle", "Borås", "Kiruna"]
STREETS = ["Storgatan", "Kungsgatan", "Drottninggatan", "Sveavägen", "Hamngatan", "Järnvägsgatan", "Skolgatan"]


def customer(i: int, rnd: random.Random) -> dict:
    surname = rnd.choice(SURNAMES)
    return {
        "name": f"{surname} {rnd.choice(TRADES)} {rnd.choice(FORMS)}",
        "number": f"K{i:07d}",
        "type_name": "Customer",
        "email": f"info{i}@{surname.lower()}.se",
        "phone": f"+46{rnd.randrange(10**8, 10**9)}",
        "vat": f"SE{5560000000 + i}01",
        "addresses": {"visiting": {"street": rnd.choice(STREETS), "number": str(rnd.randrange(1, 120)),
                                   "zip": f"{rnd.randrange(10000, 99999)}", "city": rnd.choice(CITIES),
                                   "country": "SE"}},
        "latitude": round(55.3 + rnd.random() * 13.5, 5),
        "longitude": round(11.1 + rnd.random() * 12.9, 5),
    }


def customers_file(folder: Path, n: int, seed: int = 12) -> Path:
    """The cached ``customers-<n>.jsonl`` in ``folder``, written first if missing."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"customers-{n}-s{seed}.jsonl"
    if path.exists():
        return path
    rnd = random.Random(seed)
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as f:
        for i in range(1, n + 1):
            f.write(json.dumps(customer(i, rnd), ensure_ascii=False) + "\n")
    partial.rename(path)
    return path


if __name__ == "__main__":
    import sys

    for size in sys.argv[2:]:
        print(customers_file(Path(sys.argv[1]), int(size)))
