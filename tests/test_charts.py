"""The charts' geometry (app.charts), drawn as it is given by the templates.

A chart is 640 x 220 with a plot from x 40 to 632 and from y 12 (its top) to 192
(its bottom); a sparkline is 96 x 20 with its line between 2 and 94, 2 and 18.
"""

import re
from pathlib import Path

import pytest

from app.charts import (
    HEAT_CLASSES,
    HEAT_FILLS,
    INKS,
    Row,
    bar_chart,
    contrast,
    ink_for,
    line_chart,
    reliability_plot,
    reliability_plots,
    shade,
    sparkline,
)


def test_a_sparkline_rises_to_its_largest_count():
    line = sparkline([1, 4])
    assert line.points == "2.0,14.0 94.0,2.0"
    assert (line.width, line.height, line.values) == (96, 20, [1, 4])


def test_a_sparkline_of_zeros_lies_on_the_bottom():
    assert sparkline([0, 0, 0]).points == "2.0,18.0 48.0,18.0 94.0,18.0"


def test_a_sparkline_of_one_value_is_a_point_at_the_left():
    assert sparkline([5]).points == "2.0,2.0"


def test_a_sparkline_without_values_draws_nothing():
    line = sparkline([])
    assert (line.points, line.values) == ("", [])


def test_a_line_chart_scales_to_its_largest_value_and_lists_its_numbers():
    chart = line_chart({"safety": [1, 4], "other": [2, 0]}, ["2026-12-01", "2026-12-02"],
                       ticks=["12-01", "12-02"])
    assert chart.kind == "line" and (chart.width, chart.height) == (640, 220)
    assert [s.key for s in chart.series] == ["safety", "other"]
    # Two places of 296 units each, a point in the middle of each; 4 reaches the top.
    assert chart.series[0].points == "188.0,147.0 484.0,12.0"
    assert chart.series[1].points == "188.0,102.0 484.0,192.0"
    assert [(line.y, line.value) for line in chart.grid] == [(192, 0), (102, 2), (12, 4)]
    assert [(t.x, t.text) for t in chart.ticks] == [(188.0, "12-01"), (484.0, "12-02")]
    assert chart.rows == [Row("2026-12-01", [1, 2]), Row("2026-12-02", [4, 0])]


def test_grouped_bars_stand_side_by_side_and_the_largest_fills_the_plot():
    chart = bar_chart({"new": [2, 10], "finished": [5, 0]}, ["2026-W48", "2026-W49"])
    new, finished = chart.series
    assert chart.kind == "bars" and new.points == ""
    # Each group fills 80 % of its 296 units: two bars of 118.4, after a gap of 29.6.
    assert [(b.x, b.y, b.width, b.height) for b in new.bars] == [
        (69.6, 156.0, 118.4, 36.0), (365.6, 12.0, 118.4, 180.0)]
    assert [(b.x, b.y, b.height) for b in finished.bars] == [(188.0, 102.0, 90.0),
                                                            (484.0, 192.0, 0.0)]
    assert [(b.label, b.value) for b in new.bars] == [("2026-W48", 2), ("2026-W49", 10)]
    assert [line.value for line in chart.grid] == [0, 5, 10]


def test_a_chart_of_zeros_keeps_a_scale_of_one():
    chart = bar_chart({"new": [0, 0, 0]}, ["a", "b", "c"])
    assert all(b.height == 0 and b.y == 192 for b in chart.series[0].bars)
    assert [line.value for line in chart.grid] == [0, 0, 1]


def test_a_chart_of_one_value_puts_it_in_the_middle():
    chart = line_chart({"safety": [3]}, ["2026-12-03"])
    assert chart.series[0].points == "336.0,12.0"
    assert [(t.x, t.text) for t in chart.ticks] == [(336.0, "2026-12-03")]


