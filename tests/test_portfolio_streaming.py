"""`gonogo report` as a stream: rows go out while the search goes on, and `--post` repeats no work.

A re-run of `--post` on a ticket whose pointer records the inputs its comment was made from neither
searches the path to GO nor renders the comment; a changed input, a new day that changes a derived
value, or a stale pointer brings the work back, and only for that ticket.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import fields, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from jiraserver import JiraServer, running_server
from portfolio_helpers import env_for, seed_portfolio, settings_for
from support import EXAMPLES, TODAY, Gonogo

import gonogo.flows.assessor as assessor_module
import gonogo.flows.portfolio_run as report_module
from gonogo.core.pipeline.findings import Assessment, Finding
from gonogo.core.pipeline.inputs_digest import LEFT_OUT, checklists_fingerprint
from gonogo.core.pipeline.path_to_go import find_path
from gonogo.core.pipeline.proposal import Proposal, Quote, Source
from gonogo.core.pipeline.rules import Rule, Severity
from gonogo.core.pipeline.ticket import ticket_from_rest
from gonogo.core.portfolio.rows import Row
from gonogo.flows.assessor import build_assessor
from gonogo.flows.portfolio_run import ReportRequest, ReportRun, run_report
from gonogo.render.renderer import Renderer
from gonogo.sources.config import load_settings
from gonogo.sources.tickets import load_ticket_file

PROPERTY = "gonogo.verdict"
DAY = date.fromisoformat(TODAY)


@pytest.fixture
def site() -> Iterator[tuple[JiraServer, dict[str, str]]]:
    """50 tickets over 5 search pages."""
    with running_server(deployment="Cloud", search_page_cap=10) as server:
        seeded = seed_portfolio(server, 50)
        yield server, seeded
        assert server.internal_errors == []


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many paths to GO were searched and comments rendered."""
    counts = {"paths": 0, "comments": 0}
    comment_body = Renderer.comment_body

    def counted_path(*args: Any, **kwargs: Any) -> Any:
        counts["paths"] += 1
        return find_path(*args, **kwargs)

    def counted_comment(self: Renderer, *args: Any, **kwargs: Any) -> Any:
        counts["comments"] += 1
        return comment_body(self, *args, **kwargs)

    monkeypatch.setattr(assessor_module, "find_path", counted_path)
    monkeypatch.setattr(Renderer, "comment_body", counted_comment)
    return counts


def post(server: JiraServer, *, today: date = DAY) -> ReportRun:
    settings = settings_for(server)
    request = ReportRequest(jql="project = BID", today=today, post=True)
    return run_report(request, assessor=build_assessor(settings))


def issue_id(run: ReportRun, key: str) -> str | None:
    return next(row.ticket_id for row in run.portfolio.rows if row.key == key)


def writes(server: JiraServer) -> list[Any]:
    return [r for r in server.requests if r.method != "GET"]


def test_rows_go_out_while_the_search_is_still_going(site: tuple[JiraServer, dict[str, str]]) -> None:
    server, seeded = site
    server.clear_requests()
    pages_when: list[int] = []

    def on_row(row: Row) -> None:
        pages_when.append(sum(1 for r in server.requests if r.path.endswith("/search/jql")))

    settings = settings_for(server)
    request = ReportRequest(jql="project = BID", today=DAY)
    run = run_report(request, assessor=build_assessor(settings), on_row=on_row)
    assert len(pages_when) == len(seeded)
    # The first row is out when at most three of five pages were asked for: the one judged, the
    # one waiting, and the one being fetched. Nothing is kept: the totals are counted as rows pass.
    assert pages_when[0] <= 3 < pages_when[-1] == 5
    assert run.portfolio.rows == ()
    assert run.portfolio.totals.tickets == len(seeded)


def test_the_search_thread_gets_its_turn_while_pages_are_judged(
    site: tuple[JiraServer, dict[str, str]],
) -> None:
    """Judging holds the GIL; a short switch interval lets the search thread read the next page
    meanwhile. It holds while rows are made and is the interpreter's own again after the run."""
    server, _ = site
    before = sys.getswitchinterval()
    seen: list[float] = []
    settings = settings_for(server)
    request = ReportRequest(jql="project = BID", today=DAY)

    def on_row(_row: Row) -> None:
        seen.append(sys.getswitchinterval())

    run_report(request, assessor=build_assessor(settings), on_row=on_row)
    assert seen
    assert set(seen) == {min(before, report_module.SEARCH_SWITCH_INTERVAL)}
    assert sys.getswitchinterval() == before


