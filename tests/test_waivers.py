"""Waivers: accepted risks are shown with who and why; waivers gonogo cannot honour say so."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from support import EXAMPLES, TODAY, Gonogo
from tickets import issue, issue_file

from gonogo.core.pipeline.findings import FindingStatus
from gonogo.core.pipeline.ticket import ticket_from_rest
from gonogo.core.pipeline.waivers import Refusal, WaiverPolicy
from gonogo.flows.assessor import build_assessor
from gonogo.sources.config import Settings


def outcomes(data: dict[str, Any], policy: WaiverPolicy = WaiverPolicy()) -> dict[str, Any]:
    assessor = build_assessor(Settings(waivers=policy))
    assessment = assessor.assess(ticket_from_rest(data, origin="test"), today=date.fromisoformat(TODAY))
    return {
        "verdict": assessment.verdict.value,
        "score": assessment.score,
        **{f"{f.checklist}/{f.rule.id}": f for f in assessment.findings},
        "unmatched": [w.label for w in assessment.unmatched_waivers],
    }


def test_waived_majors_turn_conditions_into_a_go_with_who_and_why() -> None:
    result = outcomes(issue("waived"))
    assert result["verdict"] == "go"
    finding = result["customer/win-probability-target"]
    assert finding.outcome is FindingStatus.WAIVED
    assert finding.waiver.by == "Ines Kovac"
    assert finding.waiver.reason.startswith("Phase 1 delivered on budget")
    assert result["score"] < 100  # a waiver accepts a risk; it does not remove it


def test_a_waiver_without_a_reason_is_not_applied() -> None:
    data = issue("waived", waiver_reason=None)
    result = outcomes(data)
    assert result["verdict"] == "go-with-conditions"
    finding = result["capability/capability-proven"]
    assert finding.outcome is FindingStatus.FAILED
    assert finding.waiver_ruling is not None
    assert finding.waiver_ruling.refused is Refusal.NO_REASON


def test_a_blocker_can_be_waived_only_when_configuration_allows() -> None:
    data = issue(
        "unprofitable",
        labels=["gonogo-waive-margin-positive", "gonogo-waive-doomed.win-probability-viable"],
        waiver_reason="Loss leader agreed by the board to enter the public sector.",
    )
    refused = outcomes(data)
    assert refused["verdict"] == "no-go"
    assert refused["doomed/margin-positive"].waiver_ruling.refused is Refusal.BLOCKER
    allowed = outcomes(data, WaiverPolicy(allow_blockers=True))
    assert allowed["doomed/margin-positive"].outcome is FindingStatus.WAIVED
    assert allowed["verdict"] == "go-with-conditions"  # the margin floor and win target still fail


def test_a_waiver_naming_no_rule_is_reported() -> None:
    data = issue("healthy", labels=["gonogo-waive-budget-exsts", "unrelated-label"])
    assert outcomes(data)["unmatched"] == ["gonogo-waive-budget-exsts"]


def test_waivers_are_shown_in_the_comment_and_json(gonogo: Gonogo, tmp_path: Path) -> None:
    run = gonogo("check", str(EXAMPLES / "waived.json"), "--today", TODAY, "--format", "json")
    document = json.loads(run.stdout)
    waived = [f for f in document["findings"] if f["outcome"] == "waived"]
    assert {f["rule"] for f in waived} == {"win-probability-target", "fixed-price-size", "capability-proven"}
    assert waived[0]["waiver"]["by"] == "Ines Kovac"
    assert waived[0]["waiver"]["refused"] is None


@pytest.mark.parametrize("toml", ["[waivers]\nallow_blockers = 'yes'\n", "[waivers]\nallow_all = true\n"])
def test_waiver_settings_are_checked(gonogo: Gonogo, tmp_path: Path, toml: str) -> None:
    (tmp_path / "gonogo.toml").write_text(toml)
    run = gonogo("check", str(EXAMPLES / "waived.json"))
    assert run.exit_code == 3
    assert "waivers" in run.stderr


def test_missing_information_cannot_be_waived_into_a_go() -> None:
    data = issue(
        "healthy",
        decision_maker=None,
        labels=["gonogo-waive-decision-maker-known"],
        waiver_reason="We will find out later.",
    )
    result = outcomes(data)
    assert result["verdict"] == "needs-info"
    finding = result["completeness/decision-maker-known"]
    assert finding.outcome is FindingStatus.MISSING
    assert finding.waiver_ruling is not None
    assert finding.waiver_ruling.refused is Refusal.MISSING_INFORMATION


def test_a_refused_waiver_is_shown_in_the_comment_and_report(gonogo: Gonogo, tmp_path: Path) -> None:
    ticket = issue_file(
        tmp_path,
        "healthy",
        decision_maker=None,
        labels=["gonogo-waive-decision-maker-known"],
        waiver_reason="We will find out later.",
    )
    report = gonogo("check", str(ticket), "--today", TODAY).stdout
    assert "Waivers not applied" in report
    assert (
        "gonogo-waive-decision-maker-known (We know who decides): missing information cannot be waived"
        in report
    )
    comment = gonogo("check", str(ticket), "--today", TODAY, "--format", "jira").stdout.replace("\u2060", "")
    assert "h4. Waivers not applied" in comment
