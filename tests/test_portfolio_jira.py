"""`gonogo report` against the Jira-compatible server on loopback, through the real client.

Hundreds of tickets over several pages in both paging styles; the report must agree, ticket by
ticket, with what a check of each ticket on its own says, and cost a handful of requests.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from jiraserver import JiraServer, running_server
from jiraserver.app import Recorder
from portfolio_helpers import (
    PAT,
    VirtualClock,
    env_for,
    example,
    seed_portfolio,
    settings_for,
    solo_row,
    waived_long_ago,
)
from support import TODAY, Gonogo
from webhook_helpers import wait_until

import gonogo.flows.portfolio_run as report_module
from gonogo.core.pipeline.verdict import WORST_FIRST
from gonogo.flows.assessor import build_assessor
from gonogo.flows.check_ticket import post_verdict
from gonogo.flows.portfolio_run import ReportRequest, ReportRun, run_report
from gonogo.jira.gateway import JiraGateway
from gonogo.jira.throttle import EVERYTHING, Scope, Throttle
from gonogo.sources.resources import schema_path

PORTFOLIO_SCHEMA = json.loads(schema_path("portfolio.schema.json").read_text())
PROPERTY = "gonogo.verdict"
TICKETS = 320  # over 7 pages of 50
PAGE = 50


def report(gonogo: Gonogo, server: JiraServer, *args: str) -> Any:
    return gonogo("report", "--today", TODAY, *args, env=env_for(server))


def report_json(gonogo: Gonogo, server: JiraServer, *args: str) -> tuple[int, dict[str, Any]]:
    run = report(gonogo, server, "--format", "json", *args)
    assert run.stdout, run.stderr
    document = json.loads(run.stdout)
    jsonschema.validate(document, PORTFOLIO_SCHEMA)
    return run.exit_code, document


def writes(server: JiraServer) -> list[str]:
    return [f"{r.method} {r.path}" for r in server.requests if r.method != "GET"]


def rank(verdict: str | None) -> int:
    return 0 if verdict is None else 1 + [v.value for v in WORST_FIRST].index(verdict)


@pytest.fixture(scope="module")
def cloud() -> Iterator[tuple[JiraServer, dict[str, str]]]:
    with running_server(deployment="Cloud", search_page_cap=PAGE) as server:
        seeded = seed_portfolio(server, TICKETS)
        seed_portfolio(server, 5, project="OLD")  # another project: not in the report
        yield server, seeded
        assert server.internal_errors == []


@pytest.fixture(scope="module")
def data_center() -> Iterator[tuple[JiraServer, dict[str, str]]]:
    with running_server(deployment="Server", auth=("bearer", PAT), search_page_cap=PAGE) as server:
        seeded = seed_portfolio(server, TICKETS)
        yield server, seeded
        assert server.internal_errors == []


@pytest.fixture
def small() -> Iterator[tuple[JiraServer, dict[str, str]]]:
    """A fresh Cloud site with 24 tickets, for tests that write or break things.

    Its search results carry only each ticket's most recent changelog entry, as Jira cuts them short.
    """
    with running_server(deployment="Cloud", search_page_cap=10, changelog_cap=1) as server:
        seeded = seed_portfolio(server, 24)
        yield server, seeded
        assert server.internal_errors == []


@pytest.mark.parametrize("site", ["cloud", "data_center"])
def test_every_ticket_over_every_page_gets_the_verdict_a_check_gives_it(
    gonogo: Gonogo, site: str, request: pytest.FixtureRequest
) -> None:
    server, seeded = request.getfixturevalue(site)
    server.clear_requests()
    code, document = report_json(gonogo, server, "--project", "BID")
    assert code == 0
    tickets = document["tickets"]
    assert sorted(t["key"] for t in tickets) == sorted(seeded)
    for ticket in tickets:
        expected = solo_row(seeded[ticket["key"]])
        assert ticket["verdict"] == expected.verdict, ticket["key"]
        assert ticket["score"] == expected.score
        if expected.reason is None:
            assert ticket["reason"] is None
        else:
            assert ticket["reason"]["kind"] == expected.reason.kind
            assert ticket["reason"]["text"] == expected.reason.text
        assert ticket["url"] == f"{server.url}/browse/{ticket['key']}"
        assert ticket["comment"] is None
    # worst first: verdict, then score (no score first), then the key's number
    order = [
        (rank(t["verdict"]), -1 if t["score"] is None else t["score"], int(t["key"].split("-")[1]))
        for t in tickets
    ]
    assert order == sorted(order)
    counts = Counter(t["verdict"] for t in tickets)
    assert {v: document["totals"][v] for v in counts} == dict(counts)
    assert document["totals"]["tickets"] == TICKETS
    assert document["totals"]["failed"] == 0

    # The request budget: what kind of site, field ids, and 7 search pages. The waived tickets need
    # nothing more: their changelog (who waived what) came with the search.
    paths = Counter(r.path for r in server.requests)
    search = "/rest/api/2/search/jql" if site == "cloud" else "/rest/api/2/search"
    assert any(name == "waived" for name in seeded.values())
    assert paths.pop("/rest/api/2/serverInfo") == 1
    assert paths.pop("/rest/api/2/field") == 1
    assert paths.pop(search) == -(-TICKETS // PAGE)
    assert paths == {}
    assert all(r.query["expand"] == "changelog" for r in server.requests if r.path == search)
    assert writes(server) == []


def test_the_search_asks_only_for_the_fields_the_checklists_read(cloud: tuple[JiraServer, Any]) -> None:
    server, _ = cloud
    server.clear_requests()
    settings = settings_for(server)
    run_report(
        ReportRequest(jql="project = BID", today=date.fromisoformat(TODAY)),
        assessor=build_assessor(settings),
    )
    first = next(r for r in server.requests if r.path.endswith("/search/jql"))
    fields = first.query["fields"].split(",")
    assert {"summary", "labels", "customfield_10101", "customfield_10117"} <= set(fields)
    assert "comment" not in fields  # only posting needs to know whether there are comments
    assert "description" in fields  # mapped by the vocabulary
    assert "created" not in fields
    assert "reporter" not in fields
    assert first.query["properties"] == PROPERTY
    assert "token" not in first.raw_query


def test_text_report_is_a_table_worst_first_with_totals(
    gonogo: Gonogo, cloud: tuple[JiraServer, Any]
) -> None:
    server, seeded = cloud
    run = report(gonogo, server, "--jql", "project = BID AND statusCategory != Done")
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == f"Bid portfolio: {TICKETS} tickets as of {TODAY}"
    assert lines[1] == "Query: project = BID AND statusCategory != Done"
    totals = Counter(str(solo_row(name).verdict) for name in seeded.values())
    assert f"  NO-GO               {totals['no-go']:5d}" in lines
    assert f"  GO                  {totals['go']:5d}" in lines
    header = next(i for i, line in enumerate(lines) if line.startswith("TICKET"))
    end = lines.index("", header)  # the sections that teach follow the table
    rows = lines[header + 1 : end]
    assert len(rows) == TICKETS
    assert lines[end + 1].startswith("Why bids fail here")
    assert rows[0].split()[1] == "NO-GO"
    assert rows[-1].split()[1] == "GO"
    doomed = next(line for line in rows if line.startswith("BID-5 "))
    assert "NO-GO" in doomed
    assert f" {solo_row('doomed').score} (23/25) " in doomed  # the score beside its coverage
    assert "x NO-GO: No funded budget (contract value 0); Too little time: the response needs 18" in doomed
    needs_info = next(line for line in rows if line.startswith("BID-7 "))
    assert needs_info.endswith("? NEEDS INFO: no answer yet for Contract value, Decision maker.")
    assert "\x1b[" not in run.stdout  # not a terminal: no colour
    blank = next(key for key, name in seeded.items() if name == "blank")
    (empty,) = [line for line in rows if line.startswith(f"{blank} ")]
    assert "  - (0/25)  " in empty  # no check could run: no score, never a 0 below the NO-GOs


def test_csv_has_one_line_per_ticket_in_the_search_order(
    gonogo: Gonogo, data_center: tuple[JiraServer, Any]
) -> None:
    server, seeded = data_center
    run = report(gonogo, server, "--jql", "project = BID ORDER BY key DESC", "--format", "csv")
    assert run.exit_code == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert len(rows) == TICKETS
    assert list(rows[0]) == [
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
        "changed",
        "changed_on",
        "outcome",
        "decision",
        "decision_by",
        "decision_on",
        "decision_counts",
    ]
    by_key = {row["key"]: row for row in rows}
    for key, name in seeded.items():
        expected = solo_row(name)
        assert expected.verdict is not None
        assert by_key[key]["verdict"] == expected.verdict.label
        assert by_key[key]["score"] == ("" if expected.score is None else str(expected.score))
    # written as each ticket is checked: the search's order (the JQL's ORDER BY), not worst first
    assert [row["key"] for row in rows] == list(reversed(seeded))
    assert by_key["BID-5"]["reason_kind"] == "blocker"
    assert by_key["BID-5"]["url"] == f"{server.url}/browse/BID-5"


def test_post_writes_one_sticky_comment_per_ticket_and_a_rerun_updates_them(
    gonogo: Gonogo, small: tuple[JiraServer, dict[str, str]]
) -> None:
    server, seeded = small
    code, first = report_json(gonogo, server, "--project", "BID", "--post")
    assert code == 0
    assert first["totals"]["comments"] == {"created": len(seeded)}
    for key in seeded:
        (comment,) = server.comments(key)
        assert comment["body"].startswith("h3. gonogo verdict:")
        assert server.issue_properties(key)[PROPERTY]["commentId"] == comment["id"]
    methods = Counter(r.method for r in server.requests)
    assert methods["POST"] == len(seeded)
    assert methods["PUT"] == len(seeded)

    server.clear_requests()
    code, second = report_json(gonogo, server, "--project", "BID", "--post", "--concurrency", "2")
    assert code == 0
    assert second["totals"]["comments"] == {"unchanged": len(seeded)}
    assert all(len(server.comments(key)) == 1 for key in seeded)
    # Nothing changed: the pointer with its digest came with the search, so the re-run is the
    # search pages and the run's site questions (deployment, field list): nothing per ticket, no write.
    assert Counter(r.path for r in server.requests) == {
        "/rest/api/2/serverInfo": 1,
        "/rest/api/2/field": 1,
        "/rest/api/2/search/jql": -(-len(seeded) // 10),
    }

    # One ticket changes: the next run writes its comment and its pointer (one issue edit), nothing else.
    server.set_issue_property(
        "BID-7", PROPERTY, {**server.issue_properties("BID-7")[PROPERTY], "digest": "x", "inputs": "x"}
    )
    server.clear_requests()
    code, third = report_json(gonogo, server, "--project", "BID", "--post")
    assert third["totals"]["comments"] == {"unchanged": len(seeded) - 1, "updated": 1}
    (comment,) = server.comments("BID-7")
    (edit,) = [r for r in server.requests if r.method != "GET"]
    assert edit.method == "PUT"
    assert edit.body["update"]["comment"][0]["edit"]["id"] == comment["id"]


def test_the_posted_comment_is_the_one_check_would_post(
    gonogo: Gonogo, small: tuple[JiraServer, Any]
) -> None:
    server, _ = small
    report(gonogo, server, "--project", "BID", "--post")
    for key in ("BID-5", "BID-10", "BID-3"):  # doomed, waived, conditions
        (comment,) = server.comments(key)
        dry = gonogo("check", key, "--today", TODAY, "--dry-run", "--format", "json", env=env_for(server))
        assert json.loads(dry.stdout)["comment"]["body"] == comment["body"], key


def test_post_on_a_cloud_site_writes_the_adf_comment_check_would_post(
    gonogo: Gonogo, small: tuple[JiraServer, Any], tmp_path: Path
) -> None:
    server, seeded = small
    (tmp_path / "gonogo.toml").write_text('[jira]\ndeployment = "cloud"\n')
    server.clear_requests()
    report(gonogo, server, "--project", "BID", "--post")
    posts = [r for r in server.requests if r.method == "POST" and r.path.endswith("/comment")]
    assert len(posts) == len(seeded)
    assert {r.path.split("/issue/")[0] for r in posts} == {"/rest/api/3"}
    for key in ("BID-5", "BID-3"):
        (comment,) = server.comments(key)
        dry = gonogo("check", key, "--today", TODAY, "--dry-run", "--format", "json", env=env_for(server))
        assert json.loads(dry.stdout)["comment"]["body"] == comment["adf"], key


def test_post_adopts_an_old_gonogo_comment_whose_pointer_was_lost(
    gonogo: Gonogo, small: tuple[JiraServer, Any]
) -> None:
    server, _ = small
    server.add_comments("BID-4", 3)
    ours = server.add_comment(
        "BID-4", "old verdict", author=server.user, properties={PROPERTY: {"gonogo": True}}
    )
    server.add_comments("BID-4", 2)
    code, document = report_json(gonogo, server, "--project", "BID", "--post")
    assert code == 0
    (row,) = [t for t in document["tickets"] if t["key"] == "BID-4"]
    assert row["comment"] == {"action": "updated", "id": ours["id"]}
    assert len(server.comments("BID-4")) == 6
    scans = [r for r in server.requests if r.method == "GET" and r.path.endswith("/comment")]
    assert len(scans) == 1  # only the ticket that has comments is scanned


def test_without_post_nothing_is_written(gonogo: Gonogo, small: tuple[JiraServer, Any]) -> None:
    server, _ = small
    for output_format in ("text", "json", "csv", "html"):
        assert report(gonogo, server, "--project", "BID", "--format", output_format).exit_code == 0
    assert {r.method for r in server.requests} == {"GET"}
    assert all(server.comments(key) == [] for key in ("BID-1", "BID-24"))


def test_a_ticket_that_cannot_be_read_or_posted_is_an_error_row_and_the_run_goes_on(
    gonogo: Gonogo, small: tuple[JiraServer, dict[str, str]]
) -> None:
    server, seeded = small
    assert seeded["BID-10"] == "waived"
    waived_long_ago(server, "BID-10")  # so the report reads the ticket again …
    server.fail_next("GET", r"/issue/BID-10$", 403)  # … and Jira refuses
    server.fail_next("POST", r"/issue/\d+/comment$", 403)  # one ticket's comment: refused
    code, document = report_json(gonogo, server, "--project", "BID", "--post", "--concurrency", "1")
    assert code == 6
    assert document["totals"]["failed"] == 2
    assert document["totals"]["unchecked"] == 1
    unread = document["tickets"][0]  # could not check: first
    assert unread["key"] == "BID-10"
    assert unread["verdict"] is None
    assert "refused to let this account read BID-10 (403)" in unread["error"]
    unposted = [t for t in document["tickets"] if t["verdict"] and t["error"]]
    assert len(unposted) == 1
    assert unposted[0]["error"].startswith("comment not posted: Jira refused")
    assert unposted[0]["comment"] is None
    posted = [t for t in document["tickets"] if t["comment"]]
    assert len(posted) == len(seeded) - 2  # everybody else got their comment

    text = report(gonogo, server, "--project", "BID")
    assert text.exit_code == 0  # the faults are used up: a clean run exits 0


def test_a_malformed_search_result_is_an_error_row_and_the_rest_are_assessed(
    gonogo: Gonogo, small: tuple[JiraServer, Any]
) -> None:
    server, _ = small
    doomed = {k: v for k, v in example("doomed").items() if k != "names"}
    page = {"issues": [doomed, {"id": "9", "key": "not a key", "fields": {}}, 42], "isLast": True}
    server.fail_next("GET", r"/search/jql$", 200, body=page)
    code, document = report_json(gonogo, server, "--project", "BID")
    assert code == 6
    assert [(t["key"], t["verdict"]) for t in document["tickets"]] == [
        ("(unknown key)", None),
        ("not a key", None),
        ("BID-101", "no-go"),
    ]
    assert "expected a Jira issue object, got int" in document["tickets"][0]["error"]
    assert 'no issue "key" like "BID-42"' in document["tickets"][1]["error"]
    assert document["tickets"][2]["score"] == solo_row("doomed").score


def test_error_rows_show_in_the_text_report_and_the_exit_code(
    gonogo: Gonogo, small: tuple[JiraServer, Any]
) -> None:
    server, seeded = small
    assert seeded["BID-20"] == "waived"
    waived_long_ago(server, "BID-20")
    server.fail_next("GET", r"/issue/BID-20$", 404)
    run = report(gonogo, server, "--project", "BID")
    assert run.exit_code == 6
    rows = run.stdout.splitlines()
    first = rows[rows.index(next(r for r in rows if r.startswith("TICKET"))) + 1]
    assert first.startswith("BID-20  ERROR")
    assert "BID-20 does not exist or this account cannot see it" in first
    assert "1 ticket could not be checked: see ERROR above." in run.stdout


def test_workers_never_exceed_the_concurrency_limit(small: tuple[JiraServer, Any]) -> None:
    server, seeded = small
    server.hang_next("POST", r"/comment$", times=100)
    settings = settings_for(server)
    request = ReportRequest(jql="project = BID", today=date.fromisoformat(TODAY), post=True, concurrency=3)
    result: list[ReportRun] = []
    worker = threading.Thread(
        target=lambda: result.append(run_report(request, assessor=build_assessor(settings)))
    )

    def posted() -> int:
        return sum(len(server.comments(key)) for key in seeded)

    worker.start()
    try:
        # Every comment is held until a full round (3, or what is left) waits; then the round goes.
        # Requests held behind one gate were in flight together, so the server's count of the
        # most held at once, read after the run, is the most the workers ever sent at once.
        while posted() < len(seeded):
            wait_until(
                lambda: server.held_requests >= min(3, len(seeded) - posted()),
                timeout=30,
                what="a round of comments in flight",
            )
            server.release()
    finally:
        server.clear_faults()
        server.release()
        worker.join(timeout=30)
    assert server.most_held_at_once == 3
    assert result[0].portfolio.totals.comments == {"created": len(seeded)}


class StampedThrottle(Throttle):
    """A real throttle on a virtual clock that notes when Jira told it to hold off."""

    def __init__(self, time_: VirtualClock, arrivals: list[float]) -> None:
        super().__init__(clock=time_.clock, sleep=time_.sleep)
        self.time = time_
        self.arrivals = arrivals
        self.held_at: list[tuple[float, int]] = []  # (virtual time, requests that had arrived)

    def hold(self, seconds: float, scope: Scope = EVERYTHING) -> None:
        self.held_at.append((self.time.clock(), len(self.arrivals)))
        super().hold(seconds, scope)


def test_a_rate_limit_holds_every_worker_for_the_time_jira_asks(
    small: tuple[JiraServer, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a 429 with Retry-After: 1, no worker starts a request until the second is over.

    Virtual time that only the throttle moves: the gateways' own retry waits are instant and move
    no clock, so a request stamped a second after the hold was held back by the throttle itself.
    """
    server, seeded = small
    time_ = VirtualClock()
    arrivals: list[float] = []
    original = Recorder.start

    def stamped(self: Recorder, request: Any, raw_body: bytes) -> Any:
        arrivals.append(time_.clock())
        return original(self, request, raw_body)

    monkeypatch.setattr(Recorder, "start", stamped)
    server.fail_next("PUT", r"/issue/[^/]+$", 429, headers={"Retry-After": "1"})
    settings = settings_for(server)
    throttle = StampedThrottle(time_, arrivals)
    request = ReportRequest(jql="project = BID", today=date.fromisoformat(TODAY), post=True, concurrency=4)
    run = run_report(
        request,
        assessor=build_assessor(settings),
        connect=lambda s, throttle=None: JiraGateway(s, sleep=lambda _: None, throttle=throttle),
        throttle=throttle,
    )
    assert run.portfolio.totals.comments == {"created": len(seeded)}
    ((held, before),) = throttle.held_at
    after = arrivals[before:]
    # Each other worker may have one request already past the gate when the 429 came back; after
    # that, nobody starts anything until the second is over.
    during = [t - held for t in after if t < held + 1.0]
    assert len(during) <= 3, during
    assert len(after) > 3
    assert all(t >= held + 1.0 for t in after[3:])


