"""What a running server shares between requests: settings, database, blobs."""

from __future__ import annotations

from dataclasses import dataclass

from polycrm.config import Settings
from polycrm.core.auth import Principal
from polycrm.core.blobs import BlobStore
from polycrm.core.workspace import Workspace
from polycrm.store.engine import Database


@dataclass
class Runtime:
    settings: Settings
    db: Database
    blobs: BlobStore

    @classmethod
    def from_settings(cls, settings: Settings | None = None, db: Database | None = None) -> "Runtime":
        settings = settings or Settings()
        db = db or Database(settings.resolved_database_url())
        return cls(settings=settings, db=db, blobs=BlobStore(settings.blob_dir))

    def workspace(self, principal: Principal, *, write: bool = True, profile_id: int | None = None) -> Workspace:
        ws = Workspace(
            self.db, principal.tenant_id, principal.user_id, blobs=self.blobs, write=write, profile_id=profile_id
        )
        # The credential says which API a change came through (core.history).
        ws.session.info["credential_id"] = principal.credential_id
        return ws
