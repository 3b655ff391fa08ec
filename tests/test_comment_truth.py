"""The comment tells the exact truth, briefly: summary, problems, coverage, evidence, word budgets."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from support import EXAMPLES, TODAY, Gonogo, comment_words, example_with, wiki_comment

from gonogo.core.pipeline.findings import Assessment, FindingStatus
from gonogo.core.pipeline.rules import ChecklistFile, compile_checklist, lint_rules
from gonogo.core.pipeline.waivers import WaiverPolicy
from gonogo.core.portfolio.rows import row_from_assessment
from gonogo.flows.assessor import Assessor, build_assessor, rule_context
from gonogo.render.codes import failed_title
from gonogo.sources.checklists import parse_checklist_file
from gonogo.sources.config import Settings
from gonogo.sources.resources import bundled_dir, schema_path
from gonogo.sources.tickets import load_ticket_file

NAMES = sorted(p.stem for p in EXAMPLES.glob("*.json"))
BUDGETS = {"no-go-many": 400, "no-go-one": 200, "go": 150}


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return build_assessor(Settings())


def assess(assessor: Assessor, path: Path) -> Assessment:
    return assessor.assess(load_ticket_file(path), today=date.fromisoformat(TODAY))


def plain(comment: str) -> str:
    """The comment's text without escapes, joiners or blank lines (line i is the i-th line of text)."""
    text = comment.replace("\u2060", "").replace("\\", "")
    return "\n".join(line for line in text.splitlines() if line.strip())


# --- word budgets ---------------------------------------------------------------------------------


def test_comment_words_counts_what_a_reader_sees() -> None:
    assert (
        comment_words("h3. gonogo verdict: \u2060NO\u2060\\-\u2060GO\u2060\n* (x) one \\(two\\)\n----") == 5
    )


@pytest.mark.parametrize("name", NAMES)
def test_every_example_comment_keeps_its_word_budget(assessor: Assessor, name: str) -> None:
    assessment = assess(assessor, EXAMPLES / f"{name}.json")
    words = comment_words(wiki_comment(assessor.renderer, assessment))
    blockers = sum(
        f.outcome is FindingStatus.FAILED and f.rule.severity.value == "blocker" for f in assessment.findings
    )
    if name == "doomed":
        assert words <= BUDGETS["no-go-many"]
    if assessment.verdict.value == "no-go" and blockers == 1:
        assert words <= BUDGETS["no-go-one"]
    if assessment.verdict.value == "go":
        assert words <= BUDGETS["go"]
    assert words <= BUDGETS["no-go-many"]


@pytest.mark.parametrize(
    "fields",
    [
        {"customfield_10101": 0},
        {"customfield_10102": "2026-11-20"},
        {"customfield_10108": {"value": "None"}},
        {"customfield_10110": {"value": "Unlimited"}},
        # one show-stopper on a ticket that also has conditions and a question
        {"customfield_10101": 0, "customfield_10103": None, "customfield_10106": 9},
    ],
)
def test_a_no_go_with_one_show_stopper_stays_within_200_words(
    assessor: Assessor, tmp_path: Path, fields: dict[str, Any]
) -> None:
    assessment = assess(assessor, example_with(tmp_path, "conditions", **fields))
    assert assessment.verdict.value == "no-go"
    assert (
        sum(
            f.outcome is FindingStatus.FAILED and f.rule.severity.value == "blocker"
            for f in assessment.findings
        )
        == 1
    )
    assert comment_words(wiki_comment(assessor.renderer, assessment)) <= BUDGETS["no-go-one"]


def test_under_a_no_go_questions_and_conditions_are_named_in_one_line_each(assessor: Assessor) -> None:
    comment = plain(wiki_comment(assessor.renderer, assess(assessor, EXAMPLES / "doomed.json")))
    assert "Also to answer: Decision maker." in comment
    assert (
        "Conditions also open: Fixed price on 900 person-days, more than 400; "
        "Win probability 15%, below the 30% target; We have not met the decision maker (access: None); "
        "A competitor does this work today; 7 other bidders, more than 5." in comment
    )
    assert "gonogo check" not in comment  # a Jira reader cannot run a command
    assert "h4. (?) What we need to know" not in comment
    assert "h4. (!) Conditions" not in comment


