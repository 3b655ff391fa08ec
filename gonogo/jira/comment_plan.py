"""Which edits keep exactly one gonogo verdict comment on a ticket, decided from what Jira holds now:
the pointer (an issue property) names gonogo's comment, which carries gonogo's property. Pure: the
executor (`sticky_comment`) passes in the fetched ticket, the comments and gonogo's account.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from gonogo.core.jira_shapes.comment_format import CommentAction, CommentBody
from gonogo.core.jira_shapes.verdict_labels import LabelChange, label_change
from gonogo.core.pipeline.inputs_digest import INPUTS_KEY
from gonogo.core.pipeline.ticket import Ticket
from gonogo.core.pipeline.verdict_history import HistoryEntry, with_entry
from gonogo.jira.rest import RemoteComment, remote_comment

DIGEST_KEY = "digest"
# An HMAC of (ticket, comment id) keyed by gonogo's API token: anyone who may edit the ticket may
# set the pointer, but only gonogo can seal one, so a sealed pointer is trusted without a request.
SEAL_KEY = "seal"


class Write(Enum):
    NOTHING = "nothing"  # comment, pointer and label would come out as they are: Jira notifies nobody
    POINTER = "pointer"  # same text and label, the pointer is news: the comment is not marked edited
    COMMENT = "comment"  # body, pointer and label in one issue edit
    ADOPT = "adopt"  # no pointer to trust: gonogo's oldest own comment becomes the verdict comment
    POST = "post"


@dataclass(frozen=True)
class Plan:
    action: CommentAction
    write: Write
    target: str | None  # the comment written through; None: adopt one of `candidates` or post
    own: tuple[str, ...] = ()  # gonogo's comments found: all but the one kept are duplicates
    candidates: tuple[str, ...] = ()  # ADOPT: gonogo's comments, oldest first
    distrusted: bool = False  # the pointer named a comment gonogo did not write


@dataclass(frozen=True)
class Facts:
    """What the fetched ticket says about gonogo's comment, and the pointer gonogo would write."""

    issue: str  # the id: it survives a move to another project, the key does not
    key: str
    property_key: str
    pointer: str | None  # the comment the pointer names, unless it is known to be gone
    labels: LabelChange
    record: Callable[[str], dict[str, Any]]  # the issue properties pointing at a comment, sealed
    unchanged: bool
    same_text: bool
    must_verify: bool  # the pointer is unsealed and a write is due: check it before writing through it
    known_gone: bool  # the GET listed every comment, and the pointed one is not among them
    known_empty: bool
    may_duplicate: bool  # the embedded comments leave room for a second gonogo comment

    def trusted(self, pointed_is_own: bool | None) -> str | None:
        return None if self.must_verify and not pointed_is_own else self.pointer

    def needs_scan(self, trusted: str | None) -> bool:
        """Whether the comments must be read: to adopt or heal. A brand-new ticket skips it."""
        if trusted is not None:
            return self.may_duplicate
        return self.pointer is not None or not (self.known_gone or self.known_empty)


def read_facts(
    ticket: Ticket,
    body: CommentBody,
    *,
    property_key: str,
    verdict: str,
    label_prefix: str,
    entry: HistoryEntry | None,
    extra: Mapping[str, Any],
    seal: Callable[[str, str], str],
) -> Facts:
    """`extra` keys join the pointer (None: left out); `entry` joins its history when it is news."""
    issue = ticket.id or ticket.key
    stored = ticket.properties.get(property_key)
    old: Mapping[str, Any] = stored if isinstance(stored, dict) else {}
    written = {DIGEST_KEY: comment_digest(body, verdict), **extra}

    def record(comment_id: str) -> dict[str, Any]:
        value = {**old, "commentId": comment_id, "verdict": verdict, **written}
        value = {key: item for key, item in value.items() if item is not None or key not in written}
        value = with_entry(value, entry) if entry is not None else value
        return {property_key: {**value, SEAL_KEY: seal(issue, comment_id)}}

    pointer = _pointer(stored)
    gone, duplicates = _embedded_view(ticket, pointer) if pointer is not None else (False, False)
    labels = label_change(ticket.fields.get("labels"), verdict=verdict, prefix=label_prefix)
    # The seal alone differs between two tokens of one account: that must not rewrite a comment.
    unsealed = {**record(pointer)[property_key], SEAL_KEY: None} if pointer is not None else None
    unchanged = not labels and unsealed == {**old, SEAL_KEY: None}
    seal_found = old.get(SEAL_KEY)
    must_verify = (
        pointer is not None
        and not gone
        and not unchanged
        and not (isinstance(seal_found, str) and hmac.compare_digest(seal_found, seal(issue, pointer)))
    )
    return Facts(
        issue=issue,
        key=ticket.key,
        property_key=property_key,
        pointer=None if gone else pointer,
        labels=labels,
        record=record,
        unchanged=unchanged,
        same_text=not labels and old.get(DIGEST_KEY) == written[DIGEST_KEY],
        must_verify=must_verify,
        known_gone=gone,
        known_empty=_embedded(ticket).get("total") == 0,
        may_duplicate=duplicates,
    )


