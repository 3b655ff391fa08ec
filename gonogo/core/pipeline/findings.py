"""Run checklists over a proposal: findings with their evidence (a verdict nobody can check should not be
trusted: each property looked at, and where it came from), then the verdict; the words are the renderer's."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from functools import cache, partial
from typing import TYPE_CHECKING, Any

from gonogo.core.errors import ConfigurationError
from gonogo.core.pipeline.authority import labels_with_origin, named
from gonogo.core.pipeline.decisions import DecisionContext, DecisionRecord, decision_on
from gonogo.core.pipeline.proposal import Proposal, Quote
from gonogo.core.pipeline.rules import TEXT_PREFIX, Checklist, Rule, Severity
from gonogo.core.pipeline.ticket import Ticket
from gonogo.core.pipeline.verdict import Verdict, decide
from gonogo.core.pipeline.verdict_history import VerdictChange
from gonogo.core.pipeline.waivers import LABEL_PREFIX, WaiverStatus, rule_on, waivers_on
from gonogo.core.vocabulary import Vocabulary

if TYPE_CHECKING:
    from gonogo.core.pipeline.path_to_go import PathToGo
    from gonogo.core.pipeline.waivers import Waiver, WaiverContext, WaiverRuling


class FindingStatus(StrEnum):
    """How one rule came out on this ticket (not a bid's outcome: that is `core.portfolio.sections`)."""

    PASSED = "passed"
    FAILED = "failed"
    MISSING = "missing"
    SKIPPED = "skipped"
    WAIVED = "waived"


@dataclass(frozen=True)
class Evidence:
    """One property as the rule saw it. `value` is None when the ticket did not say."""

    property: str
    label: str
    field_id: str | None
    value: Any
    problem: str | None = None
    counted: bool = False  # the field held a list of names and `value` is how many
    derived: bool = False  # computed from other evidence of the same finding
    placeholder: str | None = None  # what the field said instead of a value ("TBD")
    quote: Quote | None = None  # a text signal that fired: the sentence it rests on


@dataclass(frozen=True)
class Finding:
    checklist: str
    rule: Rule
    outcome: FindingStatus
    evidence: tuple[Evidence, ...]
    waiver: Waiver | None = None
    waiver_ruling: WaiverRuling | None = None
    # The ticket's values its failed title quotes; None when it states no problem with values it has.
    quoted: Mapping[str, Any] | None = None
    waiver_label: str | None = None  # the label that would waive it, where a waiver is allowed
    # Skipped because it rests on a value another rule asks about: the outcome it would have had.
    on_hold: FindingStatus | None = None
    unrecorded: tuple[str, ...] = ()  # skipped: it needs these properties, which the site does not record

    @property
    def missing(self) -> tuple[Evidence, ...]:
        return tuple(e for e in self.evidence if e.value is None)

    @property
    def unconfirmed(self) -> bool:
        """A condition only because its data is empty (when_missing "condition"): the rule did not run."""
        return self.rule.missing_is_condition and bool(self.missing)

    @property
    def doubts(self) -> bool:
        """A question about values the ticket has (implausible or contradictory), not a missing value."""
        return self.outcome is FindingStatus.MISSING and self.quoted is not None

    @property
    def waiver_not_applied(self) -> bool:
        """A waiver names this rule but does not take its effect away: refused, unapproved, ended."""
        counts = self.outcome in (FindingStatus.FAILED, FindingStatus.MISSING)
        ruling = self.waiver_ruling
        return counts and ruling is not None and ruling.status is not WaiverStatus.ACTIVE

    @property
    def inputs(self) -> list[str]:
        """The properties its values come from: derived ones replaced by what they are derived from."""
        return [e.property for e in self.evidence if not e.derived]

    @property
    def ref(self) -> str:
        return f"{self.checklist}/{self.rule.id}"

    @property
    def judges(self) -> bool:
        """Counts in the score: not an "is it known?" check (asks for data) nor one of text signals alone (a
        description with no red flag is no strength)."""
        return not self.rule.asks_only_if_known and not all(n.startswith(TEXT_PREFIX) for n in self.rule.uses)


@dataclass(frozen=True)
class Coverage:
    """How many of the checks that judge the bid could run on this ticket's data."""

    assessed: int
    total: int


@dataclass(frozen=True)
class MissingInformation:
    """A property some rule needs but the ticket does not give (or gives unusably)."""

    property: str
    label: str
    field_id: str | None
    question: str | None  # the vocabulary's or the rule's own; None: the renderer asks for `about`
    problem: str | None
    needed_by: tuple[str, ...]
    about: str = ""  # the property as the vocabulary names it
    options: tuple[str, ...] = ()  # a select's options as the site spells them (the assessor's)
    placeholder: str | None = None  # what the field said instead of a value ("TBD")
    doubt: Finding | None = None  # the rule asking about values it finds implausible or contradictory
    quotes: tuple[Quote, ...] = ()  # the sentences a doubt from text rests on


@dataclass(frozen=True)
class Assessment:
    ticket_key: str
    ticket_id: str | None
    summary: str | None
    verdict: Verdict
    findings: tuple[Finding, ...]
    missing_information: tuple[MissingInformation, ...]
    checklists: tuple[Checklist, ...]
    score: int | None = None
    unmatched_waivers: tuple[Waiver, ...] = ()
    coverage: Coverage = Coverage(0, 0)
    thresholds: Mapping[str, float] = field(default_factory=dict)
    path: PathToGo | None = None  # set by the assessor, which can re-assess a changed ticket
    approvers: tuple[str, ...] = ()  # who may waive, by display name where known; empty: anyone
    decision: DecisionRecord | None = None  # the bid decision people recorded, beside the verdict
    change: VerdictChange | None = None  # the latest verdict change and the edits behind it (assessor)

    @property
    def waivers_end_on(self) -> date | None:
        """The first day an applied waiver stops applying: when the comment must be checked again."""
        waived = [f.waiver_ruling for f in self.findings if f.outcome is FindingStatus.WAIVED]
        return min((r.expires_on for r in waived if r and r.expires_on), default=None)


def evaluate(
    ticket: Ticket,
    proposal: Proposal,
    checklists: Sequence[Checklist],
    vocabulary: Vocabulary,
    *,
    waivers: WaiverContext,
    decisions: DecisionContext,
) -> Assessment:
    project, issue_type, histories = ticket.project_key, ticket.issue_type, waivers.histories
    applicable = tuple(c for c in checklists if c.applies_to(project=project, issue_type=issue_type))
    if not applicable:
        raise ConfigurationError(
            f"no checklist applies to {ticket.key} (project {project}, issue type "
            f"{issue_type or 'unknown'}): a verdict without checks would be a guess; "
            "check the checklists' applies_to and [checklists].disable"
        )
    origins = labels_with_origin(ticket, histories)  # read once, for waivers and the decision
    # A string property: normalised to text or left out, never another type.
    labels = waivers_on(origins, reason=proposal.values.get("waiver_reason"))
    findings = _not_resting_on_doubt(_findings(applicable, proposal, vocabulary, labels, waivers), vocabulary)
    missing = _missing_information(findings, vocabulary)
    failed = Counter(f.rule.severity for f in findings if f.outcome is FindingStatus.FAILED)
    blockers, majors = failed[Severity.BLOCKER], failed[Severity.MAJOR]
    verdict = decide(failed_blockers=blockers, missing_information=len(missing), failed_majors=majors)
    facts = {e.field_id: e.label for f in findings for e in f.evidence if e.field_id is not None}
    decision = decision_on(ticket, proposal, origins, histories, decisions, verdict=verdict, facts=facts)
    return Assessment(
        ticket_key=ticket.key,
        ticket_id=ticket.id,
        summary=proposal.values.get("summary"),
        verdict=verdict,
        findings=findings,
        missing_information=missing,
        checklists=applicable,
        score=bid_score(findings),
        unmatched_waivers=tuple(
            w for w in labels if not any(w.matches(f.checklist, f.rule.id) for f in findings)
        ),
        coverage=coverage(findings),
        thresholds=dict(proposal.thresholds),
        approvers=named(waivers.policy.approvers, histories),
        decision=decision,
    )


def _findings(
    applicable: Sequence[Checklist],
    proposal: Proposal,
    vocabulary: Vocabulary,
    labels: Sequence[Waiver],
    waivers: WaiverContext,
) -> tuple[Finding, ...]:
    """Every rule's finding, waivers applied, each with the label that would waive it (if any would)."""
    rule_ids = Counter(rule.id for checklist in applicable for rule in checklist.rules)
    evidence = cache(partial(_evidence, proposal=proposal, vocabulary=vocabulary))  # once a property
    # No label where no waiver would be honoured: no reason field to give the reason in, a show-stopper
    # [waivers] does not let anyone waive, or data still to be given.
    reason_missing = waivers.policy.require_reason and "waiver_reason" in proposal.unrecorded
    found = []
    for checklist in applicable:
        for rule in checklist.rules:
            seen = tuple(map(evidence, read_from(rule.uses, vocabulary)))
            finding = _finding(checklist.id, rule, proposal, seen)
            blocked = finding.rule.severity is Severity.BLOCKER and not waivers.policy.allow_blockers
            if not (reason_missing or blocked or finding.unconfirmed):
                target = rule.id if rule_ids[rule.id] == 1 else f"{checklist.id}.{rule.id}"
                finding = replace(finding, waiver_label=f"{LABEL_PREFIX}{target}")
            found.append(_apply_waivers(finding, labels, waivers))
    return tuple(found)


def unrecorded_that_matter(assessment: Assessment) -> list[Finding]:
    """Rules not run for lack of a field on the site whose failing could change the verdict."""
    verdict = assessment.verdict
    could = {Severity.BLOCKER: verdict is not Verdict.NO_GO, Severity.MAJOR: verdict is Verdict.GO}
    return [f for f in assessment.findings if f.unrecorded and could.get(f.rule.severity, False)]


def coverage(findings: Sequence[Finding]) -> Coverage:
    """Checks that judge the bid, and how many of them had the data to run (waived ones ran)."""
    judging = [f for f in findings if f.judges]
    ran = (FindingStatus.PASSED, FindingStatus.FAILED, FindingStatus.WAIVED)
    return Coverage(assessed=sum(f.outcome in ran and not f.unconfirmed for f in judging), total=len(judging))


def _apply_waivers(finding: Finding, waivers: Sequence[Waiver], context: WaiverContext) -> Finding:
    """A failed finding waived when an approved, current waiver names its rule; missing information is
    never waived: accepting a risk needs knowing what the risk is."""
    if (waiver := next((w for w in waivers if w.matches(finding.checklist, finding.rule.id)), None)) is None:
        return finding
    blocker = finding.rule.severity is Severity.BLOCKER
    missing = finding.outcome is FindingStatus.MISSING or finding.unconfirmed
    fields = {e.field_id: e.label for e in finding.evidence if e.field_id is not None}
    ruling = rule_on(waiver, missing=missing, is_blocker=blocker, fields=fields, context=context)
    waived = ruling.status is WaiverStatus.ACTIVE and finding.outcome is FindingStatus.FAILED
    outcome = FindingStatus.WAIVED if waived else finding.outcome
    return replace(finding, waiver=waiver, waiver_ruling=ruling, outcome=outcome)


def bid_score(findings: Sequence[Finding]) -> int | None:
    """0-100: the weight of passed rules over all that judge the bid and were decided or lack data (an
    unknown is no strength; a waiver keeps the risk). None when no check could run: a score of missing
    data alone would rank an empty ticket below a NO-GO."""
    counted = [f for f in findings if f.outcome is not FindingStatus.SKIPPED and f.judges]
    total = sum(f.rule.weight for f in counted)
    if not total or not coverage(findings).assessed:
        return None
    return round(100 * sum(f.rule.weight for f in counted if f.outcome is FindingStatus.PASSED) / total)


def _finding(checklist: str, rule: Rule, proposal: Proposal, seen: tuple[Evidence, ...]) -> Finding:
    present = {name: proposal.values[name] for name in rule.uses if name in proposal.values}
    complete = len(present) == len(rule.uses)
    unrecorded = tuple(e.property for e in seen if e.property in proposal.unrecorded)
    if complete:
        # A rule that asks turns its failure into a question (docs/checklists.md, "when_failed").
        failed = FindingStatus.MISSING if rule.asks else FindingStatus.FAILED
        outcome = FindingStatus.PASSED if rule.holds(present) else failed
    elif unrecorded:
        outcome = FindingStatus.SKIPPED  # nobody can answer: the site has no field for it
    else:
        outcome, rule = _incomplete(rule, seen)
    # A question about values the ticket has quotes them; a missing value has none to quote.
    quotes = complete and outcome is not FindingStatus.PASSED
    quoted = {name: proposal.evidence_value(name) for name in rule.quotes} if quotes else None
    skipped_for = unrecorded if outcome is FindingStatus.SKIPPED else ()
    return Finding(checklist, rule, outcome, seen, quoted=quoted, unrecorded=skipped_for)


def _incomplete(rule: Rule, seen: Sequence[Evidence]) -> tuple[FindingStatus, Rule]:
    """The outcome of a rule lacking data, and the rule as reported: one whose empty data is a condition
    (when_missing "condition") is a failed major, titled as such."""
    # A derived value can be absent although everything it is computed from is known (no
    # margin on a zero budget): nothing to ask the customer, so the rule does not apply.
    empty = [e.label for e in seen if e.value is None and not e.derived]
    # A placeholder ("TBD") is someone saying it is not known yet: always worth the question.
    held = any(e.placeholder is not None for e in seen)
    if empty and rule.missing_is_condition and not held:
        title = f"Not yet confirmed: {rule.title} ({' and '.join(empty)} left empty)"
        rule = replace(rule, severity=Severity.MAJOR, failed_title=title, failed_label=title)
        return FindingStatus.FAILED, rule
    asked = (rule.ask_when_missing and empty) or held
    return (FindingStatus.MISSING if asked else FindingStatus.SKIPPED), rule


def _not_resting_on_doubt(found: tuple[Finding, ...], vocabulary: Vocabulary) -> tuple[Finding, ...]:
    """Rules judging a value another rule asks about are left unjudged: a NO-GO for a margin of
    -37,400 % on a contract value typed in thousands would present a typo as a verdict."""
    # What the text says (a yes/no flag) is quoted, not doubted.
    doubted = {n for f in found if f.doubts for n in f.inputs if vocabulary.properties[n].type != "boolean"}
    return tuple(
        replace(f, outcome=FindingStatus.SKIPPED, quoted=None, on_hold=f.outcome)
        if f.outcome in (FindingStatus.PASSED, FindingStatus.FAILED)
        and not f.rule.asks
        and not f.rule.asks_only_if_known
        and not doubted.isdisjoint(f.inputs)
        else f
        for f in found
    )


def read_from(names: Sequence[str], vocabulary: Vocabulary) -> list[str]:
    """The properties behind `names`, a derived one after its sources, all the way down (evidence order)."""
    return list(dict.fromkeys(item for name in names for item in vocabulary.with_sources.get(name, (name,))))


def _evidence(name: str, *, proposal: Proposal, vocabulary: Vocabulary) -> Evidence:
    spec = vocabulary.properties.get(name)
    source = proposal.sources.get(name)
    label = source.field_name if source else (spec.label if spec else name)
    if spec is not None and source is not None and source.field_name == source.field_id:
        label = spec.label
    return Evidence(
        property=name,
        label=label,
        field_id=source.field_id if source else None,
        value=proposal.evidence_value(name),
        problem=proposal.problems.get(name),
        counted=name in proposal.counted,
        derived=spec is not None and spec.is_derived,
        placeholder=proposal.placeholders.get(name),
        quote=proposal.quotes.get(name),
    )


def _missing_information(found: Sequence[Finding], vocabulary: Vocabulary) -> tuple[MissingInformation, ...]:
    """What is missing, once per property however many rules need it; then each rule's doubt, under the
    first property it names, with the rule's fix as its question."""
    needed_by: dict[str, tuple[Evidence, list[str]]] = {}  # a property: its first evidence, the rules
    doubts: list[MissingInformation] = []
    for finding in found:
        if finding.doubts:
            item = next((e for e in finding.evidence if not e.derived), finding.evidence[0])
            doubts.append(
                MissingInformation(
                    property=item.property,
                    label=item.label,
                    field_id=item.field_id,
                    question=finding.rule.fix,
                    problem=None,
                    needed_by=(finding.rule.id,),
                    doubt=finding,
                    quotes=tuple(e.quote for e in finding.evidence if e.quote),
                )
            )
        elif finding.outcome is FindingStatus.MISSING:
            for item in finding.missing:
                if not item.derived:
                    needed_by.setdefault(item.property, (item, []))[1].append(finding.rule.id)
    order = list(vocabulary.properties)
    ranked = sorted(needed_by.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    return (
        *(
            MissingInformation(
                property=name,
                label=item.label,
                field_id=item.field_id,
                question=spec.ask if (spec := vocabulary.properties.get(name)) and spec.ask else None,
                about=spec.label if spec else name,
                problem=item.problem,
                needed_by=tuple(rules),
                placeholder=item.placeholder,
            )
            for name, (item, rules) in ranked
        ),
        *doubts,
    )
