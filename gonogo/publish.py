"""One gonogo comment per ticket: update it when it exists, create it when it does not.

The ticket carries an issue property pointing at our comment, and the comment carries a comment
property naming it as ours; both are set by the same requests that create them. A re-check is then
two round-trips (read the ticket with its property, update the comment). Without the pointer, the
comments are scanned for our property before posting, so a comment whose pointer was never written
(a lost response) is adopted instead of duplicated; a brand-new ticket with no comments skips the
scan. A pointer to a deleted comment leads to a fresh one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from gonogo.redaction import redact
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


@dataclass(frozen=True)
class Publication:
    action: Action
    comment_id: str


def publish_verdict(
    store: CommentStore, ticket: Ticket, body: str, *, property_key: str, verdict: str
) -> Publication:
    issue = ticket.id or ticket.key  # the id survives a move to another project; the key does not
    body = redact(body)  # a ticket field may quote a secret; nothing gonogo writes may carry one
    pointer = _pointer(ticket.properties.get(property_key))
    if pointer is not None:
        if store.update_comment(issue, pointer, body):
            return Publication(Action.UPDATED, pointer)
        action = Action.RECREATED
    else:
        adopted = _find_own_comment(store, ticket, issue, property_key)
        if adopted is not None and store.update_comment(issue, adopted, body):
            store.set_issue_property(issue, property_key, _pointer_value(adopted, verdict))
            return Publication(Action.UPDATED, adopted)
        action = Action.CREATED
    comment_id = store.create_comment(issue, body, properties={property_key: {"gonogo": True}})
    store.set_issue_property(issue, property_key, _pointer_value(comment_id, verdict))
    return Publication(action, comment_id)


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


def _pointer_value(comment_id: str, verdict: str) -> dict[str, Any]:
    return {"commentId": comment_id, "verdict": verdict}
