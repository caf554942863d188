"""CSV import of customers in the browser: upload, map columns, preview, import.

The file stays on the server between the steps (:mod:`polycrm.core.customer_import`
keeps it in the blob store under a per-user upload record); the pages carry
only the upload's id and the chosen mapping. The rules are the core's.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.responses import Response

from polycrm.core import customer_import as imports
from polycrm.core.errors import CoreError, Invalid
from polycrm.web.handler import Ctx

FIELD_CHOICES = [("", "— do not import —")] + [(path, label) for path, (label, _) in imports.FIELDS.items()]


def upload_form(ctx: Ctx) -> Response:
    return ctx.render("import.html", step="upload", error=None)


def upload(ctx: Ctx) -> Response:
    sent = ctx.form.get("file")
    if not isinstance(sent, UploadFile) or not sent.filename:
        return ctx.render("import.html", 400, step="upload", error="Choose a CSV file to upload.")
    data = sent.file.read(imports.MAX_BYTES + 1)
    try:
        stored = imports.store_upload(ctx.ws, ctx.user.id, sent.filename, data)
    except Invalid as exc:
        return ctx.render("import.html", 400, step="upload", error=f"The file cannot be imported: {_plain(exc)}.")
    return ctx.redirect(f"/import/customers/{stored.record.id}")


def _plain(exc: CoreError) -> str:
    return exc.message[len(exc.field) + 1:] if exc.field and exc.message.startswith(exc.field + " ") else exc.message


def _mapping(ctx: Ctx, upload: imports.Upload) -> list[str]:
    return [str(ctx.form.get(f"map_{i}", "")) for i in range(len(upload.headers))]


def _samples(upload: imports.Upload) -> list[str]:
    first = upload.rows[0] if upload.rows else []
    return [first[i] if i < len(first) else "" for i in range(len(upload.headers))]


def mapping_form(ctx: Ctx) -> Response:
    upload = imports.load_upload(ctx.ws, ctx.user.id, ctx.request.path_params["id"])
    return _mapping_page(ctx, upload, imports.suggest_mapping(upload.headers))


def _mapping_page(ctx: Ctx, upload: imports.Upload, mapping: list[str], status: int = 200,
                  error: str | None = None) -> Response:
    return ctx.render("import.html", status, step="map", upload=upload, mapping=mapping, error=error,
                      columns=list(zip(range(len(upload.headers)), upload.headers, _samples(upload))),
                      choices=FIELD_CHOICES)


def _preview(ctx: Ctx, upload: imports.Upload, mapping: list[str], status: int = 200,
             message: str | None = None) -> Response:
    try:
        checked = imports.preview(ctx.ws, upload, mapping)
    except Invalid as exc:
        return _mapping_page(ctx, upload, mapping, 400, f"{_plain(exc).capitalize()}.")
    shown = [(p, imports.FIELDS[p][0]) for p in mapping if p]
    return ctx.render("import.html", status, step="preview", upload=upload, mapping=mapping, checks=checked.checks, shown=shown,
                      errors=checked.errors, duplicates=checked.duplicates, error=message)


def preview(ctx: Ctx) -> Response:
    upload = imports.load_upload(ctx.ws, ctx.user.id, ctx.request.path_params["id"])
    return _preview(ctx, upload, _mapping(ctx, upload))


def run(ctx: Ctx) -> Response:
    upload = imports.load_upload(ctx.ws, ctx.user.id, ctx.request.path_params["id"])
    mapping = _mapping(ctx, upload)
    try:
        checked = imports.preview(ctx.ws, upload, mapping)
    except Invalid as exc:
        return _mapping_page(ctx, upload, mapping, 400, f"{_plain(exc).capitalize()}.")
    if checked.errors:
        return _preview(ctx, upload, mapping, 400,
                        "Nothing was imported: correct the rows with errors in the file and upload it again.")
    with_duplicates = bool(ctx.form.get("include_duplicates"))
    skip = set() if with_duplicates else {c.line for c in checked.checks if c.duplicate}
    try:
        written = imports.run(ctx.ws, ctx.user.id, upload, mapping, skip_lines=skip)
    except CoreError as exc:
        ctx.ws.rollback()
        return _preview(ctx, upload, mapping, 400, f"Nothing was imported: {exc.message}.")
    summary = f"Imported {written} customer{'s' if written != 1 else ''} from {upload.record.name}."
    if skip:
        summary += f" Skipped {len(skip)} possible duplicate{'s' if len(skip) != 1 else ''}."
    return ctx.redirect("/customers", summary)


def routes(page: Any) -> list:
    from starlette.routing import Route
    return [
        Route("/import/customers", page(upload_form), methods=["GET"]),
        Route("/import/customers", page(upload), methods=["POST"]),
        Route("/import/customers/{id:int}", page(mapping_form), methods=["GET"]),
        Route("/import/customers/{id:int}/preview", page(preview), methods=["POST"]),
        Route("/import/customers/{id:int}/run", page(run), methods=["POST"]),
    ]
