"""A CSV import as a job whose progress is kept in the database.

The browser's import (:mod:`polycrm.core.csv_import`) starts a job
(:func:`start`: a ``Record`` of kind ``csv_import`` naming the upload, the
mapping and whether possible duplicates are imported) and :func:`run` works
it off in a thread of the server process that took the request. The state
lives in the job's row, so any server process can answer the page that
polls it (:func:`status`).

1. **Checking**: the rows are checked a part at a time (:data:`PART` rows),
   each part in its own short transaction that also writes how far the check
   got. On SQLite a writer holds the database's one write lock, so progress
   could not be committed from inside the import's own transaction; short
   parts also let other writers in between.
2. **Writing**: if no row has an error, every row (less the possible
   duplicates, unless asked) is written in ONE transaction through the path
   of ``polycrm load``, which checks every rule again; the job is marked done
   in that same transaction. A refused row (the data changed since the check)
   rolls everything back and the job is marked failed: all or nothing.

A job whose row has not moved for :data:`STALE_AFTER` while unfinished (its
process stopped) shows as stopped; its writing transaction, if any, was
rolled back with the process, so nothing of it was written.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from polycrm.core import csv_import
from polycrm.core.errors import CoreError, NotFound
from polycrm.core.models import Record, utcnow
from polycrm.core.records import RecordService
from polycrm.core.workspace import Workspace

log = logging.getLogger(__name__)

KIND = "csv_import"
JOBS = RecordService(KIND, "CSV import")
PART = 250
STALE_AFTER = dt.timedelta(minutes=5)
MAX_LISTED_ERRORS = 20
QUEUED, CHECKING, WRITING, DONE, FAILED = "queued", "checking", "writing", "done", "failed"
RUNNING = (QUEUED, CHECKING, WRITING)

OpenWorkspace = Callable[[], AbstractContextManager[Workspace]]


@dataclass(frozen=True)
class Status:
    id: int
    target: str
    file: str
    upload_id: int | None
    mapping: list[str]
    include_duplicates: bool
    state: str  # queued, checking, writing, done, failed, or stopped (unfinished and stale)
    checked: int
    total: int
    imported: int
    skipped: int
    errors: list[tuple[int, str]]  # the first rows' (line, error)
    error_count: int
    message: str

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED, "stopped")

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "finished": self.finished, "checked": self.checked,
                "total": self.total, "imported": self.imported, "skipped": self.skipped,
                "error_count": self.error_count, "message": self.message}


def start(ws: Workspace, kind: csv_import.Target, user_id: int, upload: csv_import.Upload, mapping: Sequence[str],
          include_duplicates: bool) -> Record:
    """A new job for the user's upload (the mapping checked), or the one already running for it."""
    csv_import.check_mapping(kind, mapping)
    running = ws.first(select(Record).where(
        Record.kind == KIND, Record.parent_id == upload.record.id, Record.user_id == user_id,
        Record.deleted.is_(False)).order_by(Record.id.desc()))
    if running is not None and _state(running) in RUNNING:
        return running
    return JOBS.create(ws, {"user_id": user_id, "parent_id": upload.record.id, "name": upload.record.name,
                            "extra": {"target": kind.key, "mapping": list(mapping),
                                      "include_duplicates": bool(include_duplicates), "state": QUEUED,
                                      "checked": 0, "total": len(upload.rows)}})


def _state(job: Record, now: dt.datetime | None = None) -> str:
    state = (job.extra or {}).get("state", QUEUED)
    if state in RUNNING and (now or utcnow()) - (job.changed_at or utcnow()) > STALE_AFTER:
        return "stopped"
    return state


def _job(ws: Workspace, user_id: int | None, job_id: Any) -> Record:
    job = ws.get(Record, job_id, include_deleted=False)
    if job is None or job.kind != KIND or (user_id is not None and job.user_id != user_id):
        raise NotFound(f"import {job_id} not found")
    return job


