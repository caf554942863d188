"""One record, three APIs: Cirrus accounts, articles, files, activities and
quotes are Microbizz customers, products, documents, calls and sales
contracts. Every check goes through the HTTP faces."""

from __future__ import annotations

import base64
import io
import re

from PIL import Image
from starlette.testclient import TestClient

from tests.cirrus.helpers import auth, get_ok, new_account, send_ok, url
from tests.microbizz.helpers import MB, b64, image_bytes


def test_account_created_through_cirrus_is_a_microbizz_customer(client, tenant):
    account = new_account(
        client, tenant, name="Fjord Fisk ApS", number="C-77", phone="+45 70", vatno="DK777", url="fjord.dk",
        addresses={"visiting": {"street": "Havnen 1", "zip": "9000", "city": "Aalborg",
                                "coordinates": {"latitude": "57.05", "longitude": "9.92"}},
                   "invoice": {"name": "Fjord Fisk Billing", "city": "Aalborg"}},
    )
    mb = MB(client, tenant)
    customer = mb.get_customer(account["id"])
    assert customer is not None
    assert (customer["name"], customer["customernumber"], customer["phone"]) == ("Fjord Fisk ApS", "C-77", "+45 70")
    assert (customer["vat"], customer["www"]) == ("DK777", "fjord.dk")
    assert (customer["address"], customer["zip"], customer["city"]) == ("Havnen 1", "9000", "Aalborg")
    assert customer["invoicename"] == "Fjord Fisk Billing"
    assert float(customer["latitude"]) == 57.05 and float(customer["longitude"]) == 9.92
    assert int(customer["sellerid"]) == tenant["user_id"]
    # A change through Cirrus shows in the Microbizz change feed.
    client.put(url(f"/accounts/{account['id']}"), json={"phone": "+45 71", "active": 0}, headers=auth(tenant))
    changed = mb.call("GetCustomersByLastChange", lastchange="2000-01-01 00:00:00")["customers"]
    mine = [c for c in changed if int(c["id"]) == account["id"]]
    assert mine and mine[0]["phone"] == "+45 71" and int(mine[0]["isclosed"]) == 1


def test_customer_created_through_microbizz_is_a_cirrus_account(client, tenant):
    mb = MB(client, tenant)
    customer = mb.customer(name="Bjerg Byg", customernumber="M-5", city="Vejle", zip="7100", phone="+45 75",
                           latitude=55.7, longitude=9.53)
    account = client.get(url(f"/accounts/{customer['id']}"), headers=auth(tenant)).json()
    assert (account["name"], account["number"], account["phone"]) == ("Bjerg Byg", "M-5", "+45 75")
    visiting = account["addresses"]["visiting"]
    assert (visiting["city"], visiting["zip"]) == ("Vejle", "7100")
    assert visiting["coordinates"]["latitude"] == "55.7" and visiting["coordinates"]["longitude"] == "9.53"
    found = client.get(url("/accounts/"), params={"nearto": "55.7,9.53", "distance": "1"}, headers=auth(tenant)).json()
    assert [a["id"] for a in found["items"]] == [customer["id"]]


def test_article_and_product_are_one_record(client, tenant):
    r = client.post(url("/articles/"), json={"name": "Hammer", "number": "H-1", "price": 120, "buyprice": 60,
                                             "description": "Claw hammer", "vat": 25}, headers=auth(tenant))
    article = r.json()
    mb = MB(client, tenant)
    products = mb.call("GetProductByID", productid=article["id"])["products"]
    assert products[0]["title"] == "Hammer" and products[0]["productnumber"] == "H-1"
    assert float(products[0]["price"]) == 120 and float(products[0]["costprice"]) == 60
    product = mb.product(title="Saw", productnumber="S-1", price=99.5)
    got = client.get(url(f"/articles/{product['id']}"), headers=auth(tenant)).json()
    assert (got["name"], got["number"], got["price"]) == ("Saw", "S-1", 99.5)


