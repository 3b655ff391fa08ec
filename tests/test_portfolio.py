"""The portfolio's pure core and its formats: rows, order, totals, charts, and escaping per format."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import date

import jsonschema
import pytest
from hostile_corpus import SPREADSHEET_FORMULA
from portfolio_helpers import solo_row

from gonogo.cli.report import report as report_command
from gonogo.core.errors import ConfigurationError, InputError
from gonogo.core.jira_shapes.comment_format import CommentAction, Publication
from gonogo.core.pipeline.verdict import Verdict
from gonogo.core.portfolio.rows import (
    Portfolio,
    Reason,
    ReasonKind,
    Row,
    build_portfolio,
    error_row,
    sort_key,
)
from gonogo.flows.assessor import build_assessor
from gonogo.flows.portfolio_run import project_jql, search_fields
from gonogo.jira.rest import Answer
from gonogo.jira.throttle import Throttle
from gonogo.render.formats import REPORT_FORMATS, portfolio_document
from gonogo.render.portfolio_charts import score_chart, verdict_chart
from gonogo.render.renderer import make_renderer
from gonogo.sources.config import load_settings
from gonogo.sources.resources import schema_path

TODAY = date(2026, 11, 23)
SITE = "https://bids.example.net"


def row(key: str, verdict: Verdict | None, score: int | None, **extra: object) -> Row:
    reason = Reason(ReasonKind.BLOCKER, "A rule", "c/r") if verdict is Verdict.NO_GO else None
    base = Row(
        key=key, ticket_id=None, summary=f"Summary of {key}", verdict=verdict, score=score, reason=reason
    )
    return replace(base, **extra)  # type: ignore[arg-type]


def portfolio(*rows: Row, posted: bool = False) -> Portfolio:
    return build_portfolio(rows, query="project = BID", today=TODAY, site=SITE, posted=posted)


# --- the top reason explains the verdict -----------------------------------------------------


@pytest.mark.parametrize(
    ("example", "kind", "text"),
    [
        ("doomed", ReasonKind.BLOCKER, "NO-GO: No funded budget (contract value 0); Too little time"),
        ("needs-info", ReasonKind.MISSING, "NEEDS INFO: no answer yet for Contract value, Decision maker."),
        ("crowded-field", ReasonKind.MAJOR, "GO WITH CONDITIONS: We have not met the decision maker"),
    ],
)
def test_top_reason_is_the_first_failed_blocker_else_missing_information_else_a_major(
    example: str, kind: ReasonKind, text: str
) -> None:
    reason = solo_row(example).reason
    assert reason is not None
    assert reason.kind == kind
    assert reason.text.startswith(text)  # the comment's one-sentence summary, values included


def test_a_go_has_no_top_reason() -> None:
    assert solo_row("healthy").verdict is Verdict.GO
    assert solo_row("healthy").reason is None


# --- order and totals --------------------------------------------------------------------------


def test_rows_are_sorted_worst_first_then_by_score_then_by_key_number() -> None:
    rows = [
        row("BID-10", Verdict.GO, 90),
        row("BID-2", Verdict.NO_GO, 60),
        row("BID-9", Verdict.NO_GO, 20),
        row("BID-11", Verdict.NO_GO, 20),
        row("BID-3", Verdict.NEEDS_INFO, None),
        row("BID-4", Verdict.NEEDS_INFO, 0),
        row("BID-5", Verdict.GO_WITH_CONDITIONS, 80),
        error_row("BID-7", error="could not read it"),
    ]
    ordered = [r.key for r in sorted(rows, key=sort_key)]
    assert ordered == ["BID-7", "BID-9", "BID-11", "BID-2", "BID-3", "BID-4", "BID-5", "BID-10"]


def test_totals_count_verdicts_failures_and_comments() -> None:
    created = Publication(CommentAction.CREATED, "1")
    p = portfolio(
        row("BID-1", Verdict.NO_GO, 10, publication=created),
        row("BID-2", Verdict.GO, 95, publication=Publication(CommentAction.UPDATED, "2")),
        row("BID-3", Verdict.GO, 95, error="comment not posted: 403"),
        error_row("BID-4", error="gone"),
        posted=True,
    )
    totals = p.totals
    assert totals.tickets == 4
    assert dict(totals.by_verdict) == {
        Verdict.NO_GO: 1,
        Verdict.NEEDS_INFO: 0,
        Verdict.GO_WITH_CONDITIONS: 0,
        Verdict.GO: 2,
    }
    assert (totals.unchecked, totals.failed) == (1, 2)
    assert totals.comments == {"created": 1, "updated": 1}


def test_score_histogram_has_ten_buckets_and_100_is_in_the_last() -> None:
    p = portfolio(
        row("BID-1", Verdict.GO, 100),
        row("BID-2", Verdict.GO_WITH_CONDITIONS, 90),
        row("BID-3", Verdict.NO_GO, 0),
        row("BID-4", Verdict.NO_GO, 9),
        row("BID-5", Verdict.NEEDS_INFO, None),
        error_row("BID-6", error="x"),
    )
    buckets = score_chart(p)["columns"]
    assert next((b["low"], b["high"]) for b in buckets) == (0, 9)
    assert (buckets[-1]["low"], buckets[-1]["high"]) == (90, 100)
    assert [b["count"] for b in buckets] == [2, 0, 0, 0, 0, 0, 0, 0, 0, 2]
    assert [(s["kind"], s["count"]) for s in buckets[0]["segments"]] == [("no-go", 2)]
    assert p.unscored == 1


def test_chart_geometry_scales_to_the_biggest_count() -> None:
    p = portfolio(
        *(row(f"BID-{n}", Verdict.GO, 95) for n in range(1, 5)),
        row("BID-9", Verdict.NO_GO, 15),
        error_row("BID-10", error="x"),
    )
    bars = {bar["kind"]: bar for bar in verdict_chart(p)["bars"]}
    assert bars["go"]["width"] == 300
    assert bars["no-go"]["width"] == 75
    assert bars["needs-info"]["width"] == 0
    assert bars["error"]["count"] == 1
    chart = score_chart(p)
    last = chart["columns"][-1]
    assert last["segments"][0]["height"] == 170
    assert last["top"] == chart["top"]


# --- formats -----------------------------------------------------------------------------------


@pytest.fixture
def hostile() -> Portfolio:
    return portfolio(
        row("BID-1", Verdict.NO_GO, 12, summary=SPREADSHEET_FORMULA),
        row("BID-2", Verdict.GO, 100, summary="-1+1", publication=Publication(CommentAction.CREATED, "77")),
        error_row("BID-3", error="Jira refused to let this account read BID-3 (403)", summary="@SUM(A1)"),
        posted=True,
    )


def render(name: str, p: Portfolio, *, color: bool = False) -> str:
    return REPORT_FORMATS[name].render(p, make_renderer(), color)


def test_the_registry_feeds_the_cli_choices() -> None:
    option = next(param for param in report_command.params if param.name == "output_format")
    assert list(option.type.choices) == list(REPORT_FORMATS) == ["text", "json", "csv", "html", "jsonl"]  # type: ignore[attr-defined]


def test_json_document_follows_its_schema(hostile: Portfolio) -> None:
    document = json.loads(render("json", hostile))
    jsonschema.validate(document, json.loads(schema_path("portfolio.schema.json").read_text()))
    assert document == portfolio_document(hostile)
    assert [t["key"] for t in document["tickets"]] == ["BID-3", "BID-1", "BID-2"]
    assert document["tickets"][1]["summary"] == SPREADSHEET_FORMULA  # data stays data in JSON
    assert document["tickets"][1]["reason"] == {"kind": "blocker", "text": "A rule", "ref": "c/r"}
    assert document["tickets"][2]["comment"] == {"action": "created", "id": "77"}
    assert document["totals"]["failed"] == 1
    assert document["tickets"][0]["url"] == f"{SITE}/browse/BID-3"


def test_csv_cells_cannot_start_a_formula(hostile: Portfolio) -> None:
    rows = list(csv.DictReader(io.StringIO(render("csv", hostile))))
    summaries = {r["key"]: r["summary"] for r in rows}
    assert summaries["BID-1"] == "'" + SPREADSHEET_FORMULA
    assert summaries["BID-2"] == "'-1+1"
    assert summaries["BID-3"] == "'@SUM(A1)"
    assert rows[0]["verdict"] == "ERROR"
    assert rows[0]["error"].startswith("Jira refused")
    assert rows[2]["comment"] == "created"


def test_text_report_strips_control_characters_and_colours_only_when_asked(hostile: Portfolio) -> None:
    plain = render("text", hostile)
    assert "\x1b" not in plain
    assert "1 ticket could not be checked or posted" in plain
    assert "Comments: 1 created" in plain
    coloured = render("text", hostile, color=True)
    assert "\x1b[31m" in coloured  # NO-GO in red, from gonogo
    assert "\x1b[31mred" not in coloured  # not from the ticket


def test_html_escapes_ticket_text_everywhere(hostile: Portfolio) -> None:
    page = render("html", hostile)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#34;quoted&#34;" in page
    assert f'<a href="{SITE}/browse/BID-1">BID-1</a>' in page
    assert 'http-equiv="Content-Security-Policy" content="default-src \'none\'' in page
    assert "src=" not in page.replace("img-src data:", "")  # nothing to load
    assert "<link" not in page
    assert "@import" not in page


def test_an_empty_portfolio_still_renders_in_every_format() -> None:
    p = portfolio()
    assert "The query found no tickets." in render("text", p)
    assert "The query found no tickets." in render("html", p)
    assert json.loads(render("json", p))["tickets"] == []
    assert render("csv", p).strip() == ",".join(
        [
            *(
                "key",
                "summary",
                "verdict",
                "score",
                "coverage",
                "reason_kind",
                "reason",
                "error",
                "comment",
                "url",
            ),
            *("changed", "changed_on", "outcome"),
            *("decision", "decision_by", "decision_on", "decision_counts"),
        ]
    )


# --- the parts of a run that need no Jira ------------------------------------------------------


def test_project_shortcut_is_open_tickets_and_refuses_anything_but_a_key() -> None:
    assert project_jql("bid") == "project = BID AND statusCategory != Done"
    with pytest.raises(InputError):
        project_jql('BID" OR project = "HR')


def test_display_names_are_resolved_to_field_ids_once_for_the_whole_search() -> None:
    assessor = build_assessor(load_settings(environ={}))
    names = {
        "summary": "Summary",
        "labels": "Labels",
        "description": "Description",
        "customfield_10101": "Contract value",
        "customfield_10102": "submission DEADLINE",  # names match case-insensitively
        "customfield_99999": "Something nobody maps",
    }
    fields = search_fields(assessor, names)
    assert fields[:5] == ["summary", "issuetype", "project", "labels", "comment"]
    assert "comment" not in search_fields(assessor, names, post=False)
    assert {"customfield_10101", "customfield_10102", "description"} <= set(fields)
    assert "customfield_99999" not in fields


def test_two_fields_with_a_mapped_name_are_refused_up_front() -> None:
    assessor = build_assessor(load_settings(environ={}))
    names = {"customfield_1": "Contract value", "customfield_2": "contract value"}
    with pytest.raises(ConfigurationError, match='2 Jira fields are named "Contract value"'):
        search_fields(assessor, names)


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


SEARCH = "https://jira.example/rest/api/2/search"


def test_throttle_holds_everybody_until_the_latest_pause_is_over() -> None:
    t = FakeTime()
    throttle = Throttle(clock=t.clock, sleep=t.sleep)
    throttle.wait_turn("GET", SEARCH)
    assert t.sleeps == []
    throttle.observe(Answer(429, {"Retry-After": "5"}, b""), "GET", SEARCH)
    # A shorter pause does not cut the longer one.
    throttle.observe(Answer(429, {"Retry-After": "2"}, b""), "GET", SEARCH)
    throttle.wait_turn("GET", SEARCH)
    assert t.sleeps == [5.0]
    throttle.wait_turn("GET", SEARCH)
    assert t.sleeps == [5.0]


@pytest.mark.parametrize(
    ("status", "retry_after", "near_limit", "held"),
    [
        (429, None, False, 1.0),  # no Retry-After: still slow down
        (503, "4", False, 4.0),
        (200, None, True, 1.0),  # Cloud's near-limit warning
        (200, None, False, 0.0),
        (500, "9", False, 0.0),  # a failure, not a rate limit
        (429, "3600", False, 60.0),  # capped; the gateway refuses such a wait anyway
    ],
)
def test_throttle_learns_from_responses(
    status: int, retry_after: str | None, near_limit: bool, held: float
) -> None:
    t = FakeTime()
    throttle = Throttle(clock=t.clock, sleep=t.sleep)
    headers = {"Retry-After": retry_after} if retry_after else {}
    near = {"X-RateLimit-NearLimit": str(near_limit).lower()}
    throttle.observe(Answer(status, {**headers, **near}, b""), "GET", SEARCH)
    throttle.wait_turn("GET", SEARCH)
    assert sum(t.sleeps) == held