def plan(
    facts: Facts, *, trusted: str | None, scanned: Sequence[RemoteComment] | None, me: str | None
) -> Plan:
    """The edits, given the trusted pointer, the comments read (None: not read) and who gonogo is."""
    if trusted is not None:
        if scanned is not None and all(c.id != trusted for c in scanned):
            return Plan(CommentAction.RECREATED, Write.POST, None)  # ours was deleted: nothing adopted
        own = gonogo_comments(scanned or [], facts.property_key, keep=trusted, me=me)
        if not own or trusted in own:  # else gonogo's comments are elsewhere: never delete them
            if facts.unchanged or facts.same_text:
                write = Write.NOTHING if facts.unchanged else Write.POINTER
                return Plan(CommentAction.UNCHANGED, write, trusted, own)
            return Plan(CommentAction.UPDATED, Write.COMMENT, trusted, own)
    elif facts.known_gone:
        return Plan(CommentAction.RECREATED, Write.POST, None)
    # Without a pointer to trust: gonogo's oldest comment (people may have answered it), else a new one.
    own = gonogo_comments(scanned or [], facts.property_key, keep=None, me=me)
    distrusted = facts.pointer is not None
    if own:
        return Plan(CommentAction.UPDATED, Write.ADOPT, None, own, tuple(reversed(own)), distrusted)
    return Plan(CommentAction.CREATED, Write.POST, None, distrusted=distrusted)


def needs_me(scanned: Sequence[RemoteComment] | None, property_key: str, keep: str | None) -> bool:
    """Whether telling gonogo's comments apart needs gonogo's account (one `GET myself`)."""
    return any(property_key in c.properties and c.id != keep for c in scanned or [])


def gonogo_comments(
    comments: Sequence[RemoteComment], property_key: str, *, keep: str | None, me: str | None
) -> tuple[str, ...]:
    """Ids of the comments gonogo's account wrote with gonogo's property, in the order given: anyone
    may set a property on their own comment, and a person's comment is never adopted or deleted."""
    marked = [c for c in comments if property_key in c.properties]
    if all(c.id == keep for c in marked):
        return tuple(c.id for c in marked)
    return tuple(c.id for c in marked if me is not None and c.author == me)


def comment_digest(body: CommentBody, verdict: str) -> str:
    """What decides whether a re-check must write: the comment's exact text and the verdict (the label).
    The text carries no run time, so an unchanged ticket keeps its digest; a format switch changes it."""
    canonical = json.dumps([verdict, body.content], ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def standing_comment(
    ticket: Ticket, *, property_key: str, inputs: str, verdict: str, label_prefix: str
) -> str | None:
    """The id of the verdict comment when it was made from exactly `inputs` and stands as is: publishing
    would write nothing, so a caller can skip the path to GO and the rendering too."""
    stored = ticket.properties.get(property_key, {})
    pointer = _pointer(stored)  # None unless `stored` is a dict
    if pointer is None or stored.get(INPUTS_KEY) != inputs or stored.get("verdict") != verdict:
        return None
    labels = label_change(ticket.fields.get("labels"), verdict=verdict, prefix=label_prefix)
    return None if labels or any(_embedded_view(ticket, pointer)) else pointer


def _embedded(ticket: Ticket) -> dict[str, Any]:
    """The comments that came with the GET (a ticket file has none)."""
    embedded = ticket.fields.get("comment")
    return embedded if isinstance(embedded, dict) else {}


def _embedded_view(ticket: Ticket, keep: str) -> tuple[bool, bool]:
    """What the GET's comments tell for free about comment `keep`: whether it is gone (they are all
    the ticket's, and it is not among them), and whether it may have duplicates (another comment by
    its author: a duplicate is gonogo's account's; or it is not shown although Jira left some out)."""
    embedded = _embedded(ticket)
    listed = embedded.get("comments")
    if not isinstance(listed, list):
        return False, False
    shown = [remote_comment(c) for c in listed if isinstance(c, dict)]
    total = embedded.get("total")
    kept = next((c for c in shown if c.id == keep), None)
    if kept is None:
        return total == len(listed), isinstance(total, int) and total > len(shown)
    others = (c.author for c in shown if c.id != keep)
    return False, kept.author is not None and kept.author in others


def _pointer(value: Any) -> str | None:
    """The comment id the pointer names. Anyone who may edit the ticket may set it, and the id goes
    into request paths: only Jira's decimal ids, so "../../BID-2/comment/7" reaches no other ticket."""
    found = value.get("commentId") if isinstance(value, dict) else None
    if isinstance(found, bool) or not isinstance(found, (str, int)):
        return None
    return str(found) if str(found).isascii() and str(found).isdecimal() else None
