"""One gonogo comment per ticket: update it when it exists, create it when it does not.

The ticket carries an issue property pointing at our comment, and the comment carries a comment
property naming it as ours; both are set by the same requests that create them. The pointer and
the verdict label (`gonogo.core.jira_shapes.verdict_labels`) are written by one issue edit.
Without the pointer, the
comments are scanned for our property before posting, so a comment whose pointer was never written
(a lost response) is adopted instead of duplicated; a brand-new ticket with no comments skips the
scan. A pointer to a deleted comment leads to a fresh one.

The pointer also holds a digest of what was last written: the comment's exact text and the verdict
(which names the verdict label), and the caller may add the digest of what it was made from
(`gonogo.core.pipeline.inputs_digest`; `standing_comment` compares it before anything is rendered). A
re-check whose comment, pointer and label would all come out as they are writes nothing: one GET,
no write, so Jira neither marks the comment edited nor notifies its watchers ("unchanged").
Anything else that changed is one issue edit carrying the comment's new body, the pointer with its
new digest and the label together; when only the pointer is news (the same text and label), the
pointer alone is written, so the comment is not marked edited. A pointer without a digest (an
older gonogo) counts as changed once. When the ticket's comments came with the GET and ours is not
among them (someone deleted it), a new one is posted without trying the old one first; when only
some came, the pages read for self-healing tell whether ours is gone.

The pointer also carries the ticket's verdict history (`gonogo.core.pipeline.verdict_history`):
today's verdict and
score join it when they are news, in the same write that records the pointer, and every other key
of the pointer is kept as it is. An unchanged verdict and score leave the pointer as it was.

Callers may keep more in the pointer (`extra`: the last day the ticket's waivers hold, so a later
search finds tickets due for a re-check without reading each one). A key whose value is None is
left out, and the pointer is written again only when its content changed.

Self-healing: a POST whose answer was lost may still be committed by Jira later, after a retry (or
the next run) found nothing and posted again. So a check also looks for extra gonogo comments and
deletes them, keeping the one the pointer names, else the oldest. A gonogo comment carries the
property and was written by gonogo's own account: a person may put the property on their comment,
and it is then neither adopted nor deleted. It costs no request when the
ticket cannot hold a duplicate: the comments embedded in the issue show whether anyone besides
gonogo's comment wrote as its account (only then are the comments' properties read).

The body is a `CommentBody`: ADF for Cloud (REST v3), wiki markup for Data Center (REST v2). The
comment is found by its property, never by its text, so a comment posted as wiki markup is adopted
and updated in place as ADF when a site switches format.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from gonogo.core.errors import EditRefused, JiraError
from gonogo.core.jira_shapes.comment_format import CommentBody
from gonogo.core.jira_shapes.publication import CommentAction, Publication
from gonogo.core.jira_shapes.verdict_labels import (
    DEFAULT_LABEL_PREFIX,
    NO_LABEL_CHANGE,
    LabelChange,
    label_change,
)
from gonogo.core.pipeline.inputs_digest import INPUTS_KEY
from gonogo.core.pipeline.ticket import Ticket
from gonogo.core.pipeline.verdict_history import HistoryEntry, with_entry
from gonogo.jira.accounts import account_key
from gonogo.redaction import redact

log = logging.getLogger(__name__)


class CommentStore(Protocol):
    def comments(self, issue: str) -> Iterator[Any]: ...
    def comment(self, issue: str, comment_id: str) -> Any | None: ...
    def own_account(self) -> str | None: ...
    def pointer_seal(self, issue: str, comment_id: str) -> str: ...
    def create_comment(self, issue: str, body: CommentBody, *, properties: Mapping[str, Any]) -> str: ...
    def update_comment(self, issue: str, comment_id: str, body: CommentBody) -> bool: ...
    def delete_comment(self, issue: str, comment_id: str) -> None: ...
    def edit_issue(
        self,
        issue: str,
        *,
        properties: Mapping[str, Any],
        labels: LabelChange = NO_LABEL_CHANGE,
        comment: tuple[str, CommentBody] | None = None,
    ) -> None: ...


def publish_verdict(
    store: CommentStore,
    ticket: Ticket,
    body: CommentBody,
    *,
    property_key: str,
    verdict: str,
    label_prefix: str = DEFAULT_LABEL_PREFIX,
    entry: HistoryEntry | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Publication:
    """Post or update the verdict comment and record it (pointer with history, verdict label).

    `entry` (today's verdict and score) joins the pointer's history when it is news; see the module.
    """
    issue = ticket.id or ticket.key  # the id survives a move to another project; the key does not
    body = body.redacted(redact)  # a ticket field may quote a secret; nothing gonogo writes may carry one
    stored = ticket.properties.get(property_key)
    old: Mapping[str, Any] = stored if isinstance(stored, dict) else {}
    extra = extra or {}
    labels = label_change(ticket.fields.get("labels"), verdict=verdict, prefix=label_prefix)
    written = {DIGEST_KEY: comment_digest(body, verdict), **extra}
    pointer = _pointer(stored)
    record_for = _recorder(store, issue, property_key, old, verdict, entry, written)
    if pointer is not None and not _known_to_be_gone(ticket, pointer):
        record = record_for(pointer)
        unchanged = not labels and _unsealed(record[property_key]) == _unsealed(old)
        if not unchanged and not _trusted(store, issue, old, pointer, property_key):
            return _distrust(
                store, ticket, body, pointer, property_key=property_key, record=record_for, labels=labels
            )
        if unchanged:
            action, updated = CommentAction.UNCHANGED, True  # same text, pointer and label: no write
        elif not labels and old.get(DIGEST_KEY) == written[DIGEST_KEY]:
            _record(store, ticket, record, labels)  # same text and label: only the pointer is news
            action, updated = CommentAction.UNCHANGED, True
        elif _edit_together(store, issue, (pointer, body), record, labels):
            action, updated = CommentAction.UPDATED, True
        elif store.update_comment(issue, pointer, body):  # the edit was refused: one part at a time
            _record(store, ticket, record, labels)
            action, updated = CommentAction.UPDATED, True
        else:
            updated = False
        if updated:
            scanned = list(store.comments(issue)) if _may_hold_duplicates(ticket, pointer) else None
            there = scanned is None or any(str(c.id) == pointer for c in scanned)
            if there or action is not CommentAction.UNCHANGED:
                found = _own_comments(store, scanned or [], property_key, keep=pointer)
                if found and pointer not in found:  # gonogo's comments are elsewhere: never delete them
                    return _distrust(
                        store,
                        ticket,
                        body,
                        pointer,
                        property_key=property_key,
                        record=record_for,
                        labels=labels,
                    )
                return Publication(action, pointer, _heal(store, issue, keep=pointer, found=found))
            # Nothing was written, and every page of comments lacks ours: deleted on a ticket whose
            # embedded list was partial, so the digest's "unchanged" was about a comment that is gone.
    if pointer is not None:
        comment_id = _post(store, issue, body, property_key)
        _record(store, ticket, record_for(comment_id), labels)
        return Publication(CommentAction.RECREATED, comment_id)
    return _adopt_or_post(store, ticket, body, property_key=property_key, record=record_for, labels=labels)


def _distrust(
    store: CommentStore,
    ticket: Ticket,
    body: CommentBody,
    pointer: str,
    *,
    property_key: str,
    record: Callable[[str], dict[str, Any]],
    labels: LabelChange,
) -> Publication:
    """The pointer names a comment that is not gonogo's (a person may set it): heal it, never edit."""
    log.warning(
        "the verdict pointer on %s named comment %s, which gonogo did not write: pointed at its own instead",
        ticket.key,
        pointer,
    )
    return _adopt_or_post(store, ticket, body, property_key=property_key, record=record, labels=labels)


def _recorder(
    store: CommentStore,
    issue: str,
    property_key: str,
    old: Mapping[str, Any],
    verdict: str,
    entry: HistoryEntry | None,
    written: Mapping[str, Any],
) -> Callable[[str], dict[str, Any]]:
    """The issue properties that point at a given comment (see `_pointer_value`), sealed."""

    def record(comment_id: str) -> dict[str, Any]:
        value = _pointer_value(old, comment_id, verdict, entry, written)
        return {property_key: {**value, SEAL_KEY: store.pointer_seal(issue, comment_id)}}

    return record


def _unsealed(pointer: Mapping[str, Any]) -> dict[str, Any]:
    """The pointer without its seal: another token of the same account seals differently, and that
    alone must not rewrite (and so re-notify) an unchanged comment."""
    return {key: value for key, value in pointer.items() if key != SEAL_KEY}


def _trusted(
    store: CommentStore, issue: str, pointer: Mapping[str, Any], comment_id: str, property_key: str
) -> bool:
    """Whether gonogo may write through the pointer: its seal is gonogo's, or the comment is its own."""
    seal = pointer.get(SEAL_KEY)
    if isinstance(seal, str) and hmac.compare_digest(seal, store.pointer_seal(issue, comment_id)):
        return True
    return _is_own(store, issue, comment_id, property_key)


def _post(store: CommentStore, issue: str, body: CommentBody, property_key: str) -> str:
    return store.create_comment(issue, body, properties={property_key: {"gonogo": True}})


def _adopt_or_post(
    store: CommentStore,
    ticket: Ticket,
    body: CommentBody,
    *,
    property_key: str,
    record: Callable[[str], dict[str, Any]],
    labels: LabelChange,
) -> Publication:
    """Without a pointer to trust: adopt gonogo's oldest own comment, else post one; point at it."""
    issue = ticket.id or ticket.key
    scanned = [] if _known_to_have_no_comments(ticket) else list(store.comments(issue))
    own = _own_comments(store, scanned, property_key, keep=None)
    for adopted in reversed(own):  # oldest first: the one people may already have answered
        if store.update_comment(issue, adopted, body):
            _record(store, ticket, record(adopted), labels)
            return Publication(CommentAction.UPDATED, adopted, _heal(store, issue, keep=adopted, found=own))
    comment_id = _post(store, issue, body, property_key)
    _record(store, ticket, record(comment_id), labels)
    return Publication(CommentAction.CREATED, comment_id)


def _is_own(store: CommentStore, issue: str, comment_id: str, property_key: str) -> bool:
    """Whether the comment a pointer names is gonogo's: its own account wrote it, with its property.

    Asked when the pointer carries no valid seal (an older gonogo, another token, or a person's
    doing): one `GET` of the comment, and `GET myself` once per gateway. A comment that is gone
    counts as gonogo's here: the edit then fails and a new comment is posted, as before.
    """
    comment = store.comment(issue, comment_id)
    if comment is None:
        return True
    return (
        property_key in comment.properties
        and comment.author is not None
        and comment.author == store.own_account()
    )


DIGEST_KEY = "digest"
# An HMAC of (ticket, comment id) keyed by gonogo's API token: anyone who may edit the ticket may
# set the pointer, but only gonogo can seal one, so a sealed pointer is trusted without a request.
SEAL_KEY = "seal"


def comment_digest(body: CommentBody, verdict: str) -> str:
    """What decides whether a re-check must write: the comment's exact text and the verdict.

    The verdict stands for the verdict label. The body is the wiki string or the ADF document, so
    a switch of format changes the digest too. Anything that changes the text (a new finding, a day
    closer to the deadline, a new gonogo or checklist version in the footer) changes the digest;
    the text carries no run time, so an unchanged ticket keeps it.
    """
    canonical = json.dumps([verdict, body.content], ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def standing_comment(
    ticket: Ticket, *, property_key: str, inputs: str, verdict: str, label_prefix: str = DEFAULT_LABEL_PREFIX
) -> str | None:
    """The id of the ticket's verdict comment when it was made from exactly `inputs` and stands as is.

    That is: the pointer records these inputs (`gonogo.core.pipeline.inputs_digest`) and this verdict, the
    verdict label is in place, and the comments that came with the ticket show neither that ours
    is gone nor room for a duplicate. Then publishing would write nothing, so a caller can skip
    the path to GO and the rendering too. None: publish as usual (`publish_verdict` decides).
    """
    stored = ticket.properties.get(property_key)
    pointer = _pointer(stored)
    if pointer is None or not isinstance(stored, dict):
        return None
    if stored.get(INPUTS_KEY) != inputs or stored.get("verdict") != verdict:
        return None
    if label_change(ticket.fields.get("labels"), verdict=verdict, prefix=label_prefix):
        return None
    if _known_to_be_gone(ticket, pointer) or _may_hold_duplicates(ticket, pointer):
        return None
    return pointer


def _known_to_be_gone(ticket: Ticket, comment_id: str) -> bool:
    """True when the fetched ticket lists all its comments and ours is not among them (deleted).

    Free: the comments came with the GET. Without a complete list the pointer is trusted.
    """
    embedded = ticket.fields.get("comment")
    if not isinstance(embedded, dict):
        return False
    comments = embedded.get("comments")
    if not isinstance(comments, list) or embedded.get("total") != len(comments):
        return False
    return all(not isinstance(c, dict) or str(c.get("id")) != comment_id for c in comments)


def _edit_together(
    store: CommentStore,
    issue: str,
    comment: tuple[str, CommentBody],
    record: Mapping[str, Any],
    labels: LabelChange,
) -> bool:
    """The comment's new body, the pointer and the label in one request; False if Jira refused it.

    A refusal (a deleted comment, labels off the edit screen) changed nothing: the caller then
    does the parts one at a time, which tells those cases apart.
    """
    try:
        store.edit_issue(issue, properties=record, labels=labels, comment=comment)
    except EditRefused:
        return False
    return True


def _record(store: CommentStore, ticket: Ticket, record: Mapping[str, Any], labels: LabelChange) -> None:
    """Write the pointer and the verdict label in one issue edit.

    A site whose edit screen lacks the Labels field refuses the whole edit; the pointer matters
    more than the label, so it is then written alone and the missing label is reported.
    """
    issue = ticket.id or ticket.key
    try:
        store.edit_issue(issue, properties=record, labels=labels)
    except EditRefused as refused:
        if not labels:
            raise
        log.warning(
            "the verdict label was not set on %s (%s): add the Labels field to the edit screen, "
            'or set [jira] label_prefix = "" to turn verdict labels off',
            ticket.key,
            refused,
        )
        store.edit_issue(issue, properties=record)


def _own_comments(
    store: CommentStore, comments: list[Any], property_key: str, *, keep: str | None
) -> list[str]:
    """Ids of the comments gonogo's own account wrote with gonogo's property, in `comments`' order.

    Anyone may set a property on their own comment, so the property alone does not make a comment
    gonogo's: a person's comment is never adopted (overwritten) nor healed (deleted). Who gonogo is
    costs one `GET myself`, asked only when a marked comment besides `keep` exists.
    """
    marked = [comment for comment in comments if property_key in comment.properties]
    if all(str(comment.id) == keep for comment in marked):
        return [str(comment.id) for comment in marked]
    me = store.own_account()
    return [str(comment.id) for comment in marked if me is not None and comment.author == me]


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
    author = account_key(kept.get("author"))
    return author is not None and any(
        str(c.get("id")) != keep and account_key(c.get("author")) == author for c in shown
    )


def _known_to_have_no_comments(ticket: Ticket) -> bool:
    embedded = ticket.fields.get("comment")
    return isinstance(embedded, dict) and embedded.get("total") == 0


def _pointer(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("commentId"), (str, int)):
        return str(value["commentId"])
    return None


def _pointer_value(
    old: Mapping[str, Any],
    comment_id: str,
    verdict: str,
    entry: HistoryEntry | None,
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    """The pointer to write: the stored one's other keys kept, our comment, verdict, history, `extra`."""
    value = {**old, "commentId": comment_id, "verdict": verdict, **extra}
    value = {key: item for key, item in value.items() if item is not None or key not in extra}
    return with_entry(value, entry) if entry is not None else value
