"""CSV import in the browser (customers and contacts): upload, mapping, preview,
the import job and its progress, all or nothing."""

from __future__ import annotations

import re
import time

from sqlalchemy import select, update

from polycrm.core import csv_import, customers, import_jobs
from polycrm.core.models import Contact, Customer, Record
from tests.web.test_pages import csrf_of, signed_in, web, workspace  # noqa: F401 (fixtures)

GOOD = "Company;Customer number;E-mail;City;Ignored\nHarbour Marine;K-1;info@harbour.test;Aarhus;x\nBoat Bits;K-2;;Odense;y\n"


def _upload(client, data: str, name: str = "customers.csv", kind: str = "customers"):
    token = csrf_of(client.get(f"/import/{kind}"))
    return client.post(f"/import/{kind}", data={"csrf_token": token},
                       files={"file": (name, data.encode("utf-8"), "text/csv")})


def _mapping_of(html: str) -> dict[str, str]:
    chosen = {}
    for index, body in re.findall(r'<select id="map-(\d+)" name="map_\d+">(.*?)</select>', html, re.S):
        found = re.search(r'<option value="([^"]*)" selected', body)
        chosen[f"map_{index}"] = found.group(1) if found else ""
    return chosen


def finish(client, job_url: str) -> dict:
    """Poll the job's progress endpoint until the job has finished (it runs in a thread)."""
    for _ in range(2000):
        progress = client.get(job_url + "/progress")
        assert progress.status_code == 200 and progress.headers["content-type"].startswith("application/json")
        state = progress.json()
        if state["finished"]:
            return state
        time.sleep(0.02)
    raise AssertionError(f"the import {job_url} did not finish: {state}")


def _run(client, form_url: str, token: str, mapping: dict, **more) -> tuple[str, dict]:
    started = client.post(f"{form_url}/run", data={"csrf_token": token, **mapping, **more})
    assert started.status_code == 303 and started.headers["location"].startswith("/import/jobs/")
    job_url = started.headers["location"]
    return job_url, finish(client, job_url)


def _customers(runtime, tenant):
    with workspace(runtime, tenant) as ws:
        return sorted((c.name, c.number, (c.addresses or {}).get("visiting", {}).get("city"))
                      for c in ws.scalars(select(Customer).where(Customer.deleted.is_(False))))


def _contacts(runtime, tenant):
    with workspace(runtime, tenant) as ws:
        return sorted((c.name, c.surname, c.email, c.customer_id)
                      for c in ws.scalars(select(Contact).where(Contact.deleted.is_(False))))


def test_a_good_file_is_mapped_by_its_headers_previewed_and_imported(signed_in, runtime, tenant):
    before = _customers(runtime, tenant)
    uploaded = _upload(signed_in, GOOD)
    assert uploaded.status_code == 303
    form_url = uploaded.headers["location"]
    page = signed_in.get(form_url)
    mapping = _mapping_of(page.text)
    assert mapping == {"map_0": "name", "map_1": "number", "map_2": "email", "map_3": "addresses.visiting.city",
                       "map_4": ""}
    token = csrf_of(page)
    preview = signed_in.post(f"{form_url}/preview", data={"csrf_token": token, **mapping})
    assert preview.status_code == 200 and "2 rows, 0 with errors, 0 possible duplicates" in preview.text
    assert _customers(runtime, tenant) == before  # the preview writes nothing
    job_url, state = _run(signed_in, form_url, token, mapping)
    assert state["state"] == "done" and state["checked"] == state["total"] == 2 and state["imported"] == 2
    page = signed_in.get(job_url)
    assert "Imported 2 customers from customers.csv." in page.text and 'http-equiv="refresh"' not in page.text
    assert sorted(set(_customers(runtime, tenant)) - set(before)) == [
        ("Boat Bits", "K-2", "Odense"), ("Harbour Marine", "K-1", "Aarhus")]
    # The upload is gone once imported.
    assert signed_in.get(form_url).status_code == 404


