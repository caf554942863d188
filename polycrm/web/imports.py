"""CSV import in the browser: upload, map columns, preview, import as a job with progress.

One flow for every kind of :data:`polycrm.core.csv_import.TARGETS` (customers,
contacts): ``/import/{kind}`` and its steps. The file stays on the server
between the steps (:mod:`polycrm.core.csv_import` keeps it in the blob store
under a per-user upload record); the pages carry only the upload's id and the
chosen mapping. Importing starts a job (:mod:`polycrm.core.import_jobs`)
whose page shows its progress: it polls ``/import/jobs/{id}/progress`` with
``/static/import.js``, or, without JavaScript, reloads itself every two
seconds until the summary shows. The rules are the core's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, Response

from polycrm.core import csv_import as imports
from polycrm.core import import_jobs
from polycrm.core.auth import Principal
from polycrm.core.errors import CoreError, Invalid
from polycrm.web.handler import Ctx


def _choices(kind: imports.Target) -> list[tuple[str, str]]:
    return [("", "— do not import —")] + [(path, label) for path, (label, _) in kind.fields.items()]


def _render(ctx: Ctx, kind: imports.Target, status: int = 200, **values: Any) -> Response:
    return ctx.render("import.html", status, kind=kind, base=f"/import/{kind.key}", **values)


def upload_form(kind: imports.Target) -> Callable[[Ctx], Response]:
    def show(ctx: Ctx) -> Response:
        return _render(ctx, kind, step="upload", error=None)

    show.__name__ = f"import_{kind.key}_form"
    return show


def upload(kind: imports.Target) -> Callable[[Ctx], Response]:
    def receive(ctx: Ctx) -> Response:
        sent = ctx.form.get("file")
        if not isinstance(sent, UploadFile) or not sent.filename:
            return _render(ctx, kind, 400, step="upload", error="Choose a CSV file to upload.")
        data = sent.file.read(imports.MAX_BYTES + 1)
        try:
            stored = imports.store_upload(ctx.ws, kind, ctx.user.id, sent.filename, data)
        except Invalid as exc:
            return _render(ctx, kind, 400, step="upload", error=f"The file cannot be imported: {_plain(exc)}.")
        return ctx.redirect(f"/import/{kind.key}/{stored.record.id}")

    receive.__name__ = f"import_{kind.key}_upload"
    return receive


def _plain(exc: CoreError) -> str:
    return exc.message[len(exc.field) + 1:] if exc.field and exc.message.startswith(exc.field + " ") else exc.message


def _mapping(ctx: Ctx, upload: imports.Upload) -> list[str]:
    return [str(ctx.form.get(f"map_{i}", "")) for i in range(len(upload.headers))]


def _samples(upload: imports.Upload) -> list[str]:
    first = upload.rows[0] if upload.rows else []
    return [first[i] if i < len(first) else "" for i in range(len(upload.headers))]


def _load(ctx: Ctx, kind: imports.Target) -> imports.Upload:
    return imports.load_upload(ctx.ws, kind, ctx.user.id, ctx.request.path_params["id"])


def mapping_form(kind: imports.Target) -> Callable[[Ctx], Response]:
    def show(ctx: Ctx) -> Response:
        upload = _load(ctx, kind)
        return _mapping_page(ctx, kind, upload, imports.suggest_mapping(kind, upload.headers))

    show.__name__ = f"import_{kind.key}_mapping"
    return show


def _mapping_page(ctx: Ctx, kind: imports.Target, upload: imports.Upload, mapping: list[str], status: int = 200,
                  error: str | None = None) -> Response:
    return _render(ctx, kind, status, step="map", upload=upload, mapping=mapping, error=error,
                   columns=list(zip(range(len(upload.headers)), upload.headers, _samples(upload))),
                   choices=_choices(kind))


def _preview(ctx: Ctx, kind: imports.Target, upload: imports.Upload, mapping: list[str], status: int = 200,
             message: str | None = None) -> Response:
    try:
        checked = imports.preview(ctx.ws, kind, upload, mapping)
    except Invalid as exc:
        return _mapping_page(ctx, kind, upload, mapping, 400, f"{_plain(exc).capitalize()}.")
    shown = [(p, kind.label_of(p)) for p in mapping if p]
    return _render(ctx, kind, status, step="preview", upload=upload, mapping=mapping, checks=checked.checks,
                   shown=shown, errors=checked.errors, duplicates=checked.duplicates, error=message)


def preview(kind: imports.Target) -> Callable[[Ctx], Response]:
    def show(ctx: Ctx) -> Response:
        upload = _load(ctx, kind)
        return _preview(ctx, kind, upload, _mapping(ctx, upload))

    show.__name__ = f"import_{kind.key}_preview"
    return show


def run(kind: imports.Target) -> Callable[[Ctx], Response]:
    """Start the import job and go to its page; the job runs once this request has committed."""

    def start(ctx: Ctx) -> Response:
        upload = _load(ctx, kind)
        mapping = _mapping(ctx, upload)
        try:
            job = import_jobs.start(ctx.ws, kind, ctx.user.id, upload, mapping,
                                    bool(ctx.form.get("include_duplicates")))
        except Invalid as exc:
            return _mapping_page(ctx, kind, upload, mapping, 400, f"{_plain(exc).capitalize()}.")
        response = ctx.redirect(f"/import/jobs/{job.id}")
        if (job.extra or {}).get("state") == import_jobs.QUEUED:
            response.background = BackgroundTask(import_jobs.launch, _opener(ctx), job.id)
        return response

    start.__name__ = f"import_{kind.key}_run"
    return start


def _opener(ctx: Ctx) -> import_jobs.OpenWorkspace:
    """Workspaces for the job's thread: this tenant, this user, changes marked as made on a web page."""
    rt, principal = ctx.rt, Principal(ctx.ws.tenant_id, ctx.user.id)

    def open_ws():
        ws = rt.workspace(principal, write=True)
        ws.session.info["source"] = "web"
        return ws

    return open_ws


def job_page(ctx: Ctx) -> Response:
    job = import_jobs.status(ctx.ws, ctx.user.id, ctx.request.path_params["id"])
    kind = imports.target(job.target)
    return ctx.render("import_job.html", job=job, kind=kind, base=f"/import/{kind.key}",
                      upload_live=job.upload_id is not None and _upload_live(ctx, kind, job))


def _upload_live(ctx: Ctx, kind: imports.Target, job: import_jobs.Status) -> bool:
    try:
        imports.load_upload(ctx.ws, kind, ctx.user.id, job.upload_id)
    except CoreError:
        return False
    return True


def job_progress(ctx: Ctx) -> Response:
    job = import_jobs.status(ctx.ws, ctx.user.id, ctx.request.path_params["id"])
    return JSONResponse(job.as_json())


def routes(page: Any) -> list:
    from starlette.routing import Route

    found = [
        Route("/import/jobs/{id:int}", page(job_page), methods=["GET"]),
        Route("/import/jobs/{id:int}/progress", page(job_progress), methods=["GET"]),
    ]
    for kind in imports.TARGETS.values():
        base = f"/import/{kind.key}"
        found += [
            Route(base, page(upload_form(kind)), methods=["GET"]),
            Route(base, page(upload(kind)), methods=["POST"]),
            Route(base + "/{id:int}", page(mapping_form(kind)), methods=["GET"]),
            Route(base + "/{id:int}/preview", page(preview(kind)), methods=["POST"]),
            Route(base + "/{id:int}/run", page(run(kind)), methods=["POST"]),
        ]
    return found
