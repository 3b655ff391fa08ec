"""Geometry of the HTML report's section charts: rules failing most, missing information, outcomes.

The template only draws what is computed here (positions and sizes in whole pixels), as for the
verdict and score charts in `gonogo.render.portfolio_formats`. Every chart is built from the section data of
`gonogo.core.portfolio.sections`, so the picture and the JSON cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gonogo.core.portfolio.sections import failures_section, outcomes_section

if TYPE_CHECKING:
    from gonogo.core.portfolio.rows import Portfolio

MAX_BARS = 10  # a chart shows the ten biggest; the table under it lists them all
ROW_HEIGHT = 34  # a title line, then a 14-pixel bar under it
BAR_HEIGHT = 14
OUTCOME_KINDS = ("won", "lost", "withdrawn", "no-bid", "none")


def bar_list(items: Sequence[tuple[str, str, str, int, int]], *, bar_span: int = 300) -> dict[str, Any]:
    """Horizontal bars, one per (id, label, kind, count, share), longest first as given."""
    shown = list(items[:MAX_BARS])
    biggest = max((count for *_, count, _ in shown), default=0) or 1
    bars = [
        {
            "id": ident,
            "label": label,
            "kind": kind,
            "count": count,
            "share": share,
            "y": index * ROW_HEIGHT,
            "width": max(1, round(bar_span * count / biggest)),
        }
        for index, (ident, label, kind, count, share) in enumerate(shown)
    ]
    return {
        "bars": bars,
        "bar_height": BAR_HEIGHT,
        "width": bar_span + 110,
        "height": ROW_HEIGHT * len(bars),
        "hidden": len(items) - len(shown),
        "total": len(items),
    }


def outcome_bars(rows: Sequence[dict[str, Any]], *, bar_span: int = 300) -> dict[str, Any]:
    """One stacked bar per verdict: its closed bids split by outcome, scaled to the biggest verdict."""
    biggest = max((row["total"] for row in rows), default=0) or 1
    label_width = 150
    bars = []
    for index, row in enumerate(rows):
        x, segments, stacked = label_width, [], 0
        for kind in OUTCOME_KINDS:
            count = row["counts"][kind]
            if not count:
                continue
            stacked += count
            end = label_width + round(bar_span * stacked / biggest)  # cumulative: no seams
            segments.append({"kind": kind, "count": count, "x": x, "width": end - x})
            x = end
        bars.append({**row, "y": index * 28, "segments": segments, "end": x})
    return {
        "bars": bars,
        "label_width": label_width,
        "width": label_width + bar_span + 170,
        "height": 28 * len(bars),
    }


def band_columns(rows: Sequence[dict[str, Any]], *, plot_height: int = 120) -> dict[str, Any]:
    """Win rate per score band as columns (0-100 %); a band with too few decided bids has none."""
    left, top, width, gap = 34, 16, 56, 14
    base = top + plot_height
    columns = []
    for index, row in enumerate(rows):
        rate = row["win_rate"]
        height = 0 if rate is None else round(plot_height * rate / 100)
        columns.append({**row, "x": left + gap + index * (width + gap), "y": base - height, "height": height})
    return {
        "columns": columns,
        "bar_width": width,
        "left": left,
        "top": top,
        "base": base,
        "width": left + gap + len(rows) * (width + gap),
        "height": base + 34,
    }


def section_charts(portfolio: Portfolio) -> dict[str, Any]:
    """Every section chart the HTML page draws (the outcome ones only with --outcomes)."""
    failures = failures_section(portfolio)
    charts: dict[str, Any] = {
        "failure_chart": bar_list(
            # Labelled as the failure reads ("No funded budget"), not the rule's aim.
            [(r["rule"], r["problem"], r["severity"], r["count"], r["share"]) for r in failures["rules"]]
        ),
        "missing_chart": bar_list(
            [(m["property"], m["label"], "missing", m["count"], m["share"]) for m in failures["missing"]]
        ),
        "outcome_chart": None,
        "band_chart": None,
    }
    outcomes = outcomes_section(portfolio)
    if outcomes is not None:
        charts["outcome_chart"] = outcome_bars(outcomes["by_verdict"])
        charts["band_chart"] = band_columns(outcomes["by_band"])
    return charts
