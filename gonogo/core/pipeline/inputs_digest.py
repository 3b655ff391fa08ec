"""The digest of what a verdict comment is made from (the proposal, the site's options, the judging of
that day, the configuration's fingerprint), kept in the ticket's pointer: a `report --post` re-run whose
digest is unchanged skips the path to GO and the rendering. The comment's own digest decides every write."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import fields
from operator import attrgetter
from typing import Any

from gonogo.core.pipeline.findings import Assessment, Finding
from gonogo.core.pipeline.proposal import Proposal, Source
from gonogo.core.pipeline.rules import Checklist, Rule

INPUTS_KEY = "inputs"  # the pointer's key for this digest
# The fields of an assessment, a finding or a proposal the digest does not read, and why. Every other
# field is read, so a field added later is an input until someone says why it is not.
LEFT_OUT = {
    "findings": "each finding by its own fields",
    "checklists": "in the configuration",
    "path": "what the digest spares: it follows from the rest",
    "rule": "by its id; its words and condition are in the configuration",
    "evidence": "made from the proposal, which is hashed whole",
    "sources": "as plain tuples, below",
    "thresholds": "in the configuration: the assessor's, which its proposals and assessments carry",
}
# A re-run digests every ticket, and `repr` of an enum or a dataclass runs in Python: one attrgetter
# call a finding, its outcome by value, each source as a plain tuple (a quarter of the digest's time).
_ASSESSMENT_PARTS = attrgetter(*(f.name for f in fields(Assessment) if f.name not in LEFT_OUT))
_FINDING_FIELDS = [f.name for f in fields(Finding) if f.name not in LEFT_OUT]
_FINDING_PARTS = attrgetter("rule.id", *(f"{n}.value" if n == "outcome" else n for n in _FINDING_FIELDS))
_PROPOSAL_FIELDS = tuple(f.name for f in fields(Proposal) if f.name not in LEFT_OUT)
_SOURCE_PARTS = attrgetter(*(f.name for f in fields(Source)))
# What a rule judges and says; its compiled `holds` follows from `condition`.
_RULE_PARTS = attrgetter(*(f.name for f in fields(Rule) if f.name != "holds"))


def digest(parts: Any) -> str:
    """SHA-256 of the parts' canonical JSON (dates and other values by their text): for the configuration."""
    return _sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str))


def _sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def checklists_fingerprint(checklists: Iterable[Checklist]) -> list[Any]:
    """Every rule as it judges and reads (thresholds already filled in), checklist by checklist."""
    return [[c.id, c.version, [list(_RULE_PARTS(rule)) for rule in c.rules]] for c in checklists]


def inputs_digest(assessment: Assessment, proposal: Proposal, *, configuration: str) -> str:
    """What this ticket's comment is made from, hashed as the `repr` of frozen data: exact within one
    version. Mappings and sets of the proposal in a fixed order, so that equal inputs hash alike."""
    parts = (
        configuration,
        list(_ASSESSMENT_PARTS(assessment)),
        list(map(_FINDING_PARTS, assessment.findings)),
        [(name, _ordered(getattr(proposal, name))) for name in _PROPOSAL_FIELDS],
        sorted((name, _SOURCE_PARTS(source)) for name, source in proposal.sources.items()),
    )
    return _sha256(repr(parts))


def _ordered(value: Any) -> Any:
    if isinstance(value, Mapping):
        return sorted(value.items())
    return sorted(value) if isinstance(value, frozenset | set) else value
