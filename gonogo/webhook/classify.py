"""What an authenticated delivery asks for: check a ticket, or nothing (and why). Pure.

Understood: a Jira webhook (`jira:issue_created`; `jira:issue_updated` when `check_on_update` is on
and a watched field changed) and a Jira Automation body (`issueKey`/`issueId`, or "Issue data").
The payload is a hint: only the validated key and id are kept, and the project is the key's. Events
by gonogo's own accounts and comment events are ignored (so gonogo's own writes never loop back); a
verdict label or decision moved by anyone else is always re-checked: no hand-made `gonogo-go` stands.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gonogo.core.jira_shapes.changelog import user_ids
from gonogo.core.jira_shapes.verdict_labels import verdict_labels
from gonogo.core.pipeline.decisions import decision_labels
from gonogo.core.pipeline.ticket import ISSUE_KEY

CREATED = "jira:issue_created"
UPDATED = "jira:issue_updated"
AUTOMATION = "automation"

_ISSUE_ID = re.compile(r"[1-9][0-9]{0,18}")
_EVENT_NAME = re.compile(r"[A-Za-z0-9:_.-]{1,64}")


@dataclass(frozen=True)
class Filters:
    """Which events count as "a proposal ticket was created (or changed)"; the rest is ignored."""

    projects: frozenset[str] = frozenset()  # upper-case keys; empty: every project
    issue_types: frozenset[str] = frozenset()  # case-folded names; empty: every issue type
    check_on_update: bool = False
    ignore_accounts: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CheckTicket:
    key: str
    issue_id: str | None  # when known: it survives a move to another project, the key does not
    event: str


@dataclass(frozen=True)
class Ignore:
    """A well-formed delivery that does not concern gonogo; it is acknowledged and dropped."""

    event: str
    reason: str
    key: str | None = None


@dataclass(frozen=True)
class Malformed:
    """Not JSON, or not a shape gonogo understands: answered 400."""

    reason: str


Decision = CheckTicket | Ignore | Malformed


def classify(
    body: bytes,
    *,
    filters: Filters,
    watched_fields: Iterable[str] = (),
    label_prefix: str = "",
    decision_fields: Iterable[str] = (),
) -> Decision:
    """Decide what `body` (already authenticated) asks for. `watched_fields`: the fields the
    checklists read (ids or names, any case); `decision_fields`: the decision field and its reason."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return Malformed("the body is not JSON")
    if not isinstance(data, dict):
        return Malformed("the body is not a JSON object")
    if "webhookEvent" in data:
        decided = {f.casefold() for f in decision_fields}
        return _jira_webhook(data, filters, {f.casefold() for f in watched_fields}, label_prefix, decided)
    if "issueKey" in data or "issueId" in data:  # a custom body
        identity, issue_type = _identity(data.get("issueKey"), data.get("issueId")), data.get("issueType")
        issue_type = issue_type if isinstance(issue_type, str) else None
    elif "key" in data and isinstance(data.get("fields"), dict):  # "Issue data"
        identity = _identity(data.get("key"), data.get("id"))
        issue_type = _type_name(data["fields"])
    else:
        return Malformed('neither a Jira webhook ("webhookEvent") nor an Automation body ("issueKey")')
    if isinstance(identity, Malformed):
        return identity
    unwanted = filtered_out(identity[0].rsplit("-", 1)[0], issue_type, filters)
    return Ignore(AUTOMATION, unwanted, identity[0]) if unwanted else CheckTicket(*identity, AUTOMATION)


