"""The integration platform: an outbox of record changes and its webhooks.

Changes to shared records are written to an outbox in the same transaction
as the change (:mod:`polycrm.platform.outbox`); a background thread of the
running server turns them into signed deliveries and sends them
(:mod:`polycrm.platform.delivery`). See docs/integrations.md.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def delivering(rt: Any) -> Iterator[None]:
    """Run the webhook delivery thread while the block lasts (the app's lifespan)."""
    from polycrm.platform.delivery import Deliverer, DeliveryThread

    thread = DeliveryThread(Deliverer(rt.db, rt.blobs, timezone=rt.settings.timezone))
    thread.start()
    try:
        yield
    finally:
        thread.stop()


def routes(rt: Any) -> list:
    """The platform's web pages (under API access)."""
    from polycrm.platform import pages

    return pages.routes(rt)
