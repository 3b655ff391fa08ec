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
from gonogo.core.pipeline.rules import Bound, Checklist, Rule, Severity
from gonogo.core.pipeline.verdict import Verdict
from gonogo.core.pipeline.verdict_history import verdict_on
from gonogo.core.portfolio.rows import VERDICT_ORDER, Row, RuleRef

OUTCOMES = ("won", "lost", "withdrawn", "no-bid")
NO_OUTCOME = "none"  # closed without an outcome in the field
DECIDED = ("won", "lost")
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
    outcome: str  # one of OUTCOMES, or NO_OUTCOME
    verdict: Verdict
    score: int | None
    source: VerdictSource
    rules: tuple[RuleRef, ...]
    values: Mapping[str, float]
    decision: DecisionRecord | None = None  # the bid decision recorded on the ticket


@dataclass(frozen=True)
class WinRate:
    """Decided bids (won + lost), how many were won, and the rate when the sample allows one."""

    decided: int
    won: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.won / self.decided) if self.decided >= MIN_BIDS else None


@dataclass(frozen=True)
class OutcomeRow:
    """One line of a breakdown: a verdict, a score band or a rule, with its outcome counts."""

    counts: Mapping[str, int]  # every outcome in OUTCOMES, then NO_OUTCOME
    rate: WinRate

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class VerdictOutcomes(OutcomeRow):
    verdict: Verdict


@dataclass(frozen=True)
class BandOutcomes(OutcomeRow):
    low: int
    high: int


@dataclass(frozen=True)
class RuleOutcomes(OutcomeRow):
    """Bids with this rule failed or waived: how they ended."""

    ref: str
    title: str
    problem: str  # the failure as the rule words it
    severity: Severity


@dataclass(frozen=True)
class Suggestion:
    """The team's results contradict a threshold: what they show and the value that would fit them."""

    threshold: str
    current: float
    suggested: float
    property: str
    direction: str  # "below" (no win below `edge`) or "above" (no win above `edge`)
    edge: float  # the lowest (or highest) value a bid was won at
    bids: int  # decided bids beyond the edge, every one lost


@dataclass(frozen=True)
class OutcomeSummary:
    bids: tuple[ClosedBid, ...]
    overall: WinRate
    by_verdict: tuple[VerdictOutcomes, ...]
    by_band: tuple[BandOutcomes, ...]
    by_rule: tuple[RuleOutcomes, ...]
    suggestions: tuple[Suggestion, ...]

    @property
    def from_history(self) -> int:
        return sum(1 for bid in self.bids if bid.source is VerdictSource.HISTORY)

    @property
    def assessed(self) -> int:
        return sum(1 for bid in self.bids if bid.source is VerdictSource.ASSESSED)


def closed_bid(row: Row) -> ClosedBid | None:
    """A closed row with the verdict it had before it closed (history, else assessed); None if unassessed."""
    if row.verdict is None:
        return None
    stored = row.history
    entry = verdict_on(stored, row.closed) if row.closed is not None else (stored[-1] if stored else None)
    if entry is None:
        entry_verdict, entry_score, source = row.verdict, row.score, VerdictSource.ASSESSED
    else:
        entry_verdict, entry_score, source = entry.verdict, entry.score, VerdictSource.HISTORY
    return ClosedBid(
        key=row.key,
        outcome=row.outcome if row.outcome in OUTCOMES else NO_OUTCOME,
        verdict=entry_verdict,
        score=entry_score,
        source=source,
        rules=row.failed_rules,
        values=row.values,
        decision=row.decision,
    )


def outcome_summary(
    bids: Sequence[ClosedBid], *, checklists: Sequence[Checklist], thresholds: Mapping[str, float]
) -> OutcomeSummary:
    """Outcomes by verdict, win rate by score band and per failed or waived rule, and suggestions."""
    by_verdict = tuple(
        VerdictOutcomes(*tally(b for b in bids if b.verdict is verdict), verdict=verdict)
        for verdict in VERDICT_ORDER
    )
    bands = []
    for low in range(0, 100, BAND_WIDTH):
        high = low + BAND_WIDTH - 1 if low + BAND_WIDTH < 100 else 100
        inside = [b for b in bids if b.score is not None and low <= b.score <= high]
        bands.append(BandOutcomes(*tally(inside), low=low, high=high))
    rules = [
        RuleOutcomes(
            *tally(hit), ref=ref, title=rule.title, problem=rule.failed_label, severity=rule.severity
        )
        for ref, rule in _rules(checklists)
        if (hit := [b for b in bids if any(r.ref == ref for r in b.rules)])
    ]
    rules.sort(key=lambda r: (-r.rate.decided, -r.total, r.ref))
    return OutcomeSummary(
        bids=tuple(bids),
        overall=tally(bids)[1],
        by_verdict=by_verdict,
        by_band=tuple(bands),
        by_rule=tuple(rules),
        suggestions=suggestions(bids, _bounds(checklists), thresholds),
    )


def suggestions(
    bids: Sequence[ClosedBid], bounds: Sequence[Bound], thresholds: Mapping[str, float]
) -> tuple[Suggestion, ...]:
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
            if b.outcome in DECIDED and bound.property in b.values
        ]
        suggestion = _suggestion(bound, thresholds[bound.threshold], decided)
        if suggestion is not None:
            found.append(suggestion)
    return tuple(found)


def _suggestion(bound: Bound, current: float, decided: list[tuple[Any, str]]) -> Suggestion | None:
    wins = [value for value, outcome in decided if outcome == "won"]
    if not wins:
        return None
    if bound.keyword in ("minimum", "exclusiveMinimum"):
        edge = min(wins)
        beyond = [value for value, _ in decided if value < edge]
        if len(beyond) < MIN_BIDS or edge <= current:
            return None
        suggested = edge if bound.keyword == "minimum" else max(beyond)
        direction = "below"
    else:
        edge = max(wins)
        beyond = [value for value, _ in decided if value > edge]
        if len(beyond) < MIN_BIDS or edge >= current:
            return None
        suggested = edge if bound.keyword == "maximum" else min(beyond)
        direction = "above"
    return Suggestion(bound.threshold, current, suggested, bound.property, direction, edge, len(beyond))


def _rules(checklists: Sequence[Checklist]) -> list[tuple[str, Rule]]:
    return [(f"{checklist.id}/{rule.id}", rule) for checklist in checklists for rule in checklist.rules]


def _bounds(checklists: Sequence[Checklist]) -> list[Bound]:
    """Each (threshold, property, keyword) once, in checklist order."""
    return list(dict.fromkeys(bound for c in checklists for rule in c.rules for bound in rule.bounds))


def tally(bids: Iterable[ClosedBid]) -> tuple[dict[str, int], WinRate]:
    """Each outcome's count (every one of OUTCOMES, then NO_OUTCOME) and the win rate they give."""
    counted = Counter(bid.outcome for bid in bids)
    counts = {outcome: counted.get(outcome, 0) for outcome in (*OUTCOMES, NO_OUTCOME)}
    return counts, WinRate(decided=counts["won"] + counts["lost"], won=counts["won"])
