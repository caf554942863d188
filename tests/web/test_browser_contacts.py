"""CSV import of contacts (a bad row, a duplicate, the job's progress page and
summary) and bulk actions on the contact list, in real Chromium at 1366 px and
390 px (the set-up, screenshots and axe-core check of test_browser)."""

from __future__ import annotations

import pytest

from polycrm.core import contacts, csv_import, customers, import_jobs
from tests.web.test_browser import WIDTHS, Walk, axe_source, browser, server, sign_in  # noqa: F401 (fixtures)
from tests.web.test_pages import workspace

BAD = ("Name,E-mail,Customer number\n"
       "Anna Holm,ANNA@harbour.test,K-1\n"
       "Bo Berg,bo@harbour.test,k-1\n"
       "Carl Dahl,carl@example.test,K-9\n")


def _upload(page, walk, tmp_path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    walk.go("/import/contacts", "contacts-import-upload")
    page.locator("#f-file").set_input_files(str(path))
    with page.expect_navigation():
        page.get_by_role("button", name="Upload").click()


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_contact_import_and_bulk_actions_in_chromium(server, browser, axe_source, runtime, tenant, width_name,
                                                     tmp_path):
    with workspace(runtime, tenant) as ws:
        harbour = customers.create(ws, {"name": "Harbour Marine", "number": "K-1"})
        contacts.create(ws, {"name": "Anna", "surname": "Old", "email": "anna@harbour.test",
                             "customer_id": harbour.id})
        kind = csv_import.TARGETS["contacts"]
        waiting = csv_import.store_upload(ws, kind, tenant["user_id"], "waiting.csv", b"Name\nNo One\n")
        queued = import_jobs.start(ws, kind, tenant["user_id"], waiting, ["full_name"], False).id
    width, height = WIDTHS[width_name]
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True,
                                  accept_downloads=True)
    page = context.new_page()
    walk = Walk(page, server, width_name, axe_source)
    sign_in(page, server, tenant)

    # A file with a bad row (an unknown customer number) and a duplicate e-mail: nothing can be imported.
    walk.go("/contacts", "contacts-list")
    with page.expect_navigation():
        page.get_by_role("link", name="Import CSV").click()
    _upload(page, walk, tmp_path, "contacts.csv", BAD)
    assert [page.locator(f"#map-{i}").input_value() for i in range(3)] == ["full_name", "email", "customer.number"]
    walk.check("contacts-import-map")
    with page.expect_navigation():
        page.get_by_role("button", name="Preview").click()
    text = page.content()
    assert "3 rows, 1 with errors, 1 possible duplicates" in text
    assert "Error: no customer has the number K-9" in text
    assert "Possible duplicate: same e-mail as contact Anna Old" in text
    assert page.get_by_role("button", name="Import").count() == 0
    walk.check("contacts-import-preview-error")

    # The fixed file imports, the duplicate skipped; the job page follows its progress to the summary.
    _upload(page, walk, tmp_path, "contacts.csv", BAD.replace("K-9", ""))
    with page.expect_navigation():
        page.get_by_role("button", name="Preview").click()
    assert "0 with errors, 1 possible duplicates" in page.content()
    walk.check("contacts-import-preview")
    with page.expect_navigation():
        page.get_by_role("button", name="Import 3 rows").click()
    assert "/import/jobs/" in page.url
    page.get_by_role("heading", name="Done").wait_for(timeout=60_000)
    assert "Imported 2 contacts from contacts.csv. Skipped 1 possible duplicate." in page.locator(
        "#import-status").inner_text()
    walk.check("contacts-import-done")
    walk.go(f"/import/jobs/{queued}", "contacts-import-progress")
    assert page.locator("progress").count() == 1 and "Checked 0 of 1 rows." in page.locator(
        "#import-status").inner_text()

    # Bulk actions on the contact list, by keyboard: tag two, then delete one after the confirm page.
    walk.go("/contacts", "contacts-list-imported")
    for name in ("Bo Berg", "Carl Dahl"):
        box = page.get_by_label(f"Select {name}")
        box.focus()
        page.keyboard.press("Space")
        assert box.is_checked()
    page.get_by_label("Action").select_option("tag")
    page.get_by_label("Tag (for Add tag)").fill("Boat show")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    assert "Tag added to 2 of 2 contacts." in page.locator(".flash").inner_text()
    walk.check("contacts-bulk-tagged")
    page.get_by_label("Select Carl Dahl").check()
    page.get_by_label("Action").select_option("delete")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    assert page.get_by_role("heading", name="Delete 1 contact?").count() == 1
    walk.check("contacts-bulk-delete-confirm")
    with page.expect_navigation():
        page.get_by_role("button", name="Delete 1 contact").click()
    assert "1 contact deleted." in page.locator(".flash").inner_text()
    assert page.get_by_label("Select Carl Dahl").count() == 0 and page.get_by_label("Select Bo Berg").count() == 1
    walk.check("contacts-bulk-deleted")
    context.close()
    assert walk.problems == []
