"""Judge the proposal, not the form: placeholders, implausible values, and what the text says.

The corpus (tests/corpus/descriptions.yaml) holds proposal descriptions written for this, each with
the verdict it must give and the signals it must and must not raise.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hostile_corpus import QUOTED_SENTENCE
from realdeps import require_real_or_skip
from support import EXAMPLES, TODAY, Gonogo, adf_comment, wiki_comment
from tickets import issue_file
from wiki_oracle import live_constructs, oracle_unavailable_reason, render_wiki_to_adf, text_as_typed

from gonogo.core.pipeline.findings import Assessment, FindingStatus
from gonogo.core.pipeline.proposal import Proposal
from gonogo.core.pipeline.signals import sentences
from gonogo.flows.assessor import Assessor, build_assessor
from gonogo.render.codes import failed_title
from gonogo.sources.config import Settings
from gonogo.sources.tickets import load_ticket_file

CORPUS: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "corpus" / "descriptions.yaml").read_text()
)
DOCS = Path(__file__).parent.parent / "docs" / "checklists.md"


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return build_assessor(Settings())


def judged(assessor: Assessor, path: Path) -> tuple[Assessment, Proposal]:
    return assessor.assess_with_proposal(load_ticket_file(path), today=date.fromisoformat(TODAY))


def comment_of(assessor: Assessor, assessment: Assessment) -> str:
    return wiki_comment(assessor.renderer, assessment).replace("\u2060", "").replace("\\", "")


# --- the corpus -----------------------------------------------------------------------------------


def test_the_corpus_is_large_and_varied_enough() -> None:
    assert len(CORPUS) >= 40
    verdicts = [case["verdict"] for case in CORPUS]
    assert verdicts.count("go") >= 20
    assert {"no-go", "needs-info", "go-with-conditions"} <= set(verdicts)
    assert len({case["id"] for case in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("case", CORPUS, ids=[case["id"] for case in CORPUS])
def test_each_description_gives_its_verdict_and_raises_what_it_says(
    assessor: Assessor, tmp_path: Path, case: dict[str, Any]
) -> None:
    fields = {"description": case["description"], **case.get("fields", {})}
    if "summary" in case:
        fields["summary"] = case["summary"]
    assessment, proposal = judged(assessor, issue_file(tmp_path, "healthy", **fields))
    raised = {name for name, value in proposal.values.items() if name.startswith("text_") and value is True}
    assert assessment.verdict.value == case["verdict"], (assessor.renderer.headline(assessment), raised)
    assert set(case.get("raises", ())) <= raised
    assert not set(case.get("not_raises", ())) & raised
    text = " ".join(f"{case.get('summary', '')} {case['description']}".split())
    for name in raised:  # every finding from text rests on a sentence the ticket holds
        quote = proposal.quotes[name]
        assert quote.sentence.strip("…") in text
    for finding in assessment.findings:
        if finding.outcome in (FindingStatus.FAILED, FindingStatus.MISSING):
            for e in finding.evidence:
                if e.value is True:
                    assert e.quote is not None
                    assert e.quote.sentence


def test_every_show_stopper_in_the_text_is_quoted_in_the_comment(assessor: Assessor, tmp_path: Path) -> None:
    for case in CORPUS:
        if case["verdict"] == "go":
            continue
        fields = {
            "description": case["description"],
            **({"summary": case["summary"]} if "summary" in case else {}),
        }
        assessment, proposal = judged(assessor, issue_file(tmp_path, "healthy", **fields))
        comment = comment_of(assessor, assessment)
        quoted = [q.sentence for name, q in proposal.quotes.items() if name != "text_tender"]
        assert any(f'says "{sentence}"' in comment for sentence in quoted), (case["id"], comment)


# --- placeholders ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "label", "written"),
    [
        ({"decision_maker": "n/a"}, "Decision maker", "n/a"),  # text (a user field typed as text)
        ({"decision_maker": "  TBD "}, "Decision maker", "TBD"),
        ({"decision_maker": "-"}, "Decision maker", "-"),
        ({"decision_maker": "Unknown"}, "Decision maker", "Unknown"),
        ({"capability_fit": {"value": "TBC"}}, "Capability fit", "TBC"),  # an option
        ({"competitors": ["TBD"]}, "Competitors", "TBD"),  # a list
        ({"win_probability": "?"}, "Win probability", "?"),  # a number field holding text
        ({"budget": "none yet"}, "Contract value", "none yet"),
    ],
)
def test_a_placeholder_is_missing_and_the_question_names_what_was_written(
    assessor: Assessor, tmp_path: Path, fields: dict[str, Any], label: str, written: str
) -> None:
    assessment, _ = judged(assessor, issue_file(tmp_path, "healthy", **fields))
    assert assessment.verdict.value == "needs-info"
    assert [m.label for m in assessment.missing_information] == [label]
    assert f"* {label}: '{written}' is a placeholder. " in comment_of(assessor, assessment)
    report = assessor.renderer.text_report(assessment, color=False)
    assert f"'{written}' is a placeholder." in report


def test_a_placeholder_in_a_list_is_not_counted_and_a_real_option_named_none_is_an_answer(
    assessor: Assessor, tmp_path: Path
) -> None:
    _, proposal = judged(assessor, issue_file(tmp_path, "healthy", competitors=["Acme", "TBD", "?"]))
    assert proposal.values["competitors"] == 1
    assessment, proposal = judged(assessor, issue_file(tmp_path, "healthy", incumbent={"value": "None"}))
    assert proposal.values["incumbent"] == "none"
    assert assessment.verdict.value == "go"


def test_a_site_adds_its_own_placeholders(tmp_path: Path) -> None:
    site = build_assessor(Settings(placeholders=("à définir",)))
    ticket = issue_file(tmp_path, "healthy", decision_maker="À  DÉFINIR")
    assessment = site.assess(load_ticket_file(ticket), today=date.fromisoformat(TODAY))
    assert [m.placeholder for m in assessment.missing_information] == ["À  DÉFINIR"]


def test_the_config_file_takes_placeholders(gonogo: Gonogo, tmp_path: Path) -> None:
    (tmp_path / "gonogo.toml").write_text('[vocabulary]\nplaceholders = ["offen"]\n')
    ticket = issue_file(tmp_path, "healthy", decision_maker="Offen")
    run = gonogo("check", str(ticket), "--today", TODAY)
    assert "NEEDS INFO: no answer yet for Decision maker." in run.stdout
    assert "'Offen' is a placeholder." in run.stdout


# --- the five cases of the issue ------------------------------------------------------------------


def test_unsignable_terms_in_the_text_are_not_a_go(assessor: Assessor, tmp_path: Path) -> None:
    text = (
        "Contract terms: unlimited liability and uncapped liquidated damages; our legal team has said "
        "we cannot sign these terms."
    )
    assessment, _ = judged(assessor, issue_file(tmp_path, "healthy", description=text))
    assert assessment.verdict.value == "no-go"
    comment = comment_of(assessor, assessment)
    assert 'Description says "Contract terms: unlimited liability' in comment
    assert "(disagrees with Liability: Capped)" in comment


def test_a_value_in_thousands_is_asked_about_not_judged(assessor: Assessor) -> None:
    assessment, _ = judged(assessor, EXAMPLES / "in-thousands.json")
    assert assessment.verdict.value == "needs-info"
    comment = comment_of(assessor, assessment)
    assert (
        "Contract value: 480 for 300 person-days is 1.6 a person-day, far below any real day rate." in comment
    )
    assert "Is it in thousands?" in comment
    assert "does not cover delivery" not in comment
    assert "Not judged until the question is answered: 8 checks." in comment
    held = {f.ref for f in assessment.findings if f.on_hold}
    assert {"doomed/margin-positive", "commercial/margin-floor"} <= held


def test_an_effort_out_of_proportion_to_the_value_is_asked_about(assessor: Assessor) -> None:
    assessment, _ = judged(assessor, EXAMPLES / "too-good.json")
    assert assessment.verdict.value == "needs-info"
    comment = comment_of(assessor, assessment)
    assert "1,500,000 for 5 person-days is 300,000 a person-day, far above any real day rate" in comment
    assert "Win probability 80% against 5 other bidders (incumbent: Competitor)" in comment


def test_a_break_even_headline_says_break_even_and_the_assumed_cost(
    assessor: Assessor, tmp_path: Path
) -> None:
    assessment, _ = judged(assessor, issue_file(tmp_path, "healthy", budget=180000))
    assert assessor.renderer.headline(assessment) == (
        "NO-GO: The price only breaks even at the assumed 600 a person-day (margin 0%)."
    )
    below, _ = judged(assessor, issue_file(tmp_path, "healthy", budget=100000))
    assert "does not cover delivery at the assumed 600 a person-day" in assessor.renderer.headline(below)


def test_placeholders_and_scope_tbd_are_not_a_go(assessor: Assessor, tmp_path: Path) -> None:
    for value in ("n/a", "TBD", "TBC", "-", "Unknown"):
        assessment, _ = judged(assessor, issue_file(tmp_path, "healthy", decision_maker=value))
        assert assessment.verdict.value == "needs-info", value
    ticket = issue_file(
        tmp_path, "healthy", summary="Build everything for MegaCorp by Friday", description="Scope TBD."
    )
    assessment, _ = judged(assessor, ticket)
    assert assessment.verdict.value == "needs-info"


def test_a_contract_form_contradiction_applies_the_stricter_and_names_both(
    assessor: Assessor, tmp_path: Path
) -> None:
    text = "The customer asks for a firm fixed price for the whole rollout."
    ticket = issue_file(tmp_path, "healthy", description=text, effort_days=600, budget=900000)
    assessment, _ = judged(assessor, ticket)
    failed = {f.ref: failed_title(f) for f in assessment.findings if f.outcome is FindingStatus.FAILED}
    assert failed["commercial/fixed-price-size"] == "Fixed price on 600 person-days, more than 400"
    assert failed["commercial/contract-form-agrees"] == (
        "The text says fixed price; Contract type says Time and materials"
    )


# --- safety and the checklist format --------------------------------------------------------------


def test_a_quote_is_only_ever_text_in_the_comment(assessor: Assessor, tmp_path: Path) -> None:
    text = "h1. [click|https://evil.example] *unlimited liability* for [~admin] !x.png! {code}"
    assessment, _ = judged(assessor, issue_file(tmp_path, "healthy", description=text))
    assert assessment.verdict.value == "no-go"
    wiki = wiki_comment(assessor.renderer, assessment)
    for markup in ("[click|", "[~admin]", "!x.png!", "{code}", "\nh1."):
        assert markup not in wiki
    nodes: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            nodes.append(node)
            for child in node.get("content", ()):
                walk(child)

    walk(adf_comment(assessor.renderer, assessment))
    quoted = [n for n in nodes if n.get("type") == "text" and "unlimited liability" in n.get("text", "")]
    assert quoted
    assert all("marks" not in n for n in quoted)
    assert "[click|https://evil.example]" in "".join(n["text"] for n in quoted)
    assert not {n.get("type") for n in nodes} & {"inlineCard", "mention", "mediaSingle", "codeBlock"}


def test_a_hostile_quote_is_text_as_typed_in_atlassians_parser_and_in_adf(
    assessor: Assessor, tmp_path: Path
) -> None:
    if reason := oracle_unavailable_reason():
        require_real_or_skip(reason)
    benign = "plain words " * 6 + "says unlimited liability here " + "plain words " * 10
    wiki: dict[str, str] = {}
    for name, text in (("hostile", QUOTED_SENTENCE), ("benign", benign)):
        assessment, _ = judged(assessor, issue_file(tmp_path, "healthy", description=text))
        wiki[name] = wiki_comment(assessor.renderer, assessment)
        adf = adf_comment(assessor.renderer, assessment)
        assert not {"mention", "inlineCard", "mediaSingle", "mark:link"} & set(live_constructs(adf))
    hostile, plain = render_wiki_to_adf([wiki["hostile"], wiki["benign"]])
    assert Counter(live_constructs(hostile)) == Counter(live_constructs(plain))
    assert f'Description says "{QUOTED_SENTENCE}"' in text_as_typed(hostile)


def test_patterns_read_a_bounded_text_in_bounded_pieces(assessor: Assessor, tmp_path: Path) -> None:
    """A team's pattern may backtrack, so what it reads is bounded (the first 100,000 characters, in
    pieces of at most 1,000): its cost follows the text's length, not its square."""
    run_on = "the framework covers many services " * 300 + "with unlimited liability " + "and lots " * 300
    pieces = sentences(run_on)
    assert max(len(piece) for piece in pieces) <= 1000
    assert "".join(pieces) == run_on
    assessment, _ = judged(assessor, issue_file(tmp_path, "healthy", description=run_on))
    assert assessment.verdict.value == "no-go"
    past_the_bound = "Support renewal. " * 6000 + "Unlimited liability."
    assessment, _ = judged(assessor, issue_file(tmp_path, "healthy", description=past_the_bound))
    assert assessment.verdict.value == "go"


