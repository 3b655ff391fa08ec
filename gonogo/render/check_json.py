"""`gonogo check --format json`: plain data from the Assessment in a stable shape (docs/json.md) that
`gonogo/schemas/report.schema.json` describes and a test holds the output to."""

from __future__ import annotations

from datetime import date
from typing import Any

from gonogo import __version__
from gonogo.core.jira_shapes.changelog import LaterChange
from gonogo.core.jira_shapes.comment_format import CommentBody, Publication
from gonogo.core.pipeline.decisions import DecisionRecord
from gonogo.core.pipeline.findings import Finding, MissingInformation
from gonogo.core.pipeline.waivers import Waiver, WaiverRuling
from gonogo.render.codes import failed_title, question_text, refusal_text
from gonogo.render.formats import FORMAT_VERSION, CheckOutput


def report_document(output: CheckOutput, *, summary: str) -> dict[str, Any]:
    """The JSON document of one check; `summary` is the headline (`Renderer.headline`)."""
    assessment = output.assessment
    return {
        "format": FORMAT_VERSION,
        "gonogo": __version__,
        "ticket": {"key": assessment.ticket_key, "id": assessment.ticket_id, "summary": assessment.summary},
        "verdict": assessment.verdict.value,
        "summary": summary,
        "score": assessment.score,
        "coverage": {"assessed": assessment.coverage.assessed, "total": assessment.coverage.total},
        "checklists": [{"id": c.id, "title": c.title, "version": c.version} for c in assessment.checklists],
        "findings": [_finding(f) for f in assessment.findings],
        "path_to_go": [
            # A Fix's fields are the schema's names; an option is a str (its vocabulary value) for json.
            {**vars(s.change), "rules": list(s.rules), "alternatives": [{**vars(a)} for a in s.alternatives]}
            for s in (assessment.path.steps if assessment.path else ())
        ],
        "unmatched_waivers": [w.label for w in assessment.unmatched_waivers],
        "decision": _decision(assessment.decision) if assessment.decision else None,
        "missing_information": [_missing(m) for m in assessment.missing_information],
        "comment": _comment(output.publication, output.comment),
    }


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "checklist": f.checklist,
        "rule": f.rule.id,
        "title": f.rule.title,
        "problem": failed_title(f) if f.outcome in ("failed", "waived") else None,
        "severity": f.rule.severity.value,
        "outcome": f.outcome.value,
        "evidence": [
            {
                "property": e.property,
                "field": e.label,
                "field_id": e.field_id,
                "value": e.value,
                "problem": e.problem,
                "counted": e.counted,
                "quote": dict(vars(e.quote)) if e.quote else None,
            }
            for e in f.evidence
        ],
        "reason": f.rule.why,
        "fix": f.rule.fix,
        "weight": f.rule.weight,
        "waiver": _waiver(f.waiver, f.waiver_ruling) if f.waiver and f.waiver_ruling else None,
        "not_recorded": list(f.unrecorded),
    }


def _missing(m: MissingInformation) -> dict[str, Any]:
    return {
        "property": m.property,
        "field": m.label,
        "field_id": m.field_id,
        "question": question_text(m),
        "problem": m.problem,
        "needed_by": list(m.needed_by),
        "placeholder": m.placeholder,
        "asked": failed_title(m.doubt) or None if m.doubt else None,
    }


def _comment(publication: Publication | None, comment: CommentBody | None) -> dict[str, Any] | None:
    """What happened to the comment; on a dry run, the comment that would be posted."""
    if publication is not None:
        done: dict[str, Any] = {"action": publication.action.value, "id": publication.comment_id}
        if publication.removed:
            done["deleted"] = list(publication.removed)
        return done
    if comment is not None:
        return {"action": "dry-run", "id": None, "format": comment.format.value, "body": comment.content}
    return None


def _waiver(waiver: Waiver, ruling: WaiverRuling) -> dict[str, Any]:
    """The waiver on a rule and what became of it; dates are ISO days, null when unknown or unlimited."""
    return {
        "label": waiver.label,
        "by": waiver.by,
        "reason": waiver.reason,
        "status": ruling.status.value,
        "approved_by": ruling.approved_by,
        "approved_on": _day(ruling.approved_on),
        "expires_on": _day(ruling.expires_on),
        "lapsed_by_change": _later(ruling.lapse),
        "refused": refusal_text(ruling.refused, waiver),
    }


def _decision(record: DecisionRecord) -> dict[str, Any]:
    """The decision on record, beside the verdict; who and when from the change history."""
    return {
        "decision": record.decision.value,
        "source": record.source.value,
        "where": record.where,
        "by": record.by,
        "on": _day(record.on),
        "reason": record.reason,
        "counts": record.counts,
        "against_verdict": record.against,
        "older_facts": _later(record.older_facts),
        "owners": list(record.owners),
    }


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _later(change: LaterChange | None) -> dict[str, Any] | None:
    """A change to a field after a judgement rested on it (a waiver lapsed, a decision's older facts)."""
    return {"field": change.field, "by": change.by, "on": change.on.isoformat()} if change else None
