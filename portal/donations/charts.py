"""Bar charts drawn on the server as inline SVG (no chart library, nothing from another
origin). The numbers behind every chart are also on the page as a table and a sentence,
so a screen reader or a care-mode reader loses nothing."""

from dataclasses import dataclass

WIDTH, HEIGHT, TOP, BOTTOM = 320, 160, 8, 28


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int  # 0, 1, ... (a CSS class per series: colours that hold in care mode)
    label: str  # the exact figure, for the bar's <title>


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # (x, label) under each group
    baseline: float


def grouped_bars(groups: list[tuple[str, list[int]]], fmt) -> Chart:
    """One group of bars per (label, values); heights scaled to the largest value."""
    groups = groups[-12:]  # the last twelve months read on a phone
    peak = max((v for _, values in groups for v in values), default=0) or 1
    series = max((len(values) for _, values in groups), default=1)
    slot = (WIDTH - 8) / max(len(groups), 1)
    bar_w = max(2.0, (slot - 6) / series)
    usable = HEIGHT - TOP - BOTTOM
    bars, ticks = [], []
    for i, (label, values) in enumerate(groups):
        left = 4 + i * slot + 3
        for j, value in enumerate(values):
            h = round(usable * max(value, 0) / peak, 1)
            bars.append(
                Bar(
                    round(left + j * bar_w, 1),
                    round(HEIGHT - BOTTOM - h, 1),
                    round(bar_w - 1, 1),
                    h,
                    j,
                    fmt(value),
                )
            )
        ticks.append((round(left + (slot - 6) / 2, 1), label))
    return Chart(WIDTH, HEIGHT, bars, ticks, HEIGHT - BOTTOM)
