"""The bid decision people recorded (gonogo advises; people decide, in a select field or with a label):
who and when (from the change history; only a decision owner's counts), against which verdict, and
whether a field the checks read changed since (it rests on older facts). It never changes the verdict."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from gonogo.core.jira_shapes.changelog import History, LaterChange, changes_to
from gonogo.core.jira_shapes.verdict_labels import DEFAULT_LABEL_PREFIX
from gonogo.core.pipeline.authority import GroupMembers, Labelled, at_creation, change_after, may_act, named
from gonogo.core.pipeline.proposal import Proposal
from gonogo.core.pipeline.ticket import Ticket
from gonogo.core.pipeline.verdict import Verdict

DECISION_PROPERTY = "decision"
REASON_PROPERTY = "decision_reason"
_LABEL_STEM = "decision-"


class BidDecision(StrEnum):
    """What a decision owner decided: the values of the JSON's `decision.decision`."""

    BID = "bid"
    NO_BID = "no-bid"

    @property
    def label(self) -> str:
        return "BID" if self is BidDecision.BID else "NO BID"


class DecisionSource(StrEnum):
    FIELD = "field"
    LABEL = "label"


@dataclass(frozen=True)
class DecisionPolicy:
    """From [decisions] in gonogo.toml. No owners means anyone's decision counts."""

    owners: tuple[str, ...] = ()


@dataclass(frozen=True)
class DecisionRecord:
    """The ticket's decision as gonogo shows it, beside (never instead of) the verdict."""

    decision: BidDecision
    source: DecisionSource
    where: str  # the label, or the field's display name
    by: str | None  # display name; None when the change history does not say
    on: date | None
    reason: str | None
    counts: bool  # made by a decision owner
    verdict: Verdict
    older_facts: LaterChange | None = None
    owners: tuple[str, ...] = ()  # who may decide, by display name where known, when it does not count

    @property
    def against(self) -> bool:
        return is_against(self.decision, self.verdict)


@dataclass(frozen=True)
class DecisionContext:
    policy: DecisionPolicy = field(default_factory=DecisionPolicy)
    label_prefix: str = DEFAULT_LABEL_PREFIX
    group_members: GroupMembers | None = None  # None: groups cannot be looked up (a ticket file)


# A decision as recorded: what, in a label or the field, which label or field, and who added it when.
_Recording = tuple[BidDecision, DecisionSource, str, History | None]


def is_against(decision: BidDecision, verdict: Verdict) -> bool:
    """A bid against a NO-GO, or holding back on a GO (with or without conditions)."""
    if decision is BidDecision.BID:
        return verdict is Verdict.NO_GO
    return verdict in (Verdict.GO, Verdict.GO_WITH_CONDITIONS)


def decision_labels(label_prefix: str) -> dict[str, BidDecision]:
    """The decision labels (case-folded) → what each records. Verdict labels off ("") keep gonogo's."""
    prefix = label_prefix or DEFAULT_LABEL_PREFIX
    return {f"{prefix}{_LABEL_STEM}{d.value}".casefold(): d for d in BidDecision}


def decision_fields(field_map: Mapping[str, str]) -> frozenset[str]:
    """The Jira fields (ids or display names, as mapped) that record a decision and its reason."""
    return frozenset(ref for prop, ref in field_map.items() if prop in (DECISION_PROPERTY, REASON_PROPERTY))


def decision_on(
    ticket: Ticket,
    proposal: Proposal,
    labels: Iterable[Labelled],
    histories: Sequence[History],
    context: DecisionContext,
    *,
    verdict: Verdict,
    facts: Mapping[str, str],
) -> DecisionRecord | None:
    """The ticket's latest recorded decision, on older facts when a field in `facts` changed since."""
    wanted = decision_labels(context.label_prefix)
    found: list[_Recording] = [
        (wanted[label.casefold()], DecisionSource.LABEL, label, added)
        for label, added in labels
        if label.casefold() in wanted
    ]
    # The decision field's value, with the last change that set it (or the creation, if none did).
    value, mapped = proposal.values.get(DECISION_PROPERTY), proposal.sources.get(DECISION_PROPERTY)
    if value in tuple(BidDecision) and mapped is not None:
        ids = {mapped.field_id} if mapped.field_id else set()
        set_by = changes_to(histories, field_ids=ids, field_names={mapped.field_name.casefold()})
        added = set_by[-1][0] if set_by else at_creation(ticket)
        found.append((BidDecision(value), DecisionSource.FIELD, mapped.field_name, added))
    if not found:
        return None
    decision, source, where, added = max(found, key=_moment)
    by = added.author if added else None
    moment = added.created if added else None
    counts = may_act(by, context.policy.owners, context.group_members)
    return DecisionRecord(
        decision=decision,
        source=source,
        where=where,
        by=by.name if by else None,
        on=moment.date() if moment else None,
        reason=proposal.values.get(REASON_PROPERTY),  # a string property: text or left out
        counts=counts,
        verdict=verdict,
        older_facts=change_after(histories, moment, facts, latest=True) if moment else None,
        owners=() if counts else named(context.policy.owners, histories),
    )


def _moment(recording: _Recording) -> tuple[bool, datetime]:
    """Sort key: an unknown moment counts as the oldest."""
    on = recording[3].created if recording[3] else None
    return (on is not None, on or datetime.min)
