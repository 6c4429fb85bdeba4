"""Charts drawn by the server as inline SVG: numbers in, geometry ready to draw out.

Nothing is loaded in the browser and the templates do no arithmetic: they print the
coordinates, lengths and path strings given here. Lengths are in SVG user units,
rounded to a tenth; y grows downwards, as in SVG.
"""

from dataclasses import dataclass
from math import ceil
from typing import Any

#: Size of a sparkline, and the room left around its line.
SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 96, 20, 2
#: Size of a line or bar chart, and the margins around its plot (room for the axes).
CHART_WIDTH, CHART_HEIGHT = 640, 220
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 40, 8, 12, 28
#: About this many labels are written under a chart's plot, the last one always.
AXIS_LABELS = 6
#: Share of a label's width that its group of bars fills.
BAR_GROUP = 0.8
#: Side of the square reliability plot, in SVG units, and its margin.
PLOT_SIZE, PLOT_MARGIN = 200, 24
#: The heat map's fills, palest first: a cell gets shade 0 (no reports) to HEAT_SHADES - 1
#: (the most). vaka.css paints `.heat-N` with HEAT_FILLS[N] (tests/test_charts.py checks).
HEAT_FILLS = ("#ffffff", "#fdecea", "#f9c9c4", "#f2a097", "#c4382f", "#9e1b14")
HEAT_SHADES = len(HEAT_FILLS)
#: The two inks a cell's count may be written in, by CSS class.
INKS = {"ink-dark": "#1b1f24", "ink-light": "#ffffff"}
#: WCAG's contrast for normal text (level AA).
TEXT_CONTRAST = 4.5


def _tenth(value: float) -> float:
    return round(value, 1)


def _polyline(points: list[tuple[float, float]]) -> str:
    """SVG polyline points: "x,y x,y …", a tenth of a unit each."""
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


@dataclass(frozen=True)
class Sparkline:
    """A word-sized line of counts, oldest first, as tall as the largest count."""

    width: int
    height: int
    points: str
    #: The counts themselves, for the accessible name.
    values: list[int]


def sparkline(values: list[int], width: int = SPARK_WIDTH,
              height: int = SPARK_HEIGHT) -> Sparkline:
    """The line of `values`; all zeros lie on the bottom, one value stands at the left."""
    top = max([1, *values])
    step = (width - 2 * SPARK_PAD) / max(len(values) - 1, 1)
    return Sparkline(width=width, height=height, values=list(values), points=_polyline(
        [(SPARK_PAD + i * step, height - SPARK_PAD - v / top * (height - 2 * SPARK_PAD))
         for i, v in enumerate(values)]))


@dataclass(frozen=True)
class GridLine:
    """A line across the plot at a round value, written at its left end."""

    x1: float
    x2: float
    y: float
    text_x: float
    text_y: float
    value: int


@dataclass(frozen=True)
class Tick:
    """A label written under the plot, centred on its place."""

    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    #: The full label of its place (a day, a week) and its count, for its title.
    label: str
    value: int


@dataclass(frozen=True)
class Series:
    """One series, drawn with the CSS class "series-<key>": a polyline or its bars."""

    key: str
    points: str
    bars: list[Bar]


@dataclass(frozen=True)
class Row:
    """A row of the table that lists a chart's numbers: a label and a count per series."""

    label: str
    values: list[int]


@dataclass(frozen=True)
class Chart:
    #: "line" or "bars".
    kind: str
    width: int
    height: int
    grid: list[GridLine]
    ticks: list[Tick]
    series: list[Series]
    rows: list[Row]


def line_chart(series: dict[str, list[int]], labels: list[str],
               ticks: list[str] | None = None) -> Chart:
    """Lines of several series over the same labels (one value per label and series).

    `ticks` are shorter labels for the axis; the table of numbers keeps `labels`.
    """
    return _chart("line", series, labels, ticks)


def bar_chart(series: dict[str, list[int]], labels: list[str],
              ticks: list[str] | None = None) -> Chart:
    """Grouped bars of several series over the same labels, side by side at each label."""
    return _chart("bars", series, labels, ticks)


