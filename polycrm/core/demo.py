"""The demo tenant: realistic sample data and fixed, documented credentials."""

from __future__ import annotations

import json
from pathlib import Path

from polycrm.core import fixtures, tenants
from polycrm.core.blobs import BlobStore
from polycrm.store.engine import Database

DEMO = tenants.NewTenant(
    name="demo",
    contract=1000,
    username="demo",
    password="demo",
    email="demo@example.com",
    microbizz_apikey="demo-apikey",
    cirrus_x_token="demo-token",
    cirrus_client_id="demo-client",
    cirrus_client_secret="demo-secret",
    user_name="Demo",
    user_surname="User",
)
DATA_FILE = Path(__file__).with_name("demo_data.json")


def ensure(db: Database, blobs: BlobStore | None = None) -> bool:
    """Create the demo tenant with its sample data unless it exists."""
    if tenants.find(db, DEMO.name) is not None:
        return False
    tenants.create(db, DEMO)
    with tenants.workspace(db, DEMO.name, blobs) as ws:
        fixtures.load(ws, json.loads(DATA_FILE.read_text()))
    return True
