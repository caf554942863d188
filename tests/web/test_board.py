"""The opportunity board, and the opportunity detail and edit pages."""

from __future__ import annotations

from decimal import Decimal

from polycrm.core import history, lookups, opportunities
from polycrm.core.models import Opportunity
from tests.web.test_broken_cases import form_as_shown
from tests.web.test_pages import csrf_of, post_form, signed_in, web, workspace  # noqa: F401 (fixtures)

HUGE = "99999999999999999999"


def _two_stages(runtime, tenant):
    with workspace(runtime, tenant) as ws:
        stages = lookups.items(ws, "stage")
        first, second = stages[0], stages[1]
        a = opportunities.create(ws, {"title": "Fleet deal", "value": Decimal("1000000"), "stage_id": first.id})
        b = opportunities.create(ws, {"title": "Boat deal", "value": Decimal("2500.5"), "stage_id": first.id})
        opportunities.create(ws, {"title": "Won deal", "value": Decimal(7), "stage_id": first.id, "status": "won"})
        return first, second, a.id, b.id


def stage_section(html: str, name: str) -> str:
    start = html.index(f">{name}</h2>")
    end = html.find('<section class="stage"', start)
    return html[start:end if end > 0 else None]


def test_the_board_shows_open_opportunities_by_stage_with_totals(signed_in, runtime, tenant):
    first, second, a, b = _two_stages(runtime, tenant)
    page = signed_in.get("/opportunities/board").text
    column = stage_section(page, first.name)
    assert "Fleet deal" in column and "Boat deal" in column and "Won deal" not in column
    assert '<span class="count">2</span> open · <span class="total">1,002,500.50 DKK</span>' in column
    assert '<script src="/static/board.js"></script>' in page
    assert signed_in.get("/static/board.js").status_code == 200


def test_moving_a_card_by_its_keyboard_form_changes_the_stage_and_the_totals(signed_in, runtime, tenant):
    first, second, a, b = _two_stages(runtime, tenant)
    response = post_form(signed_in, "/opportunities/board", {"stage": str(second.id)},
                         action=f"/opportunities/{a}/stage")
    assert response.status_code == 303 and response.headers["location"] == "/opportunities/board"
    page = signed_in.get("/opportunities/board").text
    assert f"“Fleet deal” moved to {second.name}." in page
    assert "Fleet deal" in stage_section(page, second.name)
    assert '<span class="total">2,500.50 DKK</span>' in stage_section(page, first.name)
    with workspace(runtime, tenant) as ws:
        assert ws.get(Opportunity, a).stage_id == second.id
        assert any(c.field == "stage_id" and c.source == "web" for c in history.of_record(ws, Opportunity, a))


def test_a_move_to_an_unknown_stage_or_of_an_unknown_card_is_refused(signed_in, runtime, tenant):
    first, second, a, b = _two_stages(runtime, tenant)
    response = post_form(signed_in, "/opportunities/board", {"stage": HUGE}, action=f"/opportunities/{a}/stage")
    assert response.status_code == 400 and "The chosen stage does not exist" in response.text
    response = post_form(signed_in, "/opportunities/board", {"stage": str(second.id)},
                         action=f"/opportunities/{HUGE}/stage")
    assert response.status_code == 404
    with workspace(runtime, tenant) as ws:
        assert ws.get(Opportunity, a).stage_id == first.id


def test_opportunity_detail_and_edit(signed_in, runtime, tenant):
    first, second, a, b = _two_stages(runtime, tenant)
    page = signed_in.get(f"/opportunities/{a}").text
    assert "<h1>Fleet deal" in page and "1,000,000.00 DKK" in page and 'id="timeline-h"' in page
    values = form_as_shown(signed_in, f"/opportunities/{a}/edit")
    response = signed_in.post(f"/opportunities/{a}/edit", data=values)
    assert "No changes." in signed_in.get(response.headers["location"]).text
    values.update(value="1.250.000,00", status="won")
    response = signed_in.post(f"/opportunities/{a}/edit", data=values)
    assert response.status_code == 303
    page = signed_in.get(f"/opportunities/{a}").text
    assert "Changes saved." in page and "1,250,000.00 DKK" in page and "<del>1000000</del>" in page
    values.update(status="sleeping", title="")
    response = signed_in.post(f"/opportunities/{a}/edit", data=values)
    assert response.status_code == 400
    assert "Title is required." in response.text and "Choose a status from the list." in response.text
    assert signed_in.get(f"/opportunities/{HUGE}").status_code == 404
    assert signed_in.get(f"/opportunities/{HUGE}/edit").status_code == 404


def test_deleting_an_opportunity_asks_first_then_marks_it_deleted(signed_in, runtime, tenant):
    first, second, a, b = _two_stages(runtime, tenant)
    from polycrm.core import customers

    with workspace(runtime, tenant) as ws:
        customer_id = customers.create(ws, {"name": "Fleet owner"}).id
        opportunities.update(ws, ws.get(Opportunity, a), {"customer_id": customer_id})
    assert f'href="/opportunities/{a}/delete"' in signed_in.get(f"/opportunities/{a}").text
    confirm = signed_in.get(f"/opportunities/{a}/delete")
    assert confirm.status_code == 200 and "will be deleted" in confirm.text and "Fleet deal" in confirm.text
    with workspace(runtime, tenant) as ws:
        assert not ws.get(Opportunity, a).deleted
    response = post_form(signed_in, f"/opportunities/{a}/delete", {})
    assert response.status_code == 303 and response.headers["location"] == f"/customers/{customer_id}"
    assert "Opportunity Fleet deal deleted." in signed_in.get(response.headers["location"]).text
    with workspace(runtime, tenant) as ws:
        assert ws.get(Opportunity, a).deleted
        assert ("deleted", "no", "yes") in {(c.field, c.old_value, c.new_value)
                                                for c in history.of_record(ws, Opportunity, a)}
    assert signed_in.get(f"/opportunities/{a}").status_code == 404
    assert "Fleet deal" not in stage_section(signed_in.get("/opportunities/board").text, first.name)
    # Without a customer it goes back to the list; a wrong id or a missing CSRF token deletes nothing.
    assert signed_in.get(f"/opportunities/{HUGE}/delete").status_code == 404
    assert post_form(signed_in, f"/opportunities/{b}", {}, action=f"/opportunities/{HUGE}/delete").status_code == 404
    assert signed_in.post(f"/opportunities/{b}/delete", data={}).status_code == 403
    response = post_form(signed_in, f"/opportunities/{b}/delete", {})
    assert response.headers["location"] == "/opportunities"
