"""One gonogo comment per ticket: update it when it exists, create it when it does not.

The ticket carries an issue property pointing at our comment, and the comment carries a comment
property naming it as ours; both are set by the same requests that create them. A re-check reads
the ticket with its property in one GET. Without the pointer, the
comments are scanned for our property before posting, so a comment whose pointer was never written
(a lost response) is adopted instead of duplicated; a brand-new ticket with no comments skips the
scan. A pointer to a deleted comment leads to a fresh one.

The pointer also holds a digest of what was last written (the comment's text and the verdict, which
names the verdict label). A re-check whose comment would come out identical writes nothing: one GET,
no write, so Jira does not mark the comment edited or notify its watchers. A changed comment is one
write for the comment and one for the pointer with its new digest. A pointer without a digest (an
older gonogo) counts as changed once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from gonogo.ticket import Ticket


class CommentStore(Protocol):
    def comments(self, issue: str) -> Iterator[Any]: ...
    def create_comment(self, issue: str, body: str, *, properties: Mapping[str, Any]) -> str: ...
    def update_comment(self, issue: str, comment_id: str, body: str) -> bool: ...
    def set_issue_property(self, issue: str, key: str, value: Mapping[str, Any]) -> None: ...


class Action(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    RECREATED = "recreated"
    UNCHANGED = "unchanged"  # the comment would be identical: nothing was written


@dataclass(frozen=True)
class Publication:
    action: Action
    comment_id: str


def publish_verdict(
    store: CommentStore, ticket: Ticket, body: str, *, property_key: str, verdict: str
) -> Publication:
    issue = ticket.id or ticket.key  # the id survives a move to another project; the key does not
    stored = ticket.properties.get(property_key)
    old: Mapping[str, Any] = stored if isinstance(stored, dict) else {}
    digest = comment_digest(body, verdict)
    pointer = _pointer(stored)
    if pointer is not None:
        gone = _known_to_be_gone(ticket, pointer)
        if not gone and old.get(DIGEST_KEY) == digest:
            return Publication(Action.UNCHANGED, pointer)
        if not gone and store.update_comment(issue, pointer, body):
            store.set_issue_property(issue, property_key, _pointer_value(old, pointer, verdict, digest))
            return Publication(Action.UPDATED, pointer)
        action = Action.RECREATED
    else:
        adopted = _find_own_comment(store, ticket, issue, property_key)
        if adopted is not None and store.update_comment(issue, adopted, body):
            store.set_issue_property(issue, property_key, _pointer_value(old, adopted, verdict, digest))
            return Publication(Action.UPDATED, adopted)
        action = Action.CREATED
    comment_id = store.create_comment(issue, body, properties={property_key: {"gonogo": True}})
    store.set_issue_property(issue, property_key, _pointer_value(old, comment_id, verdict, digest))
    return Publication(action, comment_id)


DIGEST_KEY = "digest"


def comment_digest(body: str, verdict: str) -> str:
    """What decides whether a re-check must write: the comment's exact text and the verdict.

    The verdict stands for the verdict label written with the pointer. Anything that changes the
    text (a new finding, a day closer to the deadline, a new gonogo or checklist version in the
    footer) changes the digest; the text itself carries no run time, so an unchanged ticket keeps it.
    """
    canonical = json.dumps([verdict, body], ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _known_to_be_gone(ticket: Ticket, comment_id: str) -> bool:
    """True when the fetched ticket lists all its comments and ours is not among them (deleted).

    Free: the comments came with the GET. Without a complete list the digest is trusted.
    """
    embedded = ticket.fields.get("comment")
    if not isinstance(embedded, dict):
        return False
    comments = embedded.get("comments")
    if not isinstance(comments, list) or embedded.get("total") != len(comments):
        return False
    return all(not isinstance(c, dict) or str(c.get("id")) != comment_id for c in comments)


def _find_own_comment(store: CommentStore, ticket: Ticket, issue: str, property_key: str) -> str | None:
    if _known_to_have_no_comments(ticket):
        return None
    for comment in store.comments(issue):
        if property_key in comment.properties:
            return str(comment.id)
    return None


def _known_to_have_no_comments(ticket: Ticket) -> bool:
    embedded = ticket.fields.get("comment")
    return isinstance(embedded, dict) and embedded.get("total") == 0


def _pointer(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("commentId"), (str, int)):
        return str(value["commentId"])
    return None


def _pointer_value(old: Mapping[str, Any], comment_id: str, verdict: str, digest: str) -> dict[str, Any]:
    """The new pointer; keys other gonogo versions or features wrote are kept as they were."""
    return {**old, "commentId": comment_id, "verdict": verdict, DIGEST_KEY: digest}