def test_an_unchanged_post_rerun_searches_no_path_and_renders_no_comment(
    site: tuple[JiraServer, dict[str, str]], work: dict[str, int]
) -> None:
    server, seeded = site
    first = post(server)
    assert first.portfolio.totals.comments == {"created": len(seeded)}
    assert work == {"paths": len(seeded), "comments": len(seeded)}
    server.clear_requests()
    again = post(server)
    assert again.portfolio.totals.comments == {"unchanged": len(seeded)}
    assert work == {"paths": len(seeded), "comments": len(seeded)}  # none more
    assert writes(server) == []


def test_only_the_ticket_whose_input_changed_is_judged_again(
    site: tuple[JiraServer, dict[str, str]], work: dict[str, int]
) -> None:
    server, seeded = site
    post(server)
    server.change_issue("BID-7", {"customfield_10104": 3})  # win probability
    server.clear_requests()
    again = post(server)
    assert again.portfolio.totals.comments == {"unchanged": len(seeded) - 1, "updated": 1}
    assert work == {"paths": len(seeded) + 1, "comments": len(seeded) + 1}
    assert {r.path for r in writes(server)} == {f"/rest/api/2/issue/{issue_id(again, 'BID-7')}"}


def test_a_new_day_leaves_no_comment_stale(
    site: tuple[JiraServer, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The date's effect is an input: every comment a day changes is rewritten on that day."""
    server, seeded = site
    post(server)
    later = DAY + timedelta(days=9)
    moved = post(server, today=later).portfolio.totals.comments
    assert 0 < moved.get("updated", 0) < len(seeded)  # the days to a deadline changed; not everywhere
    # With the shortcut off, every comment is compared by its text: nothing was left behind.
    monkeypatch.setattr(report_module, "standing_comment", lambda *_, **__: None)
    server.clear_requests()
    assert post(server, today=later).portfolio.totals.comments == {"unchanged": len(seeded)}
    assert writes(server) == []


def test_a_check_records_its_own_inputs_never_a_stale_digest(
    gonogo: Gonogo, site: tuple[JiraServer, dict[str, str]]
) -> None:
    """Every writer records the inputs of what it wrote, or a report could trust an outdated comment."""
    server, _ = site
    post(server)
    server.set_issue_property(
        "BID-3", PROPERTY, {**server.issue_properties("BID-3")[PROPERTY], "inputs": "x"}
    )
    server.change_issue("BID-3", {"customfield_10104": 3})
    assert gonogo("check", "BID-3", "--today", TODAY, env=env_for(server)).stderr == ""
    assert server.issue_properties("BID-3")[PROPERTY]["inputs"].startswith("sha256:")


def test_a_stale_inputs_digest_rewrites_the_pointer_alone(site: tuple[JiraServer, dict[str, str]]) -> None:
    """Same comment text, other inputs recorded (an older gonogo, say): the comment is not edited."""
    server, seeded = site
    post(server)
    (comment,) = server.comments("BID-5")
    server.set_issue_property(
        "BID-5", PROPERTY, {**server.issue_properties("BID-5")[PROPERTY], "inputs": "x"}
    )
    server.clear_requests()
    again = post(server)
    assert again.portfolio.totals.comments == {"unchanged": len(seeded)}
    (edit,) = writes(server)
    assert (edit.method, edit.path) == ("PUT", f"/rest/api/2/issue/{issue_id(again, 'BID-5')}")
    assert "update" not in edit.body or "comment" not in edit.body["update"]
    assert server.comments("BID-5") == [comment]
    assert server.issue_properties("BID-5")[PROPERTY]["inputs"].startswith("sha256:")


def test_json_lines_are_the_json_documents_tickets(
    gonogo: Gonogo, site: tuple[JiraServer, dict[str, str]]
) -> None:
    server, seeded = site
    lines = gonogo("report", "--today", TODAY, "--project", "BID", "--format", "jsonl", env=env_for(server))
    document = gonogo("report", "--today", TODAY, "--project", "BID", "--format", "json", env=env_for(server))
    assert lines.exit_code == document.exit_code == 0
    tickets = [json.loads(line) for line in lines.stdout.splitlines()]
    assert len(tickets) == len(seeded)
    by_key = {t["key"]: t for t in json.loads(document.stdout)["tickets"]}
    assert {t["key"]: t for t in tickets} == by_key


def test_a_run_that_stops_leaves_no_half_written_file(
    gonogo: Gonogo, site: tuple[JiraServer, dict[str, str]], tmp_path: Path
) -> None:
    server, _ = site
    out = tmp_path / "portfolio.csv"
    run = gonogo(
        "report",
        "--today",
        TODAY,
        "--jql",
        "project ~ BID",
        "--format",
        "csv",
        "-o",
        str(out),
        env=env_for(server),
    )
    assert run.exit_code == 4
    assert list(tmp_path.iterdir()) == []


def test_the_inputs_digest_reads_every_field_of_an_assessment() -> None:
    """A field added to Assessment, Finding or Proposal is an input the digest reads, unless it says
    why not."""
    read = {f.name for kind in (Assessment, Finding, Proposal) for f in fields(kind)}
    assert set(LEFT_OUT) <= read


def test_every_field_of_a_proposal_is_an_input() -> None:
    """Editing any part of a proposal moves the digest; its thresholds move it through the
    configuration, which holds the assessor's own."""
    assessor = build_assessor(load_settings(environ={}))
    ticket = load_ticket_file(EXAMPLES / "doomed.json")
    assessment, proposal = assessor.assess_with_proposal(ticket, today=DAY, with_path=False)
    before = assessor.inputs_digest(assessment, proposal)
    source = next(iter(proposal.sources))
    edits: dict[str, Any] = {
        "values": {**proposal.values, "edited": 1},
        "sources": {**proposal.sources, source: Source("customfield_1", "Edited")},
        "problems": {**proposal.problems, "budget": "edited"},
        "counted": proposal.counted | {"edited"},
        "site_texts": {**proposal.site_texts, "edited": "Edited"},
        "placeholders": {**proposal.placeholders, "edited": "TBD"},
        "quotes": {**proposal.quotes, "edited": Quote("Description", "edited")},
        "unrecorded": proposal.unrecorded | {"edited"},
    }
    assert set(edits) | set(LEFT_OUT) >= {f.name for f in fields(Proposal)}
    for name, value in edits.items():
        assert assessor.inputs_digest(assessment, replace(proposal, **{name: value})) != before, name
    stricter = replace(assessor, thresholds={**assessor.thresholds, "min_margin_percent": 40.0})
    assert stricter.inputs_digest(assessment, proposal) != before


def test_a_waiver_is_an_input_by_who_added_it_and_when_not_by_the_rest_of_that_edit() -> None:
    """The history entry that added a waiver label may change other fields too: those are no input of
    the waiver's ruling, so they do not move the digest; who added it does."""
    assessor = build_assessor(load_settings(environ={}))
    data = json.loads((EXAMPLES / "waived.json").read_text(encoding="utf-8"))
    (entry,) = data["changelog"]["histories"]

    def digest_of(data: dict[str, Any]) -> str:
        ticket = ticket_from_rest(data, origin="test")
        return assessor.inputs_digest(*assessor.assess_with_proposal(ticket, today=DAY, with_path=False))

    before = digest_of(data)
    priority = {"field": "priority", "fieldId": "priority", "fromString": "High", "toString": "Low"}
    entry["items"].append(priority)
    assert digest_of(data) == before
    entry["author"] = {**entry["author"], "displayName": "Someone Else"}
    assert digest_of(data) != before


def test_a_ticket_gonogo_asks_a_question_about_digests_alike_in_every_run() -> None:
    """A doubt carries its finding and rule: the rule's compiled predicate, whose repr names a memory
    address, must not reach the digest, or `report --post` could never skip such a ticket."""
    ticket = load_ticket_file(EXAMPLES / "in-thousands.json")
    digests = set()
    for _ in range(2):  # two assessors: two sets of compiled predicates, as two processes have
        assessor = build_assessor(load_settings(environ={}))
        assessment, proposal = assessor.assess_with_proposal(ticket, today=DAY, with_path=False)
        assert any(m.doubt for m in assessment.missing_information)
        digests.add(assessor.inputs_digest(assessment, proposal))
    assert len(digests) == 1


def _edited(value: Any) -> Any:
    """Another value of the same kind (a bool is an int and a Severity a str: they come first)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, Severity):
        return next(other for other in Severity if other is not value)
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + " (edited)"
    if isinstance(value, tuple):
        return (*value, "edited")
    assert isinstance(value, dict), f"a rule setting of a new kind: {type(value).__name__}"
    return {**value, "edited": True}


def test_every_setting_of_a_rule_is_in_the_configuration_fingerprint() -> None:
    """A checklist edit to any rule setting (its words, severity, when_failed "ask", ...) re-judges on
    the next `report --post`; only the compiled predicate, which follows from the condition, is left out."""
    checklist = build_assessor(load_settings(environ={})).checklists[0]
    rule = checklist.rules[0]
    before = checklists_fingerprint([checklist])
    for field in fields(Rule):
        if field.name != "holds":
            edited = replace(rule, **{field.name: _edited(getattr(rule, field.name))})
            changed = replace(checklist, rules=(edited, *checklist.rules[1:]))
            assert checklists_fingerprint([changed]) != before, field.name
