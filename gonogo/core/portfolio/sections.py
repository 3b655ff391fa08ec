"""The portfolio's teaching sections as the plain data every format shows, so no two can disagree."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gonogo.core.pipeline.decisions import BidDecision, DecisionRecord, is_against
from gonogo.core.pipeline.verdict import WORST_FIRST, Verdict
from gonogo.core.portfolio.outcomes import MIN_BIDS, ClosedBid, OutcomeRow, OutcomeSummary, WinRate, tally
from gonogo.core.portfolio.patterns import ChangedTicket, change_of, changed_since, failure_patterns

if TYPE_CHECKING:
    from gonogo.core.portfolio.rows import Portfolio, Row


def failures_section(portfolio: Portfolio) -> dict[str, Any]:
    """The rules failing most (count, share of assessed tickets, keys) and the missing information."""
    patterns = failure_patterns(portfolio.rows)
    return {
        "assessed": patterns.assessed,
        "rules": [
            {
                "rule": rule.ref,
                "title": rule.title,
                "problem": rule.problem,
                "severity": rule.severity.value,
                "count": rule.count,
                "share": rule.share,
                "keys": list(rule.keys),
            }
            for rule in patterns.rules
        ],
        "by_severity": {
            severity.value: [rule.ref for rule in rules] for severity, rules in patterns.by_severity()
        },
        "missing": [
            {
                "property": item.property,
                "label": item.label,
                "count": item.count,
                "share": item.share,
                "keys": list(item.keys),
            }
            for item in patterns.missing
        ],
    }


def change_entry(change: ChangedTicket) -> dict[str, Any]:
    return {
        "from": change.before.value,
        "to": change.after.value,
        "on": change.on.isoformat(),
        "days_ago": change.days_ago,
    }


def ticket_change(portfolio: Portfolio, row: Row) -> dict[str, Any] | None:
    """The row's latest verdict change (its "changed" column), or None."""
    change = change_of(row, portfolio.today)
    return None if change is None else {**change_entry(change), "estimates_only": row.changed_by_estimates}


def changes_section(portfolio: Portfolio) -> list[dict[str, Any]] | None:
    """`--since`: the tickets whose verdict changed from that day on, latest first; None without it."""
    if portfolio.since is None:
        return None
    return [
        {"key": change.key, "summary": change.summary, **change_entry(change)}
        for change in changed_since(portfolio.rows, portfolio.since, today=portfolio.today)
    ]


def outcomes_section(portfolio: Portfolio) -> dict[str, Any] | None:
    """`--outcomes`: outcomes by verdict, win rate by score band and per rule, and suggestions."""
    report = portfolio.outcomes
    if report is None:
        return None
    return {
        "min_bids": MIN_BIDS,
        "closed": len(report.bids),
        "from_history": report.from_history,
        "assessed": report.assessed,
        "overall": _rate(report.overall),
        "by_verdict": [{"verdict": row.verdict.value, **_counts(row)} for row in report.by_verdict],
        "by_band": [{"low": row.low, "high": row.high, **_counts(row)} for row in report.by_band],
        "by_rule": [
            {
                "rule": row.ref,
                "title": row.title,
                "problem": row.problem,
                "severity": row.severity.value,
                **_counts(row),
            }
            for row in report.by_rule
        ],
        "suggestions": [
            {
                "threshold": s.threshold,
                "current": _number(s.current),
                "suggested": _number(s.suggested),
                "property": s.property,
                "direction": s.direction,
                "edge": _number(s.edge),
                "bids": s.bids,
            }
            for s in report.suggestions
        ],
        "bids": [
            {
                "key": bid.key,
                "outcome": bid.outcome,
                "verdict": bid.verdict.value,
                "score": bid.score,
                "source": bid.source.value,
            }
            for bid in report.bids
        ],
    }


def decisions_section(portfolio: Portfolio) -> dict[str, Any]:
    """The decisions people recorded by the verdict beside them: bids against a NO-GO, no-bids against a GO.

    An outcomes run judges each against the verdict it had before closing; others against today's.
    """
    report = portfolio.outcomes
    judged = (
        [(bid.key, bid.verdict, bid.decision) for bid in report.bids]
        if report is not None
        else [(row.key, row.verdict, row.decision) for row in portfolio.rows if row.verdict is not None]
    )
    return {
        "tickets": len(judged),
        "bids_against_no_go": sum(_counted(d, BidDecision.BID) for _, v, d in judged if v is Verdict.NO_GO),
        "no_bids_against_go": sum(
            _counted(d, BidDecision.NO_BID)
            for _, v, d in judged
            if v in (Verdict.GO, Verdict.GO_WITH_CONDITIONS)
        ),
        "by_verdict": [
            _decisions_beside(verdict, [d for _, v, d in judged if v is verdict]) for verdict in WORST_FIRST
        ],
        "items": [_decision_item(key, verdict, d) for key, verdict, d in judged if d is not None],
        "outcomes": None if report is None else _decision_outcomes(report),
    }


def _decisions_beside(verdict: Verdict, here: list[DecisionRecord | None]) -> dict[str, Any]:
    return {
        "verdict": verdict.value,
        "bid": sum(_counted(d, BidDecision.BID) for d in here),
        "no_bid": sum(_counted(d, BidDecision.NO_BID) for d in here),
        "not_counted": sum(d is not None and not d.counts for d in here),
        "undecided": sum(d is None for d in here),
        "total": len(here),
    }


def _decision_item(key: str, verdict: Verdict, d: DecisionRecord) -> dict[str, Any]:
    return {
        "key": key,
        "verdict": verdict.value,
        "decision": d.decision.value,
        "by": d.by,
        "on": d.on.isoformat() if d.on else None,
        "counts": d.counts,
        "against_verdict": is_against(d.decision, verdict),
        "on_older_facts": d.older_facts is not None,
    }


def _decision_outcomes(report: OutcomeSummary) -> dict[str, Any]:
    """How closed bids ended by verdict and decision ("none": no decision an owner recorded)."""

    def chosen(verdict: Verdict, decision: BidDecision | None) -> list[ClosedBid]:
        return [
            bid
            for bid in report.bids
            if bid.verdict is verdict
            and (
                _counted(bid.decision, decision)
                if decision is not None
                else bid.decision is None or not bid.decision.counts
            )
        ]

    return {
        "bids_against_no_go": _counts(OutcomeRow(*tally(chosen(Verdict.NO_GO, BidDecision.BID)))),
        "by_verdict": [
            {
                "verdict": verdict.value,
                "decision": decision.value if decision else "none",
                **_counts(OutcomeRow(*tally(chosen(verdict, decision)))),
            }
            for verdict in WORST_FIRST
            for decision in (BidDecision.BID, BidDecision.NO_BID, None)
        ],
    }


def _counted(record: DecisionRecord | None, decision: BidDecision) -> bool:
    """A decision an owner recorded, and this one."""
    return record is not None and record.counts and record.decision is decision


def _counts(row: OutcomeRow) -> dict[str, Any]:
    return {"counts": dict(row.counts), "total": row.total, **_rate(row.rate)}


def _rate(rate: WinRate) -> dict[str, Any]:
    """Decided bids and wins always; the rate (percent) only from MIN_BIDS decided bids, else null."""
    return {"decided": rate.decided, "won": rate.won, "win_rate": rate.percent}


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value