def _jira_webhook(
    data: Mapping[str, Any], filters: Filters, watched: set[str], label_prefix: str, decided: set[str]
) -> Decision:
    event = data["webhookEvent"]
    if not isinstance(event, str) or not _EVENT_NAME.fullmatch(event):
        return Malformed('"webhookEvent" is not an event name')
    if event not in (CREATED, UPDATED):
        return Ignore(event, f"{event} events are not checked")
    changed, relabelled = _changes(data.get("changelog"), label_prefix, decided)  # what an update changed
    if event == UPDATED and not filters.check_on_update and not relabelled:
        return Ignore(event, "updates are not checked ([webhook].check_on_update is off)")
    issue = data.get("issue")
    if not isinstance(issue, dict):
        return Malformed('no "issue" object')
    identity = _identity(issue.get("key"), issue.get("id"))
    if isinstance(identity, Malformed):
        return identity
    key, issue_id = identity
    if _caused_by(data, filters.ignore_accounts):
        return Ignore(event, "caused by gonogo's own account", key)
    if unwanted := filtered_out(key.rsplit("-", 1)[0], _type_name(issue.get("fields")), filters):
        return Ignore(event, unwanted, key)
    check = CheckTicket(key, issue_id, event)
    return check if event == CREATED else _update(data, check, relabelled or bool(changed & watched))


def _update(data: Mapping[str, Any], check: CheckTicket, wanted: bool) -> Decision:
    """An update by someone else; a moved verdict label is re-checked: the re-check repairs it."""
    if isinstance(data.get("comment"), dict):
        return Ignore(check.event, "a comment event, not a field change", check.key)
    if wanted:
        return check
    return Ignore(check.event, "no field the checklists read has changed", check.key)


def _identity(key: Any, issue_id: Any) -> tuple[str, str | None] | Malformed:
    if not isinstance(key, str) or not ISSUE_KEY.fullmatch(key):
        return Malformed('no issue key like "BID-42"')
    if issue_id is not None:
        issue_id = str(issue_id) if isinstance(issue_id, (str, int)) else ""
        if not _ISSUE_ID.fullmatch(issue_id):
            return Malformed("the issue id is not a number")
    return key.upper(), issue_id


def _caused_by(data: Mapping[str, Any], accounts: frozenset[str]) -> bool:
    """True when the acting user (or a comment's author) is one of gonogo's own accounts."""
    comment = data.get("comment")
    authors = [comment.get("author"), comment.get("updateAuthor")] if isinstance(comment, dict) else []
    return any(not accounts.isdisjoint(user_ids(person)) for person in (data.get("user"), *authors))


def filtered_out(project_key: str, issue_type: str | None, filters: Filters) -> str | None:
    """Why a ticket of this project and issue type is not a proposal, or None when it is one: one
    rule for the delivery (a first look) and for the fetched ticket (the one that counts).
    `issue_type` None means "not known": the type filter is then left to the fetched ticket."""
    if filters.projects and project_key not in filters.projects:
        return f"project {project_key} is not a proposal project"
    if filters.issue_types and issue_type is not None and issue_type.casefold() not in filters.issue_types:
        return "the issue type is not a proposal type"
    return None


def _type_name(fields: Any) -> str | None:
    """The issue type's name in a payload's `fields`; "" (matches no filter) if it is not a string."""
    issue_type = fields.get("issuetype") if isinstance(fields, dict) else None
    if not isinstance(issue_type, dict):
        return None
    return name if isinstance(name := issue_type.get("name"), str) else ""


def _changes(changelog: Any, label_prefix: str, decided: set[str]) -> tuple[set[str], bool]:
    """One reading of an update's changelog: the fields it changed (ids and names, case-folded), and
    whether it moved a verdict label (as written, on the field whose id is labels), a decision label
    (any case, by id or name) or a `decided` field."""
    raw = changelog.get("items") if isinstance(changelog, dict) else None
    items = raw if isinstance(raw, list) else []
    ours, decisions = verdict_labels(label_prefix), decision_labels(label_prefix).keys()
    changed: set[str] = set()
    moved: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            continue
        names = {n.casefold() for n in (item.get("fieldId"), item.get("field")) if isinstance(n, str)}
        changed |= names
        if "labels" not in names:
            continue
        before, after = str(item.get("fromString") or "").split(), str(item.get("toString") or "").split()
        if str(item.get("fieldId") or item.get("field")).casefold() == "labels":
            moved |= (set(before) ^ set(after)) & ours
        moved |= (set(map(str.casefold, before)) ^ set(map(str.casefold, after))) & decisions
    return changed, bool(moved or changed & decided)
