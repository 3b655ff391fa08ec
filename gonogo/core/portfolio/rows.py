"""The portfolio: one row per ticket, worst first (the order is the product), with totals."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from gonogo.core.jira_shapes.comment_format import Publication
from gonogo.core.pipeline.decisions import DecisionRecord
from gonogo.core.pipeline.findings import Assessment, Coverage, FindingStatus, unrecorded_that_matter
from gonogo.core.pipeline.rules import Severity
from gonogo.core.pipeline.verdict import WORST_FIRST, Verdict
from gonogo.core.pipeline.verdict_history import HistoryEntry, VerdictChange, latest_change
from gonogo.core.pipeline.waivers import WaiverStatus


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
    key: str
    rule: str  # "checklist/rule"
    title: str
    label: str
    status: WaiverStatus
    requested_by: str | None
    approved_by: str | None
    approved_on: date | None
    expires_on: date | None


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
    """One ticket in the report; no verdict when it could not be assessed, an error when not posted either."""

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
    closed: date | None = None  # --outcomes: resolved (resolutiondate), and assessed as of then, not today
    values: Mapping[str, float] = field(default_factory=dict)  # the proposal's numbers
    waivers: tuple[WaiverEntry, ...] = ()
    coverage: Coverage | None = None  # how many of the judging checks could run, beside the score
    decision: DecisionRecord | None = None  # the bid decision people recorded on the ticket
    change: VerdictChange | None = None  # the latest, this run's verdict counted (unless judged as closed)
    # The latest verdict change came from edits to estimates and judgements alone (see VerdictChange).
    changed_by_estimates: bool = False


@dataclass
class Totals:
    """Counted as rows go by, so a report that writes each row needs to keep none."""

    tickets: int = 0
    by_verdict: dict[Verdict, int] = field(default_factory=lambda: dict.fromkeys(WORST_FIRST, 0))
    unchecked: int = 0  # rows without a verdict
    failed: int = 0  # rows with an error, whether or not they have a verdict
    comments: Counter[str] = field(default_factory=Counter)  # created/updated/recreated -> count

    def add(self, row: Row) -> None:
        self.tickets += 1
        self.unchecked += row.verdict is None
        self.failed += row.error is not None
        if row.verdict is not None:
            self.by_verdict[row.verdict] += 1
        if row.publication:
            self.comments[row.publication.action.value] += 1


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
    outcomes: dict[str, Any] | None = None  # --outcomes: how the verdicts of closed bids fared

    def browse_url(self, row: Row) -> str | None:
        return f"{self.site.rstrip('/')}/browse/{quote(row.key, safe='')}" if self.site else None

    @property
    def unscored(self) -> int:
        """Assessed tickets without a score (no rule counted), left out of the score chart."""
        return sum(1 for row in self.rows if row.verdict is not None and row.score is None)


def score_bands(width: int) -> list[tuple[int, int]]:
    """Scores in bands of `width` points, [low, high]; the last band includes 100."""
    return [(low, 100 if low + width >= 100 else low + width - 1) for low in range(0, 100, width)]


def top_reason(assessment: Assessment, headline: str) -> Reason | None:
    """The reason for the verdict, picked in the verdict rule's order; a GO has one only as a caveat:
    a check that judges the bid but did not run, or an unrecorded one whose failing would matter."""
    failed = [f for f in assessment.findings if f.outcome is FindingStatus.FAILED]
    for finding in failed:
        if finding.rule.severity is Severity.BLOCKER:
            return Reason(ReasonKind.BLOCKER, headline, finding.ref)
    if assessment.missing_information:
        return Reason(ReasonKind.MISSING, headline, assessment.missing_information[0].property)
    for finding in failed:
        if finding.rule.severity is Severity.MAJOR:
            return Reason(ReasonKind.MAJOR, headline, finding.ref)
    unchecked = [
        f for f in assessment.findings if f.outcome is FindingStatus.SKIPPED and f.judges and not f.unrecorded
    ]
    caveat = [*unchecked, *unrecorded_that_matter(assessment)]
    return Reason(ReasonKind.UNCHECKED, headline, caveat[0].ref) if caveat and headline else None


def row_from_assessment(
    assessment: Assessment,
    *,
    headline: str,
    history: Sequence[HistoryEntry] = (),
    outcome: str | None = None,
    closed: date | None = None,
    values: Mapping[str, float] | None = None,
) -> Row:
    """The assessment's row (waivers naming no rule left out); with `closed` (--outcomes) judged then."""
    findings = assessment.findings
    return Row(
        key=assessment.ticket_key,
        ticket_id=assessment.ticket_id,
        summary=assessment.summary,
        verdict=assessment.verdict,
        score=assessment.score,
        reason=top_reason(assessment, headline),
        coverage=assessment.coverage,
        failed_rules=tuple(
            RuleRef(
                f.ref, f.rule.title, f.rule.severity, f.outcome is FindingStatus.WAIVED, f.rule.failed_label
            )
            for f in findings
            if f.outcome in (FindingStatus.FAILED, FindingStatus.WAIVED)
        ),
        missing=tuple(MissingRef(m.property, m.label) for m in assessment.missing_information),
        history=tuple(history),
        outcome=outcome,
        closed=closed,
        values=dict(values or {}),
        waivers=tuple(
            WaiverEntry(
                assessment.ticket_key,
                f.ref,
                f.rule.title,
                f.waiver.label,
                f.waiver_ruling.status,
                f.waiver.by,
                f.waiver_ruling.approved_by,
                f.waiver_ruling.approved_on,
                f.waiver_ruling.expires_on,
            )
            for f in findings
            if f.waiver is not None and f.waiver_ruling is not None
        ),
        decision=assessment.decision,
        change=assessment.change if closed is None else latest_change(history),
        changed_by_estimates=bool(assessment.change and assessment.change.by_estimates_alone),
    )


def error_row(key: str, *, error: str, ticket_id: str | None = None, summary: str | None = None) -> Row:
    """A ticket that could not be fetched or assessed: it stays in the report, with the reason."""
    return Row(key, ticket_id, summary, verdict=None, score=None, reason=None, error=error)


def sort_key(row: Row) -> tuple[int, int, str, int, str]:
    """Unchecked first, then verdicts worst first; lower score first (no score before any score)."""
    rank = 0 if row.verdict is None else 1 + WORST_FIRST.index(row.verdict)
    score = -1 if row.score is None else row.score
    return (rank, score, *sort_key_of(row.key))


def sort_key_of(key: str) -> tuple[str, int, str]:
    """An issue key in number order: BID-9 before BID-10."""
    project, dash, number = key.rpartition("-")
    return (project, int(number), key) if dash and number.isdecimal() else (key, 0, key)


def build_portfolio(
    rows: Iterable[Row], *, query: str, today: date, site: str | None, posted: bool, since: date | None = None
) -> Portfolio:
    ordered = tuple(sorted(rows, key=sort_key))
    totals = Totals()
    for row in ordered:
        totals.add(row)
    return Portfolio(ordered, query, today, site, posted, totals, since)