def test_a_long_sentence_is_quoted_shortened_around_what_matched(assessor: Assessor, tmp_path: Path) -> None:
    text = (
        "The framework "
        + "covers many services and regions, " * 12
        + "with unlimited liability for data loss "
        + ("across all the lots and every year of the term, " * 8)
    )
    _, proposal = judged(assessor, issue_file(tmp_path, "healthy", description=text))
    quote = proposal.quotes["text_unsignable_terms"].sentence
    assert "unlimited liability" in quote
    assert quote.startswith("…")
    assert quote.endswith("…")
    assert len(quote) <= 170


def _team_checklist(tmp_path: Path, signals: list[dict[str, Any]]) -> Path:
    folder = tmp_path / "team"
    folder.mkdir(exist_ok=True)
    data = {
        "id": "team",
        "title": "Team rules",
        "version": "1.0",
        "description": "What our own bid board asks of every proposal.",
        "signals": signals,
        "rules": [
            {
                "id": "no-penalties",
                "title": "No daily penalties",
                "failed_title": "Daily penalties in the text",
                "severity": "major",
                "condition": {
                    "required": ["text_penalties"],
                    "properties": {"text_penalties": {"const": False}},
                },
                "why": "Daily penalties turn every late day into a loss.",
                "fix": "Ask for them to be capped, or price the delay risk.",
            }
        ],
    }
    (folder / "team.json").write_text(json.dumps(data))
    return folder


