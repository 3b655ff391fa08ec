"""Waivers: a team accepting a known risk on one ticket, visibly and with a reason.

A waiver is a Jira label `gonogo-waive-RULE` (or `gonogo-waive-CHECKLIST.RULE`) plus the text of
the ticket's waiver-reason field. Labels are what every Jira user can already set and filter on;
the changelog, when Jira sends it, says who added the label. A waived rule is shown as waived
with who and why, never hidden; a waiver gonogo cannot honour is shown with the reason it was
refused, so nobody believes a risk was accepted when it was not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gonogo.ticket import Ticket

LABEL_PREFIX = "gonogo-waive-"


@dataclass(frozen=True)
class WaiverPolicy:
    """From [waivers] in gonogo.toml."""

    allow_blockers: bool = False
    require_reason: bool = True


@dataclass(frozen=True)
class Waiver:
    label: str
    target: str  # "rule" or "checklist.rule"
    by: str | None
    reason: str | None

    def matches(self, checklist: str, rule: str) -> bool:
        return self.target in (rule, f"{checklist}.{rule}")


def waivers_on(ticket: Ticket, *, reason: str | None) -> tuple[Waiver, ...]:
    """The waiver labels on a ticket, each with who added it (when known) and the shared reason."""
    labels = ticket.fields.get("labels")
    if not isinstance(labels, list):
        return ()
    added_by = label_authors(ticket.changelog)
    return tuple(
        Waiver(label=label, target=label[len(LABEL_PREFIX) :], by=added_by.get(label), reason=reason)
        for label in labels
        if is_waiver_label(label)
    )


def is_waiver_label(label: object) -> bool:
    """`gonogo-waive-` in any case, followed by a rule: the one rule for what counts as a waiver."""
    return (
        isinstance(label, str) and label.lower().startswith(LABEL_PREFIX) and len(label) > len(LABEL_PREFIX)
    )


def refusal(waiver: Waiver, *, is_blocker: bool, policy: WaiverPolicy) -> str | None:
    """Why a waiver cannot be honoured, or None when it can."""
    if is_blocker and not policy.allow_blockers:
        return (
            "a show-stopper cannot be waived here (set [waivers].allow_blockers in gonogo.toml to allow it)"
        )
    if policy.require_reason and not waiver.reason:
        return "a waiver needs a justification in the waiver reason field"
    return None


def changelog_is_complete(changelog: Mapping[str, Any]) -> bool:
    """Whether a changelog holds every entry: Jira pages it (`total`), and a search cuts it short."""
    histories = changelog.get("histories") if isinstance(changelog, Mapping) else None
    total = changelog.get("total") if isinstance(changelog, Mapping) else None
    return (
        isinstance(histories, list)
        and isinstance(total, int)
        and not isinstance(total, bool)
        and total <= len(histories)
        and not changelog.get("startAt")
    )


def label_authors(changelog: Mapping[str, Any]) -> dict[str, str]:
    """Map each label to who added it most recently, from Jira's changelog histories."""
    authors: dict[str, str] = {}
    histories = changelog.get("histories") if isinstance(changelog, Mapping) else None
    if not isinstance(histories, list):
        return authors
    for history in sorted(histories, key=lambda h: str(h.get("created", "")) if isinstance(h, dict) else ""):
        if not isinstance(history, dict):
            continue
        author = history.get("author")
        name = author.get("displayName") if isinstance(author, dict) else None
        items = history.get("items")
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or item.get("field") != "labels" or not isinstance(name, str):
                continue
            before = set(str(item.get("fromString") or "").split())
            for label in set(str(item.get("toString") or "").split()) - before:
                authors[label] = name
    return authors
