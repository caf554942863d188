"""What the snapshot tests share: a tenant's captured state and a workspace of it."""

from __future__ import annotations

import zlib

import orjson

from polycrm.core.workspace import Workspace
from polycrm.sandbox import snapshots


def state(runtime, tenant_id: int) -> dict:
    """Everything of a tenant a snapshot covers, as plain data."""
    with runtime.db.engine.connect() as conn:
        data, _ = snapshots.capture(conn, tenant_id)
    return orjson.loads(zlib.decompress(data))


def workspace(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"], blobs=runtime.blobs)
