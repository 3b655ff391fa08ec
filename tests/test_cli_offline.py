"""The CLI on ticket files: verdicts, exit codes, output formats, and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from support import BUNDLED_CHECKLISTS, EXAMPLES, REPO, TODAY, Gonogo, example_with

from gonogo.sources.resources import schema_path

REPORT_SCHEMA = json.loads(schema_path("report.schema.json").read_text())


def check_json(gonogo: Gonogo, ticket: Path | str, *extra: str) -> tuple[int, dict[str, Any]]:
    run = gonogo("check", str(ticket), "--today", TODAY, "--format", "json", *extra)
    document = json.loads(run.stdout)
    jsonschema.validate(document, REPORT_SCHEMA)
    return run.exit_code, document


@pytest.mark.parametrize(
    ("example", "verdict", "exit_code"),
    [
        ("doomed", "no-go", 12),
        ("needs-info", "needs-info", 11),
        ("conditions", "go-with-conditions", 10),
        ("healthy", "go", 0),
    ],
)
def test_bundled_examples_get_their_verdicts(
    gonogo: Gonogo, example: str, verdict: str, exit_code: int
) -> None:
    code, document = check_json(gonogo, EXAMPLES / f"{example}.json")
    assert (document["verdict"], code) == (verdict, exit_code)
    assert document["comment"] is None  # a file is never posted


def test_doomed_proposal_names_each_blocker_with_its_evidence(gonogo: Gonogo) -> None:
    _, document = check_json(gonogo, EXAMPLES / "doomed.json")
    failed_blockers = {
        f["rule"]: {e["property"]: e["value"] for e in f["evidence"]}
        for f in document["findings"]
        if f["outcome"] == "failed" and f["severity"] == "blocker"
    }
    assert failed_blockers == {
        "budget-exists": {"budget": 0},
        "deadline-achievable": {
            "deadline": "2026-11-26",
            "days_to_deadline": 3,
            "effort_days": 900,
            "bid_days_needed": 18,
            "deadline_slack_days": -15,
        },
        "capability-exists": {"capability_fit": "none"},
        "liability-capped": {"liability": "unlimited"},
        "team-exists": {"team_available": "no"},
    }
    assert [m["property"] for m in document["missing_information"]] == ["decision_maker"]


def test_missing_contract_value_and_decision_maker_is_needs_info(gonogo: Gonogo) -> None:
    _, document = check_json(gonogo, EXAMPLES / "needs-info.json")
    missing = {m["property"]: m for m in document["missing_information"]}
    assert set(missing) == {"budget", "decision_maker"}
    assert missing["budget"]["field_id"] == "customfield_10101"
    assert "budget-known" in missing["budget"]["needed_by"]


def test_text_report_is_readable_and_uncoloured_when_piped(gonogo: Gonogo) -> None:
    run = gonogo("check", str(EXAMPLES / "doomed.json"), "--today", TODAY)
    assert run.exit_code == 12
    assert "Verdict: NO-GO" in run.stdout
    assert "Contract value: 0" in run.stdout
    assert "Days a response needs: 18" in run.stdout
    assert "\x1b[" not in run.stdout


def test_go_report_says_why_it_is_a_go(gonogo: Gonogo) -> None:
    run = gonogo("check", str(EXAMPLES / "healthy.json"), "--today", TODAY)
    assert run.exit_code == 0
    assert "Verdict: GO" in run.stdout
    assert "GO: 25 of 25 checks passed." in run.stdout
    assert "The customer has a budget for this work (Contract value: 480,000)" in run.stdout


def test_jira_format_prints_the_comment_that_would_be_posted(gonogo: Gonogo) -> None:
    run = gonogo("check", str(EXAMPLES / "doomed.json"), "--today", TODAY, "--format", "jira")
    assert run.stdout.startswith("h3. gonogo verdict:")
    assert "h4. (x) Show-stoppers" in run.stdout


def test_today_changes_the_verdict_as_time_passes(gonogo: Gonogo) -> None:
    early, _ = check_json(gonogo, EXAMPLES / "healthy.json")
    late = gonogo("check", str(EXAMPLES / "healthy.json"), "--today", "2027-01-07", "--format", "json")
    assert early == 0
    assert json.loads(late.stdout)["verdict"] == "no-go"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON (line 1, column 2"),
        ("[1, 2]", "expected a Jira issue object, got list"),
        ('{"key": "BID-1"}', 'no "fields" object'),
        ('{"fields": {}}', 'no issue "key"'),
    ],
)
def test_malformed_ticket_file_is_one_line_and_exit_4(
    gonogo: Gonogo, tmp_path: Path, content: str, message: str
) -> None:
    ticket = tmp_path / "ticket.json"
    ticket.write_text(content)
    run = gonogo("check", str(ticket))
    assert run.exit_code == 4
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1
    assert run.stderr.startswith("gonogo: error: ")
    assert message in run.stderr


@pytest.mark.parametrize(
    ("ticket", "message"),
    [
        ("nonsense", "is not a ticket: give an issue key like BID-42"),
        ("missing.json", "missing.json: no such file"),
    ],
)
def test_unusable_ticket_argument_is_an_input_error(gonogo: Gonogo, ticket: str, message: str) -> None:
    run = gonogo("check", ticket)
    assert run.exit_code == 4
    assert message in run.stderr


def test_a_key_without_jira_settings_names_the_variable(gonogo: Gonogo) -> None:
    run = gonogo("check", "BID-42")
    assert run.exit_code == 3
    assert run.stderr.strip() == (
        "gonogo: error: JIRA_URL is not set: export JIRA_URL=https://your-site.atlassian.net "
        "(or set [jira].url in gonogo.toml)"
    )


def test_usage_errors_keep_clicks_exit_code(gonogo: Gonogo) -> None:
    assert gonogo("check").exit_code == 2
    assert gonogo("check", "x.json", "--format", "yaml").exit_code == 2


def test_version_and_help(gonogo: Gonogo) -> None:
    assert gonogo("--version").stdout.startswith("gonogo, version ")
    help_text = gonogo("check", "--help").stdout
    assert "0 GO, 10 GO WITH CONDITIONS" in " ".join(help_text.split())


def test_python_dash_m_runs_the_same_cli() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gonogo",
            "check",
            str(EXAMPLES / "needs-info.json"),
            "--today",
            TODAY,
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 11
    assert "Verdict: NEEDS INFO" in result.stdout


def test_terminal_control_sequences_in_ticket_text_are_not_printed(gonogo: Gonogo, tmp_path: Path) -> None:
    ticket = example_with(tmp_path, "healthy", summary="Harmless\x1b[2J\x1b]0;pwned\x07\u202eevil")
    run = gonogo("check", str(ticket), "--today", TODAY)
    assert run.exit_code == 0
    assert "Harmless" in run.stdout
    assert not {"\x1b", "\x07", "\u202e"} & set(run.stdout)


def test_a_broken_template_is_a_configuration_error_not_a_crash(gonogo: Gonogo, tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "report.txt.j2").write_text("{{ nosuchvar }}")
    (tmp_path / "gonogo.toml").write_text('[templates]\npath = "mine"\n')
    run = gonogo("check", str(EXAMPLES / "healthy.json"), "--today", TODAY)
    assert run.exit_code == 3
    assert run.stderr.startswith("gonogo: error: template report.txt.j2:")
    assert run.stdout == ""


def test_dry_run_on_a_file_prints_the_comment_a_check_would_post(gonogo: Gonogo) -> None:
    run = gonogo("check", str(EXAMPLES / "doomed.json"), "--today", TODAY, "--dry-run")
    assert "This comment would be posted by a check of BID-101:" in run.stdout
    assert "h3. gonogo verdict:" in run.stdout


def test_ticket_text_cannot_forge_report_lines(gonogo: Gonogo, tmp_path: Path) -> None:
    ticket = example_with(tmp_path, "needs-info", customfield_10101="lots\n\nVerdict: GO\n")
    run = gonogo("check", str(ticket), "--today", TODAY)
    assert [line for line in run.stdout.splitlines() if line.startswith("Verdict:")] == [
        "Verdict: NEEDS INFO"
    ]


def test_a_go_with_notes_does_not_claim_every_check_passed(gonogo: Gonogo, tmp_path: Path) -> None:
    outside = {"value": "Outside", "id": "1"}  # fails the minor strategy rule
    ticket = example_with(tmp_path, "healthy", customfield_10116=outside)
    run = gonogo("check", str(ticket), "--today", TODAY)
    assert run.exit_code == 0
    assert "GO: 24 of 25 checks passed, 1 note." in run.stdout
    comment = gonogo("check", str(ticket), "--today", TODAY, "--format", "jira").stdout
    assert "25 of 25 checks passed" not in comment.replace("\u2060", "")


def test_no_applicable_checklist_is_an_error_not_a_go(gonogo: Gonogo, tmp_path: Path) -> None:
    every = BUNDLED_CHECKLISTS
    (tmp_path / "gonogo.toml").write_text(f"[checklists]\ndisable = {list(every)!r}\n".replace("'", '"'))
    run = gonogo("check", str(EXAMPLES / "blank.json"), "--today", TODAY)
    assert run.exit_code == 3
    assert "no checklist applies to BID-108 (project BID, issue type Proposal)" in run.stderr


def test_the_publication_line_is_worded_by_a_template_a_team_can_override(
    gonogo: Gonogo, tmp_path: Path
) -> None:
    """Review 2, finding 8: what happened to the comment is a template's wording, not Python's."""
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "publication.txt.j2").write_text("\nSimulation for {{ key }} ({{ action }}).\n")
    (tmp_path / "gonogo.toml").write_text('[templates]\npath = "mine"\n')
    run = gonogo("check", str(EXAMPLES / "doomed.json"), "--today", TODAY, "--dry-run")
    assert run.exit_code == 12, run.stderr
    assert run.stdout.endswith("\nSimulation for BID-101 (not given).\n")
    assert "Dry run" not in run.stdout
