"""The digest of what a verdict comment is made from, kept in the ticket's pointer beside the comment.

A `report --post` re-run whose digest is unchanged would write the same comment, so it skips the
costly part (the path to GO and the rendering). It covers the inputs, not the output: the proposal,
the site's options, what the judging made of them that day, and the configuration's fingerprint.
The comment's own digest (`gonogo.jira.comment_plan.comment_digest`) still decides every write.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import fields
from operator import attrgetter
from typing import Any

from gonogo.core.pipeline.findings import Assessment
from gonogo.core.pipeline.proposal import Proposal
from gonogo.core.pipeline.rules import Checklist

INPUTS_KEY = "inputs"  # the pointer's key for this digest
# What a rule judges and says (its compiled `holds` follows from `condition`).
_RULE_FIELDS = (
    "id",
    "title",
    "failed_title",
    "failed_label",
    "severity",
    "weight",
    "why",
    "fix",
    "uses",
    "ask_when_missing",
    "condition",
)


def digest(parts: Any) -> str:
    """SHA-256 of the parts' canonical JSON (dates and other values by their text): for the configuration."""
    canonical = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return _sha256(canonical)


def _ordered(value: Any) -> Any:
    """Mappings and sets in a fixed order, so that equal inputs hash alike."""
    if isinstance(value, Mapping):
        return sorted(value.items())
    if isinstance(value, frozenset | set):
        return sorted(value)
    return value


def _sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def checklists_fingerprint(checklists: Iterable[Checklist]) -> list[Any]:
    """Every rule as it judges and reads (thresholds already filled in), checklist by checklist."""
    return [
        [
            checklist.id,
            checklist.version,
            [[getattr(rule, name) for name in _RULE_FIELDS] for rule in checklist.rules],
        ]
        for checklist in checklists
    ]


# What `inputs_digest` reads of an assessment and of each finding. Every other field is either left
# out on purpose (below) or a new input: tests/test_portfolio_streaming.py fails until it is listed.
ASSESSMENT_FIELDS = (
    "ticket_key",
    "ticket_id",
    "summary",
    "verdict",
    "missing_information",
    "score",
    "unmatched_waivers",
    "coverage",
    "thresholds",
    "approvers",
    "decision",
    "shift",
)
FINDING_FIELDS = (
    "checklist",
    "outcome",
    "waiver",
    "waiver_ruling",
    "headline",
    "waiver_label",
    "unrecorded",
    "on_hold",
)
_ASSESSMENT_PARTS = attrgetter(*ASSESSMENT_FIELDS)
_FINDING_PARTS = attrgetter("rule.id", *FINDING_FIELDS)  # C, not a generator: a re-run digests every ticket
LEFT_OUT = {
    "findings": "each finding by FINDING_FIELDS",
    "checklists": "in the configuration",
    "path": "what the digest spares: it follows from the rest",
    "headline": "rendered from the rest",
    "rule": "by its id; its words and condition are in the configuration",
    "evidence": "made from the proposal, which is hashed whole",
}


def inputs_digest(assessment: Assessment, proposal: Proposal, *, configuration: str) -> str:
    """What this ticket's comment is made from, hashed as the `repr` of frozen data: exact within one
    version."""
    parts = (
        configuration,
        list(_ASSESSMENT_PARTS(assessment)),
        list(map(_FINDING_PARTS, assessment.findings)),
        [(field.name, _ordered(getattr(proposal, field.name))) for field in fields(proposal)],
    )
    return _sha256(repr(parts))