# --- the first line, the problems, the rule ids ----------------------------------------------------


def test_the_summary_sentence_is_the_same_in_the_comment_the_json_and_the_portfolio(
    assessor: Assessor, gonogo: Gonogo
) -> None:
    assessment = assess(assessor, EXAMPLES / "doomed.json")
    expected = (
        "NO-GO: No funded budget (contract value 0); "
        "Too little time: the response needs 18 days, due 2026-11-26; "
        "No track record in this scope (capability fit None); Unlimited liability; "
        "Nobody is available to deliver."
    )
    assert assessor.renderer.headline(assessment) == expected
    assert plain(wiki_comment(assessor.renderer, assessment)).splitlines()[1] == expected
    document = json.loads(
        gonogo("check", str(EXAMPLES / "doomed.json"), "--today", TODAY, "--format", "json").stdout
    )
    assert document["summary"] == expected
    reason = row_from_assessment(assessment, headline=assessor.renderer.headline(assessment)).reason
    assert reason is not None
    assert reason.text == expected


def test_failed_rules_are_headed_by_their_problem_not_by_what_should_hold(assessor: Assessor) -> None:
    comment = plain(wiki_comment(assessor.renderer, assess(assessor, EXAMPLES / "doomed.json")))
    assert "h5. No funded budget (contract value 0)" in comment
    assert "The customer has a budget for this work" not in comment
    report = assessor.renderer.text_report(assess(assessor, EXAMPLES / "doomed.json"), color=False)
    assert "x No funded budget (contract value 0)  [doomed/budget-exists]" in report


def test_each_finding_shows_the_label_that_waives_it_and_no_rule_id(assessor: Assessor) -> None:
    comment = plain(wiki_comment(assessor.renderer, assess(assessor, EXAMPLES / "conditions.json")))
    assert "To accept the risk, add the label gonogo-waive-capability-proven." in comment
    assert "capability/capability-proven" not in comment
    allowed = build_assessor(Settings(waivers=WaiverPolicy(allow_blockers=True)))
    doomed = plain(wiki_comment(allowed.renderer, assess(allowed, EXAMPLES / "doomed.json")))
    assert "To accept the risk, add the label gonogo-waive-budget-exists." in doomed
    assert "doomed/budget-exists" not in doomed


def test_the_meta_schema_requires_a_failed_title_and_its_placeholders_must_exist(tmp_path: Path) -> None:
    source = json.loads((bundled_dir("checklists") / "strategic.json").read_text())
    del source["rules"][0]["failed_title"]
    path = tmp_path / "strategic.json"
    path.write_text(json.dumps(source))
    _, problems = parse_checklist_file(path)
    assert [p.message for p in problems] == ["'failed_title' is a required property"]
    source["rules"][0]["failed_title"] = "Outside our strategy ({nonsense})"
    path.write_text(json.dumps(source))
    thresholds, known = rule_context(Settings(), [])
    found = lint_rules(ChecklistFile(path, source), thresholds=thresholds, known_properties=known)
    assert [p.message for p in found] == ["text mentions unknown threshold {nonsense}"]


def test_without_a_failed_label_reports_use_the_failed_title_with_its_values_left_out(tmp_path: Path) -> None:
    source = json.loads((bundled_dir("checklists") / "strategic.json").read_text())
    source["rules"][0]["failed_title"] = "Outside our strategy ({strategic_fit}, {competitors|rival|rivals})"
    path = tmp_path / "strategic.json"
    path.write_text(json.dumps(source))
    thresholds, known = rule_context(Settings(), [])
    (rule,) = compile_checklist(ChecklistFile(path, source), thresholds, known).rules
    assert rule.failed_label == "Outside our strategy (…, rivals)"


