"""Documents and photos: bytes in the blob store, folders as labels, links to owners."""

from __future__ import annotations

import io
import mimetypes
from typing import Any

from sqlalchemy import select

from polycrm.core import links
from polycrm.core.errors import Invalid
from polycrm.core.models import Blob, Document, Folder, Link
from polycrm.core.workspace import Workspace

FILE_LINK = "file"
THUMB_SIZE = (160, 160)
MAX_FOLDER_DEPTH = 20


def store_bytes(ws: Workspace, data: bytes) -> str:
    if ws.blobs is None:
        raise RuntimeError("this workspace has no blob store")
    sha = ws.blobs.put(data)
    if ws.session.get(Blob, sha) is None:
        ws.session.add(Blob(sha256=sha, size=len(data)))
        ws.session.flush()
    return sha


def read_bytes(ws: Workspace, doc: Document) -> bytes:
    return ws.blobs.get(doc.blob_sha256)


def thumbnail(data: bytes) -> bytes | None:
    """A small JPEG of a JPEG or PNG image; None for anything else."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in ("JPEG", "PNG"):
                return None
            img.thumbnail(THUMB_SIZE)
            out = io.BytesIO()
            img.convert("RGB").save(out, format="JPEG", quality=80)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def folder_path(ws: Workspace, path: str | None, owner_kind: str, owner_id: int) -> int | None:
    """The folder for a client's path label like ``FilesFromAPI/Diagrams``,
    created on first use. Only labels: nothing here touches the filesystem."""
    parts = [p.strip() for p in (path or "").replace("\\", "/").split("/") if p.strip() and p.strip() not in (".", "..")]
    if len(parts) > MAX_FOLDER_DEPTH:
        raise Invalid("folder path is too deep", field="folder")
    parent_id = None
    for name in parts:
        found = ws.first(
            select(Folder).where(
                Folder.owner_kind == owner_kind, Folder.owner_id == owner_id,
                Folder.name == name[:255],
                Folder.parent_id.is_(None) if parent_id is None else Folder.parent_id == parent_id,
            )
        )
        if found is None:
            found = ws.create(Folder, name=name[:255], parent_id=parent_id, owner_kind=owner_kind, owner_id=owner_id)
        parent_id = found.id
    return parent_id


def attach(ws: Workspace, doc: Document, owner_kind: str, owner_id: int) -> None:
    """Link the document to its owner (reviving a link another API removed)."""
    links.link(ws, FILE_LINK, "document", doc.id, owner_kind, owner_id)


def save(
    ws: Workspace,
    *,
    data: bytes | None,
    values: dict[str, Any],
    owner: tuple[str, int] | None = None,
    folder: str | None = None,
    photo: bool = False,
    document: Document | None = None,
) -> Document:
    """Create a document (or replace an existing one's content and fields)."""
    values = dict(values)
    if data is not None:
        values["blob_sha256"] = store_bytes(ws, data)
        values["size"] = len(data)
        # Every JPEG or PNG gets its thumbnail, whichever API stored it and
        # whether or not it was sent as a photo (a Cirrus file, a Microbizz
        # AddFileToCustomer image): Microbizz hands thumbnails out for all.
        thumb = thumbnail(data)
        values["thumb_sha256"] = store_bytes(ws, thumb) if thumb else None
        if photo and thumb is None:
            raise Invalid("imagedata must be a JPEG or PNG image", field="imagedata")
    filename = values.get("filename") or (document.filename if document else None)
    if filename and not values.get("mime") and data is not None:
        values["mime"] = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if owner is not None and folder is not None:
        values["folder_id"] = folder_path(ws, folder, *owner)
    if document is None:
        values.setdefault("user_id", ws.user_id)
        document = ws.create(Document, values)
    else:
        ws.update(document, values)
    if owner is not None:
        attach(ws, document, *owner)
    return document


def linked(ws: Workspace, owner_kind: str, owner_id: int) -> list[Document]:
    stmt = (
        select(Document)
        .join(Link, (Link.source_id == Document.id) & (Link.source_kind == "document"))
        .where(Link.kind == FILE_LINK, Link.target_kind == owner_kind, Link.target_id == owner_id)
        # A link another API removed (a Cirrus file disconnected from an account) is kept, marked deleted.
        .where(Link.deleted.is_(False), Document.deleted.is_(False))
        .order_by(Document.id)
    )
    return ws.scalars(stmt)


def is_linked(ws: Workspace, doc: Document, owner_kind: str, owner_id: int) -> bool:
    return doc in linked(ws, owner_kind, owner_id)


def folders_of(ws: Workspace, owner_kind: str, owner_id: int) -> list[dict[str, Any]]:
    """The owner's folders with their full path labels."""
    rows = ws.scalars(
        select(Folder).where(Folder.owner_kind == owner_kind, Folder.owner_id == owner_id).order_by(Folder.id)
    )
    by_id = {f.id: f for f in rows}

    def path(folder: Folder) -> str:
        parts, seen = [], set()
        while folder is not None and folder.id not in seen:
            seen.add(folder.id)
            parts.append(folder.name)
            folder = by_id.get(folder.parent_id)
        return "/".join(reversed(parts))

    return [{"id": f.id, "name": f.name, "parent_id": f.parent_id, "path": path(f)} for f in rows]
