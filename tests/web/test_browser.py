"""The web pages in real Chromium (Playwright driving Debian's /usr/bin/chromium).

Walks the flows at 1366 px and 390 px: sign in, list sort and filter, board
drag and drop and its keyboard move, global search, the timeline after an API
change, the broken cases of issue 14 (unknown address, long word). Every page
visited is screenshotted under ``test-output/screenshots/`` and checked with
axe-core (installed from npm at set-up into ``.test-tools/``, never committed)
for serious or critical violations. Skipped only when Chromium is missing.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest

from polycrm.core import customers, lookups, opportunities
from tests.microbizz.helpers import MB
from tests.web.test_pages import workspace

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-output" / "screenshots"
TOOLS = REPO / ".test-tools"
AXE = TOOLS / "node_modules" / "axe-core" / "axe.min.js"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason=f"{CHROMIUM} is not installed (scripts/test installs it with apt-get)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core from npm, installed once into .test-tools (not committed)."""
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to install axe-core for the accessibility check")
        subprocess.run([npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(TOOLS),
                        "axe-core@4"], check=True, capture_output=True, timeout=300)
    return AXE.read_text()


@pytest.fixture
def server(app, backend):
    if backend != "sqlite":
        pytest.skip("one browser run is enough; it runs with the SQLite backend")
    import uvicorn

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


class Walk:
    """One signed-in browser tab at one width, checking each page it visits."""

    def __init__(self, page, base: str, width_name: str, axe: str):
        self.page, self.base, self.width_name, self.axe = page, base, width_name, axe
        self.problems: list[str] = []

    def go(self, path: str, name: str) -> None:
        self.page.goto(self.base + path)
        self.check(name)

    def check(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}-{self.width_name}.png"), full_page=True)
        sideways = self.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if sideways > 1:
            self.problems.append(f"{name} at {self.width_name} scrolls sideways by {sideways}px")
        self.page.add_script_tag(content=self.axe)
        found = self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
            ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))")
        self.problems.extend(f"{name} at {self.width_name}: axe {v}" for v in found)


def sign_in(page, base: str, tenant: dict) -> None:
    page.goto(base + "/signin")
    page.get_by_label("Tenant").fill(tenant["tenant"])
    page.get_by_label("User name or e-mail").fill(tenant["microbizz"]["username"])
    page.get_by_label("Password").fill(tenant["microbizz"]["password"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/")


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_the_flows_in_chromium(server, browser, axe_source, client, runtime, tenant, width_name):
    long_word = "W" * 255
    with workspace(runtime, tenant) as ws:
        partner = lookups.by_name(ws, "customer_type", "Partner", create=True).id
        stages = lookups.items(ws, "stage")
        for name, city in (("Alpha Handel", "Aarhus"), ("Beta Byg", "Odense"), ("Gamma Data", "Aalborg")):
            customers.create(ws, {"name": name, "type_id": partner if name.startswith("A") else None,
                                  "addresses": {"visiting": {"city": city}}, "phone": "+45 70 00 00 00",
                                  "user_id": tenant["user_id"]})
        wide = customers.create(ws, {"name": long_word, "addresses": {"visiting": {"city": "Vejle"}}}).id
        deal = opportunities.create(ws, {"title": "Fleet deal", "value": Decimal(125000), "stage_id": stages[0].id})
        other_deal = opportunities.create(ws, {"title": "Boat deal", "value": Decimal(900), "stage_id": stages[0].id})
    created = MB(client, tenant).call("CreateUpdateCustomerByID", customer={"id": 0, "name": "Api Kunde",
                                                                            "phone": "111"})["customer"]
    MB(client, tenant).call("CreateUpdateCustomerByID", customer={"id": created["id"], "phone": "222"})

    width, height = WIDTHS[width_name]
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    page = context.new_page()
    walk = Walk(page, server, width_name, axe_source)
    sign_in(page, server, tenant)
    walk.check("dashboard")

    # Lists: sort by a header, filter by a column.
    walk.go("/customers", "customers")
    if width_name == "desktop":  # the header links (hidden from sight on a phone, where cards replace the table)
        page.locator("thead").get_by_role("link", name="Name").click()
        page.wait_for_url("**sort=name")
        page.locator("thead").get_by_role("link", name="Name").click()
        page.wait_for_url("**sort=-name")
    else:
        page.goto(server + "/customers?sort=-name")
    names = page.locator('td[data-label="Name"] a').all_inner_texts()
    assert names[0] == long_word and names[-1] == "Alpha Handel"
    page.locator("#f-city").fill("aal")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url("**f_city=aal**")
    assert page.locator('td[data-label="Name"] a').all_inner_texts() == ["Gamma Data"]
    walk.check("customers-filtered")

    # The long word wraps: the detail and the list keep every column on screen.
    walk.go(f"/customers/{wide}", "customer-long-name")
    walk.go("/customers", "customers-long-name")
    if width_name == "desktop":
        box = page.locator("thead th").last.bounding_box()
        assert box["x"] + box["width"] <= width, "the Responsible column is pushed off screen"

    # Board: drag and drop, then the keyboard path.
    walk.go("/opportunities/board", "board")
    card = page.locator(f'.card[data-id="{deal.id}"]')
    target = page.locator(f'.stage[data-stage="{stages[1].id}"]')
    if width_name == "desktop":
        with page.expect_navigation():
            card.drag_to(target)
        assert f"“Fleet deal” moved to {stages[1].name}." in page.locator(".flash").inner_text()
    select = page.locator(f"#move-{other_deal.id}")
    select.focus()
    select.select_option(str(stages[2].id))
    page.keyboard.press("Tab")  # to the card's Move button
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"“Boat deal” moved to {stages[2].name}." in page.locator(".flash").inner_text()
    walk.check("board-moved")
    walk.go(f"/opportunities/{deal.id}", "opportunity")

    # Global search from the header box.
    page.locator("#global-q").fill("deal")
    page.locator("#global-q").press("Enter")
    page.wait_for_url("**/search?q=deal")
    assert "Fleet deal" in page.content() and "Boat deal" in page.content()
    walk.check("search")

    # The timeline after a change through the Microbizz API.
    walk.go(f"/customers/{created['id']}", "customer-timeline")
    timeline = page.locator(".timeline").inner_text()
    assert "through the Microbizz API" in timeline and "111" in timeline and "222" in timeline

    # An unknown address: the styled 404 with the menu.
    response = page.goto(server + "/quotes/newest")
    assert response.status == 404 and page.locator("nav[aria-label=Main]").count() == 1
    walk.check("not-found")
    context.close()
    assert walk.problems == []
