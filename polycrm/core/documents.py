"""Documents and photos: bytes in the blob store, folders as labels, links to owners."""

from __future__ import annotations

import datetime as dt
import io
import mimetypes
from typing import Any

from sqlalchemy import select

from polycrm.core import links
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.models import Blob, Document, Folder, Link
from polycrm.core.service import Service, Write
from polycrm.core.workspace import Workspace

FILE_LINK = "file"
THUMB_SIZE = (160, 160)
MAX_FOLDER_DEPTH = 20
FILENAME_MAX = 255
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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


def _content_rule(write: Write) -> None:
    """New bytes (context ``data``) go to the blob store with their size, their
    type guessed from the file name and, for a JPEG or PNG, a thumbnail; a
    photo (context ``photo``) must be one of those."""
    data = write.context.get("data")
    values = write.values
    if data is not None:
        values["blob_sha256"] = store_bytes(write.ws, data)
        values["size"] = len(data)
        # Every JPEG or PNG gets its thumbnail, whichever API stored it and
        # whether or not it was sent as a photo (a Cirrus file, a Microbizz
        # AddFileToCustomer image): Microbizz hands thumbnails out for all.
        thumb = thumbnail(data)
        values["thumb_sha256"] = store_bytes(write.ws, thumb) if thumb else None
        if write.context.get("photo") and thumb is None:
            raise Invalid("imagedata must be a JPEG or PNG image", field="imagedata")
    filename = write.get("filename")
    if filename and not values.get("mime") and data is not None:
        values["mime"] = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if write.creating:
        values.setdefault("user_id", write.ws.user_id)


def _folder_rule(write: Write) -> None:
    """A folder path label (context ``folder``) of the owner becomes the document's folder."""
    owner, folder = write.context.get("owner"), write.context.get("folder")
    if owner is not None and folder is not None:
        write.values["folder_id"] = folder_path(write.ws, folder, *owner)


def _attach_to_owner(write: Write) -> None:
    owner = write.context.get("owner")
    if owner is not None:
        attach(write.ws, write.obj, *owner)
        write.changed = True


# Every document any API or page stores goes through this service.
SERVICE: Service[Document] = Service(
    Document, "document", references={"folder_id": Folder}, rules=[_content_rule, _folder_rule],
    after=[_attach_to_owner],
)


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
    """Create a document (or replace an existing one's content and fields), see :data:`SERVICE`."""
    context = {"data": data, "owner": owner, "folder": folder, "photo": photo}
    if document is None:
        return SERVICE.create(ws, values, **context)
    SERVICE.update(ws, document, values, **context)
    return document


def add_file(
    ws: Workspace, *, data: bytes, filename: str, title: str | None, owner: tuple[str, int], folder: str = ""
) -> Document:
    """A client's file for ``owner`` (Microbizz AddFileTo...): a longer file
    name is cut to the column's 255 characters; the title defaults to the file
    name as given."""
    return save(
        ws, data=data, values={"filename": filename[:FILENAME_MAX], "title": title or filename},
        owner=owner, folder=folder,
    )


def save_photo(
    ws: Workspace,
    *,
    data: bytes | None,
    values: dict[str, Any],
    owner: tuple[str, int],
    local_now: dt.datetime,
    document: Document | None = None,
) -> Document:
    """A new photo of ``owner``, or new content and fields for one of its
    photos (``document``). The type follows the content: PNG when it is one,
    else JPEG (Microbizz speaks of JPEG but accepts PNG). A new photo without a
    title gets an empty one and is named ``photo-<owner id>-<local time>.<png|jpg>``."""
    values = {**values, "is_photo": True}
    if data is not None:
        values["mime"] = "image/png" if data.startswith(PNG_SIGNATURE) else "image/jpeg"
    if document is None:
        values.setdefault("title", "")
        extension = "png" if values.get("mime") == "image/png" else "jpg"
        values["filename"] = f"photo-{owner[1]}-{local_now:%Y%m%d%H%M%S}.{extension}"
    return save(ws, data=data, values=values, owner=owner, photo=True, document=document)


def remove(ws: Workspace, document: Document) -> None:
    """Mark a document deleted (its bytes stay for other documents sharing them)."""
    SERVICE.delete(ws, document)


def require_readable(ws: Workspace, document_id: Any) -> Document:
    """A live document of this tenant by id (a malformed or huge id is not found)."""
    doc = ws.get(Document, document_id, include_deleted=False)
    if doc is None:
        raise NotFound(f"document {document_id} not found")
    return doc


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


def linked_one(ws: Workspace, document_id: int | None, owner_kind: str, owner_id: int) -> Document | None:
    """Document ``document_id`` if it is one of the owner's, else None."""
    doc = ws.get(Document, document_id) if document_id else None
    return doc if doc is not None and doc in linked(ws, owner_kind, owner_id) else None


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
