"""One gonogo comment per ticket: reads only what `comment_plan.plan` needs (the request counts are in
docs/jira.md), then carries it out, one part at a time when Jira refuses a planned edit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from gonogo.core.errors import EditRefused, JiraError
from gonogo.core.jira_shapes.comment_format import CommentAction, CommentBody, Publication
from gonogo.core.pipeline.ticket import Ticket
from gonogo.core.pipeline.verdict_history import HistoryEntry
from gonogo.jira.comment_plan import Facts, Plan, Write, needs_me, plan, read_facts
from gonogo.jira.gateway import JiraGateway
from gonogo.redaction import redact

log = logging.getLogger(__name__)


def publish_verdict(
    gateway: JiraGateway,
    ticket: Ticket,
    body: CommentBody,
    *,
    property_key: str,
    verdict: str,
    label_prefix: str,
    entry: HistoryEntry,
    extra: Mapping[str, Any],
) -> Publication:
    """Post or update the verdict comment and record it (pointer with history, verdict label)."""
    body = body.redacted(redact)  # a ticket field may quote a secret
    facts = read_facts(
        ticket,
        body,
        property_key=property_key,
        verdict=verdict,
        label_prefix=label_prefix,
        entry=entry,
        extra=extra,
        seal=gateway.pointer_seal,
    )
    trusted = facts.trusted(_is_own(gateway, facts) if facts.must_verify else None)
    scanned = list(gateway.comments(facts.issue)) if facts.needs_scan(trusted) else None
    me = gateway.own_account() if needs_me(scanned, property_key, trusted) else None
    edits = plan(facts, trusted=trusted, scanned=scanned, me=me)
    if edits.distrusted:
        forged = "the verdict pointer on %s named comment %s, which gonogo did not write"
        log.warning(f"{forged}: pointed at its own instead", facts.key, facts.pointer)
    return _carry_out(gateway, facts, edits, body)


def _carry_out(gateway: JiraGateway, facts: Facts, edits: Plan, body: CommentBody) -> Publication:
    """Write what the plan says; a comment found gone on the way is posted anew."""
    issue, target = facts.issue, edits.target
    if edits.write is Write.POINTER and target is not None:
        _record(gateway, facts, target)
    elif edits.write is Write.COMMENT and target is not None and not _rewrite(gateway, facts, target, body):
        return _post(gateway, facts, body, CommentAction.RECREATED)
    elif edits.write is Write.ADOPT:
        target = next((c for c in edits.candidates if gateway.update_comment(issue, c, body)), None)
        if target is None:
            return _post(gateway, facts, body, CommentAction.CREATED)
        _record(gateway, facts, target)
    elif edits.write is Write.POST or target is None:
        return _post(gateway, facts, body, edits.action)
    return Publication(edits.action, target, _heal(gateway, issue, keep=target, found=edits.own))


def _rewrite(gateway: JiraGateway, facts: Facts, comment_id: str, body: CommentBody) -> bool:
    """The body, pointer and label in one issue edit, else one part at a time; False: the comment is gone."""
    try:
        gateway.edit_issue(
            facts.issue, properties=facts.record(comment_id), labels=facts.labels, comment=(comment_id, body)
        )
    except EditRefused:  # changed nothing: the parts one at a time tell a deleted comment from labels
        if not gateway.update_comment(facts.issue, comment_id, body):
            return False
        _record(gateway, facts, comment_id)
    return True


def _post(gateway: JiraGateway, facts: Facts, body: CommentBody, action: CommentAction) -> Publication:
    comment_id = gateway.create_comment(facts.issue, body, properties={facts.property_key: {"gonogo": True}})
    _record(gateway, facts, comment_id)
    return Publication(action, comment_id)


def _record(gateway: JiraGateway, facts: Facts, comment_id: str) -> None:
    """The pointer and the verdict label in one issue edit; without the label if Jira refuses it,
    as the pointer matters more (a site whose edit screen lacks Labels)."""
    record = facts.record(comment_id)
    try:
        gateway.edit_issue(facts.issue, properties=record, labels=facts.labels)
    except EditRefused as refused:
        if not facts.labels:
            raise
        log.warning(
            "the verdict label was not set on %s (%s): add the Labels field to the edit screen, "
            'or set [jira] label_prefix = "" to turn verdict labels off',
            facts.key,
            refused,
        )
        gateway.edit_issue(facts.issue, properties=record)


def _is_own(gateway: JiraGateway, facts: Facts) -> bool:
    """Whether the comment an unsealed pointer names is gonogo's (its account, its property); a gone
    one counts as gonogo's: the edit then fails and a new one is posted."""
    assert facts.pointer is not None
    comment = gateway.comment(facts.issue, facts.pointer)
    if comment is None:
        return True
    mine = facts.property_key in comment.properties and comment.author is not None
    return mine and comment.author == gateway.own_account()


def _heal(gateway: JiraGateway, issue: str, *, keep: str, found: tuple[str, ...]) -> tuple[str, ...]:
    """Delete gonogo's duplicates (a POST whose lost answer Jira committed later); a refused delete
    is logged, not fatal: the verdict is on the ticket already."""
    removed = []
    for comment_id in (c for c in found if c != keep):
        try:
            gateway.delete_comment(issue, comment_id)
            removed.append(comment_id)
        except JiraError as error:
            log.warning("could not delete a duplicate gonogo comment (%s)", error)
    if removed:
        log.info("deleted %d duplicate gonogo comment(s) on %s", len(removed), issue)
    return tuple(removed)
