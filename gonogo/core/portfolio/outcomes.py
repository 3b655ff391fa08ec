"""How verdicts fared: closed bids, the verdict each had before it closed, and how it ended.

A win rate is won ÷ (won + lost), given only from MIN_BIDS decided bids, so a small sample is never
dressed up as evidence. Where results contradict a threshold a suggestion says so; nothing changes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gonogo.core.pipeline.decisions import DecisionRecord
from gonogo.core.pipeline.rules import Bound, Checklist
from gonogo.core.pipeline.verdict import WORST_FIRST, Verdict
from gonogo.core.pipeline.verdict_history import verdict_on
from gonogo.core.portfolio.rows import Row, RuleRef, score_bands

OUTCOMES = ("won", "lost", "withdrawn", "no-bid", "none")  # "none": closed without an outcome in the field
MIN_BIDS = 5
BAND_WIDTH = 20  # score bands 0-19, 20-39, ..., 80-100


class VerdictSource(StrEnum):
    """Where a closed bid's verdict comes from."""

    HISTORY = "history"  # the last verdict gonogo recorded before the ticket closed
    ASSESSED = "assessed"  # no history: a fresh assessment of the ticket's final fields


@dataclass(frozen=True)
class ClosedBid:
    """A closed ticket with the verdict it had before closing and how the bid ended."""

    key: str
    outcome: str  # one of OUTCOMES
    verdict: Verdict
    score: int | None
    source: VerdictSource
    rules: tuple[RuleRef, ...]
    values: Mapping[str, float]
    decision: DecisionRecord | None = None  # the bid decision recorded on the ticket


def closed_bids(rows: Iterable[Row]) -> list[ClosedBid]:
    """The assessed rows with the verdict each had before it closed: from history, else as assessed."""
    bids = []
    for row in rows:
        if row.verdict is None:
            continue
        stored = row.history
        entry = verdict_on(stored, row.closed) if row.closed is not None else (stored[-1] if stored else None)
        verdict, score, source = (
            (row.verdict, row.score, VerdictSource.ASSESSED)
            if entry is None
            else (entry.verdict, entry.score, VerdictSource.HISTORY)
        )
        outcome = row.outcome if row.outcome in OUTCOMES else "none"
        bids.append(
            ClosedBid(row.key, outcome, verdict, score, source, row.failed_rules, row.values, row.decision)
        )
    return bids


def outcomes_section(
    bids: Sequence[ClosedBid], *, checklists: Sequence[Checklist], thresholds: Mapping[str, float]
) -> dict[str, Any]:
    """Outcomes by verdict, win rate by score band and per failed or waived rule, and suggestions."""
    bounds = dict.fromkeys(bound for c in checklists for rule in c.rules for bound in rule.bounds)
    return {
        "min_bids": MIN_BIDS,
        "closed": len(bids),
        "from_history": sum(b.source is VerdictSource.HISTORY for b in bids),
        "assessed": sum(b.source is VerdictSource.ASSESSED for b in bids),
        "overall": win_rate(Counter(b.outcome for b in bids)),
        "by_verdict": [{"verdict": v.value, **tally(b for b in bids if b.verdict is v)} for v in WORST_FIRST],
        "by_band": [
            {
                "low": low,
                "high": high,
                **tally(b for b in bids if b.score is not None and low <= b.score <= high),
            }
            for low, high in score_bands(BAND_WIDTH)
        ],
        "by_rule": _by_rule(bids, checklists),
        "suggestions": suggestions(bids, list(bounds), thresholds),
        "bids": [
            {
                "key": b.key,
                "outcome": b.outcome,
                "verdict": b.verdict.value,
                "score": b.score,
                "source": b.source.value,
            }
            for b in bids
        ],
    }


def _by_rule(bids: Sequence[ClosedBid], checklists: Sequence[Checklist]) -> list[dict[str, Any]]:
    """Each rule failed or waived on some closed bid, with how those bids ended: most decided first."""
    rules = [
        {
            "rule": ref,
            "title": rule.title,
            "problem": rule.failed_label,
            "severity": rule.severity.value,
            **tally(hit),
        }
        for ref, rule in ((f"{c.id}/{r.id}", r) for c in checklists for r in c.rules)
        if (hit := [b for b in bids if any(failed.ref == ref for failed in b.rules)])
    ]
    return sorted(rules, key=lambda r: (-r["decided"], -r["total"], r["rule"]))


def suggestions(
    bids: Sequence[ClosedBid], bounds: Sequence[Bound], thresholds: Mapping[str, float]
) -> list[dict[str, Any]]:
    """Thresholds the results contradict: at least MIN_BIDS decided bids past the last win, all lost.

    The suggestion is the value that would have failed exactly those.
    """
    found = []
    for bound in bounds:
        if bound.threshold not in thresholds:
            continue
        decided = [
            (b.values[bound.property], b.outcome)
            for b in bids
            if b.outcome in ("won", "lost") and bound.property in b.values
        ]
        suggestion = _suggestion(bound, thresholds[bound.threshold], decided)
        if suggestion is not None:
            found.append(suggestion)
    return found


def _suggestion(bound: Bound, current: float, decided: list[tuple[Any, str]]) -> dict[str, Any] | None:
    wins = [value for value, outcome in decided if outcome == "won"]
    if not wins:
        return None
    if bound.keyword in ("minimum", "exclusiveMinimum"):
        edge = min(wins)
        beyond = [value for value, _ in decided if value < edge]
        if len(beyond) < MIN_BIDS or edge <= current:
            return None
        suggested = edge if bound.keyword == "minimum" else max(beyond)
        direction = "below"  # no win below `edge`
    else:
        edge = max(wins)
        beyond = [value for value, _ in decided if value > edge]
        if len(beyond) < MIN_BIDS or edge >= current:
            return None
        suggested = edge if bound.keyword == "maximum" else min(beyond)
        direction = "above"
    return {
        "threshold": bound.threshold,
        "current": _number(current),
        "suggested": _number(suggested),
        "property": bound.property,
        "direction": direction,
        "edge": _number(edge),
        "bids": len(beyond),  # decided bids beyond the edge, every one lost
    }


def tally(bids: Iterable[ClosedBid]) -> dict[str, Any]:
    """Each outcome's count (every one of OUTCOMES), the total, and the win rate they give."""
    counted = Counter(bid.outcome for bid in bids)
    counts = {outcome: counted[outcome] for outcome in OUTCOMES}
    return {"counts": counts, "total": sum(counts.values()), **win_rate(counted)}


def win_rate(outcomes: Counter[str]) -> dict[str, Any]:
    """Decided bids (won + lost) and wins always; the rate (percent) only from MIN_BIDS decided bids."""
    decided = outcomes["won"] + outcomes["lost"]
    rate = round(100 * outcomes["won"] / decided) if decided >= MIN_BIDS else None
    return {"decided": decided, "won": outcomes["won"], "win_rate": rate}


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value
