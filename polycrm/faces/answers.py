"""Answers of read-only GETs kept by their entity tag, per server process.

A Cirrus GET's weak ETag (``faces/cirrus/endpoint.py``) names everything its
answer depends on: the tenant's revision (read from the database with each
request, so a write through any process is seen at once), the credential and
user, the day, the path, the query and the field mask. An answer with the
same tag is the same answer, so it is kept here and sent again without being
read and rendered again: a client polling the same page, or a test suite
reading the same records, costs the tag's lookups only. Kept by size, the
least recently used dropped first (``POLYCRM_ANSWER_CACHE_MB``, 0 turns it off).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

# An answer larger than this share of the budget is not kept (it would push out many others).
LARGEST_SHARE = 8
# What a kept answer costs beyond its bytes (the key, the entry).
OVERHEAD = 200


def budget_from_environment() -> int:
    """Bytes of answers to keep: ``POLYCRM_ANSWER_CACHE_MB`` (default 4:
    with 16 a server under random reads went past 150 MB; 4 keeps the pages a
    client polls, and a kept answer costs about twice its size in memory)."""
    raw = os.environ.get("POLYCRM_ANSWER_CACHE_MB", "4").strip()
    try:
        megabytes = float(raw)
    except ValueError:
        raise ValueError(f"POLYCRM_ANSWER_CACHE_MB must be a number of megabytes, not {raw!r}") from None
    if megabytes < 0:
        raise ValueError(f"POLYCRM_ANSWER_CACHE_MB must not be negative, not {raw!r}")
    return int(megabytes * 1024 * 1024)


class Answers:
    """Encoded answers by entity tag, at most ``budget`` bytes in all."""

    def __init__(self, budget: int):
        self.budget = budget
        self.used = 0
        self._kept: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, tag: str) -> bytes | None:
        if not self.budget:
            return None
        with self._lock:
            found = self._kept.get(tag)
            if found is not None:
                self._kept.move_to_end(tag)
            return found

    def put(self, tag: str, body: bytes) -> None:
        cost = len(body) + OVERHEAD
        if not self.budget or cost * LARGEST_SHARE > self.budget:
            return
        with self._lock:
            old = self._kept.pop(tag, None)
            if old is not None:
                self.used -= len(old) + OVERHEAD
            self._kept[tag] = body
            self.used += cost
            while self.used > self.budget:
                _, dropped = self._kept.popitem(last=False)
                self.used -= len(dropped) + OVERHEAD

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self.used = 0

    def __len__(self) -> int:
        return len(self._kept)
