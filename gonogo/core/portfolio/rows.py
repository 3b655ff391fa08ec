"""The portfolio: one row per ticket, worst first, with totals.

The order is the product: tickets gonogo could not check first, then NO-GO to GO, lowest score
first. Each row's reason is picked by the same gates that pick the verdict.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import quote

from gonogo.core.jira_shapes.publication import Publication
from gonogo.core.pipeline.decisions import DecisionRecord
from gonogo.core.pipeline.findings import (
    Assessment,
    Coverage,
    Finding,
    FindingStatus,
    unrecorded_that_matter,
)
from gonogo.core.pipeline.rules import Severity
from gonogo.core.pipeline.verdict import WORST_FIRST, Verdict
from gonogo.core.pipeline.verdict_history import HistoryEntry, VerdictChange, extended, latest_change
from gonogo.core.pipeline.waivers import WaiverStatus

if TYPE_CHECKING:
    from gonogo.core.portfolio.outcomes import OutcomeSummary

VERDICT_ORDER = WORST_FIRST  # worst first (`gonogo.core.pipeline.verdict`)
SCORE_BUCKET = 10  # the score chart's bar width: 0-9, 10-19, ..., 90-100
EXPIRING_SOON_DAYS = 7  # an active waiver ending within this many days is listed as expiring
_KEY_NUMBER = re.compile(r"^(?P<project>.*)-(?P<number>\d+)$")


class ReasonKind(StrEnum):
    """Which gate the top reason comes from, in the order the verdict rule consults them."""

    BLOCKER = "blocker"
    MISSING = "missing"
    MAJOR = "major"
    UNCHECKED = "unchecked"  # a GO resting on fewer checks than the checklists hold: which, is the caveat


@dataclass(frozen=True, slots=True)
class Reason:
    """The one thing that decides a ticket's verdict: a failed rule or an unanswered question."""

    kind: ReasonKind
    text: str  # the verdict's one-sentence summary, as under the verdict in the comment
    ref: str  # "checklist/rule" for a rule, the property name for a question


@dataclass(frozen=True, slots=True)
class WaiverEntry:
    """One waiver on one ticket, as the portfolio lists it: the rule, its status and its dates."""

    key: str
    rule: str  # "checklist/rule"
    title: str
    label: str
    status: WaiverStatus
    requested_by: str | None
    approved_by: str | None
    approved_on: date | None
    expires_on: date | None


@dataclass(frozen=True)
class WaiverSection:
    """The portfolio's waivers by what became of them; `expiring` is the active ones ending soon."""

    active: tuple[WaiverEntry, ...]
    expiring: tuple[WaiverEntry, ...]
    ended: Mapping[WaiverStatus, tuple[WaiverEntry, ...]]  # expired, lapsed, not approved, refused

    @property
    def empty(self) -> bool:
        return not self.active and not any(self.ended.values())

    @property
    def later(self) -> tuple[WaiverEntry, ...]:
        """Active waivers that do not end within the week."""
        return tuple(e for e in self.active if e not in self.expiring)


@dataclass(frozen=True, slots=True)
class RuleRef:
    """A rule that failed (or failed and was waived) on a ticket, for the patterns across tickets."""

    ref: str  # "checklist/rule"
    title: str
    severity: Severity
    waived: bool = False
    problem: str = ""  # the failure as the rule words it (failed_label); the title says what should hold


@dataclass(frozen=True, slots=True)
class MissingRef:
    """A property a ticket did not give although a rule needed it."""

    property: str
    label: str


@dataclass(frozen=True, slots=True)  # one per ticket in a report: kept small
class Row:
    """One ticket in the report; no verdict when it could not be assessed, an error too when it was not
    posted."""

    key: str
    ticket_id: str | None
    summary: str | None
    verdict: Verdict | None
    score: int | None
    reason: Reason | None
    error: str | None = None
    publication: Publication | None = None
    failed_rules: tuple[RuleRef, ...] = ()  # failed or waived, in checklist order
    missing: tuple[MissingRef, ...] = ()
    history: tuple[HistoryEntry, ...] = ()  # as stored in the pointer before this run
    outcome: str | None = None  # won / lost / withdrawn / no-bid, from the Outcome field
    closed: date | None = None  # when the ticket was resolved (Jira's resolutiondate)
    judged_as_closed: bool = False  # assessed as of `closed` (--outcomes), not as of the report's day
    values: Mapping[str, float] = field(default_factory=dict)  # the proposal's numbers
    waivers: tuple[WaiverEntry, ...] = ()
    coverage: Coverage | None = None  # how many of the judging checks could run, beside the score
    decision: DecisionRecord | None = None  # the bid decision people recorded on the ticket
    # The latest verdict change came from edits to estimates and judgements alone (see VerdictChange).
    changed_by_estimates: bool = False

    @property
    def failed(self) -> bool:
        return self.error is not None

    def change(self, today: date) -> VerdictChange | None:
        """The latest verdict change, this run's verdict counted as of `today` (not for a bid judged as
        closed)."""
        if self.verdict is None or self.judged_as_closed:
            return latest_change(self.history)
        return latest_change(extended(self.history, HistoryEntry(today, self.verdict, self.score)))


