"""Geometry of the HTML report's charts, in whole pixels: the template only draws it. The section
charts are built from the section data of `gonogo.core.portfolio.sections`, so the picture and the
JSON cannot disagree."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from gonogo.core.pipeline.verdict import WORST_FIRST
from gonogo.core.portfolio.rows import Portfolio, score_bands
from gonogo.core.portfolio.sections import OUTCOMES

MAX_BARS = 10  # a chart shows the ten biggest; the table under it lists them all
ROW_HEIGHT = 34  # a title line, then a 14-pixel bar under it
BAR_HEIGHT = 14
LABEL_WIDTH = 150  # left of the verdict and outcome bars
VERDICT_ROW = 28


def verdict_chart(portfolio: Portfolio, *, bar_span: int = 300) -> dict[str, Any]:
    """Horizontal bars, one per verdict (and one for unchecked tickets when there are any)."""
    totals = portfolio.totals
    counts = [(v.value, v.label, totals.by_verdict.get(v, 0)) for v in WORST_FIRST]
    if totals.unchecked:
        counts.append(("error", "Could not check", totals.unchecked))
    biggest = max(count for _, _, count in counts) or 1
    bars = [
        {
            "kind": kind,
            "label": label,
            "count": count,
            "percent": round(100 * count / totals.tickets) if totals.tickets else 0,
            "y": index * VERDICT_ROW,
            "width": round(bar_span * count / biggest),
        }
        for index, (kind, label, count) in enumerate(counts)
    ]
    width = LABEL_WIDTH + bar_span + 90
    return {"bars": bars, "label_width": LABEL_WIDTH, "width": width, "height": VERDICT_ROW * len(bars)}


def score_chart(portfolio: Portfolio, *, plot_height: int = 170) -> dict[str, Any]:
    """A histogram of bid scores in 10-point buckets, each bar stacked by verdict (worst at the bottom)."""
    scores = [(r.score, r.verdict) for r in portfolio.rows if r.verdict is not None and r.score is not None]
    buckets = [
        (low, high, Counter(verdict for score, verdict in scores if low <= score <= high))
        for low, high in score_bands(10)
    ]
    tallest = max(counts.total() for *_, counts in buckets)
    left, top, bar_width, gap = 28, 18, 34, 8
    base = top + plot_height
    columns = []
    for index, (low, high, counts) in enumerate(buckets):
        y, stacked, segments = base, 0, []
        for verdict in (v for v in WORST_FIRST if counts[v]):
            # whole pixels, from cumulative counts: segments meet without a blended seam or a gap
            stacked += counts[verdict]
            top_y = base - round(plot_height * stacked / (tallest or 1))
            segment = {"kind": verdict.value, "label": verdict.label, "count": counts[verdict]}
            segments.append({**segment, "y": top_y, "height": y - top_y})
            y = top_y
        x = left + gap + index * (bar_width + gap)
        columns.append(
            {"low": low, "high": high, "count": counts.total(), "x": x, "top": y, "segments": segments}
        )
    return {
        "columns": columns,
        "tallest": tallest,
        "left": left,
        "top": top,
        "base": base,
        "bar_width": bar_width,
        "width": left + gap + len(buckets) * (bar_width + gap),
        "height": base + 20,
    }


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
    bars = []
    for index, row in enumerate(rows):
        x, segments, stacked = LABEL_WIDTH, [], 0
        for kind in (kind for kind in OUTCOMES if row["counts"][kind]):
            stacked += row["counts"][kind]
            end = LABEL_WIDTH + round(bar_span * stacked / biggest)  # cumulative: no seams
            segments.append({"kind": kind, "count": row["counts"][kind], "x": x, "width": end - x})
            x = end
        bars.append({**row, "y": index * VERDICT_ROW, "segments": segments, "end": x})
    width = LABEL_WIDTH + bar_span + 170
    return {"bars": bars, "label_width": LABEL_WIDTH, "width": width, "height": VERDICT_ROW * len(bars)}


def band_columns(rows: Sequence[dict[str, Any]], *, plot_height: int = 120) -> dict[str, Any]:
    """Win rate per score band as columns (0-100 %); a band with too few decided bids has none."""
    left, top, width, gap = 34, 16, 56, 14
    base = top + plot_height
    columns = []
    for index, row in enumerate(rows):
        height = 0 if row["win_rate"] is None else round(plot_height * row["win_rate"] / 100)
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


def section_charts(sections: dict[str, Any]) -> dict[str, Any]:
    """Every section chart the HTML page draws (the outcome ones only with --outcomes)."""
    failures, outcomes = sections["failures"], sections["outcomes"]
    return {
        "failure_chart": bar_list(
            # Labelled as the failure reads ("No funded budget"), not the rule's aim.
            [(r["rule"], r["problem"], r["severity"], r["count"], r["share"]) for r in failures["rules"]]
        ),
        "missing_chart": bar_list(
            [(m["property"], m["label"], "missing", m["count"], m["share"]) for m in failures["missing"]]
        ),
        "outcome_chart": outcome_bars(outcomes["by_verdict"]) if outcomes else None,
        "band_chart": band_columns(outcomes["by_band"]) if outcomes else None,
    }