# -- shared helpers for the tests below -----------------------------------------------
def _downloaded(app, tenant, document_id: int) -> tuple[bytes, str]:
    """A document's bytes and content type as the web pages hand them out:
    neither Microbizz nor Cirrus sends file content back, so the web pages'
    download is where "the same bytes" can be seen over HTTP."""
    web = TestClient(app, follow_redirects=False)
    form = web.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    signed = web.post("/signin", data={"csrf_token": token, "tenant": tenant["tenant"],
                                       "login": tenant["microbizz"]["username"],
                                       "password": tenant["microbizz"]["password"]})
    assert signed.status_code == 303, signed.text
    r = web.get(f"/documents/{document_id}/download")
    assert r.status_code == 200, r.text
    return r.content, r.headers["content-type"]


def _documents(mb: MB, customer_id: int) -> dict[int, dict]:
    found = mb.call("GetDocumentsByCustomerID", customerid=customer_id, inclthumbs=1, inclfolders=1)
    return {d["id"]: d for d in found["documents"]}


def _thumbnail_size(document: dict) -> tuple[int, int]:
    with Image.open(io.BytesIO(base64.b64decode(document["thumbnail"]))) as img:
        img.load()
        assert img.format == "JPEG"
        return img.size


# -- files and documents ----------------------------------------------------------------
def test_a_cirrus_file_is_a_microbizz_document_of_the_account(app, client, tenant):
    mb = MB(client, tenant)
    account = new_account(client, tenant, name="Fjord Fisk ApS")
    other = new_account(client, tenant, name="Bjerg Byg")
    pdf = b"%PDF-1.4\n" + bytes(range(256)) + b"\n%%EOF\n"
    made = send_ok(client, tenant, "POST", "/files/", {
        "name": "offer.pdf", "info": "Offer, first draft", "content": base64.b64encode(pdf).decode(),
        "connectedaccounts": [account["id"]],
    })
    docs = _documents(mb, account["id"])
    assert list(docs) == [made["id"]]
    doc = docs[made["id"]]
    assert (doc["filename"], doc["size"], doc["mimetype"], doc["isphoto"]) == ("offer.pdf", len(pdf), "application/pdf", 0)
    assert (doc["userid"], doc["folderid"], doc["thumbnail"]) == (tenant["user_id"], 0, "")
    assert _documents(mb, other["id"]) == {}
    assert _downloaded(app, tenant, made["id"]) == (pdf, "application/pdf")

    # New content through Cirrus replaces the bytes Microbizz describes.
    jpeg = image_bytes("JPEG", (800, 400))
    send_ok(client, tenant, "PUT", f"/files/{made['id']}", {"name": "offer.jpg", "content": b64(jpeg)})
    doc = _documents(mb, account["id"])[made["id"]]
    assert (doc["filename"], doc["size"], doc["mimetype"]) == ("offer.jpg", len(jpeg), "image/jpeg")
    # An image is an image whichever API stored it: Microbizz gets its thumbnail.
    assert _thumbnail_size(doc) == (160, 80)
    assert _downloaded(app, tenant, made["id"]) == (jpeg, "image/jpeg")

    # Moving the file to the other account moves the Microbizz document with it.
    send_ok(client, tenant, "PUT", f"/files/{made['id']}", {"connectedaccounts": [other["id"]]})
    assert _documents(mb, account["id"]) == {}
    assert list(_documents(mb, other["id"])) == [made["id"]]