def _chart(kind: str, series: dict[str, list[int]], labels: list[str],
           ticks: list[str] | None) -> Chart:
    plot_width = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    bottom = CHART_TOP + plot_height
    top_value = max([1, *(v for values in series.values() for v in values)])
    step = plot_width / max(len(labels), 1)
    bar_width = step * BAR_GROUP / max(len(series), 1)

    def height(value: int) -> float:
        return value / top_value * plot_height

    def shape(index: int, key: str, values: list[int]) -> Series:
        if kind == "line":
            return Series(key=key, bars=[], points=_polyline(
                [(CHART_LEFT + (i + 0.5) * step, bottom - height(v))
                 for i, v in enumerate(values)]))
        left = CHART_LEFT + step * (1 - BAR_GROUP) / 2 + index * bar_width
        return Series(key=key, points="", bars=[
            Bar(x=_tenth(left + i * step), y=_tenth(bottom - height(v)), width=_tenth(bar_width),
                height=_tenth(height(v)), label=labels[i], value=v)
            for i, v in enumerate(values)])

    return Chart(
        kind=kind, width=CHART_WIDTH, height=CHART_HEIGHT,
        grid=[_grid_line(bottom - share * plot_height, round(share * top_value))
              for share in (0, 0.5, 1)],
        ticks=_axis_ticks(ticks or labels, step),
        series=[shape(index, key, values) for index, (key, values) in enumerate(series.items())],
        rows=[Row(label=label, values=[values[i] for values in series.values()])
              for i, label in enumerate(labels)],
    )


def _grid_line(y: float, value: int) -> GridLine:
    return GridLine(x1=CHART_LEFT, x2=CHART_WIDTH - CHART_RIGHT, y=_tenth(y),
                    text_x=CHART_LEFT - 4, text_y=_tenth(y + 4), value=value)


def _axis_ticks(texts: list[str], step: float) -> list[Tick]:
    """Every n-th label, counted back from the last one so that it is always written."""
    every = max(ceil(len(texts) / AXIS_LABELS), 1)
    return [Tick(x=_tenth(CHART_LEFT + (i + 0.5) * step), y=CHART_HEIGHT - 8, text=text)
            for i, text in enumerate(texts) if (len(texts) - 1 - i) % every == 0]


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    radius: float
    label: str


@dataclass(frozen=True)
class ReliabilityPlot:
    """Mean score across, share that held the category up, in a square with its diagonal."""

    #: Width and height of the whole figure.
    side: int
    #: Where the square starts (on both axes), its side and where it ends.
    margin: int
    size: int
    end: int
    #: Where the axis labels "0" and "1" are written.
    label_y: int
    one_x: int
    points: list[Point]


def reliability_plot(bins: list[dict[str, Any]]) -> ReliabilityPlot:
    """One point per non-empty bin; the area of a point grows with the reports in its bin."""
    filled = [b for b in bins if b["count"]]
    largest = max((b["count"] for b in filled), default=1)
    return ReliabilityPlot(
        side=PLOT_SIZE + 2 * PLOT_MARGIN, margin=PLOT_MARGIN, size=PLOT_SIZE,
        end=PLOT_MARGIN + PLOT_SIZE, label_y=2 * PLOT_MARGIN + PLOT_SIZE - 6,
        one_x=PLOT_MARGIN + PLOT_SIZE - 6,
        points=[Point(x=PLOT_MARGIN + b["mean_score"] * PLOT_SIZE,
                      y=PLOT_MARGIN + (1 - b["positive_rate"]) * PLOT_SIZE,
                      radius=round(2 + 6 * (b["count"] / largest) ** 0.5, 2),
                      label=f"{b['mean_score']:.2f} → {b['positive_rate']:.2f} (n={b['count']})")
                for b in filled],
    )


def reliability_plots(categories: dict[str, dict[str, Any]]) -> dict[str, ReliabilityPlot]:
    """The plot of each category of a model version's metrics that has reliability bins."""
    return {category: reliability_plot(figures["reliability"])
            for category, figures in categories.items() if "reliability" in figures}


def shade(count: int, highest: int) -> int:
    """0 for no reports, else 1 to HEAT_SHADES - 1 in proportion to the highest count."""
    if count <= 0 or highest <= 0:
        return 0
    return max(1, round(count / highest * (HEAT_SHADES - 1)))


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a "#rrggbb" colour."""
    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(colour[i:i + 2]) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two "#rrggbb" colours, 1 to 21."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def ink_for(fill: str) -> str:
    """The ink class whose colour contrasts most with `fill`; it must pass WCAG AA."""
    ink = max(INKS, key=lambda name: contrast(INKS[name], fill))
    if contrast(INKS[ink], fill) < TEXT_CONTRAST:
        raise ValueError(f"no ink is readable on {fill}")
    return ink


#: Shade -> the CSS classes of a heat map cell: its fill and the ink readable on it.
HEAT_CLASSES = {shade: f"heat-{shade} {ink_for(fill)}" for shade, fill in enumerate(HEAT_FILLS)}
