"""CSV import of customers in the browser: upload, mapping, preview, all or nothing."""

from __future__ import annotations

import re

from sqlalchemy import select

from polycrm.core.models import Customer, Record
from tests.web.test_pages import csrf_of, signed_in, web, workspace  # noqa: F401 (fixtures)

GOOD = "Company;Customer number;E-mail;City;Ignored\nHarbour Marine;K-1;info@harbour.test;Aarhus;x\nBoat Bits;K-2;;Odense;y\n"


def _upload(client, data: str, name: str = "customers.csv"):
    token = csrf_of(client.get("/import/customers"))
    return client.post("/import/customers", data={"csrf_token": token},
                       files={"file": (name, data.encode("utf-8"), "text/csv")})


def _mapping_of(html: str) -> dict[str, str]:
    chosen = {}
    for index, body in re.findall(r'<select id="map-(\d+)" name="map_\d+">(.*?)</select>', html, re.S):
        found = re.search(r'<option value="([^"]*)" selected', body)
        chosen[f"map_{index}"] = found.group(1) if found else ""
    return chosen


def _customers(runtime, tenant):
    with workspace(runtime, tenant) as ws:
        return sorted((c.name, c.number, (c.addresses or {}).get("visiting", {}).get("city"))
                      for c in ws.scalars(select(Customer).where(Customer.deleted.is_(False))))


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
    done = signed_in.post(f"{form_url}/run", data={"csrf_token": token, **mapping})
    assert done.status_code == 303
    assert "Imported 2 customers from customers.csv." in signed_in.get(done.headers["location"]).text
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
    assert "Error: customer number n-1 is already used by Good One" in preview.text  # case ignored, earlier row
    done = signed_in.post(f"{form_url}/run", data={"csrf_token": token, **mapping})
    assert done.status_code == 400 and "Nothing was imported" in done.text
    assert _customers(runtime, tenant) == before


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
    done = signed_in.post(f"{form_url}/run", data={"csrf_token": token, **mapping})
    assert "Imported 1 customer from customers.csv. Skipped 1 possible duplicate." in signed_in.get(
        done.headers["location"]).text
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
    for path in ("/import/customers/99999999999999999999", "/import/customers/424242"):
        assert signed_in.get(path).status_code == 404


def test_another_users_upload_is_not_found(signed_in, runtime, tenant):
    form_url = _upload(signed_in, GOOD).headers["location"]
    upload_id = int(form_url.rsplit("/", 1)[1])
    with workspace(runtime, tenant) as ws:
        record = ws.get(Record, upload_id)
        record.user_id = None
    assert signed_in.get(form_url).status_code == 404
