"""The portfolio's teaching sections as the plain data every format shows, so no two can disagree:
what no single ticket shows (which rules fail most, which questions stay open, whose verdict moved,
which waivers stand) and the decisions people recorded beside the verdicts."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from gonogo.core.pipeline.decisions import BidDecision, DecisionRecord, is_against
from gonogo.core.pipeline.rules import Severity
from gonogo.core.pipeline.verdict import WORST_FIRST, Verdict
from gonogo.core.pipeline.verdict_history import VerdictChange
from gonogo.core.pipeline.waivers import WaiverStatus
from gonogo.core.portfolio.outcomes import ClosedBid, closed_bids, tally
from gonogo.core.portfolio.rows import MissingRef, Portfolio, Row, RuleRef, sort_key_of

EXPIRING_SOON_DAYS = 7  # an active waiver ending within this many days is listed as expiring


def failures_section(portfolio: Portfolio) -> dict[str, Any]:
    """The rules failing most (waived ones are accepted, not failing) and the information most often
    missing: how many tickets, their share of the assessed tickets, and which, in key order."""
    assessed = sorted(
        (row for row in portfolio.rows if row.verdict is not None), key=lambda r: sort_key_of(r.key)
    )
    failing: defaultdict[str, list[str]] = defaultdict(list)
    rules: dict[str, RuleRef] = {}
    missing: defaultdict[str, list[str]] = defaultdict(list)
    gaps: dict[str, MissingRef] = {}
    for row in assessed:
        for rule in row.failed_rules:
            if not rule.waived:
                failing[rule.ref].append(row.key)
                rules[rule.ref] = rule
        for item in row.missing:
            missing[item.property].append(row.key)
            gaps.setdefault(item.property, item)
    severities = list(Severity)
    ranked = sorted(failing, key=lambda ref: (-len(failing[ref]), severities.index(rules[ref].severity), ref))

    def counted(keys: list[str]) -> dict[str, Any]:
        share = round(100 * len(keys) / len(assessed)) if assessed else 0
        return {"count": len(keys), "share": share, "keys": keys}

    return {
        "assessed": len(assessed),
        "rules": [
            {
                "rule": ref,
                "title": rules[ref].title,
                "problem": rules[ref].problem or rules[ref].title,  # the heading a reader scans for
                "severity": rules[ref].severity.value,
                **counted(failing[ref]),
            }
            for ref in ranked
        ],
        "by_severity": {
            severity.value: refs
            for severity in severities
            if (refs := [ref for ref in ranked if rules[ref].severity is severity])
        },
        "missing": [
            {"property": name, "label": gaps[name].label, **counted(missing[name])}
            for name in sorted(missing, key=lambda name: (-len(missing[name]), name))
        ],
    }


def _change(turn: VerdictChange, today: date) -> dict[str, Any]:
    return {
        "from": turn.before.value,
        "to": turn.after.value,
        "on": turn.on.isoformat(),
        "days_ago": (today - turn.on).days,
    }


def ticket_change(portfolio: Portfolio, row: Row) -> dict[str, Any] | None:
    """The row's latest verdict change (its "changed" column), or None."""
    turn = row.change(portfolio.today)
    if turn is None:
        return None
    return {**_change(turn, portfolio.today), "estimates_only": row.changed_by_estimates}


def changes_section(portfolio: Portfolio) -> list[dict[str, Any]] | None:
    """`--since`: the tickets whose verdict changed from that day on, latest first; None without it."""
    since, today = portfolio.since, portfolio.today
    if since is None:
        return None
    in_key_order = sorted(portfolio.rows, key=lambda row: sort_key_of(row.key))
    turns = [(row, turn) for row in in_key_order if (turn := row.change(today)) and turn.on >= since]
    turns.sort(key=lambda found: found[1].on, reverse=True)  # stable: key order within a day
    return [{"key": row.key, "summary": row.summary, **_change(turn, today)} for row, turn in turns]


def waivers_section(portfolio: Portfolio) -> dict[str, Any]:
    """Every waiver across the tickets: active ones soonest end first, those ending within the week,
    the others by status; none for closed bids (nobody acts on them)."""
    entries = [] if portfolio.outcomes is not None else [e for row in portfolio.rows for e in row.waivers]
    active = sorted(
        (e for e in entries if e.status is WaiverStatus.ACTIVE),
        key=lambda e: (e.expires_on is None, e.expires_on or portfolio.today, sort_key_of(e.key), e.rule),
    )
    soon = portfolio.today + timedelta(days=EXPIRING_SOON_DAYS)
    expiring = [e for e in active if (e.expires_on or date.max) <= soon]
    return {
        "empty": not entries,
        "active": active,
        "expiring": expiring,
        "later": active[len(expiring) :],  # active is sorted by end date: the expiring ones come first
        "ended": {
            status.value: [e for e in entries if e.status is status]
            for status in WaiverStatus
            if status is not WaiverStatus.ACTIVE
        },
    }


def decisions_section(portfolio: Portfolio) -> dict[str, Any]:
    """The decisions people recorded by the verdict beside them: bids against a NO-GO, no-bids against a GO.

    An outcomes run judges each against the verdict it had before closing; others against today's.
    """
    bids = closed_bids(portfolio.rows) if portfolio.outcomes is not None else None
    judged = (
        [(bid.key, bid.verdict, bid.decision) for bid in bids]
        if bids is not None
        else [(row.key, row.verdict, row.decision) for row in portfolio.rows if row.verdict is not None]
    )
    by_verdict = {
        v: _decisions_beside(v, [d for _, verdict, d in judged if verdict is v]) for v in WORST_FIRST
    }
    return {
        "tickets": len(judged),
        "bids_against_no_go": by_verdict[Verdict.NO_GO]["bid"],
        "no_bids_against_go": by_verdict[Verdict.GO]["no_bid"]
        + by_verdict[Verdict.GO_WITH_CONDITIONS]["no_bid"],
        "by_verdict": list(by_verdict.values()),
        "items": [_decision_item(key, verdict, d) for key, verdict, d in judged if d is not None],
        "outcomes": None if bids is None else _decision_outcomes(bids),
    }


def _decisions_beside(verdict: Verdict, here: list[DecisionRecord | None]) -> dict[str, Any]:
    return {
        "verdict": verdict.value,
        "bid": sum(_owned(d) is BidDecision.BID for d in here),
        "no_bid": sum(_owned(d) is BidDecision.NO_BID for d in here),
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


def _decision_outcomes(bids: list[ClosedBid]) -> dict[str, Any]:
    """How closed bids ended by verdict and decision ("none": no decision an owner recorded)."""

    def ended(verdict: Verdict, decision: BidDecision | None) -> dict[str, Any]:
        return tally(bid for bid in bids if bid.verdict is verdict and _owned(bid.decision) is decision)

    return {
        "bids_against_no_go": ended(Verdict.NO_GO, BidDecision.BID),
        "by_verdict": [
            {
                "verdict": verdict.value,
                "decision": decision.value if decision else "none",
                **ended(verdict, decision),
            }
            for verdict in WORST_FIRST
            for decision in (BidDecision.BID, BidDecision.NO_BID, None)
        ],
    }


def _owned(record: DecisionRecord | None) -> BidDecision | None:
    """The decision when a decision owner recorded it; anybody else's is not counted."""
    return record.decision if record is not None and record.counts else None