def status(ws: Workspace, user_id: int, job_id: Any) -> Status:
    """The user's own job as it stands (:class:`NotFound` for anyone else's)."""
    job = _job(ws, user_id, job_id)
    extra = job.extra or {}
    return Status(job.id, str(extra.get("target", "")), job.name or "", job.parent_id, list(extra.get("mapping", [])),
                  bool(extra.get("include_duplicates")), _state(job), int(extra.get("checked", 0)),
                  int(extra.get("total", 0)), int(extra.get("imported", 0)), int(extra.get("skipped", 0)),
                  [(int(line), str(text)) for line, text in extra.get("errors", [])],
                  int(extra.get("error_count", 0)), str(extra.get("message", "")))


def _note(ws: Workspace, job_id: int, **values: Any) -> None:
    job = _job(ws, None, job_id)
    JOBS.update(ws, job, {f"extra.{k}": v for k, v in values.items()})


def launch(open_ws: OpenWorkspace, job_id: int) -> threading.Thread:
    """Run the job in a thread of this process (the page polls its row)."""
    thread = threading.Thread(target=run, args=(open_ws, job_id), name=f"csv-import-{job_id}", daemon=True)
    thread.start()
    return thread


def run(open_ws: OpenWorkspace, job_id: int) -> None:
    """Check, then write, the job's upload (module docstring). Never raises: the job's row says how it went."""
    try:
        _run(open_ws, job_id)
    except Exception as exc:  # the job must end in a state the page can show, whatever failed
        log.exception("CSV import %s failed", job_id)
        with open_ws() as ws:
            _note(ws, job_id, state=FAILED, message=f"The import failed: {exc.__class__.__name__}. Nothing was imported.")


def _run(open_ws: OpenWorkspace, job_id: int) -> None:
    with open_ws() as ws:
        job = _job(ws, None, job_id)
        if _state(job) != QUEUED:
            return  # another run took it
        extra = dict(job.extra or {})
        kind = csv_import.target(str(extra.get("target")))
        mapping, user_id, upload_id = list(extra.get("mapping", [])), job.user_id, job.parent_id
        upload = csv_import.load_upload(ws, kind, user_id, upload_id)
        rows = upload.rows
        _note(ws, job_id, state=CHECKING, total=len(rows), checked=0)
    seen = csv_import.Seen()
    errors: list[tuple[int, str]] = []
    error_count = 0
    duplicates: set[int] = set()
    for start in range(0, len(rows), PART):
        with open_ws() as ws:
            for row in csv_import.check(ws, kind, upload, mapping, start, start + PART, seen):
                if row.error:
                    error_count += 1
                    if len(errors) < MAX_LISTED_ERRORS:
                        errors.append((row.line, row.error))
                elif row.duplicate:
                    duplicates.add(row.line)
            _note(ws, job_id, checked=min(start + PART, len(rows)), error_count=error_count,
                  errors=[list(e) for e in errors])
    if error_count:
        with open_ws() as ws:
            _note(ws, job_id, state=FAILED, message=(
                f"Nothing was imported: {error_count} row{'s' if error_count != 1 else ''} "
                f"{'have' if error_count != 1 else 'has'} errors."))
        return
    skip = set() if extra.get("include_duplicates") else duplicates
    with open_ws() as ws:
        _note(ws, job_id, state=WRITING)
    try:
        with open_ws() as ws:
            upload = csv_import.load_upload(ws, kind, user_id, upload_id, lock=True)
            written = csv_import.run(ws, kind, upload, mapping, skip_lines=skip)
            _note(ws, job_id, state=DONE, imported=written, skipped=len(skip), message=summary(kind, upload.record.name,
                                                                                          written, len(skip)))
    except CoreError as exc:
        with open_ws() as ws:
            _note(ws, job_id, state=FAILED, message=f"Nothing was imported: {exc.message}.")


def summary(kind: csv_import.Target, file: str, written: int, skipped: int) -> str:
    text = f"Imported {written} {kind.noun if written == 1 else kind.plural} from {file}."
    if skipped:
        text += f" Skipped {skipped} possible duplicate{'s' if skipped != 1 else ''}."
    return text