def test_a_file_with_one_bad_row_imports_nothing_and_names_the_row(signed_in, runtime, tenant):
    before = _customers(runtime, tenant)
    uploaded = _upload(signed_in, "Name,Number\nGood One,N-1\n,N-2\nGood Two,n-1\n")
    form_url = uploaded.headers["location"]
    token = csrf_of(signed_in.get(form_url))
    mapping = {"map_0": "name", "map_1": "number"}
    preview = signed_in.post(f"{form_url}/preview", data={"csrf_token": token, **mapping})
    assert "3 rows, 2 with errors" in preview.text
    assert "Error: name must not be empty" in preview.text
    # case ignored, an earlier row of the file
    assert "Error: customer number n-1 is already used by Good One on line 2" in preview.text
    job_url, state = _run(signed_in, form_url, token, mapping)
    assert state["state"] == "failed" and state["error_count"] == 2 and state["imported"] == 0
    page = signed_in.get(job_url)
    assert "Nothing was imported: 2 rows have errors." in page.text and "name must not be empty" in page.text
    assert _customers(runtime, tenant) == before
    assert signed_in.get(form_url).status_code == 200  # the upload stays, for another mapping


def test_duplicates_by_number_and_email_are_flagged(signed_in, runtime, tenant):
    with workspace(runtime, tenant) as ws:
        ws.create(Customer, name="Old Harbour", number="K-1", email="INFO@harbour.test")
    form_url = _upload(signed_in, GOOD).headers["location"]
    token = csrf_of(signed_in.get(form_url))
    mapping = {"map_0": "name", "map_1": "number", "map_2": "email", "map_3": "", "map_4": ""}
    preview = signed_in.post(f"{form_url}/preview", data={"csrf_token": token, **mapping})
    assert "Error: customer number K-1 is already used by Old Harbour" in preview.text
    assert "Possible duplicate: same e-mail as customer Old Harbour" in preview.text
    mapping["map_1"] = ""
    preview = signed_in.post(f"{form_url}/preview", data={"csrf_token": token, **mapping})
    assert "0 with errors, 1 possible duplicates" in preview.text
    job_url, state = _run(signed_in, form_url, token, mapping)
    assert "Imported 1 customer from customers.csv. Skipped 1 possible duplicate." in signed_in.get(job_url).text
    names = [n for n, _, _ in _customers(runtime, tenant)]
    assert "Boat Bits" in names and "Harbour Marine" not in names


def test_bad_uploads_and_mappings_are_refused(signed_in, runtime, tenant):
    assert "Choose a CSV file" in signed_in.post("/import/customers", data={
        "csrf_token": csrf_of(signed_in.get("/import/customers"))}, files={"file": ("", b"", "text/csv")}).text
    response = _upload(signed_in, "Name\n")
    assert response.status_code == 400 and "The file cannot be imported: the file has a header row but no rows." in response.text
    form_url = _upload(signed_in, GOOD).headers["location"]
    token = csrf_of(signed_in.get(form_url))
    response = signed_in.post(f"{form_url}/preview", data={"csrf_token": token, "map_0": "email", "map_2": "email"})
    assert response.status_code == 400 and "E-mail is chosen for more than one column." in response.text
    response = signed_in.post(f"{form_url}/preview", data={"csrf_token": token, "map_1": "number"})
    assert response.status_code == 400 and "Choose the column that holds the name." in response.text
    response = signed_in.post(f"{form_url}/run", data={"csrf_token": token, "map_1": "number"})
    assert response.status_code == 400 and "Choose the column that holds the name." in response.text
    for path in ("/import/customers/99999999999999999999", "/import/customers/424242", "/import/jobs/424242",
                 "/import/jobs/99999999999999999999/progress", "/import/orders"):
        assert signed_in.get(path).status_code == 404
    # An upload for customers is not one for contacts.
    assert signed_in.get(form_url.replace("/customers/", "/contacts/")).status_code == 404