def test_a_microbizz_customer_file_is_a_cirrus_file_of_the_account(app, client, tenant):
    mb = MB(client, tenant)
    customer = mb.customer(name="Bjerg Byg", customernumber="M-5")
    text = "Tegning, rev. B — æøå\n".encode()
    mb.call("AddFileToCustomer", customerid=customer["id"], filename="tegning.txt", filedata=b64(text),
            title="Drawing rev. B", folder="FilesFromAPI/Diagrams")
    (doc_id,) = _documents(mb, customer["id"])
    listed = mb.call("GetDocumentsByCustomerID", customerid=customer["id"], inclfolders=1)
    doc, folders = listed["documents"][0], {f["id"]: f for f in listed["folders"]}

    file = get_ok(client, tenant, f"/files/{doc_id}")
    assert (file["id"], file["name"], file["connectedaccounts"]) == (doc_id, "tegning.txt", [customer["id"]])
    assert [a["id"] for a in file["accounts"]] == [customer["id"]]
    # The folder label Microbizz made is the Cirrus folder, parents included.
    assert file["folderid"] == doc["folderid"] and file["folder"]["name"] == "Diagrams"
    assert folders[file["folder"]["parentfolderid"]]["path"] == "FilesFromAPI"
    folder = get_ok(client, tenant, f"/files/folders/{file['folderid']}")
    assert folder["accountid"] == customer["id"] and [f["id"] for f in folder["files"]] == [doc_id]
    # The account lists the file by its title, and the file list finds it by account.
    account = get_ok(client, tenant, f"/accounts/{customer['id']}")
    assert account["files"] == [{"id": doc_id, "name": "Drawing rev. B"}]
    assert [f["id"] for f in get_ok(client, tenant, "/files/", accountid=customer["id"])["items"]] == [doc_id]
    assert _downloaded(app, tenant, doc_id) == (text, "text/plain; charset=utf-8")


def test_a_microbizz_customer_photo_is_a_cirrus_file_of_the_account(app, client, tenant):
    mb = MB(client, tenant)
    customer = mb.customer(name="Foto ApS")
    jpeg = image_bytes("JPEG", (320, 240))
    photo = mb.call("AddPhotoToCustomer", customerid=customer["id"], title="Facade", imagedata=b64(jpeg),
                    createdate="2026-02-01", createtime="12:00")["document"]
    file = get_ok(client, tenant, f"/files/{photo['id']}")
    assert (file["name"], file["connectedaccounts"]) == (photo["filename"], [customer["id"]])
    assert file["name"].endswith(".jpg")
    assert get_ok(client, tenant, f"/accounts/{customer['id']}")["files"] == [{"id": photo["id"], "name": "Facade"}]
    assert _downloaded(app, tenant, photo["id"]) == (jpeg, "image/jpeg")

    # Replacing the photo through Microbizz keeps the Cirrus file and changes its bytes.
    png = image_bytes("PNG", (50, 100), "red")
    mb.call("AddPhotoToCustomer", customerid=customer["id"], documentid=photo["id"], imagedata=b64(png))
    assert get_ok(client, tenant, f"/files/{photo['id']}")["connectedaccounts"] == [customer["id"]]
    assert _downloaded(app, tenant, photo["id"]) == (png, "image/png")
    assert [f["id"] for f in get_ok(client, tenant, "/files/", accountid=customer["id"])["items"]] == [photo["id"]]


# -- calls = activities of the type Call ------------------------------------------------------
def _activity_type(client, tenant, name: str) -> int:
    return next(t["id"] for t in get_ok(client, tenant, "/activities/types/") if t["name"] == name)


def _cirrus_user(client, tenant, name: str) -> int:
    return send_ok(client, tenant, "POST", "/users/", {
        "name": name, "surname": "Sælger", "email": f"{name.lower()}@example.com", "cellphone": "", "title": "Sales",
        "roles": [],
    })["id"]


def _call_party(client, tenant) -> tuple[dict, dict]:
    account = new_account(client, tenant, name="Fjord Fisk ApS", phone="+45 70 11 22 33")
    contact = send_ok(client, tenant, "POST", "/contacts/", {
        "name": "Ann", "surname": "Berg", "accountid": account["id"], "cellphone": "+45 20 30 40 50",
    })
    return account, contact