@pytest.mark.parametrize("make", [line_chart, bar_chart])
def test_a_chart_without_values_draws_only_its_frame(make):
    chart = make({"safety": []}, [])
    assert (chart.series[0].points, chart.series[0].bars) == ("", [])
    assert chart.ticks == [] and chart.rows == []
    assert [line.y for line in chart.grid] == [192, 102, 12]
    assert make({}, []).series == []


def test_about_six_axis_labels_are_written_the_last_one_always():
    labels = [f"day {n}" for n in range(30)]
    ticks = line_chart({"safety": [0] * 30}, labels).ticks
    assert [t.text for t in ticks] == [f"day {n}" for n in (4, 9, 14, 19, 24, 29)]
    twelve = bar_chart({"new": [0] * 12}, [f"W{n}" for n in range(12)]).ticks
    assert [t.text for t in twelve] == [f"W{n}" for n in (1, 3, 5, 7, 9, 11)]
    assert all(t.y == 212 for t in ticks)


def bin_(count: int, mean_score: float = 0.0, positive_rate: float = 0.0) -> dict:
    return {"count": count, "mean_score": mean_score, "positive_rate": positive_rate}


def test_a_reliability_point_per_filled_bin_larger_with_more_reports():
    plot = reliability_plot([bin_(0), bin_(4, 0.25, 0.5), bin_(1, 1.0, 1.0)])
    assert [(p.x, p.y, p.radius) for p in plot.points] == [(74.0, 124.0, 8.0),
                                                          (224.0, 24.0, 5.0)]
    assert plot.points[0].label == "0.25 → 0.50 (n=4)"
    # The square runs from 24 to 224 inside a figure of 248; "1" is written at its end.
    assert (plot.side, plot.margin, plot.size, plot.end) == (248, 24, 200, 224)
    assert (plot.one_x, plot.label_y) == (218, 242)


def test_a_reliability_plot_of_empty_bins_has_no_points():
    assert reliability_plot([bin_(0), bin_(0)]).points == []
    assert reliability_plot([]).points == []


def test_only_categories_with_reliability_bins_get_a_plot():
    plots = reliability_plots({"safety": {"f1": 0.9, "reliability": [bin_(2, 0.5, 0.5)]},
                               "training": {"f1": 0.8}})
    assert list(plots) == ["safety"] and len(plots["safety"].points) == 1


def test_heat_shades_grow_with_the_count_and_any_report_shows():
    assert [shade(n, 10) for n in (0, 1, 5, 10)] == [0, 1, 2, 5]
    assert shade(1, 1000) == 1
    assert shade(3, 0) == 0


def test_contrast_is_wcag_s_ratio():
    assert contrast("#ffffff", "#000000") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#ffffff", "#ffffff") == 1


def test_every_heat_map_cell_is_written_in_an_ink_readable_on_its_fill():
    for shade_, fill in enumerate(HEAT_FILLS):
        ink = HEAT_CLASSES[shade_].split()[1]
        assert contrast(INKS[ink], fill) >= 4.5, (shade_, fill)
    assert HEAT_CLASSES[0] == "heat-0 ink-dark" and HEAT_CLASSES[5] == "heat-5 ink-light"
    # The fill of the darkest-but-one cells, where white text was unreadable.
    with pytest.raises(ValueError, match="no ink is readable on #d9544a"):
        ink_for("#d9544a")


def test_the_stylesheet_paints_the_fills_and_inks_the_charts_module_chose():
    css = (Path(__file__).resolve().parents[1] / "app/static/vaka.css").read_text()
    painted = dict(re.findall(r"^\.heat-(\d) \{ background: (#[0-9a-f]{6}); \}", css, re.M))
    assert painted == {str(i): fill for i, fill in enumerate(HEAT_FILLS)}
    inked = dict(re.findall(r"^table\.heat td\.(ink-\w+) \{ color: (#[0-9a-f]{6}); \}", css,
                            re.M))
    assert inked == INKS
