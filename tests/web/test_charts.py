"""Dashboard charts: server-side SVG of the pipeline, won/lost by month, activities per week."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from polycrm.core import browse, lookups, opportunities
from polycrm.core.models import Activity
from polycrm.web.charts import bars
from tests.web.test_pages import signed_in, web, workspace  # noqa: F401 (fixtures)


def test_the_dashboard_draws_three_charts_from_the_data(signed_in, runtime, tenant):
    today = dt.date.today()
    with workspace(runtime, tenant) as ws:
        stage = lookups.items(ws, "stage")[0]
        opportunities.create(ws, {"title": "Open <b>one</b>", "value": Decimal("12500"), "stage_id": stage.id})
        opportunities.create(ws, {"title": "Won", "value": Decimal(1), "status": "won"})
        opportunities.create(ws, {"title": "Lost", "value": Decimal(1), "status": "lost"})
        ws.create(Activity, description="This week", date=today)
        ws.create(Activity, description="Long ago", date=today - dt.timedelta(days=400))
        data = browse.dashboard_charts(ws, today)
    assert (stage.name, Decimal("12500"), 1) in data.pipeline
    assert data.won_lost[-1] == (today.strftime("%Y-%m"), 1, 1) and len(data.won_lost) == 6
    assert data.activities[-1][1] == 1 and sum(n for _, n in data.activities) == 1 and len(data.activities) == 8
    page = signed_in.get("/").text
    assert page.count('<svg class="chart"') == 3 and 'role="img"' in page
    assert "12,500.00 DKK (1)" in page
    assert "<b>one</b>" not in page


def test_labels_are_escaped_and_an_empty_chart_draws():
    svg = str(bars("T <x>", [("<script>", [Decimal(0)], ["0"])]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and svg.startswith("<svg")
    assert str(bars("Empty", [])).endswith("</svg>")


def test_a_long_value_of_the_longest_bar_is_written_inside_it():
    from decimal import Decimal

    from polycrm.web import charts

    svg = str(charts.bars("Pipeline", [("Prospecting", [Decimal("125900")], ["125,900.00 DKK (2)"]),
                                       ("Closing", [Decimal("900")], ["900.00 DKK (1)"])]))
    inside = '<text x="376.0" y="21.0" font-size="12" text-anchor="end" fill="#fff">125,900.00 DKK (2)</text>'
    assert inside in svg  # the longest bar ends at 120 + 260: its value would run past 490
    assert 'text-anchor="end" fill="#fff">900.00' not in svg  # a short bar keeps its value after it