def test_another_users_upload_and_job_are_not_found(signed_in, runtime, tenant):
    form_url = _upload(signed_in, GOOD).headers["location"]
    token = csrf_of(signed_in.get(form_url))
    job_url, _ = _run(signed_in, form_url, token, {"map_0": "name", "map_1": "number"})
    form_url = _upload(signed_in, GOOD).headers["location"]
    upload_id = int(form_url.rsplit("/", 1)[1])
    with workspace(runtime, tenant) as ws:
        ws.get(Record, upload_id).user_id = None
        ws.get(Record, int(job_url.rsplit("/", 1)[1])).user_id = None
    assert signed_in.get(form_url).status_code == 404
    assert signed_in.get(job_url).status_code == 404 and signed_in.get(job_url + "/progress").status_code == 404


# -- contacts ------------------------------------------------------------------------------


def _two_customers(runtime, tenant):
    with workspace(runtime, tenant) as ws:
        harbour = customers.create(ws, {"name": "Harbour Marine", "number": "K-1"}).id
        boat = customers.create(ws, {"name": "Boat Bits", "number": "K-2"}).id
        ws.create(Contact, name="Old", surname="Friend", email="ANNA@harbour.test", customer_id=harbour)
    return harbour, boat


CONTACTS = ("Name,E-mail,Job title,Customer number\n"
            "Anna Holm,anna@harbour.test,Skipper,K-1\n"
            "Bo Berg,bo@boat.test,Buyer,k-2\n"
            "Carl Dahl,carl@nowhere.test,,K-9\n"
            "Bo Again,BO@boat.test,,K-2\n")


def test_contacts_are_mapped_checked_and_imported_with_their_customers(signed_in, runtime, tenant):
    harbour, boat = _two_customers(runtime, tenant)
    before = _contacts(runtime, tenant)
    uploaded = _upload(signed_in, CONTACTS, "contacts.csv", kind="contacts")
    form_url = uploaded.headers["location"]
    assert form_url.startswith("/import/contacts/")
    page = signed_in.get(form_url)
    mapping = _mapping_of(page.text)
    assert mapping == {"map_0": "full_name", "map_1": "email", "map_2": "jobtitle", "map_3": "customer.number"}
    assert "Contact field" in page.text
    token = csrf_of(page)
    preview = signed_in.post(f"{form_url}/preview", data={"csrf_token": token, **mapping})
    assert "4 rows, 1 with errors, 2 possible duplicates" in preview.text
    assert "Error: no customer has the number K-9" in preview.text
    assert "Possible duplicate: same e-mail as contact Old Friend" in preview.text
    assert "Possible duplicate: same e-mail as line 3" in preview.text
    job_url, state = _run(signed_in, form_url, token, mapping)
    assert state["state"] == "failed" and _contacts(runtime, tenant) == before

    # Without the bad row: the duplicates are skipped unless asked for.
    fixed = CONTACTS.replace("Carl Dahl,carl@nowhere.test,,K-9\n", "Carl Dahl,carl@nowhere.test,,\n")
    form_url = _upload(signed_in, fixed, "contacts.csv", kind="contacts").headers["location"]
    job_url, state = _run(signed_in, form_url, token, mapping)
    assert state["state"] == "done" and (state["imported"], state["skipped"]) == (2, 2)
    assert "Imported 2 contacts from contacts.csv. Skipped 2 possible duplicates." in signed_in.get(job_url).text
    assert sorted(set(_contacts(runtime, tenant)) - set(before)) == [
        ("Bo", "Berg", "bo@boat.test", boat), ("Carl", "Dahl", "carl@nowhere.test", None)]
    with workspace(runtime, tenant) as ws:
        bo = ws.first(select(Contact).where(Contact.email == "bo@boat.test"))
        assert bo.jobtitle == "Buyer" and bo.profile_id == tenant["profile_id"]


