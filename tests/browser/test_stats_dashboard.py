"""Acceptance in Chromium: the operator opens the statistics dashboard; every chart renders (a canvas
drawn by the locally bundled echarts) with non-empty series equal to the figures table; a click on a bar
drills down to the applications behind it."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "admin"))
from stats_data import seed_statistics  # noqa: E402

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FIGURES = ["by_district", "by_period", "by_type", "by_channel", "processing_hours", "sla_breaches", "certificates",
           "shares"]


def test_the_dashboard_draws_every_chart_with_data(page: Any, sign_in: Any, db: Any) -> None:
    seed_statistics(db)
    sign_in(page, "ops", next_path="/admin/stats")
    page.wait_for_function("() => window.statsCharts && Object.keys(window.statsCharts).length === 8")
    for figure in FIGURES:
        assert page.locator(f"#chart-{figure} canvas").count() >= 1, figure
    series = page.evaluate("""() => Object.fromEntries(Object.entries(window.statsCharts).map(([k, c]) =>
        [k, c.getOption().series.map(s => s.data.map(d => (typeof d === 'object' ? d.value : d)))]))""")
    for figure in FIGURES:
        assert series[figure] and all(len(s) > 0 for s in series[figure]), figure
    assert sorted(series["by_district"][0]) == [3, 4] and sum(series["by_channel"][0]) == 7
    assert series["by_period"][0] == [2, 5]
    # The canvas is really painted: some pixels of the district chart are not background.
    painted = page.evaluate("""() => { const c = document.querySelector('#chart-by_district canvas');
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++; return n; }""")
    assert painted > 1000
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "stats-dashboard.png"), full_page=True)

    # Drill down: a click on the first bar of the channel chart (机构申请) opens its applications.
    page.locator("#chart-by_channel").scroll_into_view_if_needed()
    box = page.locator("#chart-by_channel canvas").bounding_box()
    point = page.evaluate("""() => { const c = window.statsCharts.by_channel;
        return c.convertToPixel({seriesIndex: 0}, [0, 1]); }""")
    with page.expect_navigation():
        page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    assert "/admin/stats/cases" in page.url and "channel=institution" in page.url
    assert page.locator("#case-count").inner_text() == "2"
