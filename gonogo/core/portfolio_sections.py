"""The portfolio's teaching sections as plain data: why bids fail, what changed, how verdicts fared.

One place turns the pure results of `gonogo.core.patterns` and `gonogo.core.outcomes` into the dictionaries
every format shows: JSON prints them as they are (gonogo/schemas/portfolio.schema.json), CSV writes
one section per file, and the text and HTML templates lay them out. So the four formats cannot
disagree about a number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gonogo.core.outcomes import MIN_BIDS, OutcomeRow, WinRate
from gonogo.core.patterns import VerdictChange, change_of, changed_since, failure_patterns

if TYPE_CHECKING:
    from gonogo.core.portfolio import Portfolio, Row


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


def change_entry(change: VerdictChange) -> dict[str, Any]:
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


def _counts(row: OutcomeRow) -> dict[str, Any]:
    return {"counts": dict(row.counts), "total": row.total, **_rate(row.rate)}


def _rate(rate: WinRate) -> dict[str, Any]:
    """Decided bids and wins always; the rate (percent) only from MIN_BIDS decided bids, else null."""
    return {"decided": rate.decided, "won": rate.won, "win_rate": rate.percent}


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value