@dataclass(frozen=True)
class Totals:
    """How many tickets got each verdict, how many failed, and what happened to the comments."""

    tickets: int
    by_verdict: Mapping[Verdict, int]
    unchecked: int  # rows without a verdict
    failed: int  # rows with an error, whether or not they have a verdict
    comments: Mapping[str, int] = field(default_factory=dict)  # created/updated/recreated -> count


@dataclass(frozen=True)
class ScoreBucket:
    """One bar of the score chart: scores in [low, high], counted per verdict."""

    low: int
    high: int
    by_verdict: Mapping[Verdict, int]

    @property
    def count(self) -> int:
        return sum(self.by_verdict.values())


@dataclass(frozen=True)
class Portfolio:
    """Everything a report shows: the rows worst first, and what was asked of whom."""

    rows: tuple[Row, ...]
    query: str
    today: date
    site: str | None  # the Jira base URL, for browse links
    posted: bool
    totals: Totals
    since: date | None = None  # --since: list the verdict changes from this day on
    outcomes: OutcomeSummary | None = None  # --outcomes: how the verdicts of closed bids fared

    @property
    def failed(self) -> bool:
        """True when some ticket could not be checked or posted: the run's exit code says so."""
        return self.totals.failed > 0

    def browse_url(self, row: Row) -> str | None:
        """Jira's page for the ticket, `SITE/browse/KEY`; None without a site."""
        if not self.site:
            return None
        return f"{self.site.rstrip('/')}/browse/{quote(row.key, safe='')}"

    def score_histogram(self) -> tuple[ScoreBucket, ...]:
        """Scores in buckets of SCORE_BUCKET points (the last one includes 100), split by verdict."""
        buckets = []
        for low in range(0, 100, SCORE_BUCKET):
            high = low + SCORE_BUCKET - 1 if low + SCORE_BUCKET < 100 else 100
            counts = Counter(
                row.verdict
                for row in self.rows
                if row.verdict is not None and row.score is not None and low <= row.score <= high
            )
            buckets.append(ScoreBucket(low, high, {v: counts.get(v, 0) for v in VERDICT_ORDER}))
        return tuple(buckets)

    def waiver_section(self) -> WaiverSection:
        """Every waiver across the tickets: active, expiring soon, the rest; none for closed bids (nobody acts
        on them)."""
        entries = [] if self.outcomes is not None else [entry for row in self.rows for entry in row.waivers]
        active = sorted(
            (e for e in entries if e.status is WaiverStatus.ACTIVE),
            key=lambda e: (e.expires_on is None, e.expires_on or self.today, sort_key_of(e.key), e.rule),
        )
        soon = self.today + timedelta(days=EXPIRING_SOON_DAYS)
        return WaiverSection(
            active=tuple(active),
            expiring=tuple(e for e in active if e.expires_on is not None and e.expires_on <= soon),
            ended={
                status: tuple(e for e in entries if e.status is status)
                for status in WaiverStatus
                if status is not WaiverStatus.ACTIVE
            },
        )

    @property
    def unscored(self) -> int:
        """Assessed tickets without a score (no rule counted), left out of the score chart."""
        return sum(1 for row in self.rows if row.verdict is not None and row.score is None)


def top_reason(assessment: Assessment, headline: str) -> Reason | None:
    """The reason that explains the verdict, picked in the verdict rule's order and worded by the
    `headline` (the renderer's); a GO has one only as a caveat."""
    failed = [f for f in assessment.findings if f.outcome is FindingStatus.FAILED]
    for finding in failed:
        if finding.rule.severity is Severity.BLOCKER:
            return Reason(ReasonKind.BLOCKER, headline, finding.ref)
    if assessment.missing_information:
        return Reason(ReasonKind.MISSING, headline, assessment.missing_information[0].property)
    for finding in failed:
        if finding.rule.severity is Severity.MAJOR:
            return Reason(ReasonKind.MAJOR, headline, finding.ref)
    caveat = _caveat(assessment)
    if caveat and headline:
        return Reason(ReasonKind.UNCHECKED, headline, caveat[0].ref)
    return None


def _caveat(assessment: Assessment) -> list[Finding]:
    """Checks that judge the bid but did not run, and unrecorded ones whose failing would matter."""
    unchecked = [
        f for f in assessment.findings if f.outcome is FindingStatus.SKIPPED and f.judges and not f.unrecorded
    ]
    return [*unchecked, *unrecorded_that_matter(assessment)]


