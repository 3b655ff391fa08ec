"""The verdict history in gonogo's issue property: kept across re-checks, bounded, free to read.

Through `gonogo check` and `gonogo report --post` against the loopback Jira; the pure rules of
`gonogo.core.pipeline.verdict_history` first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from jiraserver import JiraServer, running_server
from portfolio_helpers import env_for, example, history_entry, seed_portfolio
from support import TODAY, Gonogo

from gonogo.core.pipeline.verdict import Verdict
from gonogo.core.pipeline.verdict_history import (
    MAX_ENTRIES,
    HistoryEntry,
    latest_change,
    read_history,
    with_entry,
)

PROPERTY = "gonogo.verdict"
LATER = "2027-01-10"  # the healthy example's deadline is too close by then: NO-GO


def entry(on: str, verdict: str, score: int | None) -> HistoryEntry:
    return HistoryEntry(date.fromisoformat(on), Verdict(verdict), score)


def test_an_entry_is_added_only_when_verdict_or_score_is_news_and_the_oldest_drop_out() -> None:
    pointer: dict[str, Any] = {"commentId": "7", "digest": "kept"}
    pointer = with_entry(pointer, entry("2026-11-01", "needs-info", 40))
    pointer = with_entry(pointer, entry("2026-11-02", "needs-info", 40))  # same: no entry
    assert [e.on.isoformat() for e in read_history(pointer)] == ["2026-11-01"]
    for day in range(1, 26):
        pointer = with_entry(pointer, entry(f"2026-12-{day:02d}", "go", day))
    history = read_history(pointer)
    assert len(history) == MAX_ENTRIES
    assert history[-1] == entry("2026-12-25", "go", 25)
    assert pointer["digest"] == "kept"
    assert pointer["commentId"] == "7"
    assert len(json.dumps(pointer)) < 2048  # Jira allows 32 KB per property


def test_a_history_someone_mangled_is_read_as_far_as_it_makes_sense() -> None:
    pointer = {
        "history": [
            {"on": "2026-11-01", "verdict": "no-go", "score": 10},
            {"on": "yesterday", "verdict": "go", "score": 1},
            {"on": "2026-11-03", "verdict": "maybe", "score": 1},
            "text",
            {"on": "2026-11-04", "verdict": "go", "score": True},
        ]
    }
    assert read_history(pointer) == (entry("2026-11-01", "no-go", 10), entry("2026-11-04", "go", None))
    assert read_history({"history": "nope"}) == read_history(None) == ()
    change = latest_change(read_history(pointer))
    assert change is not None
    assert (change.before, change.after, change.on) == (Verdict.NO_GO, Verdict.GO, date(2026, 11, 4))


@pytest.fixture
def jira() -> Iterator[JiraServer]:
    with running_server(deployment="Cloud") as server:
        data = example("healthy")
        server.add_issue(
            "BID-1", {k: v for k, v in data["fields"].items() if k != "comment"}, names=data["names"]
        )
        yield server
        assert server.internal_errors == []


def check(gonogo: Gonogo, server: JiraServer, today: str) -> None:
    run = gonogo("check", "BID-1", "--today", today, env=env_for(server))
    assert run.exit_code in (0, 12), run.stderr


def test_check_keeps_the_history_across_re_checks_at_no_extra_request(
    gonogo: Gonogo, jira: JiraServer
) -> None:
    check(gonogo, jira, TODAY)
    pointer = jira.issue_properties("BID-1")[PROPERTY]
    assert pointer["history"] == [history_entry(date.fromisoformat(TODAY), "go", 100)]

    jira.clear_requests()
    check(gonogo, jira, TODAY)  # nothing changed: nothing written, the history as it was
    assert [r.method for r in jira.requests] == ["GET"]

    jira.clear_requests()
    check(gonogo, jira, "2026-11-30")  # same verdict and score a week on: new text, same history
    assert [r.method for r in jira.requests] == ["GET", "PUT"]  # one issue edit: comment and pointer
    assert "/comment/" not in jira.requests[1].path
    pointer = jira.issue_properties("BID-1")[PROPERTY]
    assert pointer["history"] == [history_entry(date.fromisoformat(TODAY), "go", 100)]

    jira.set_issue_property("BID-1", PROPERTY, {**pointer, "elsewhere": "someone else's key"})
    jira.clear_requests()
    check(gonogo, jira, LATER)  # the verdict changed: one issue edit carries comment, pointer and label
    assert [r.method for r in jira.requests] == ["GET", "PUT"]
    assert "/comment/" not in jira.requests[1].path
    after = jira.issue_properties("BID-1")[PROPERTY]
    assert after["history"] == [
        history_entry(date.fromisoformat(TODAY), "go", 100),
        history_entry(date.fromisoformat(LATER), "no-go", 91),  # "is it known?" checks do not score
    ]
    assert after["verdict"] == "no-go"
    assert after["elsewhere"] == "someone else's key"
    assert after["commentId"] == pointer["commentId"]


def test_a_long_history_stays_bounded_to_the_last_twenty(gonogo: Gonogo, jira: JiraServer) -> None:
    check(gonogo, jira, TODAY)
    pointer = jira.issue_properties("BID-1")[PROPERTY]
    old = [history_entry(date(2026, 10, day), "needs-info", day) for day in range(1, 31)]
    jira.set_issue_property("BID-1", PROPERTY, {**pointer, "history": old})
    check(gonogo, jira, TODAY)
    history = jira.issue_properties("BID-1")[PROPERTY]["history"]
    assert len(history) == MAX_ENTRIES
    assert history[-1] == history_entry(date.fromisoformat(TODAY), "go", 100)
    assert history[0] == old[-(MAX_ENTRIES - 1)]


def report_post(gonogo: Gonogo, server: JiraServer, today: str) -> dict[str, tuple[str, int]]:
    run = gonogo(
        "report", "--project", "BID", "--post", "--today", today, "--format", "json", env=env_for(server)
    )
    assert run.exit_code == 0, run.stderr
    return {t["key"]: (t["verdict"], t["score"]) for t in json.loads(run.stdout)["tickets"]}


def test_report_post_records_history_only_where_verdict_or_score_moved(gonogo: Gonogo) -> None:
    with running_server(deployment="Cloud", search_page_cap=10) as server:
        seeded = seed_portfolio(server, 20)
        before = report_post(gonogo, server, TODAY)
        assert all(len(server.issue_properties(key)[PROPERTY]["history"]) == 1 for key in seeded)

        server.clear_requests()
        assert report_post(gonogo, server, TODAY) == before
        assert [r for r in server.requests if r.method != "GET"] == []  # nothing changed: no write

        server.clear_requests()
        after = report_post(gonogo, server, LATER)
        moved = {key for key in seeded if after[key] != before[key]}
        assert moved
        assert len(moved) < len(seeded)
        writes = [r for r in server.requests if r.method != "GET"]
        assert len(writes) <= len(seeded)  # at most one write per ticket: the history costs none
        assert all("/comment/" not in r.path for r in writes)  # each an issue edit
        for key in seeded:
            history = server.issue_properties(key)[PROPERTY]["history"]
            expected = [before[key]] if key not in moved else [before[key], after[key]]
            assert [(e["verdict"], e["score"]) for e in history] == expected
        assert server.internal_errors == []