def test_a_microbizz_call_is_a_cirrus_call_activity(client, tenant):
    mb = MB(client, tenant)
    account, contact = _call_party(client, tenant)
    seller = _cirrus_user(client, tenant, "Bo")
    made = mb.call("CreateCall", userid=seller, call={
        "id": 0, "phonenumber": "+45 20 30 40 50", "incoming": 0, "calldate": "2026-03-02", "calltime": "10:15",
        "duration": 20, "customerid": account["id"], "personid": contact["id"], "title": "Follow up the offer",
    })["call"]
    activity = get_ok(client, tenant, f"/activities/{made['id']}")
    assert activity["type"] == {"id": _activity_type(client, tenant, "Call"), "name": "Call"}
    assert (activity["accountid"], activity["account"]["id"]) == (account["id"], account["id"])
    assert activity["primarycontact"]["id"] == contact["id"]
    assert (activity["userid"], [u["id"] for u in activity["user"]]) == (seller, [seller])
    assert (activity["description"], activity["closed"]) == ("Follow up the offer", 0)
    # Microbizz times are Copenhagen local time (CET in March); Cirrus date-times are UTC.
    assert (activity["date"], activity["start"], activity["starttime"]) == ("2026-03-02", "2026-03-02T09:15:00Z", "09:15")
    # The planned 20 minutes are the activity's length.
    assert (activity["stop"], activity["stoptime"]) == ("2026-03-02T09:35:00Z", "09:35")
    # It is the seller's pending call, not the caller's.
    assert made["id"] not in [c["id"] for c in mb.call("GetMyPendingCalls")["calls"]]
    assert [a["id"] for a in get_ok(client, tenant, "/activities/", userid=seller, closed=0)["items"]] == [made["id"]]

    # Ending it through Microbizz closes the Cirrus activity and sets its end.
    mb.call("EndCall", callid=made["id"], duration=12)
    activity = get_ok(client, tenant, f"/activities/{made['id']}")
    assert (activity["closed"], activity["stop"], activity["stoptime"]) == (1, "2026-03-02T09:27:00Z", "09:27")
    assert get_ok(client, tenant, "/activities/", userid=seller, closed=0)["total"] == 0


def test_a_microbizz_call_note_is_readable_through_cirrus(client, tenant):
    mb = MB(client, tenant)
    account, _ = _call_party(client, tenant)
    made = mb.call("CreateCall", call={"id": 0, "phonenumber": "+45 70 11 22 33", "customerid": account["id"],
                                       "calldate": "2026-03-02", "calltime": "10:15", "title": "Call back"})["call"]
    mb.call("EndCall", callid=made["id"], duration=3, note="Wants the offer by Friday")
    activity = get_ok(client, tenant, f"/activities/{made['id']}")
    assert (activity["description"], activity["result"]) == ("Call back", "Wants the offer by Friday")


def test_a_registered_microbizz_call_is_a_closed_cirrus_call_of_the_matching_contact(client, tenant):
    mb = MB(client, tenant)
    account, contact = _call_party(client, tenant)
    mb.call("RegisterCall", phonenumber="+45 20 30 40 50", incoming=1, calldate="2026-07-01", calltime="14:00",
            duration=3)
    mb.call("RegisterCall", phonenumber="+45 70 11 22 33", incoming=0, calldate="2026-07-01", calltime="15:30")
    page = get_ok(client, tenant, "/activities/", accountid=account["id"], sorting="date_asc")
    first, second = page["items"]
    assert [a["type"]["name"] for a in page["items"]] == ["Call", "Call"]
    assert [a["closed"] for a in page["items"]] == [1, 1]
    assert [a["userid"] for a in page["items"]] == [tenant["user_id"]] * 2
    # The contact's number links the contact too; the account's number only the account.
    assert (first["primarycontact"]["id"], second["primarycontact"]) == (contact["id"], None)
    # 14:00 in Copenhagen summer time is 12:00 UTC; three minutes long.
    assert (first["date"], first["start"], first["stop"]) == ("2026-07-01", "2026-07-01T12:00:00Z", "2026-07-01T12:03:00Z")
    assert (second["start"], second["stop"]) == ("2026-07-01T13:30:00Z", None)
    assert mb.call("GetMyPendingCalls")["calls"] == []