# --- an honest score -----------------------------------------------------------------------------


def test_is_it_known_checks_do_not_count_in_the_score_or_the_coverage(assessor: Assessor) -> None:
    without = build_assessor(Settings(disabled_checklists=frozenset({"completeness"})))
    for name in NAMES:
        ticket = load_ticket_file(EXAMPLES / f"{name}.json")
        a = assessor.assess(ticket, today=date.fromisoformat(TODAY))
        b = without.assess(ticket, today=date.fromisoformat(TODAY))
        assert (a.score, a.coverage) == (b.score, b.coverage), name
        assert a.coverage.total == 25


def test_a_ticket_where_no_check_could_run_has_no_score_rather_than_zero(
    assessor: Assessor, gonogo: Gonogo
) -> None:
    """Review 1, finding 9: "0/100 (0 of 20 checks could run)" ranked an empty ticket below a NO-GO."""
    ticket = EXAMPLES / "blank.json"
    assessment = assess(assessor, ticket)
    assert (assessment.coverage.assessed, assessment.coverage.total) == (0, 25)
    assert assessment.score is None
    comment = plain(wiki_comment(assessor.renderer, assessment))
    assert "Bid score" not in comment  # NEEDS INFO: the score ranks bids, it is no argument here
    text = assessor.renderer.text_report(assessment, color=False)
    assert "Bid score: no score: 0 of 25 checks could run" in text
    assert "0/100" not in text
    document = json.loads(gonogo("check", str(ticket), "--today", TODAY, "--format", "json").stdout)
    assert (document["score"], document["coverage"]) == (None, {"assessed": 0, "total": 25})
    jsonschema.validate(document, json.loads(schema_path("report.schema.json").read_text()))
    doomed = assess(assessor, EXAMPLES / "doomed.json")
    assert doomed.score is not None  # the NO-GO keeps its score; the empty ticket has none to rank by
    row = row_from_assessment(assessment, headline=assessor.renderer.headline(assessment))
    assert row.score is None
    assert row.coverage is not None
    assert row.coverage.assessed == 0


def test_a_show_stopper_the_ticket_leaves_empty_is_asked_for_not_passed(
    assessor: Assessor, tmp_path: Path
) -> None:
    ticket = example_with(tmp_path, "healthy", customfield_10110=None, customfield_10112=None)
    assessment = assess(assessor, ticket)
    assert assessment.verdict.value == "needs-info"
    assert [m.property for m in assessment.missing_information] == ["liability", "team_available"]


def test_a_go_says_how_many_checks_could_not_run_next_to_the_verdict(
    assessor: Assessor, tmp_path: Path
) -> None:
    ticket = example_with(tmp_path, "healthy", customfield_10111=None)  # no payment terms: skipped
    assessment = assess(assessor, ticket)
    assert assessment.verdict.value == "go"
    comment = plain(wiki_comment(assessor.renderer, assessment)).splitlines()
    assert comment[1] == "GO: 24 of 25 checks passed, 1 could not run."
    assert comment[2] == "Bid score: 100/100 (24 of 25 checks could run)."


# --- exact evidence ------------------------------------------------------------------------------


def test_a_count_held_as_a_list_of_names_is_counted_and_says_so(
    assessor: Assessor, tmp_path: Path, gonogo: Gonogo
) -> None:
    names = ["Avalon", "Brightline", "Corvid", "Delta", "Eastgate", "Fjord", "Granite", "Helix"]
    ticket = example_with(tmp_path, "crowded-field", customfield_10106=names)
    comment = plain(wiki_comment(assessor.renderer, assess(assessor, ticket)))
    assert "h5. 8 other bidders, more than 5" in comment
    assert "Competitors: 8 named." in comment
    document = json.loads(gonogo("check", str(ticket), "--today", TODAY, "--format", "json").stdout)
    (finding,) = [f for f in document["findings"] if f["rule"] == "field-not-crowded"]
    assert finding["evidence"][0] | {"field_id": None} == {
        "property": "competitors",
        "field": "Competitors",
        "field_id": None,
        "value": 8,
        "problem": None,
        "counted": True,
        "quote": None,
    }


