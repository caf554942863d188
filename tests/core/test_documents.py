"""The document write service: content, thumbnails, folders, owners, limits, tenancy."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image
from sqlalchemy import select

from polycrm.core import documents
from polycrm.core.errors import Invalid, NotFound
from polycrm.core.models import Customer, Document, Folder
from polycrm.core.workspace import Workspace


def ws_of(runtime, tenant) -> Workspace:
    return Workspace(runtime.db, tenant["tenant_id"], tenant["user_id"], blobs=runtime.blobs)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), "red").save(out, format="PNG")
    return out.getvalue()


def test_a_document_keeps_its_bytes_type_owner_and_folder(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        customer = ws.create(Customer, name="Acme")
        doc = documents.save(ws, data=b"%PDF-1.4", values={"filename": "offer.pdf"},
                             owner=("customer", customer.id), folder="Offers/2026")
        assert (doc.size, doc.mime, doc.user_id, doc.thumb_sha256) == (8, "application/pdf", tenant["user_id"], None)
        assert documents.read_bytes(ws, doc) == b"%PDF-1.4"
        assert documents.linked(ws, "customer", customer.id) == [doc]
        assert [f["path"] for f in documents.folders_of(ws, "customer", customer.id)] == ["Offers", "Offers/2026"]


def test_a_clients_file_has_its_name_cut_to_the_column_and_is_titled_by_it(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        customer = ws.create(Customer, name="Acme")
        name = "n" * 250 + ".pdf"
        doc = documents.add_file(ws, data=b"%PDF-1.4", filename=name + "x" * 10, title="Offer",
                                 owner=("customer", customer.id))
        assert (doc.filename, doc.title) == ((name + "x" * 10)[:255], "Offer")
        untitled = documents.add_file(ws, data=b"%PDF-1.4", filename="offer.pdf", title=None,
                                      owner=("customer", customer.id))
        assert (untitled.filename, untitled.title) == ("offer.pdf", "offer.pdf")


def test_a_photo_is_typed_by_its_content_and_named_after_its_owner(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        customer = ws.create(Customer, name="Acme")
        when = dt.datetime(2026, 5, 14, 9, 30, 5)
        photo = documents.save_photo(ws, data=png(), values={}, owner=("customer", customer.id), local_now=when)
        assert (photo.mime, photo.title, photo.is_photo) == ("image/png", "", True)
        assert photo.filename == f"photo-{customer.id}-20260514093005.png"
        # A change keeps the name; new content is typed again.
        jpeg = io.BytesIO()
        Image.new("RGB", (10, 10), "blue").save(jpeg, format="JPEG")
        documents.save_photo(ws, data=jpeg.getvalue(), values={"title": "Front"}, owner=("customer", customer.id),
                             local_now=when, document=photo)
        assert (photo.mime, photo.title, photo.filename) == ("image/jpeg", "Front", f"photo-{customer.id}-20260514093005.png")
        assert documents.linked_one(ws, photo.id, "customer", customer.id) is photo
        assert documents.linked_one(ws, photo.id, "customer", customer.id + 1) is None


def test_images_get_a_thumbnail_and_a_photo_must_be_one(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        doc = documents.save(ws, data=png(), values={"filename": "a.png"})
        assert doc.thumb_sha256 is not None and doc.mime == "image/png"
        with pytest.raises(Invalid) as caught:
            documents.save(ws, data=b"not an image", values={"filename": "x.jpg"}, photo=True)
        assert caught.value.field == "imagedata"
        # Replacing the content of a document keeps the row.
        same = documents.save(ws, data=b"text", values={}, document=doc)
        assert same.id == doc.id and same.thumb_sha256 is None and same.size == 4


def test_a_folder_of_another_tenant_is_refused(runtime, tenant, other_tenant):
    with ws_of(runtime, other_tenant) as ws:
        theirs = ws.create(Folder, name="Theirs").id
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(Invalid) as caught:
            documents.save(ws, data=b"x", values={"filename": "x.txt", "folder_id": theirs})
        assert caught.value.field == "folder_id"


def test_text_limits_are_checked(runtime, tenant):
    with ws_of(runtime, tenant) as ws:
        with pytest.raises(Invalid):
            documents.save(ws, data=b"x", values={"filename": "f" * 300})
        with pytest.raises(Invalid):
            documents.save(ws, data=b"x", values={"filename": "a\x00b.txt"})
        assert ws.count(select(Document)) == 0


def test_reading_an_unknown_or_huge_id_is_not_found(runtime, tenant, other_tenant):
    with ws_of(runtime, other_tenant) as ws:
        theirs = documents.save(ws, data=b"secret", values={"filename": "s.txt"}).id
    with ws_of(runtime, tenant) as ws:
        for id_ in (theirs, 2**70, "abc"):
            with pytest.raises(NotFound):
                documents.require_readable(ws, id_)
        mine = documents.save(ws, data=b"x", values={"filename": "x.txt"})
        documents.remove(ws, mine)
        with pytest.raises(NotFound):
            documents.require_readable(ws, mine.id)
