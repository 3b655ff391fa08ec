"""Run checklists over a proposal: findings with their evidence, then the verdict.

Pure: no Jira, no files, no clock. Every finding carries the properties it looked at, where each
came from and what it said (or that it was absent), because a verdict nobody can check is a verdict
nobody should trust.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gonogo.checklists import Checklist, Rule, Severity
from gonogo.proposal import Proposal
from gonogo.ticket import Ticket
from gonogo.verdict import Verdict, decide
from gonogo.vocabulary import Vocabulary


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    MISSING = "missing"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Evidence:
    """One property as the rule saw it. `value` is None when the ticket did not say."""

    property: str
    label: str
    field_id: str | None
    value: Any
    problem: str | None = None


@dataclass(frozen=True)
class Finding:
    checklist: str
    rule: Rule
    outcome: Outcome
    evidence: tuple[Evidence, ...]

    @property
    def missing(self) -> tuple[Evidence, ...]:
        return tuple(e for e in self.evidence if e.value is None)


@dataclass(frozen=True)
class MissingInformation:
    """A property some rule needs but the ticket does not give (or gives unusably)."""

    property: str
    label: str
    field_id: str | None
    question: str
    problem: str | None
    needed_by: tuple[str, ...]


@dataclass(frozen=True)
class Assessment:
    ticket_key: str
    ticket_id: str | None
    summary: str | None
    verdict: Verdict
    findings: tuple[Finding, ...]
    missing_information: tuple[MissingInformation, ...]
    checklists: tuple[Checklist, ...]


def assess(
    ticket: Ticket,
    proposal: Proposal,
    checklists: Sequence[Checklist],
    vocabulary: Vocabulary,
) -> Assessment:
    applicable = tuple(
        c for c in checklists if c.applies_to(project=ticket.project_key, issue_type=ticket.issue_type)
    )
    findings = tuple(
        evaluate_rule(checklist.id, rule, proposal, vocabulary)
        for checklist in applicable
        for rule in checklist.rules
    )
    missing = _missing_information(findings, vocabulary)
    verdict = decide(
        failed_blockers=sum(
            f.outcome is Outcome.FAILED and f.rule.severity is Severity.BLOCKER for f in findings
        ),
        missing_information=len(missing),
        failed_majors=sum(
            f.outcome is Outcome.FAILED and f.rule.severity is Severity.MAJOR for f in findings
        ),
    )
    summary = proposal.values.get("summary")
    return Assessment(
        ticket_key=ticket.key,
        ticket_id=ticket.id,
        summary=summary if isinstance(summary, str) else None,
        verdict=verdict,
        findings=findings,
        missing_information=missing,
        checklists=applicable,
    )


def evaluate_rule(checklist_id: str, rule: Rule, proposal: Proposal, vocabulary: Vocabulary) -> Finding:
    evidence = tuple(_evidence(name, proposal, vocabulary) for name in _with_sources(rule.uses, vocabulary))
    present = {name: proposal.values[name] for name in rule.uses if name in proposal.values}
    if len(present) < len(rule.uses):
        outcome = Outcome.MISSING if rule.ask_when_missing else Outcome.SKIPPED
    elif rule.validator.is_valid(present):
        outcome = Outcome.PASSED
    else:
        outcome = Outcome.FAILED
    return Finding(checklist=checklist_id, rule=rule, outcome=outcome, evidence=evidence)


def _with_sources(names: Sequence[str], vocabulary: Vocabulary) -> list[str]:
    """A derived property's evidence starts with what it was computed from, all the way down."""
    ordered: list[str] = []

    def add(name: str) -> None:
        spec = vocabulary.properties.get(name)
        for source in spec.derived_from if spec else ():
            add(source)
        if name not in ordered:
            ordered.append(name)

    for name in names:
        add(name)
    return ordered


def _evidence(name: str, proposal: Proposal, vocabulary: Vocabulary) -> Evidence:
    spec = vocabulary.properties.get(name)
    source = proposal.sources.get(name)
    label = source.field_name if source else (spec.label if spec else name)
    if spec is not None and source is not None and source.field_name == source.field_id:
        label = spec.label
    return Evidence(
        property=name,
        label=label,
        field_id=source.field_id if source else None,
        value=proposal.values.get(name),
        problem=proposal.problems.get(name),
    )


def _missing_information(
    findings: Sequence[Finding], vocabulary: Vocabulary
) -> tuple[MissingInformation, ...]:
    """Group what is missing by property, so each question is asked once, however many rules need it."""
    needed_by: dict[str, list[str]] = {}
    first: dict[str, Evidence] = {}
    for finding in findings:
        if finding.outcome is not Outcome.MISSING:
            continue
        for item in finding.missing:
            spec = vocabulary.properties.get(item.property)
            if spec is not None and spec.is_derived:
                continue
            first.setdefault(item.property, item)
            needed_by.setdefault(item.property, []).append(finding.rule.id)
    return tuple(
        MissingInformation(
            property=name,
            label=item.label,
            field_id=item.field_id,
            question=_question(name, vocabulary),
            problem=item.problem,
            needed_by=tuple(needed_by[name]),
        )
        for name, item in first.items()
    )


def _question(name: str, vocabulary: Vocabulary) -> str:
    spec = vocabulary.properties.get(name)
    if spec is not None and spec.ask:
        return spec.ask
    return f"What is the {spec.label if spec else name} for this bid?"
