"""The bundled examples: every verdict, every rule at work, and renderings held to golden files.

A golden file changes only on purpose: run `GONOGO_UPDATE_GOLDEN=1 python -m pytest tests/test_examples.py`
and review the diff like any other change to what users read.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from support import EXAMPLES, TODAY

from gonogo.assessment import Assessment, Outcome
from gonogo.config import Settings
from gonogo.engine import Engine, build_engine
from gonogo.ticket import load_ticket_file

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
}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return build_engine(Settings())


def assess(engine: Engine, name: str) -> Assessment:
    return engine.assess(load_ticket_file(EXAMPLES / f"{name}.json"), today=date.fromisoformat(TODAY))


def test_every_example_has_its_expected_verdict(engine: Engine) -> None:
    assert set(NAMES) == set(EXPECTED_VERDICTS)
    assert {name: assess(engine, name).verdict.value for name in NAMES} == EXPECTED_VERDICTS


def test_every_bundled_rule_fires_on_some_example_and_none_on_the_healthy_one(engine: Engine) -> None:
    fired_on: dict[str, set[str]] = {f"{c.id}/{r.id}": set() for c in engine.checklists for r in c.rules}
    for name in NAMES:
        for finding in assess(engine, name).findings:
            if finding.outcome in (Outcome.FAILED, Outcome.MISSING, Outcome.WAIVED):
                fired_on[f"{finding.checklist}/{finding.rule.id}"].add(name)
    assert [rule for rule, examples in fired_on.items() if not examples] == []
    assert [rule for rule, examples in fired_on.items() if "healthy" in examples] == []


def test_the_healthy_example_passes_every_rule(engine: Engine) -> None:
    outcomes = {f.outcome for f in assess(engine, "healthy").findings}
    assert outcomes == {Outcome.PASSED}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("surface", ["jira", "txt"])
def test_rendering_matches_the_golden_file(engine: Engine, name: str, surface: str) -> None:
    assessment = assess(engine, name)
    if surface == "jira":
        rendered = engine.renderer.comment(assessment)
    else:
        rendered = engine.renderer.text_report(assessment, color=False)
    golden = GOLDEN / f"{name}.{surface}"
    if os.environ.get("GONOGO_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
    assert golden.read_text(encoding="utf-8") == rendered, f"{golden.name} changed: review, then regenerate"


def test_the_doomed_comment_names_each_blocker_with_evidence_reason_and_fix(engine: Engine) -> None:
    comment = (GOLDEN / "doomed.jira").read_text(encoding="utf-8").replace("\u2060", "").replace("\\", "")
    for problem, evidence, rule, needed in [
        (
            "No funded budget (contract value 0)",
            "Contract value: 0",
            "budget-exists",
            "Contract value: at least",
        ),
        (
            "Too little time: the response needs 18 days, due 2026-11-26",
            "Days a response needs: 18 (the larger of 5 and 2 per 100 person-days)",
            "deadline-achievable",
            "Submission deadline: 2026-12-16 or later",
        ),
        (
            "No track record in this scope (capability fit none)",
            "Capability fit: none",
            "capability-exists",
            "",
        ),
        ("Unlimited liability", "Liability: unlimited", "liability-capped", "Liability: capped"),
        ("Nobody is available to deliver", "Team available: no", "team-exists", "Team available: yes"),
    ]:
        section = comment.split(f"h5. {problem}", 1)[1].split("h5.", 1)[0]
        assert evidence in section
        assert "Fix: " in section
        assert f"Rule doomed/{rule}." in section
        assert f"Needed for GO: {needed}" in section
        assert "gonogo-waive" not in section  # show-stoppers cannot be waived by default


def test_the_go_comment_is_short_and_says_why(engine: Engine) -> None:
    comment = (GOLDEN / "healthy.jira").read_text(encoding="utf-8").replace("\u2060", "")
    assert len(comment.splitlines()) <= 10
    assert "Show-stoppers checked and clear: Contract value: 480,000; Days to spare: 40;" in comment