def test_retry_after_on_a_search_page_and_a_post_is_waited_in_virtual_time(
    small: tuple[JiraServer, Any],
) -> None:
    server, seeded = small
    server.fail_next("GET", r"/search/jql$", 429, headers={"Retry-After": "7"})
    server.fail_next("POST", r"/comment$", 429, headers={"Retry-After": "3"})
    time_ = VirtualClock()
    throttle = StampedThrottle(time_, [])
    settings = settings_for(server)
    run = run_report(
        ReportRequest(jql="project = BID", today=date.fromisoformat(TODAY), post=True),
        assessor=build_assessor(settings),
        connect=lambda s, throttle=None: JiraGateway(s, sleep=time_.sleep, throttle=throttle),
        throttle=throttle,
    )
    assert run.portfolio.totals.comments == {"created": len(seeded)}
    assert 7.0 in time_.sleeps
    assert 3.0 in time_.sleeps
    assert len(throttle.held_at) == 2
    assert time_.now >= 10.0


def test_data_center_is_chosen_by_configuration_without_asking(
    gonogo: Gonogo, data_center: tuple[JiraServer, Any], tmp_path: Any
) -> None:
    server, _ = data_center
    (tmp_path / "gonogo.toml").write_text('[jira]\ndeployment = "data-center"\n')
    server.clear_requests()
    assert report(gonogo, server, "--project", "BID", "--format", "csv").exit_code == 0
    assert not [r for r in server.requests if r.path.endswith("/serverInfo")]
    wrong = tmp_path / "cloud.toml"
    wrong.write_text('[jira]\ndeployment = "cloud"\n')
    run = gonogo("--config", str(wrong), "report", "--project", "BID", env=env_for(server))
    assert run.exit_code == 5
    assert 'this Jira has no search/jql API: set [jira].deployment = "data-center"' in run.stderr