def test_contacts_with_their_duplicates_and_by_customer_name(signed_in, runtime, tenant):
    harbour, boat = _two_customers(runtime, tenant)
    data = "First name;Last name;Email;Company\nAnna;Holm;anna@harbour.test;harbour marine\nEve;;eve@x.test;Nobody Inc\n"
    form_url = _upload(signed_in, data, "people.csv", kind="contacts").headers["location"]
    page = signed_in.get(form_url)
    mapping = _mapping_of(page.text)
    assert mapping == {"map_0": "name", "map_1": "surname", "map_2": "email", "map_3": "customer.name"}
    token = csrf_of(page)
    preview = signed_in.post(f"{form_url}/preview", data={"csrf_token": token, **mapping})
    assert "Error: no customer is named Nobody Inc" in preview.text
    mapping["map_3"] = ""
    response = signed_in.post(f"{form_url}/preview", data={"csrf_token": token, "map_2": "email"})
    assert response.status_code == 400 and "Choose the column that holds the first name or the full name." in response.text
    mapping["map_3"] = "customer.name"
    data = data.replace("Nobody Inc", "Boat Bits")
    form_url = _upload(signed_in, data, "people.csv", kind="contacts").headers["location"]
    job_url, state = _run(signed_in, form_url, token, mapping, include_duplicates="1")
    assert (state["state"], state["imported"], state["skipped"]) == ("done", 2, 0)
    found = [(n, s, c) for n, s, _, c in _contacts(runtime, tenant)]
    assert ("Anna", "Holm", harbour) in found and ("Eve", "", boat) in found


def test_an_import_that_meets_changed_data_writes_nothing(runtime, tenant):
    """The write step checks every rule again: a number taken since the check fails the whole job."""
    kind = csv_import.TARGETS["customers"]
    with workspace(runtime, tenant) as ws:
        upload = csv_import.store_upload(ws, kind, tenant["user_id"], "late.csv", b"Name,Number\nA,L-1\nB,L-2\n")
        job = import_jobs.start(ws, kind, tenant["user_id"], upload, ["name", "number"], False)
        job_id = job.id
    opened = []

    def open_ws():
        # Workspaces: the claim, one per part checked, the "writing" note, then the write:
        # someone takes L-2 after the check, just before the write.
        opened.append(1)
        if len(opened) == 4:
            with workspace(runtime, tenant) as other:
                customers.create(other, {"name": "Quick", "number": "L-2"})
        return workspace(runtime, tenant)

    import_jobs.run(open_ws, job_id)
    with workspace(runtime, tenant) as ws:
        state = import_jobs.status(ws, tenant["user_id"], job_id)
        names = [c.name for c in ws.scalars(select(Customer).where(Customer.deleted.is_(False)))]
    assert state.state == "failed" and "line 3" in state.message and "L-2" in state.message
    assert "A" not in names and "Quick" in names


def test_an_unfinished_job_page_refreshes_itself_and_a_stale_one_can_run_again(signed_in, runtime, tenant):
    kind = csv_import.TARGETS["contacts"]
    with workspace(runtime, tenant) as ws:
        upload = csv_import.store_upload(ws, kind, tenant["user_id"], "slow.csv", b"Name\nAnna Holm\n")
        job_id = import_jobs.start(ws, kind, tenant["user_id"], upload, ["full_name"], False).id
        assert import_jobs.start(ws, kind, tenant["user_id"], upload, ["full_name"], False).id == job_id
    page = signed_in.get(f"/import/jobs/{job_id}")
    assert page.status_code == 200 and "Waiting to start" in page.text and "Checked 0 of 1 rows." in page.text
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page.text
    assert '<script src="/static/import.js"></script>' in page.text
    assert signed_in.get(f"/import/jobs/{job_id}/progress").json()["state"] == "queued"
    with workspace(runtime, tenant) as ws:  # its process stopped long ago
        long_ago = ws.get(Record, job_id).changed_at - import_jobs.STALE_AFTER * 2
        ws.session.execute(update(Record).where(Record.id == job_id).values(changed_at=long_ago))
    page = signed_in.get(f"/import/jobs/{job_id}")
    assert "The import stopped" in page.text and "Nothing was imported." in page.text
    assert "refresh" not in page.text and "Run the import again" in page.text
    again = signed_in.post(f"/import/contacts/{upload.record.id}/run",
                           data={"csrf_token": csrf_of(page), "map_0": "full_name"})
    job_url = again.headers["location"]
    assert job_url != f"/import/jobs/{job_id}" and finish(signed_in, job_url)["state"] == "done"
    assert ("Anna", "Holm") in [(n, s) for n, s, _, _ in _contacts(runtime, tenant)]
