"""Waivers: a team accepting a known risk on one ticket, visibly: a label `gonogo-waive-RULE[-until-DATE]`
plus the waiver-reason field. It counts only when an approver added it, ends `max_days` after (or on its
until date), and lapses when a field its rule reads changes after approval."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from gonogo.core.jira_shapes.changelog import History, LaterChange, Person
from gonogo.core.pipeline.authority import GroupMembers, Labelled, change_after, may_act, named

LABEL_PREFIX = "gonogo-waive-"
POINTER_KEY = "waiverExpiresOn"  # in gonogo's issue property: the last day the ticket's waivers apply
DEFAULT_MAX_DAYS = 30
_UNTIL = re.compile(r"^(?P<target>.+)-until-(?P<date>[^-]+-[^-]+-[^-]+)$", re.IGNORECASE)


class Refusal(StrEnum):
    """Why a waiver cannot be honoured whoever approved it; `gonogo.render.codes` words each."""

    NOT_A_DATE = "not-a-date"  # its until date is not a date
    NO_REASON = "no-reason"  # the waiver reason field is empty where a reason is required
    BLOCKER = "blocker"  # a show-stopper, and [waivers] allow_blockers is off
    MISSING_INFORMATION = "missing-information"  # missing information is answered, never waived


class WaiverStatus(StrEnum):
    """What became of a waiver label: the values of the JSON's `waiver.status`."""

    ACTIVE = "active"
    NOT_APPROVED = "not-approved"
    EXPIRED = "expired"
    LAPSED_BY_CHANGE = "lapsed-by-change"
    REFUSED = "refused"


@dataclass(frozen=True)
class WaiverPolicy:
    """From [waivers] in gonogo.toml. No approvers means anyone may waive; max_days 0 means no end."""

    allow_blockers: bool = False
    require_reason: bool = True
    approvers: tuple[str, ...] = ()
    max_days: int = DEFAULT_MAX_DAYS


@dataclass(frozen=True)
class Waiver:
    """One waiver label on the ticket, with who added it and when (None when the history does not say)."""

    label: str
    target: str  # "rule" or "checklist.rule"
    reason: str | None
    # Who and when only, not the history entry that added it: its other changes are no input of the
    # ruling, and the inputs digest reads every field.
    added_by: Person | None = None
    added_on: datetime | None = None
    until: date | None = None
    bad_until: str | None = None  # the until text when it is not a date

    @property
    def by(self) -> str | None:
        return self.added_by.name if self.added_by else None

    def matches(self, checklist: str, rule: str) -> bool:
        return self.target in (rule, f"{checklist}.{rule}")


@dataclass(frozen=True)
class WaiverRuling:
    """What gonogo decided about one waiver on one rule, with the dates that decided it."""

    status: WaiverStatus
    approved_by: str | None = None
    approved_on: date | None = None
    expires_on: date | None = None
    refused: Refusal | None = None  # why, when status is REFUSED
    lapse: LaterChange | None = None
    approvers: tuple[str, ...] = ()  # who could approve it, when status is NOT_APPROVED (display names)
    capped_until: date | None = None  # the label's own until date, when [waivers] max_days cut it short


@dataclass(frozen=True)
class WaiverContext:
    today: date
    policy: WaiverPolicy = field(default_factory=WaiverPolicy)
    histories: tuple[History, ...] = ()
    group_members: GroupMembers | None = None  # None: groups cannot be looked up (a ticket file)


def waivers_on(labels: Iterable[Labelled], *, reason: str | None) -> tuple[Waiver, ...]:
    """The waiver labels among a ticket's labels (`labels_with_origin`), each with who added it and when."""
    return tuple(_waiver(label, reason, added) for label, added in labels if is_waiver_label(label))


def is_waiver_label(label: object) -> bool:
    """`gonogo-waive-` in any case, followed by a rule: the one rule for what counts as a waiver."""
    return (
        isinstance(label, str) and len(label) > len(LABEL_PREFIX) and label.lower().startswith(LABEL_PREFIX)
    )


def rule_on(
    waiver: Waiver, *, missing: bool, is_blocker: bool, fields: Mapping[str, str], context: WaiverContext
) -> WaiverRuling:
    """Decide a waiver on a rule: refused, not approved, expired, lapsed by a change, or active (in that
    order). `missing`: the rule lacks data; `fields`: the Jira fields it reads, id → name."""
    if refused := _refusal(waiver, missing=missing, is_blocker=is_blocker, policy=context.policy):
        return WaiverRuling(WaiverStatus.REFUSED, refused=refused)
    approvers = context.policy.approvers
    if not may_act(waiver.added_by, approvers, context.group_members):
        return WaiverRuling(WaiverStatus.NOT_APPROVED, approvers=named(approvers, context.histories))
    moment = waiver.added_on
    approved_on = moment.date() if moment else None
    expires_on = expiry(approved_on, waiver.until, context.policy.max_days)
    capped = waiver.until is not None and expires_on is not None and expires_on < waiver.until
    ruling = WaiverRuling(
        WaiverStatus.ACTIVE,
        approved_by=waiver.by,
        approved_on=approved_on,
        expires_on=expires_on,
        capped_until=waiver.until if capped else None,
    )
    if expires_on is not None and context.today > expires_on:
        return replace(ruling, status=WaiverStatus.EXPIRED)
    if moment and (lapse := change_after(context.histories, moment, fields)):
        return replace(ruling, status=WaiverStatus.LAPSED_BY_CHANGE, lapse=lapse)
    return ruling


def _refusal(waiver: Waiver, *, missing: bool, is_blocker: bool, policy: WaiverPolicy) -> Refusal | None:
    if missing:
        return Refusal.MISSING_INFORMATION
    if is_blocker and not policy.allow_blockers:
        return Refusal.BLOCKER
    if policy.require_reason and not waiver.reason:
        return Refusal.NO_REASON
    return Refusal.NOT_A_DATE if waiver.bad_until is not None else None


def expiry(approved_on: date | None, until: date | None, max_days: int) -> date | None:
    """The last day a waiver applies: its until date, at most max_days after approval; None: no limit."""
    capped = approved_on + timedelta(days=max_days) if approved_on is not None and max_days > 0 else None
    return min((d for d in (until, capped) if d is not None), default=None)


def _waiver(label: str, reason: str | None, added: History | None) -> Waiver:
    target = label[len(LABEL_PREFIX) :]
    waiver = Waiver(
        label=label,
        target=target,
        reason=reason,
        added_by=added.author if added else None,
        added_on=added.created if added else None,
    )
    if (match := _UNTIL.match(target)) is None:
        return waiver
    text = match["date"]
    try:
        until = date.fromisoformat(text) if len(text) == len("YYYY-MM-DD") else None
    except ValueError:
        until = None
    return replace(waiver, target=match["target"], until=until, bad_until=text if until is None else None)


def pointer_keys(ends_on: date | None) -> dict[str, str | None]:
    """The issue-property key a search reads to find tickets whose comment shows a waiver past its date."""
    return {POINTER_KEY: ends_on.isoformat() if ends_on else None}


def waiver_due(pointer: object, today: date) -> bool:
    """Whether a ticket's stored comment shows a waiver whose last day is before `today`."""
    value = pointer.get(POINTER_KEY) if isinstance(pointer, dict) else None
    try:
        return isinstance(value, str) and date.fromisoformat(value) < today
    except ValueError:
        return False