def test_bad_jql_is_an_input_error_in_jiras_words(gonogo: Gonogo, cloud: tuple[JiraServer, Any]) -> None:
    server, _ = cloud
    run = report(gonogo, server, "--jql", "project ~ BID")
    assert run.exit_code == 4
    assert run.stderr.startswith("gonogo: error: Jira refused the search: Error in the JQL Query")
    assert run.stdout == ""


def test_a_query_finding_too_many_tickets_is_refused_before_anything_else(
    gonogo: Gonogo, data_center: tuple[JiraServer, Any]
) -> None:
    server, _ = data_center
    server.clear_requests()
    run = report(gonogo, server, "--project", "BID", "--max-tickets", "100", "--post")
    assert run.exit_code == 4
    assert "the query finds more than 100 tickets" in run.stderr
    assert [r.path for r in server.requests].count("/rest/api/2/search") == 1  # the total said so
    assert writes(server) == []


def test_usage_errors(gonogo: Gonogo, cloud: tuple[JiraServer, Any]) -> None:
    server, _ = cloud
    assert report(gonogo, server).exit_code == 2
    assert report(gonogo, server, "--project", "BID", "--jql", "x = y").exit_code == 2
    bad = report(gonogo, server, "--project", 'BID" OR project = "HR')
    assert bad.exit_code == 4
    assert "is not a project key" in bad.stderr
    unconfigured = gonogo("report", "--project", "BID")
    assert unconfigured.exit_code == 3
    assert unconfigured.stderr.startswith("gonogo: error: JIRA_URL is not set")


