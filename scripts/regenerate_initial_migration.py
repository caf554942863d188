"""Regenerate the initial migration from the models.

Only while polycrm has no release: the schema is still one revision. Run from
the repository root: .venv/bin/python scripts/regenerate_initial_migration.py
"""
import pathlib, sys, tempfile
from alembic import command
from polycrm.store.migrate import alembic_config
from polycrm.store.engine import Database
versions = pathlib.Path("polycrm/store/migrations/versions")
for f in versions.glob("*.py"): f.unlink()
tmp = tempfile.mkdtemp()
db = Database(f"sqlite:///{tmp}/gen.sqlite3")
cfg = alembic_config(db.url)
with db.engine.begin() as conn:
    cfg.attributes["connection"] = conn
    command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