def test_a_cirrus_call_activity_is_a_pending_microbizz_call_until_closed(client, tenant):
    mb = MB(client, tenant)
    account, contact = _call_party(client, tenant)
    seller = _cirrus_user(client, tenant, "Bo")
    call_type, meeting = _activity_type(client, tenant, "Call"), _activity_type(client, tenant, "Meeting")

    def activity(**fields):
        return send_ok(client, tenant, "POST", "/activities/", {
            "type": {"id": call_type}, "userid": tenant["user_id"], "accountid": account["id"],
            "primarycontact": {"id": contact["id"]}, "description": "Call about the renewal", "location": "",
            "result": "", "date": "2026-04-07", "starttime": "08:30", "stoptime": "08:50", "closed": 0, **fields,
        })

    planned = activity()
    activity(type={"id": meeting}, description="A meeting is no call")
    activity(closed=1, description="A done call is not pending")
    activity(userid=seller, description="Another user's call")
    calls = mb.call("GetMyPendingCalls")["calls"]
    assert [c["id"] for c in calls] == [planned["id"]]
    (call,) = calls
    assert (call["customerid"], call["customertext"]) == (account["id"], "Fjord Fisk ApS")
    assert (call["personid"], call["persontext"]) == (contact["id"], "Ann Berg")
    assert (call["userid"], call["title"], call["ended"]) == (tenant["user_id"], "Call about the renewal", 0)
    # 08:30 UTC is 10:30 in Copenhagen summer time; 20 minutes long.
    assert (call["calldate"], call["calltime"], call["duration"]) == ("2026-04-07", "10:30:00", 20)

    # Closing it through Cirrus ends the pending call.
    send_ok(client, tenant, "PUT", f"/activities/{planned['id']}", {"closed": 1})
    assert mb.call("GetMyPendingCalls")["calls"] == []
    # Reopening it makes it pending again, and EndCall closes it for Cirrus.
    send_ok(client, tenant, "PUT", f"/activities/{planned['id']}", {"closed": 0})
    assert [c["id"] for c in mb.call("GetMyPendingCalls")["calls"]] == [planned["id"]]
    mb.call("EndCall", callid=planned["id"], duration=45)
    ended = get_ok(client, tenant, f"/activities/{planned['id']}")
    assert (ended["closed"], ended["start"], ended["stop"]) == (1, "2026-04-07T08:30:00Z", "2026-04-07T09:15:00Z")
    assert mb.call("GetMyPendingCalls")["calls"] == []
    # A meeting is not a call: EndCall does not reach it.
    meeting_id = get_ok(client, tenant, "/activities/", typeid=meeting)["items"][0]["id"]
    assert mb.fail("EndCall", callid=meeting_id) == f"Call {meeting_id} not found"
    assert get_ok(client, tenant, f"/activities/{meeting_id}")["closed"] == 0


def test_a_call_planned_through_cirrus_has_its_partys_number_in_microbizz(client, tenant):
    mb = MB(client, tenant)
    account, contact = _call_party(client, tenant)  # account phone +45 70 11 22 33, contact mobile +45 20 30 40 50
    office = send_ok(client, tenant, "POST", "/contacts/", {"name": "Bo", "surname": "Berg", "accountid": account["id"],
                                                          "officephone": "+45 70 11 22 44", "cellphone": "+45 21"})
    silent = new_account(client, tenant, name="Beta")
    call_type = _activity_type(client, tenant, "Call")

    def plan(description: str, account_id: int, contact_id: int | None = None) -> int:
        return send_ok(client, tenant, "POST", "/activities/", {  # contact id 0: none
            "type": {"id": call_type}, "userid": tenant["user_id"], "accountid": account_id,
            "primarycontact": {"id": contact_id or 0}, "description": description, "location": "", "result": "",
            "date": "2026-04-07", "starttime": "08:30", "closed": 0,
        })["id"]

    to_contact = plan("Ring Ann", account["id"], contact["id"])
    to_office = plan("Ring Bo", account["id"], office["id"])
    to_account = plan("Ring the switchboard", account["id"])
    to_nobody = plan("No number known", silent["id"])
    numbers = {c["id"]: c["phonenumber"] for c in mb.call("GetMyPendingCalls")["calls"]}
    # The contact's phone, else its mobile, else the account's phone.
    assert numbers == {to_contact: "+45 20 30 40 50", to_office: "+45 70 11 22 44", to_account: "+45 70 11 22 33",
                       to_nobody: ""}
    # A number the call has of its own wins.
    made = mb.call("CreateCall", call={"phonenumber": "+45 99 88 77 66", "customerid": account["id"],
                                       "personid": contact["id"], "title": "Own number"})["call"]
    assert made["phonenumber"] == "+45 99 88 77 66"