def test_a_report_written_to_a_file(gonogo: Gonogo, small: tuple[JiraServer, Any], tmp_path: Any) -> None:
    server, seeded = small
    out = tmp_path / "portfolio.json"
    run = report(gonogo, server, "--project", "BID", "--format", "json", "-o", str(out))
    assert run.exit_code == 0
    assert run.stdout == f"Wrote the json report on {len(seeded)} ticket(s) to {out}.\n"
    assert len(json.loads(out.read_text())["tickets"]) == len(seeded)


def test_an_unexpected_error_posting_one_ticket_is_its_error_row_and_the_run_goes_on(
    gonogo: Gonogo, small: tuple[JiraServer, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug while posting one ticket (here an AttributeError) must not cost the others their comment."""
    server, seeded = small

    def post(assessment: Any, comment: Any, ticket: Any, *args: Any, **kwargs: Any) -> Any:
        if ticket.key == "BID-3":
            raise AttributeError("'NoneType' object has no attribute 'get'")
        return post_verdict(assessment, comment, ticket, *args, **kwargs)

    monkeypatch.setattr(report_module, "post_verdict", post)
    run = report(gonogo, server, "--project", "BID", "--post", "--format", "json")
    assert run.exit_code == 6
    assert "Traceback" not in run.stderr
    document = json.loads(run.stdout)
    (broken,) = [t for t in document["tickets"] if t["error"]]
    assert broken["key"] == "BID-3"
    assert broken["verdict"] == solo_row(seeded["BID-3"]).verdict  # assessed, just not posted
    assert broken["error"] == "comment not posted: internal error (AttributeError); please report it"
    assert document["totals"]["comments"] == {"created": len(seeded) - 1}
    assert server.comments("BID-3") == []


def test_a_waiver_label_in_any_case_is_attributed_from_the_search_as_check_does(
    gonogo: Gonogo, small: tuple[JiraServer, Any]
) -> None:
    """`Gonogo-Waive-…` counts as a waiver; who added it comes from the changelog in the search page."""
    server, _ = small
    fields = {k: v for k, v in example("waived")["fields"].items() if k != "comment"}
    fields["labels"] = [label.replace("gonogo-waive-", "Gonogo-Waive-") for label in fields["labels"]]
    others = [label for label in fields["labels"] if not label.startswith("Gonogo")]
    server.add_issue("BID-50", {**fields, "labels": others}, names=example("waived")["names"])
    server.change_issue("BID-50", {"labels": fields["labels"]})  # Alex Reviewer adds the waivers
    dry = gonogo("check", "BID-50", "--today", TODAY, "--dry-run", "--format", "json", env=env_for(server))
    server.clear_requests()
    report(gonogo, server, "--jql", "key = BID-50", "--post")
    assert not [r for r in server.requests if r.method == "GET" and "/issue/" in r.path]
    (comment,) = server.comments("BID-50")
    assert "Alex Reviewer" in comment["body"]  # who waived, from the changelog in the search page
    assert json.loads(dry.stdout)["comment"]["body"] == comment["body"]


def test_a_changelog_cut_short_without_the_waiver_author_is_read_with_its_own_get(
    gonogo: Gonogo,
) -> None:
    """Jira sends only the most recent changelog entries with a search: an older waiver is looked up."""
    with running_server(deployment="Cloud", changelog_cap=2) as server:
        fields = {k: v for k, v in example("waived")["fields"].items() if k != "comment"}
        for key in ("BID-1", "BID-2"):
            server.add_issue(key, fields, names=example("waived")["names"])
        waivers = [label for label in fields["labels"] if label.startswith("gonogo-waive-")]
        others = [label for label in fields["labels"] if label not in waivers]
        base = server.now
        for key, waived_at in (("BID-1", 0), ("BID-2", 3)):  # BID-1 waived first, then edited 3 times
            server.change_issue(key, {"labels": others}, at=base.replace(hour=base.hour - 1))
            labels = list(others)
            for minute in range(4):
                labels += waivers if minute == waived_at else [f"other-{minute}"]
                server.change_issue(
                    key, {"labels": list(labels)}, at=base.replace(minute=base.minute + minute)
                )
        server.clear_requests()
        assert report(gonogo, server, "--jql", "project = BID").exit_code == 0
        singles = [r.path for r in server.requests if "/issue/" in r.path]
        assert singles == ["/rest/api/2/issue/BID-1"]  # BID-2's waiver is among its 2 most recent
        assert server.internal_errors == []