def test_why_a_value_could_not_be_used_is_in_the_comment(assessor: Assessor, tmp_path: Path) -> None:
    ticket = example_with(tmp_path, "healthy", customfield_10111="soon")  # payment terms: skipped
    comment = plain(wiki_comment(assessor.renderer, assess(assessor, ticket)))
    assert 'Values that could not be used: Payment terms (days) (expected a number, found "soon").' in comment


def test_the_formula_and_the_assumption_behind_a_number_are_stated_where_it_is_used(
    assessor: Assessor,
) -> None:
    doomed = plain(wiki_comment(assessor.renderer, assess(assessor, EXAMPLES / "doomed.json")))
    assert "Days a response needs: 18 (the larger of 5 and 2 per 100 person-days)" in doomed
    assert "at least 5 days, plus" not in doomed  # the old wording that did not match the code
    unprofitable = plain(wiki_comment(assessor.renderer, assess(assessor, EXAMPLES / "unprofitable.json")))
    assert "Expected margin (%): -50 (at an assumed cost of 600 per person-day)" in unprofitable


def test_waived_risks_are_never_reasons_for_a_go(assessor: Assessor) -> None:
    assessment = assess(assessor, EXAMPLES / "waived.json")
    comment = plain(wiki_comment(assessor.renderer, assessment))
    before, after = comment.split("h4. Waived risks", 1)
    for finding in assessment.findings:
        if finding.outcome is FindingStatus.WAIVED:
            assert failed_title(finding) in after
            assert failed_title(finding) not in before
            assert finding.rule.title not in before
            for item in finding.evidence:  # no value a waived risk rests on is offered as a reason
                assert f"{item.label}: " not in before
    assert assessor.renderer.headline(assessment) == "GO: 22 of 25 checks passed, 3 risks waived."


def test_plurals_are_right_for_one(assessor: Assessor, tmp_path: Path) -> None:
    ticket = example_with(tmp_path, "healthy", customfield_10104=25)  # one condition: win probability
    assessment = assess(assessor, ticket)
    comment = plain(wiki_comment(assessor.renderer, assessment))
    assert (
        assessor.renderer.headline(assessment)
        == "GO WITH CONDITIONS: Win probability 25%, below the 30% target."
    )
    assert "1 conditions" not in comment
    assert "each of the 1" not in comment
    assert "This alone stands between this ticket and a GO:" in comment


def _option(value: str) -> dict[str, str]:
    return {"value": value}


# Variants of the healthy ticket that fail each rule with a value a title could get wrong: every
# failing option, a count of one, a zero and a negative slack, a passed deadline. Thresholds are
# lowered where the default would never let a count of one fail.
TITLE_VARIANTS: list[tuple[dict[str, float], dict[str, Any]]] = [
    ({}, {"customfield_10108": _option("None")}),
    ({}, {"customfield_10108": _option("Partial")}),
    ({}, {"customfield_10112": _option("No")}),
    ({}, {"customfield_10112": _option("Partial")}),
    ({}, {"customfield_10114": _option("Introduced")}),
    ({}, {"customfield_10114": _option("None")}),
    ({}, {"customfield_10102": "2026-11-24", "customfield_10105": 100}),  # 1 day left, needs 5
    ({}, {"customfield_10102": "2026-11-30"}),  # 1 spare day for review
    ({}, {"customfield_10102": "2026-11-20"}),  # passed: negative days and slack
    (
        {"min_bid_days": 1, "min_deadline_buffer_days": 1},
        {"customfield_10102": "2026-11-23", "customfield_10105": 10, "customfield_10101": 30000},
    ),
    (
        {"min_deadline_buffer_days": 1},
        {"customfield_10102": "2026-11-28", "customfield_10105": 10, "customfield_10101": 30000},
    ),
    ({"max_competitors": 0}, {"customfield_10106": 1}),
    ({"max_payment_days": 0}, {"customfield_10111": 1}),
    ({"max_team_size": 0.5}, {"customfield_10105": 120, "customfield_10113": 6}),  # 1 person
    (
        {"max_fixed_price_effort_days": 0},
        {"customfield_10105": 1, "customfield_10107": _option("Fixed price"), "customfield_10101": 15000},
    ),
    ({}, {"customfield_10101": 100000, "customfield_10105": 300}),  # margin below 0, contract small
]
_WRONG_FOR_ONE = re.compile(r"(?<![\d.,])1 (days|people|bidders|person-days)\b")
_NEGATIVE = re.compile(r"(?<![\w.])-\d[\d,]* (day|days|spare)\b")  # a margin may be negative, time not