# -- quotes = sales contracts, beyond tests/cirrus/test_quotes.py ------------------------------
def test_quote_rows_and_changes_travel_both_ways(client, tenant):
    mb = MB(client, tenant)
    account, contact = _call_party(client, tenant)
    article = send_ok(client, tenant, "POST", "/articles/", {"name": "Hammer", "number": "H-1", "price": 120,
                                                           "description": "Claw hammer", "vat": 25})
    statuses = {s["name"]: s["id"] for s in get_ok(client, tenant, "/quotes/statuses")["items"]}

    def first(path):
        return {"id": get_ok(client, tenant, path)["items"][0]["id"]}

    quote = send_ok(client, tenant, "POST", "/quotes/", {
        "placedate": "2026-04-01", "validtodate": "2026-04-30", "status": {"id": statuses["Sent"]},
        "account": {"id": account["id"]}, "contact": {"id": contact["id"]}, "user": {"id": tenant["user_id"]},
        "deliveryterm": first("/deliveryterms/"), "paymentterm": first("/paymentterms/"),
        "deliverytype": first("/deliverytypes/"),
        "rows": [{"article": {"id": article["id"]}, "quantity": 3, "discountpercent": 10},
                 {"specification": "Labour", "quantity": 2, "price": 500}],
    })
    assert quote["price"] == 1324.0  # 3 x 120 less 10 % + 2 x 500

    def contract():
        found = mb.call("GetSalesContractsByLastChange")["salescontracts"]
        return next(c for c in found if c["id"] == quote["id"])

    def lines():
        found = mb.call("GetSalesContractLinesByLastChange")["lines"]
        return [(ln["id"], ln["productid"], ln["productnumber"], ln["title"], ln["count"], ln["price"], ln["discount"])
                for ln in found if ln["contractid"] == quote["id"]]

    got = contract()
    assert (got["customerid"], got["personid"], got["userid"]) == (account["id"], contact["id"], tenant["user_id"])
    assert (got["statetext"], got["validtodate"], got["price"]) == ("Sent", "2026-04-30", 1324)
    hammer, labour = (r["id"] for r in quote["rows"])
    assert lines() == [(hammer, article["id"], "H-1", "Hammer", 3, 120, 10), (labour, 0, "", "Labour", 2, 500, 0)]

    # Cirrus changes the status, the validity and a row: Microbizz sees them.
    send_ok(client, tenant, "PUT", f"/quotes/{quote['id']}", {
        "status": {"id": statuses["Accepted"]}, "validtodate": "2026-05-15",
        "rows": [{"id": hammer, "quantity": 5}, {"id": labour}],
    })
    got = contract()
    assert (got["statetext"], got["stateid"], got["validtodate"]) == ("Accepted", statuses["Accepted"], "2026-05-15")
    assert lines()[0][4] == 5 and got["price"] == 5 * 120 * 0.9 + 1000

    # Microbizz changes a line and the state: Cirrus sees them.
    mb.call("CreateUpdateSalesContractLine", line={"id": labour, "count": 1, "price": 450})
    mb.call("CreateUpdateSalesContract", salescontract={"id": quote["id"], "statetext": "Rejected",
                                                        "validtodate": "2026-06-01"})
    read = get_ok(client, tenant, f"/quotes/{quote['id']}")
    assert (read["status"]["name"], read["validtodate"]) == ("Rejected", "2026-06-01")
    assert [(r["id"], r["quantity"], r["price"], r["totalprice"]) for r in read["rows"]] == [
        (hammer, 5.0, 120.0, 540.0), (labour, 1.0, 450.0, 450.0)]
    assert read["price"] == 990.0
    assert contract()["price"] == 990
