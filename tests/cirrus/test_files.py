"""Cirrus files group (#70-#75): files are core documents shared with Microbizz."""

from __future__ import annotations

import base64

from tests.cirrus.helpers import VALIDATION, auth, new_account, url
from polycrm.core import documents
from polycrm.core.models import Document, Folder
from polycrm.core.workspace import Workspace


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def new_file(client, tenant, **fields):
    body = {"name": "offer.pdf", "content": b64(b"%PDF-1.4 offer"), **fields}
    r = client.post(url("/files/"), json=body, headers=auth(tenant))
    assert r.status_code == 200, r.text
    return r.json()


def test_create_stores_bytes_and_links(client, runtime, tenant):
    account = new_account(client, tenant)
    f = new_file(client, tenant, info="signed", connectedaccounts=[account["id"]], connectedusers=[tenant["user_id"]])
    assert (f["name"], f["info"], f["connectedaccounts"], f["connectedusers"]) == ("offer.pdf", "signed", [account["id"]], [tenant["user_id"]])
    assert f["accounts"][0]["id"] == account["id"] and f["connectedleads"] == [] and f["timestamp"]
    assert "content" not in f
    assert client.get(url(f"/files/{f['id']}"), headers=auth(tenant)).json() == f
    with Workspace(runtime.db, tenant["tenant_id"], blobs=runtime.blobs) as ws:
        doc = ws.get(Document, f["id"])
        assert documents.read_bytes(ws, doc) == b"%PDF-1.4 offer"
        # The same link the Microbizz face writes for AddFileToCustomer.
        assert [d.id for d in documents.linked(ws, "customer", account["id"])] == [f["id"]]
    got = client.get(url(f"/accounts/{account['id']}"), headers=auth(tenant)).json()
    assert got["files"] == [{"id": f["id"], "name": "offer.pdf"}]


def test_create_errors(client, tenant):
    r = client.post(url("/files/"), json={"name": "a.txt"}, headers=auth(tenant))
    assert r.status_code == 400
    assert r.json() == {"errors": {"content": "'content' is a required property"}, "message": VALIDATION}
    r = client.post(url("/files/"), json={"name": "a.txt", "content": "aGk=", "connectedcontacts": [987654]}, headers=auth(tenant))
    assert r.status_code == 404
    assert r.json() == {"errors": {"connectedcontacts": "Contact 987654 not found"}, "message": "Contact 987654 not found"}
    r = client.post(url("/files/"), json={"name": "a.txt", "content": "*not base64*"}, headers=auth(tenant))
    assert r.status_code == 400 and "content" in r.json()["errors"]


def test_update_replaces_content_and_connections(client, runtime, tenant):
    a1, a2 = new_account(client, tenant, name="One"), new_account(client, tenant, name="Two")
    f = new_file(client, tenant, connectedaccounts=[a1["id"]])
    r = client.put(url(f"/files/{f['id']}"), json={"content": b64(b"v2"), "connectedaccounts": [a2["id"]]}, headers=auth(tenant))
    assert r.status_code == 200
    assert r.json()["connectedaccounts"] == [a2["id"]] and r.json()["name"] == "offer.pdf"
    with Workspace(runtime.db, tenant["tenant_id"], blobs=runtime.blobs) as ws:
        assert documents.read_bytes(ws, ws.get(Document, f["id"])) == b"v2"
    r = client.put(url("/files/565656"), json={"info": "x"}, headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "File 565656 not found"}


def test_list_filters(client, tenant):
    account = new_account(client, tenant)
    f1 = new_file(client, tenant, name="a.txt", connectedaccounts=[account["id"]])
    new_file(client, tenant, name="b.txt")
    page = client.get(url("/files/"), params={"accountid": account["id"]}, headers=auth(tenant)).json()
    assert [x["id"] for x in page["items"]] == [f1["id"]]
    assert client.get(url("/files/"), headers=auth(tenant)).json()["total"] == 2
    assert client.get(url("/files/"), params={"userid": tenant["user_id"]}, headers=auth(tenant)).json()["total"] == 0
    r = client.get(url("/files/?accountid=one"), headers=auth(tenant))
    assert r.json() == {"errors": {"accountid": "invalid literal for int() with base 10: 'one'"}, "message": VALIDATION}
    assert client.get(url("/files/4444"), headers=auth(tenant)).json() == {"message": "File 4444 not found"}


def test_folders(client, runtime, tenant):
    account = new_account(client, tenant)
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        top = ws.create(Folder, name="Contracts", owner_kind="customer", owner_id=account["id"])
        sub = ws.create(Folder, name="2026", parent_id=top.id, owner_kind="customer", owner_id=account["id"])
    f = new_file(client, tenant, folderid=sub.id)
    assert f["folder"] == {"id": sub.id, "name": "2026", "parentfolderid": top.id}
    got = client.get(url(f"/files/folders/{top.id}"), headers=auth(tenant)).json()
    assert got == {"id": top.id, "name": "Contracts", "parentfolderid": None, "accountid": account["id"], "files": [],
                   "account": got["account"], "folders": [{"id": sub.id, "name": "2026"}]}
    assert got["account"]["id"] == account["id"]
    page = client.get(url("/files/folders/"), params={"parentfolderid": top.id}, headers=auth(tenant)).json()
    assert [x["files"] for x in page["items"]] == [[{"id": f["id"], "name": "offer.pdf"}]]
    assert client.get(url("/files/folders"), params={"accountid": account["id"]}, headers=auth(tenant)).json()["total"] == 2
    r = client.get(url("/files/folders/999"), headers=auth(tenant))
    assert r.status_code == 404 and r.json() == {"message": "Folder 999 not found"}
    r = client.post(url("/files/"), json={"name": "x", "content": "", "folderid": 999}, headers=auth(tenant))
    assert r.status_code == 404 and r.json()["errors"] == {"folderid": "Folder 999 not found"}
