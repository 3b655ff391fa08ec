"""The bundled examples: every verdict, every rule at work, and renderings held to golden files.

A golden file changes only on purpose: run `GONOGO_UPDATE_GOLDEN=1 python -m pytest tests/test_examples.py`
and review the diff like any other change to what users read.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from support import EXAMPLES, TODAY, wiki_comment

from gonogo.core.pipeline.findings import Assessment, FindingStatus
from gonogo.flows.assessor import Assessor, build_assessor
from gonogo.sources.config import Settings
from gonogo.sources.tickets import load_ticket_file

GOLDEN = Path(__file__).parent / "golden"
NAMES = sorted(p.stem for p in EXAMPLES.glob("*.json"))
EXPECTED_VERDICTS = {
    "healthy": "go",
    "waived": "go",
    "conditions": "go-with-conditions",
    "commercial-squeeze": "go-with-conditions",
    "stretched-team": "go-with-conditions",
    "crowded-field": "go-with-conditions",
    "needs-info": "needs-info",
    "blank": "needs-info",
    "doomed": "no-go",
    "unprofitable": "no-go",
    "fine-print": "no-go",
    "in-thousands": "needs-info",
    "too-good": "needs-info",
}


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return build_assessor(Settings())


def assess(assessor: Assessor, name: str) -> Assessment:
    return assessor.assess(load_ticket_file(EXAMPLES / f"{name}.json"), today=date.fromisoformat(TODAY))


def test_every_example_has_its_expected_verdict(assessor: Assessor) -> None:
    assert set(NAMES) == set(EXPECTED_VERDICTS)
    assert {name: assess(assessor, name).verdict.value for name in NAMES} == EXPECTED_VERDICTS


def test_every_bundled_rule_fires_on_some_example_and_none_on_the_healthy_one(assessor: Assessor) -> None:
    fired_on: dict[str, set[str]] = {f"{c.id}/{r.id}": set() for c in assessor.checklists for r in c.rules}
    for name in NAMES:
        for finding in assess(assessor, name).findings:
            if finding.outcome in (FindingStatus.FAILED, FindingStatus.MISSING, FindingStatus.WAIVED):
                fired_on[f"{finding.checklist}/{finding.rule.id}"].add(name)
    assert [rule for rule, examples in fired_on.items() if not examples] == []
    assert [rule for rule, examples in fired_on.items() if "healthy" in examples] == []


def test_the_healthy_example_passes_every_rule(assessor: Assessor) -> None:
    outcomes = {f.outcome for f in assess(assessor, "healthy").findings}
    assert outcomes == {FindingStatus.PASSED}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("surface", ["jira", "txt"])
def test_rendering_matches_the_golden_file(assessor: Assessor, name: str, surface: str) -> None:
    assessment = assess(assessor, name)
    if surface == "jira":
        rendered = wiki_comment(assessor.renderer, assessment)
    else:
        rendered = assessor.renderer.text_report(assessment, color=False)
    golden = GOLDEN / f"{name}.{surface}"
    if os.environ.get("GONOGO_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
    assert golden.read_text(encoding="utf-8") == rendered, f"{golden.name} changed: review, then regenerate"


def test_the_doomed_comment_names_each_blocker_with_evidence_reason_and_fix(assessor: Assessor) -> None:
    comment = (GOLDEN / "doomed.jira").read_text(encoding="utf-8").replace("\u2060", "").replace("\\", "")
    path = comment.split("h4. What it would take", 1)[1]
    for problem, evidence, rule, needed in [
        (
            "No funded budget (contract value 0)",
            "Contract value: 0",
            "budget-exists",
            "Ask the customer for a Contract value of at least 636,000",
        ),
        (
            "Too little time: the response needs 18 days, due 2026-11-26",
            "Days a response needs: 18 (the larger of 5 and 2 per 100 person-days)",
            "deadline-achievable",
            "Ask the customer to move the Submission deadline to 2026-12-16 or later",
        ),
        (
            "No track record in this scope (capability fit None)",
            "Capability fit: None",
            "capability-exists",
            "Only if a re-estimate with evidence puts Capability fit at Strong",
        ),
        (
            "Unlimited liability",
            "Liability: Unlimited",
            "liability-capped",
            "Ask the customer for Liability: Capped",
        ),
        (
            "Nobody is available to deliver",
            "Team available: No",
            "team-exists",
            "Once it is true, the bid team records Team available: Yes",
        ),
    ]:
        section = comment.split(f"h5. {problem}", 1)[1].split("h5.", 1)[0]
        assert evidence in section
        assert "Fix: " in section
        assert rule not in section  # rule ids stay in JSON, the terminal and the waiver hint
        assert needed in path  # under a NO-GO, the path says it once, grouped by who acts
        assert "gonogo-waive" not in section  # show-stoppers cannot be waived by default


def test_the_go_comment_is_short_and_says_why(assessor: Assessor) -> None:
    comment = (GOLDEN / "healthy.jira").read_text(encoding="utf-8").replace("\u2060", "")
    assert len(comment.splitlines()) <= 10
    assert "Show-stoppers checked and clear: Contract value: 480,000; Days to spare: 40;" in comment
