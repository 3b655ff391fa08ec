"""The pure parts of the teaching sections on hand-made rows: patterns, closed bids, suggestions."""

from __future__ import annotations

from collections import Counter
from datetime import date

from gonogo.core.pipeline.rules import Bound, Severity
from gonogo.core.pipeline.verdict import Verdict
from gonogo.core.pipeline.verdict_history import HistoryEntry
from gonogo.core.portfolio.rows import MissingRef, Row, RuleRef, build_portfolio
from gonogo.core.portfolio.sections import (
    ClosedBid,
    closed_bids,
    failures_section,
    suggestions,
    win_rate,
)

BUDGET = RuleRef("doomed/budget-exists", "The customer has a budget", Severity.BLOCKER)
MARGIN = RuleRef("commercial/margin-floor", "The margin meets our floor", Severity.MAJOR)


def row(key: str, *rules: RuleRef, verdict: Verdict | None = Verdict.GO, **extra: object) -> Row:
    return Row(
        key=key,
        ticket_id=None,
        summary=None,
        verdict=verdict,
        score=50,
        reason=None,
        failed_rules=rules,
        **extra,  # type: ignore[arg-type]
    )


def bid(outcome: str, value: float, prop: str = "competitors") -> ClosedBid:
    return ClosedBid(row("BID-1", outcome=outcome, values={prop: value}), Verdict.GO, 50, from_history=False)


def test_failing_rules_count_tickets_not_waivers_and_group_by_severity() -> None:
    waived = RuleRef(BUDGET.ref, BUDGET.title, BUDGET.severity, waived=True)
    rows = [
        row("BID-10", BUDGET, MARGIN),
        row("BID-2", MARGIN, missing=(MissingRef("budget", "Contract value"),)),
        row("BID-3", waived, MARGIN),
        row("BID-4", verdict=None),  # not assessed: counts nowhere
    ]
    patterns = failures_section(
        build_portfolio(rows, query="", today=date(2026, 9, 1), site=None, posted=False)
    )
    assert patterns["assessed"] == 3
    assert [(r["rule"], r["count"], r["share"], r["keys"]) for r in patterns["rules"]] == [
        (MARGIN.ref, 3, 100, ["BID-2", "BID-3", "BID-10"]),
        (BUDGET.ref, 1, 33, ["BID-10"]),
    ]
    assert list(patterns["by_severity"]) == [Severity.BLOCKER, Severity.MAJOR]
    assert [(m["property"], m["count"], m["keys"]) for m in patterns["missing"]] == [("budget", 1, ["BID-2"])]


def test_the_verdict_before_closing_ignores_history_written_after_it() -> None:
    history = (
        HistoryEntry(date(2026, 9, 1), Verdict.NEEDS_INFO, 40),
        HistoryEntry(date(2026, 9, 20), Verdict.GO, 90),
    )
    closed, fresh = closed_bids(
        [
            row("BID-1", history=history, closed=date(2026, 9, 10), outcome="won"),
            row("BID-2", history=history, closed=date(2026, 8, 1)),
            row("BID-3", verdict=None),  # not assessed: no closed bid
        ]
    )
    assert (closed.verdict, closed.score, closed.from_history) == (Verdict.NEEDS_INFO, 40, True)
    assert (fresh.verdict, fresh.from_history, fresh.outcome) == (Verdict.GO, False, "none")


def test_a_rate_needs_five_decided_bids() -> None:
    assert win_rate(Counter(won=4, withdrawn=3))["win_rate"] is None
    assert win_rate(Counter(won=2, lost=3)) == {"decided": 5, "won": 2, "win_rate": 40}


def test_an_upper_bound_is_suggested_lower_only_when_five_bids_above_the_last_win_were_lost() -> None:
    bound = Bound("max_competitors", "competitors", "maximum")
    wins = [bid("won", 1), bid("won", 3), bid("lost", 2)]
    losses = [bid("lost", 4), bid("lost", 5), bid("lost", 4), bid("lost", 6), bid("withdrawn", 9)]
    assert suggestions([*wins, *losses], [bound], {"max_competitors": 5}) == []  # 4 decided above 3
    (found,) = suggestions([*wins, *losses, bid("lost", 5)], [bound], {"max_competitors": 5})
    assert (found["suggested"], found["edge"], found["bids"], found["direction"]) == (3, 3, 5, "above")
    # a win above the threshold: the results do not contradict it
    assert suggestions([*wins, *losses, bid("lost", 5)], [bound], {"max_competitors": 2}) == []


def test_an_exclusive_lower_bound_suggests_the_highest_value_that_always_lost() -> None:
    bound = Bound("min_win_probability", "win_probability", "exclusiveMinimum")
    bids = [bid("lost", v, "win_probability") for v in (12, 14, 15, 15, 18)]
    bids += [bid("won", 20, "win_probability"), bid("no-bid", 5, "win_probability")]
    (found,) = suggestions(bids, [bound], {"min_win_probability": 10})
    assert (found["suggested"], found["edge"], found["bids"], found["direction"]) == (18, 20, 5, "below")
    assert suggestions(bids, [bound], {}) == []  # a threshold not in force is not judged
