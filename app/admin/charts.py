"""Figures drawn by the server as SVG coordinates: nothing is loaded in the browser."""

from dataclasses import dataclass
from typing import Any

#: Side of the square reliability plot, in SVG units, and its margin.
PLOT_SIZE, PLOT_MARGIN = 200, 24


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    radius: float
    label: str


def reliability_points(bins: list[dict[str, Any]]) -> list[Point]:
    """One point per non-empty bin: mean score across, share that held the category up.

    The area of a point grows with the number of reports in its bin.
    """
    filled = [b for b in bins if b["count"]]
    largest = max((b["count"] for b in filled), default=1)
    return [
        Point(x=PLOT_MARGIN + b["mean_score"] * PLOT_SIZE,
              y=PLOT_MARGIN + (1 - b["positive_rate"]) * PLOT_SIZE,
              radius=round(2 + 6 * (b["count"] / largest) ** 0.5, 2),
              label=f"{b['mean_score']:.2f} → {b['positive_rate']:.2f} (n={b['count']})")
        for b in filled
    ]
