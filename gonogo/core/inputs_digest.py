"""The digest of what a verdict comment is made from, kept in the ticket's pointer beside the comment.

A `report --post` re-run compares it with the digest of the ticket as it is now. Equal, the comment
would come out exactly as it is, so its path to GO is not searched, the comment is not rendered and
nothing is written. It covers the inputs, not the output: the proposal gonogo read (values with the
derived ones, which carry the date's effect, such as the days to the deadline; problems; the fields'
names; counted lists), the ticket's identity, how each waiver label was ruled on that day
(approval, expiry) and who may approve, and the configuration as one fingerprint (checklists with
their rules and thresholds, templates, gonogo's version, the comment's format and label prefix).
The comment's own digest (`gonogo.jira.sticky_comment.comment_digest`) still decides every write.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from gonogo.core.assessment import Assessment
from gonogo.core.proposal import Proposal
from gonogo.core.rules import Checklist

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
    """SHA-256 of a canonical JSON rendering (dates and other values by their text)."""
    canonical = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


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


def inputs_digest(assessment: Assessment, proposal: Proposal, *, configuration: str) -> str:
    """What this ticket's comment is made from, as of the assessment's day (see the module)."""
    waivers = [
        [finding.ref, asdict(finding.waiver), asdict(finding.waiver_ruling)]
        for finding in assessment.findings
        if finding.waiver is not None and finding.waiver_ruling is not None
    ]
    return digest(
        {
            "configuration": configuration,
            "ticket": [assessment.ticket_key, assessment.ticket_id, assessment.summary],
            "values": proposal.values,
            "site_texts": proposal.site_texts,
            "sources": {name: [s.field_id, s.field_name] for name, s in proposal.sources.items()},
            "problems": proposal.problems,
            "counted": sorted(proposal.counted),
            "thresholds": proposal.thresholds,
            "waivers": waivers,
            "unmatched_waivers": [asdict(waiver) for waiver in assessment.unmatched_waivers],
            "approvers": assessment.approvers,
        }
    )