@pytest.mark.parametrize(("thresholds", "fields"), TITLE_VARIANTS)
def test_every_failed_title_is_true_for_the_value_that_failed(
    tmp_path: Path, thresholds: dict[str, float], fields: dict[str, Any]
) -> None:
    assessor = build_assessor(Settings(thresholds=thresholds))
    assessment = assess(assessor, example_with(tmp_path, "healthy", **fields))
    failed = [f for f in assessment.findings if f.outcome is FindingStatus.FAILED]
    assert failed, fields
    for finding in failed:
        assert not _WRONG_FOR_ONE.search(failed_title(finding)), failed_title(finding)
        assert not _NEGATIVE.search(failed_title(finding)), failed_title(finding)
        assert "only part" not in failed_title(finding).casefold()
        assert "{" not in failed_title(finding)
        assert "{" not in finding.rule.failed_label


def test_failed_titles_say_one_day_one_person_one_bidder(tmp_path: Path) -> None:
    heads = set()
    for thresholds, fields in TITLE_VARIANTS:
        assessor = build_assessor(Settings(thresholds=thresholds))
        assessment = assess(assessor, example_with(tmp_path, "healthy", **fields))
        heads |= {failed_title(f) for f in assessment.findings if f.outcome is FindingStatus.FAILED}
    assert "Too little time: the response needs 1 day, due 2026-11-23" in heads
    assert "Under 1 spare day for review before 2026-11-28" in heads
    assert "1 other bidder, more than 0" in heads
    assert "Payment 1 day after invoice, more than 0" in heads
    assert "1 person needed in parallel, more than 0.5" in heads
    assert "Fixed price on 1 person-day, more than 0" in heads
    assert "References do not cover the whole scope (capability fit None)" in heads  # the site's words
    assert "The delivery team is not fully free (team available: No)" in heads
    assert "We have not met the decision maker (access: None)" in heads


def test_the_json_document_with_its_new_keys_follows_the_schema(gonogo: Gonogo) -> None:
    schema = json.loads(schema_path("report.schema.json").read_text())
    for key in ("summary", "coverage", "path_to_go"):
        assert key in schema["required"]
    for name in NAMES:
        run = gonogo("check", str(EXAMPLES / f"{name}.json"), "--today", TODAY, "--format", "json")
        document = json.loads(run.stdout)
        jsonschema.validate(document, schema)
        assert all(
            set(step) == set(schema["properties"]["path_to_go"]["items"]["required"])
            for step in document["path_to_go"]
        )


def test_under_a_no_go_an_unusable_answer_still_says_why(assessor: Assessor, tmp_path: Path) -> None:
    ticket = example_with(tmp_path, "doomed", customfield_10104="about 20")
    comment = plain(wiki_comment(assessor.renderer, assess(assessor, ticket)))
    assert "Also to answer: Decision maker, Win probability." in comment
    assert 'Values that could not be used: Win probability (expected a number, found "about 20").' in comment
