"""Path to GO: every computed change, written back into the ticket's Jira fields, really gives GO.

The path is found by asking the compiled rules; these tests check it the way a bid manager
would use it: edit the ticket's fields to the `needed` values and check again with the whole
assessor (field mapping, normalisation, derived properties, every checklist).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from support import EXAMPLES, TODAY, wiki_comment
from tickets import issue, with_properties

from gonogo.core.pipeline import path_to_go
from gonogo.core.pipeline.findings import Assessment, Finding, FindingStatus
from gonogo.core.pipeline.path_to_go import Reassess, Rejudge
from gonogo.core.pipeline.rules import Checklist, Severity
from gonogo.core.pipeline.ticket import ticket_from_rest
from gonogo.core.vocabulary import Vocabulary
from gonogo.flows.assessor import Assessor, build_assessor
from gonogo.sources.config import Settings
from gonogo.sources.tickets import load_ticket_file

NAMES = sorted(p.stem for p in EXAMPLES.glob("*.json"))
# Single show-stoppers on the healthy example: the one property whose value fails exactly one blocker.
SINGLE_SHOW_STOPPERS: dict[str, dict[str, Any]] = {
    "budget-exists": {"budget": 0},
    "deadline-achievable": {"deadline": "2026-11-27"},
    "capability-exists": {"capability_fit": "None"},
    "win-probability-viable": {"win_probability": 5},
    "margin-positive": {"budget": 150000},
    "liability-capped": {"liability": "Unlimited"},
    "team-exists": {"team_available": "No"},
}


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return build_assessor(Settings())


def assess(assessor: Assessor, data: dict[str, Any]) -> Assessment:
    ticket = ticket_from_rest(data, origin="test")
    return assessor.assess(ticket, today=date.fromisoformat(TODAY))


def applied(data: dict[str, Any], assessment: Assessment) -> dict[str, Any]:
    """The ticket with every non-null `needed` written into its Jira field, as a user would."""
    assert assessment.path is not None
    needed = {
        s.change.property: s.change.needed for s in assessment.path.steps if s.change.needed is not None
    }
    return with_properties(data, **needed)


def failed_gates(assessment: Assessment) -> list[str]:
    return [
        f.ref
        for f in assessment.findings
        if f.outcome is FindingStatus.FAILED and f.rule.severity in (Severity.BLOCKER, Severity.MAJOR)
    ]


def test_every_example_with_a_complete_path_reads_go_once_the_path_is_applied(assessor: Assessor) -> None:
    complete = []
    for name in NAMES:
        data = issue(name)
        assessment = assess(assessor, data)
        assert assessment.path is not None
        steps = assessment.path.steps
        if assessment.verdict.value == "go":
            assert steps == ()
            continue
        if any(step.change.needed is None for step in steps):
            continue
        complete.append(name)
        after = assess(assessor, applied(data, assessment))
        assert after.verdict.value == "go", (name, failed_gates(after))
    # Not vacuous: every example that is neither GO nor missing information was tried.
    assert complete == [
        "commercial-squeeze",
        "conditions",
        "crowded-field",
        "stretched-team",
        "unprofitable",
    ]


@pytest.mark.parametrize("name", ["doomed", "needs-info"])
def test_with_information_missing_the_path_clears_every_failed_rule_and_asks_for_the_rest(
    assessor: Assessor, name: str
) -> None:
    data = issue(name)
    assessment = assess(assessor, data)
    assert assessment.path is not None
    asked = {step.change.property for step in assessment.path.steps if step.change.needed is None}
    assert asked == {m.property for m in assessment.missing_information}
    after = assess(assessor, applied(data, assessment))
    assert failed_gates(after) == []
    assert after.verdict.value == "needs-info"  # never a GO on missing information


@pytest.mark.parametrize("rule", sorted(SINGLE_SHOW_STOPPERS))
def test_a_single_show_stopper_is_the_only_thing_between_the_ticket_and_a_go(
    assessor: Assessor, rule: str
) -> None:
    data = issue("healthy", **SINGLE_SHOW_STOPPERS[rule])
    assessment = assess(assessor, data)
    blockers = [f.ref for f in assessment.findings if f.outcome is FindingStatus.FAILED and f.judges]
    assert assessment.verdict.value == "no-go"
    assert f"doomed/{rule}" in blockers
    assert assessment.path is not None
    assert len(assessment.path.steps) == 1
    assert assess(assessor, applied(data, assessment)).verdict.value == "go"
    comment = wiki_comment(assessor.renderer, assessment).replace("\u2060", "")
    assert "This alone stands between this ticket and a GO:" in comment


def test_the_path_names_the_editable_input_and_the_nearest_passing_value(assessor: Assessor) -> None:
    data = issue("healthy", deadline="2026-11-27")  # 4 days away; 300 person-days need 6, plus 5 spare
    assessment = assess(assessor, data)
    assert assessment.path is not None
    (step,) = assessment.path.steps
    assert (step.change.property, step.change.current, step.change.needed) == (
        "deadline",
        "2026-11-27",
        "2026-12-04",  # 11 days: the deadline-buffer condition needs 6 + 5; the day before fails
    )
    assert step.rules == ("doomed/deadline-achievable", "capability/deadline-buffer")
    assert [(a.property, a.needed) for a in step.alternatives] == []  # less effort cannot go below 5 days
    assert assess(assessor, with_properties(data, deadline="2026-12-03")).verdict.value != "go"


def test_several_inputs_that_clear_a_rule_are_offered_as_alternatives(assessor: Assessor) -> None:
    assessment = assess(assessor, issue("unprofitable"))
    assert assessment.path is not None
    budget = next(s for s in assessment.path.steps if s.change.property == "budget")
    assert budget.change.needed == 353_000  # 15 % margin at 600 per person-day on 500 days, rounded up
    # 283 days: 15 % margin on 200,000 (a margin just above 0 at 333 days would still fail the floor)
    assert [(a.property, a.needed) for a in budget.alternatives] == [("effort_days", 283)]


def _one_step_back(change: Any) -> Any:
    """The needed value moved one shown step back towards the ticket's value (a day, or a 3rd figure)."""
    needed, current = change.needed, change.current
    if isinstance(needed, str):  # a date
        moved = date.fromisoformat(needed) + (timedelta(days=-1) if needed > current else timedelta(days=1))
        return moved.isoformat()
    step = 10 ** (len(str(abs(int(needed)))) - 3) if abs(needed) >= 1000 else 1
    return needed - step if needed > current else needed + step


