"""Runtime settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("POLYCRM_DATA_DIR", "./polycrm-data")))
    database_url: str | None = field(default_factory=lambda: os.environ.get("POLYCRM_DATABASE_URL") or None)
    # Microbizz reports dates and times in the vendor's local time (Denmark).
    timezone: str = field(default_factory=lambda: os.environ.get("POLYCRM_TIMEZONE", "Europe/Copenhagen"))
    cirrus_prefix: str = field(default_factory=lambda: os.environ.get("POLYCRM_CIRRUS_PREFIX", "/cirrus"))
    # Records per resumekey page of a Microbizz ...ByLastChange sync.
    sync_page_size: int = field(default_factory=lambda: int(os.environ.get("POLYCRM_SYNC_PAGE_SIZE", "1000")))
    # Request and response size limits (polycrm.http_limits, docs/limits.md).
    max_body_bytes: int = field(default_factory=lambda: _env_int("POLYCRM_MAX_BODY_BYTES", 32 * 1024 * 1024))
    max_url_bytes: int = field(default_factory=lambda: _env_int("POLYCRM_MAX_URL_BYTES", 64 * 1024))
    max_header_bytes: int = field(default_factory=lambda: _env_int("POLYCRM_MAX_HEADER_BYTES", 32 * 1024))
    microbizz_max_rows: int = field(default_factory=lambda: _env_int("POLYCRM_MICROBIZZ_MAX_ROWS", 20_000))
    microbizz_max_bytes: int = field(
        default_factory=lambda: _env_int("POLYCRM_MICROBIZZ_MAX_RESPONSE_BYTES", 32 * 1024 * 1024))
    # A sync's next resumekey page is made while the client reads this one (docs/microbizz.md).
    microbizz_prepare_pages: bool = field(
        default_factory=lambda: os.environ.get("POLYCRM_MICROBIZZ_PREPARE_PAGES", "1") not in ("0", "false", "no"))

    # The sandbox request journal: entries kept per tenant (0: no journal), bytes kept of each body.
    journal_size: int = field(default_factory=lambda: int(os.environ.get("POLYCRM_JOURNAL_SIZE", "10000")))
    journal_body_limit: int = field(default_factory=lambda: int(os.environ.get("POLYCRM_JOURNAL_BODY_LIMIT", "65536")))

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'polycrm.sqlite3').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)
