"""The demo tenant: realistic sample data and fixed, documented credentials."""

from __future__ import annotations

import json
from pathlib import Path

from polycrm.core import auth, fixtures, tenants
from polycrm.core.blobs import BlobStore
from polycrm.sandbox import admin as sandbox_admin
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
    admin_key="demo-admin",
    user_name="Demo",
    user_surname="User",
)
DATA_FILE = Path(__file__).with_name("demo_data.json")


def sample_data() -> dict:
    """The demo tenant's sample records (a fixtures document)."""
    return json.loads(DATA_FILE.read_text())


def ensure(db: Database, blobs: BlobStore | None = None) -> bool:
    """Create the demo tenant with its sample data unless it exists."""
    existing = tenants.find(db, DEMO.name)
    if existing is not None:
        # A demo tenant made before admin keys existed gets its documented one.
        if not sandbox_admin.has_key(db, existing.id):
            with auth.system_session(db, write=True) as session, session.begin():
                sandbox_admin.add_key(session, existing.id, DEMO.admin_key)
        return False
    tenants.create(db, DEMO)
    with tenants.workspace(db, DEMO.name, blobs) as ws:
        fixtures.load(ws, sample_data())
    return True