@pytest.mark.parametrize("effort", [1500, 2500, 5000])
def test_each_amount_on_the_path_is_the_nearest_that_still_gives_go(assessor: Assessor, effort: int) -> None:
    """With the rest of the path applied, one step less on any amount fails (the review's e2500 case)."""
    data = issue("healthy", effort_days=effort)
    assessment = assess(assessor, data)
    assert assessment.path is not None
    assert assessment.path.verified
    fixed = applied(data, assessment)
    assert assess(assessor, fixed).verdict.value == "go"
    numeric = [s.change for s in assessment.path.steps if s.change.direction in ("up", "down")]
    assert {c.property for c in numeric} == {"budget", "effort_days"}
    for change in numeric:
        short = with_properties(fixed, **{change.property: _one_step_back(change)})
        assert assess(assessor, short).verdict.value != "go", change
    budget = next(c for c in numeric if c.property == "budget")
    assert budget.needed == 1_020_000  # 15 % margin on the path's 1,440 days, whatever the effort was


def test_the_path_does_not_lean_on_a_rounded_margin(assessor: Assessor) -> None:
    """635,000 on 900 days is a 14.96 % margin; the path asks for the amount that truly reaches 15 %."""
    data = issue("healthy", effort_days=900, budget=300_000)
    assessment = assess(assessor, data)
    assert assessment.path is not None
    (step,) = assessment.path.steps
    assert (step.change.property, step.change.needed) == ("budget", 636_000)
    fixed = applied(data, assessment)
    assert assess(assessor, fixed).verdict.value == "go"
    fixed = with_properties(fixed, budget=635_000)  # 14.96 %: passed before, by rounding
    assert "commercial/margin-floor" in failed_gates(assess(assessor, fixed))


def test_a_passed_deadline_says_so_and_who_can_act(assessor: Assessor, tmp_path: Path) -> None:
    data = issue("healthy", deadline="2026-11-20")
    assessment = assess(assessor, data)
    comment = wiki_comment(assessor.renderer, assessment).replace("\u2060", "").replace("\\", "")
    assert assessor.renderer.headline(assessment).startswith(
        "NO-GO: The submission deadline 2026-11-20 has passed."
    )
    assert "Ask the customer whether a late submission is accepted; if not, let this one go." in comment
    assert "Ask the customer whether they accept a late submission by" in comment
    assert "move the deadline" not in comment  # the advice for a short deadline does not apply
    # and so does its reason (review 1, finding 12): the rush is not the point any more
    why = "Once the deadline has passed, only the customer can still accept a response."
    assert why in comment
    assert why in assessor.renderer.text_report(assessment, color=False)
    assert "A rushed response misses requirements" not in comment