def test_lint_validates_a_teams_signals(gonogo: Gonogo, tmp_path: Path) -> None:
    good = {
        "id": "penalties",
        "property": "text_penalties",
        "label": "Penalties",
        "patterns": [r"\bper day\b"],
    }
    folder = _team_checklist(tmp_path, [good])
    assert gonogo("checklists", "lint", str(folder)).exit_code == 0
    bad = {**good, "patterns": ["(unclosed"], "fields": ["notes"], "about": "nothing"}
    folder = _team_checklist(tmp_path, [bad])
    run = gonogo("checklists", "lint", str(folder))
    assert run.exit_code == 3
    assert "signal penalties: patterns #1 is not a valid regular expression" in run.stdout
    assert "signal penalties: reads unknown field(s) notes" in run.stdout
    assert "signal penalties: is about unknown property nothing" in run.stdout
    wrong_name = {**good, "property": "penalties"}
    run = gonogo("checklists", "lint", str(_team_checklist(tmp_path, [wrong_name])))
    assert run.exit_code == 3
    assert "does not match" in run.stdout


def test_a_team_signal_reads_a_mapped_text_field(tmp_path: Path) -> None:
    signal = {
        "id": "penalties",
        "property": "text_penalties",
        "label": "Penalties",
        "patterns": [r"\bpenalt(y|ies)\b[^.]{0,30}\bper day\b"],
        "fields": ["notes"],
    }
    folder = _team_checklist(tmp_path, [signal])
    site = build_assessor(Settings(checklist_paths=(folder,), fields={"notes": "Environment"}))
    ticket = issue_file(tmp_path, "healthy", environment="Penalties of 1% per day of delay.")
    assessment = site.assess(load_ticket_file(ticket), today=date.fromisoformat(TODAY))
    finding = next(f for f in assessment.findings if f.ref == "team/no-penalties")
    assert finding.outcome is FindingStatus.FAILED
    assert finding.evidence[0].quote is not None
    assert finding.evidence[0].quote.sentence == "Penalties of 1% per day of delay"


def test_the_documented_example_lints(gonogo: Gonogo, tmp_path: Path) -> None:
    text = DOCS.read_text()
    block = re.search(r"```yaml\n(signals:\n.*?)```", text, re.DOTALL)
    assert block is not None
    data = yaml.safe_load(block.group(1))
    data.update(
        id="copied", title="Copied from the docs", version="1.0", description="The documented example."
    )
    folder = tmp_path / "copied"
    folder.mkdir()
    (folder / "copied.yaml").write_text(yaml.safe_dump(data))
    run = gonogo("checklists", "lint", str(folder))
    assert run.exit_code == 0, run.stdout
    site = build_assessor(Settings(checklist_paths=(folder,)))
    ticket = issue_file(tmp_path, "healthy", description="Penalties of 2% per day of delay apply.")
    assessment = site.assess(load_ticket_file(ticket), today=date.fromisoformat(TODAY))
    assert {f.ref for f in assessment.findings if f.outcome is FindingStatus.FAILED} == {
        "copied/no-daily-penalties"
    }
