"""The portfolio's sections as the plain data every format shows, so no two can disagree. A win rate
is won ÷ (won + lost), given only from MIN_BIDS decided bids, so a small sample is never dressed up as
evidence; where results contradict a threshold a suggestion says so, and nothing changes."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from gonogo.core.pipeline.decisions import BidDecision, DecisionRecord, is_against
from gonogo.core.pipeline.rules import Bound, Checklist, Severity
from gonogo.core.pipeline.verdict import WORST_FIRST, Verdict
from gonogo.core.pipeline.verdict_history import VerdictChange, verdict_on
from gonogo.core.pipeline.waivers import WaiverStatus
from gonogo.core.portfolio.rows import MissingRef, Portfolio, Row, RuleRef, score_bands, sort_key_of

EXPIRING_SOON_DAYS = 7  # an active waiver ending within this many days is listed as expiring

OUTCOMES = ("won", "lost", "withdrawn", "no-bid", "none")  # "none": closed without an outcome in the field
MIN_BIDS = 5
BAND_WIDTH = 20  # score bands 0-19, 20-39, ..., 80-100


@dataclass(frozen=True)
class ClosedBid:
    """A closed ticket's row with the verdict it had before closing: the last one gonogo recorded
    (`from_history`), else, with no history before that, a fresh assessment of its final fields."""

    row: Row
    verdict: Verdict
    score: int | None
    from_history: bool

    @property
    def outcome(self) -> str:
        return self.row.outcome if self.row.outcome in OUTCOMES else "none"


def closed_bids(rows: Iterable[Row]) -> list[ClosedBid]:
    """The assessed rows with the verdict each had before it closed: from history, else as assessed."""
    bids = []
    for row in rows:
        if row.verdict is None:
            continue
        entry = verdict_on(row.history, row.closed or date.max)
        if entry is None:
            bids.append(ClosedBid(row, row.verdict, row.score, from_history=False))
        else:
            bids.append(ClosedBid(row, entry.verdict, entry.score, from_history=True))
    return bids


def outcomes_section(
    bids: Sequence[ClosedBid], *, checklists: Sequence[Checklist], thresholds: Mapping[str, float]
) -> dict[str, Any]:
    """Outcomes by verdict, win rate by score band and per failed or waived rule, and suggestions."""
    bounds = dict.fromkeys(bound for c in checklists for rule in c.rules for bound in rule.bounds)
    from_history = sum(b.from_history for b in bids)
    return {
        "min_bids": MIN_BIDS,
        "closed": len(bids),
        "from_history": from_history,
        "assessed": len(bids) - from_history,
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
        "by_rule": sorted(_by_rule(bids), key=lambda r: (-r["decided"], -r["total"], r["rule"])),
        "suggestions": suggestions(bids, list(bounds), thresholds),
        "bids": [
            {
                "key": b.row.key,
                "outcome": b.outcome,
                "verdict": b.verdict.value,
                "score": b.score,
                "source": "history" if b.from_history else "assessed",
            }
            for b in bids
        ],
    }


def _by_rule(bids: Sequence[ClosedBid]) -> list[dict[str, Any]]:
    """Each rule failed or waived on some closed bid, with how those bids ended."""
    rules = {rule.ref: rule for bid in bids for rule in bid.row.failed_rules}
    return [
        {
            "rule": ref,
            "title": rule.title,
            "problem": rule.problem,
            "severity": rule.severity.value,
            **tally(bid for bid in bids if any(failed.ref == ref for failed in bid.row.failed_rules)),
        }
        for ref, rule in rules.items()
    ]


def suggestions(
    bids: Sequence[ClosedBid], bounds: Sequence[Bound], thresholds: Mapping[str, float]
) -> list[dict[str, Any]]:
    """Thresholds the results contradict (at least MIN_BIDS decided bids past the last win, all lost),
    each with the value that would have failed exactly those."""
    return [
        found
        for bound in bounds
        if bound.threshold in thresholds and (found := _suggestion(bound, thresholds[bound.threshold], bids))
    ]


def _suggestion(bound: Bound, current: float, bids: Sequence[ClosedBid]) -> dict[str, Any] | None:
    decided = [
        (b.row.values[bound.property], b.outcome)
        for b in bids
        if b.outcome in ("won", "lost") and bound.property in b.row.values
    ]
    sign = 1 if bound.keyword in ("minimum", "exclusiveMinimum") else -1  # an upper bound turned lower
    wins = [sign * value for value, outcome in decided if outcome == "won"]
    if not wins:
        return None
    edge = min(wins)
    beyond = [sign * value for value, _ in decided if sign * value < edge]
    if len(beyond) < MIN_BIDS or edge <= sign * current:
        return None
    suggested = edge if bound.keyword in ("minimum", "maximum") else max(beyond)
    return {
        "threshold": bound.threshold,
        "current": _number(current),
        "suggested": _number(sign * suggested),
        "property": bound.property,
        "direction": "below" if sign > 0 else "above",
        "edge": _number(sign * edge),
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
    turn = row.change
    return {**_change(turn, portfolio.today), "estimates_only": row.changed_by_estimates} if turn else None


def changes_section(portfolio: Portfolio) -> list[dict[str, Any]] | None:
    """`--since`: the tickets whose verdict changed from that day on, latest first; None without it."""
    since, today = portfolio.since, portfolio.today
    if since is None:
        return None
    in_key_order = sorted(portfolio.rows, key=lambda row: sort_key_of(row.key))
    turns = [(row, turn) for row in in_key_order if (turn := row.change) and turn.on >= since]
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
    """The decisions people recorded by the verdict beside them (bids against a NO-GO, no-bids against a
    GO): the verdict before closing in an outcomes run, else today's."""
    bids = closed_bids(portfolio.rows) if portfolio.outcomes is not None else None
    judged = (
        [(bid.row, bid.verdict) for bid in bids]
        if bids is not None
        else [(row, row.verdict) for row in portfolio.rows if row.verdict is not None]
    )
    by_verdict = {
        v: _decisions_beside(v, [row.decision for row, verdict in judged if verdict is v])
        for v in WORST_FIRST
    }
    return {
        "tickets": len(judged),
        "bids_against_no_go": by_verdict[Verdict.NO_GO]["bid"],
        "no_bids_against_go": by_verdict[Verdict.GO]["no_bid"]
        + by_verdict[Verdict.GO_WITH_CONDITIONS]["no_bid"],
        "by_verdict": list(by_verdict.values()),
        "items": [
            {
                "key": row.key,
                "verdict": verdict.value,
                "decision": d.decision.value,
                "by": d.by,
                "on": d.on.isoformat() if d.on else None,
                "counts": d.counts,
                "against_verdict": is_against(d.decision, verdict),
                "on_older_facts": d.older_facts is not None,
            }
            for row, verdict in judged
            if (d := row.decision) is not None
        ],
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


def _decision_outcomes(bids: list[ClosedBid]) -> dict[str, Any]:
    """How closed bids ended by verdict and decision ("none": no decision an owner recorded)."""

    def ended(verdict: Verdict, decision: BidDecision | None) -> dict[str, Any]:
        return tally(bid for bid in bids if bid.verdict is verdict and _owned(bid.row.decision) is decision)

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
