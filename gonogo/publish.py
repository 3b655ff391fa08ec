"""One gonogo comment per ticket: update it when it exists, create it when it does not.

The ticket carries an issue property pointing at our comment, and the comment carries a comment
property naming it as ours; both are set by the same requests that create them. A re-check is then
two round-trips (read the ticket with its property, update the comment). Without the pointer, the
comments are scanned for our property before posting, so a comment whose pointer was never written
(a lost response) is adopted instead of duplicated; a brand-new ticket with no comments skips the
scan. A pointer to a deleted comment leads to a fresh one.

Self-healing: a POST whose answer was lost may still be committed by Jira later, after a retry (or
the next run) found nothing and posted again. So a check also looks for extra gonogo comments and
deletes them, keeping the one the pointer names, else the oldest. It costs no request when the
ticket cannot hold a duplicate: the comments embedded in the issue show whether anyone besides
gonogo's comment wrote as its account (only then are the comments' properties read).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from gonogo.errors import JiraError
from gonogo.redaction import redact
from gonogo.ticket import Ticket

log = logging.getLogger(__name__)


class CommentStore(Protocol):
    def comments(self, issue: str) -> Iterator[Any]: ...
    def create_comment(self, issue: str, body: str, *, properties: Mapping[str, Any]) -> str: ...
    def update_comment(self, issue: str, comment_id: str, body: str) -> bool: ...
    def delete_comment(self, issue: str, comment_id: str) -> None: ...
    def set_issue_property(self, issue: str, key: str, value: Mapping[str, Any]) -> None: ...


class Action(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    RECREATED = "recreated"


@dataclass(frozen=True)
class Publication:
    action: Action
    comment_id: str
    removed: tuple[str, ...] = field(default=())  # duplicate gonogo comments deleted by this run


def publish_verdict(
    store: CommentStore, ticket: Ticket, body: str, *, property_key: str, verdict: str
) -> Publication:
    issue = ticket.id or ticket.key  # the id survives a move to another project; the key does not
    body = redact(body)  # a ticket field may quote a secret; nothing gonogo writes may carry one
    pointer = _pointer(ticket.properties.get(property_key))
    if pointer is not None:
        if store.update_comment(issue, pointer, body):
            found = _own_comments(store, issue, property_key) if _may_hold_duplicates(ticket, pointer) else []
            return Publication(Action.UPDATED, pointer, _heal(store, issue, keep=pointer, found=found))
        action = Action.RECREATED
    else:
        own = [] if _known_to_have_no_comments(ticket) else _own_comments(store, issue, property_key)
        for candidate in reversed(own):  # oldest first: the one people may already have answered
            if store.update_comment(issue, candidate, body):
                removed = _heal(store, issue, keep=candidate, found=own)
                store.set_issue_property(issue, property_key, _pointer_value(candidate, verdict))
                return Publication(Action.UPDATED, candidate, removed)
        action = Action.CREATED
    comment_id = store.create_comment(issue, body, properties={property_key: {"gonogo": True}})
    store.set_issue_property(issue, property_key, _pointer_value(comment_id, verdict))
    return Publication(action, comment_id)


def _own_comments(store: CommentStore, issue: str, property_key: str) -> list[str]:
    """Ids of every comment carrying gonogo's property, newest first."""
    return [str(comment.id) for comment in store.comments(issue) if property_key in comment.properties]


def _heal(store: CommentStore, issue: str, *, keep: str, found: list[str]) -> tuple[str, ...]:
    """Delete every gonogo comment in `found` but `keep`; a refused delete is logged, not fatal.

    The verdict is already on the ticket by now: a duplicate that cannot be deleted (the account
    lacks Delete Own Comments) must not turn a successful check into a failed one.
    """
    removed = []
    for comment_id in found:
        if comment_id == keep:
            continue
        try:
            store.delete_comment(issue, comment_id)
        except JiraError as error:
            log.warning("could not delete a duplicate gonogo comment (%s)", error)
            continue
        removed.append(comment_id)
    if removed:
        log.info("deleted %d duplicate gonogo comment(s) on %s", len(removed), issue)
    return tuple(removed)


def _may_hold_duplicates(ticket: Ticket, keep: str) -> bool:
    """Whether the comments embedded in the ticket leave room for a second gonogo comment.

    A duplicate is written by gonogo's account, so it is enough to know whether any comment other
    than `keep` has `keep`'s author. When the embedded page does not show `keep` although Jira
    left comments out, that cannot be told, and the comments are read.
    """
    embedded = ticket.fields.get("comment")
    if not isinstance(embedded, dict) or not isinstance(embedded.get("comments"), list):
        return False  # not fetched (a ticket file): nothing to compare
    shown = [c for c in embedded["comments"] if isinstance(c, dict)]
    kept = next((c for c in shown if str(c.get("id")) == keep), None)
    if kept is None:
        total = embedded.get("total")
        return isinstance(total, int) and total > len(shown)
    author = _author(kept)
    return author is not None and any(str(c.get("id")) != keep and _author(c) == author for c in shown)


def _author(comment: Mapping[str, Any]) -> str | None:
    """Who wrote a comment: Cloud names people by accountId, Data Center by name (or key)."""
    author = comment.get("author")
    if not isinstance(author, dict):
        return None
    for key in ("accountId", "name", "key"):
        if isinstance(author.get(key), str) and author[key]:
            return f"{key}:{author[key]}"
    return None


def _known_to_have_no_comments(ticket: Ticket) -> bool:
    embedded = ticket.fields.get("comment")
    return isinstance(embedded, dict) and embedded.get("total") == 0


def _pointer(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("commentId"), (str, int)):
        return str(value["commentId"])
    return None


def _pointer_value(comment_id: str, verdict: str) -> dict[str, Any]:
    return {"commentId": comment_id, "verdict": verdict}