def row_from_assessment(
    assessment: Assessment,
    *,
    headline: str,
    publication: Publication | None = None,
    error: str | None = None,
    history: Sequence[HistoryEntry] = (),
    outcome: str | None = None,
    closed: date | None = None,
    judged_as_closed: bool = False,
    values: Mapping[str, float] | None = None,
) -> Row:
    return Row(
        key=assessment.ticket_key,
        ticket_id=assessment.ticket_id,
        summary=assessment.summary,
        verdict=assessment.verdict,
        score=assessment.score,
        reason=top_reason(assessment, headline),
        error=error,
        publication=publication,
        coverage=assessment.coverage,
        failed_rules=tuple(
            RuleRef(
                f"{f.checklist}/{f.rule.id}",
                f.rule.title,
                f.rule.severity,
                f.outcome is FindingStatus.WAIVED,
                problem=f.rule.failed_label,
            )
            for f in assessment.findings
            if f.outcome in (FindingStatus.FAILED, FindingStatus.WAIVED)
        ),
        missing=tuple(MissingRef(m.property, m.label) for m in assessment.missing_information),
        history=tuple(history),
        outcome=outcome,
        closed=closed,
        judged_as_closed=judged_as_closed,
        values=dict(values or {}),
        waivers=waiver_entries(assessment),
        decision=assessment.decision,
        changed_by_estimates=bool(assessment.change and assessment.change.by_estimates_alone),
    )


def waiver_entries(assessment: Assessment) -> tuple[WaiverEntry, ...]:
    """The waivers on a ticket's rules with what became of each (labels naming no rule are left out)."""
    return tuple(
        WaiverEntry(
            key=assessment.ticket_key,
            rule=f"{f.checklist}/{f.rule.id}",
            title=f.rule.title,
            label=f.waiver.label,
            status=f.waiver_ruling.status,
            requested_by=f.waiver.by,
            approved_by=f.waiver_ruling.approved_by,
            approved_on=f.waiver_ruling.approved_on,
            expires_on=f.waiver_ruling.expires_on,
        )
        for f in assessment.findings
        if f.waiver is not None and f.waiver_ruling is not None
    )


def error_row(key: str, *, error: str, ticket_id: str | None = None, summary: str | None = None) -> Row:
    """A ticket that could not be fetched or assessed: it stays in the report, with the reason."""
    return Row(
        key=key, ticket_id=ticket_id, summary=summary, verdict=None, score=None, reason=None, error=error
    )


def sort_key(row: Row) -> tuple[int, int, str, int, str]:
    """Unchecked first, then verdicts worst first; lower score first (no score before any score)."""
    rank = 0 if row.verdict is None else 1 + VERDICT_ORDER.index(row.verdict)
    score = -1 if row.score is None else row.score
    return (rank, score, *sort_key_of(row.key))


def sort_key_of(key: str) -> tuple[str, int, str]:
    """An issue key in number order: BID-9 before BID-10."""
    match = _KEY_NUMBER.match(key)
    project, number = (match["project"], int(match["number"])) if match else (key, 0)
    return project, number, key


@dataclass
class Tally:
    """Totals counted as rows go by, for a report that writes each row and keeps none."""

    tickets: int = 0
    verdicts: Counter[Verdict] = field(default_factory=Counter)
    unchecked: int = 0  # rows without a verdict
    failed: int = 0  # rows with an error, whether or not they have a verdict
    comments: Counter[str] = field(default_factory=Counter)

    def add(self, row: Row) -> None:
        self.tickets += 1
        if row.verdict is None:
            self.unchecked += 1
        else:
            self.verdicts[row.verdict] += 1
        self.failed += row.failed
        if row.publication:
            self.comments[row.publication.action.value] += 1

    def totals(self) -> Totals:
        return Totals(
            tickets=self.tickets,
            by_verdict={v: self.verdicts.get(v, 0) for v in VERDICT_ORDER},
            unchecked=self.unchecked,
            failed=self.failed,
            comments=dict(self.comments),
        )


def totals(rows: Iterable[Row]) -> Totals:
    tally = Tally()
    for row in rows:
        tally.add(row)
    return tally.totals()


def build_portfolio(
    rows: Iterable[Row],
    *,
    query: str,
    today: date,
    site: str | None,
    posted: bool,
    since: date | None = None,
) -> Portfolio:
    ordered = tuple(sorted(rows, key=sort_key))
    return Portfolio(
        rows=ordered,
        query=query,
        today=today,
        site=site,
        posted=posted,
        totals=totals(ordered),
        since=since,
    )