def test_the_path_reads_the_thresholds_in_force(tmp_path: Path) -> None:
    cheaper = build_assessor(Settings(thresholds={"cost_per_day": 400}))
    assessment = cheaper.assess(
        load_ticket_file(EXAMPLES / "unprofitable.json"), today=date.fromisoformat(TODAY)
    )
    assert assessment.path is not None
    budget = next(s for s in assessment.path.steps if s.change.property == "budget")
    assert budget.change.needed == 236_000  # 500 * 400 / 0.85 = 235,294, rounded up to a readable amount
    comment = wiki_comment(cheaper.renderer, assessment).replace("\u2060", "")
    assert "at an assumed cost of 400 per person-day" in comment


def test_a_read_only_portfolio_skips_the_path_but_keeps_everything_it_shows(assessor: Assessor) -> None:
    for name in NAMES:
        ticket = load_ticket_file(EXAMPLES / f"{name}.json")
        full = assessor.assess(ticket, today=date.fromisoformat(TODAY))
        quick = assessor.assess(ticket, today=date.fromisoformat(TODAY), with_path=False)
        assert quick.path is None
        assert (quick.verdict, quick.score, quick.coverage, assessor.renderer.headline(quick)) == (
            full.verdict,
            full.score,
            full.coverage,
            assessor.renderer.headline(full),
        )


class _FullRejudge(Rejudge):
    """Every rule judged again on every change: what the path's answers are held to."""

    calls = 0

    def __init__(self, reassess: Reassess, checklists: Sequence[Checklist], vocabulary: Vocabulary) -> None:
        super().__init__(reassess, checklists, vocabulary)
        self.reassess, self.checklists = reassess, checklists

    def __call__(self, inputs: Mapping[str, Any]) -> list[Finding]:
        _FullRejudge.calls += 1
        return list(self.reassess(inputs, self.checklists).findings)


class _CheckedRejudge(_FullRejudge):
    """Judges only the rules a change touches, as the path does, each answer held to the full one."""

    def __call__(self, inputs: Mapping[str, Any]) -> list[Finding]:
        found = Rejudge.__call__(self, inputs)
        assert [(f.ref, f.outcome, f.on_hold) for f in found] == [
            (f.ref, f.outcome, f.on_hold) for f in super().__call__(inputs)
        ]
        return found


def _threshold_checklist(folder: Path, rules: int, failing: int) -> Path:
    """`rules` thresholds on three inputs of the healthy example, the first `failing` beyond its values."""
    inputs = (
        ("budget", 480000, "minimum"),
        ("win_probability", 45, "minimum"),
        ("effort_days", 300, "maximum"),
    )
    items = []
    for index in range(rules):
        name, value, keyword = inputs[index % len(inputs)]
        offset = (index // len(inputs) + 1) * value / (rules + 2) * (1 if index < failing else -1)
        bound = round(value + offset if keyword == "minimum" else value - offset, 2)
        items.append(
            {
                "id": f"rule-{index}",
                "title": f"{name} {keyword} {bound}",
                "failed_title": f"{name} is {{{name}}}",
                "severity": ("major", "blocker", "minor")[index % 3],
                "condition": {"required": [name], "properties": {name: {keyword: bound}}},
                "why": "A generated rule for the test.",
                "fix": f"Bring {name} within {bound}.",
            }
        )
    checklist = {
        "id": "bulk",
        "title": "Generated",
        "version": "1.0",
        "description": "Generated thresholds.",
        "rules": items,
    }
    (folder / "bulk.json").write_text(json.dumps(checklist))
    return folder


@pytest.mark.parametrize("bulk", [False, True], ids=["bundled", "400 more rules"])
def test_judging_only_the_rules_a_change_touches_gives_the_path_of_a_full_judgement(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, bulk: bool
) -> None:
    settings = Settings(checklist_paths=(_threshold_checklist(tmp_path, 400, 20),)) if bulk else Settings()
    checked = build_assessor(settings)
    tickets = [issue(name) for name in NAMES] + [issue("healthy", effort_days=e) for e in (1500, 5000)]
    for data in tickets:
        monkeypatch.setattr(path_to_go, "Rejudge", _CheckedRejudge)
        incremental = assess(checked, data).path
        monkeypatch.setattr(path_to_go, "Rejudge", _FullRejudge)
        assert incremental == assess(checked, data).path
    assert _FullRejudge.calls > 100  # not vacuous: the searches judged many changed tickets
