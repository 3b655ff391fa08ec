"""A comment never shows a waiver as active after its date: the pointer says when, a search finds them.

The expiry day travels in gonogo's issue property, so `gonogo serve` finds the tickets due with one
search page per hundred tickets and no per-ticket read, and re-checks them through its queue.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from jiraserver import DIRECTOR_USER, JiraServer, running_server
from portfolio_helpers import example
from support import TODAY, Gonogo
from webhook_helpers import Service, example_fields, wait_until

from gonogo.jira.gateway import JiraGateway
from gonogo.sources.config import JiraSettings, Secret
from gonogo.webhook.classify import Filters
from gonogo.webhook.recheck import EVENT, due_jobs, recheck_jql

PROPERTY = "gonogo.verdict"
LABELS = ["gonogo-waive-win-probability-target"]


@pytest.fixture
def jira() -> Iterator[JiraServer]:
    with running_server(deployment="Cloud", now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) as server:
        yield server
        assert server.internal_errors == []


def seed_waived(server: JiraServer, key: str, *, added: datetime) -> str:
    fields = {**example_fields("waived"), "labels": []}
    issue_id = server.add_issue(key, fields, names=example("waived")["names"])["id"]
    server.change_issue(key, {"labels": LABELS}, author=DIRECTOR_USER, at=added)
    return issue_id


def plain(body: str) -> str:
    """A comment's text without the escapes and word joiners wiki markup needs."""
    return body.replace("\u2060", "").replace("\\", "")


def cloud_env(server: JiraServer) -> dict[str, str]:
    email, token = server.basic_auth
    return {"JIRA_URL": server.url, "JIRA_USER": email, "JIRA_API_TOKEN": token}


def test_a_check_keeps_the_last_day_of_the_waivers_in_the_pointer_and_rewrites_it_only_on_change(
    gonogo: Gonogo, jira: JiraServer
) -> None:
    seed_waived(jira, "BID-1", added=datetime(2026, 11, 20, 10, 0, tzinfo=UTC))

    first = gonogo("check", "BID-1", "--today", TODAY, env=cloud_env(jira))
    assert first.exit_code == 10, first.stderr  # two conditions remain unwaived
    assert jira.issue_properties("BID-1")[PROPERTY]["waiverExpiresOn"] == "2026-12-20"

    jira.clear_requests()
    again = gonogo("check", "BID-1", "--today", TODAY, env=cloud_env(jira))
    assert again.exit_code == 10
    assert [r.method for r in jira.requests] == ["GET"]  # unchanged: nothing written

    jira.clear_requests()
    later = gonogo("check", "BID-1", "--today", "2026-12-21", env=cloud_env(jira))
    assert later.exit_code == 10
    # the date changed: one issue edit carries the comment and the pointer (still two round-trips)
    assert [(r.method, "/comment/" in r.path) for r in jira.requests] == [("GET", False), ("PUT", False)]
    assert "waiverExpiresOn" not in jira.issue_properties("BID-1")[PROPERTY]
    assert "expired after 2026-12-20" in plain(jira.comments("BID-1")[0]["body"])


def test_one_search_finds_the_tickets_whose_comment_shows_an_ended_waiver(jira: JiraServer) -> None:
    for number, pointer in enumerate(
        [
            {"commentId": "1", "verdict": "go", "waiverExpiresOn": "2026-11-22"},  # ended yesterday
            {"commentId": "2", "verdict": "go", "waiverExpiresOn": TODAY},  # its last day: still holds
            {"commentId": "3", "verdict": "go", "waiverExpiresOn": None},
            {"commentId": "4", "verdict": "go"},  # written before gonogo kept the date
            {"commentId": "5", "verdict": "go", "waiverExpiresOn": "soon"},
        ],
        start=1,
    ):
        jira.add_issue(
            f"BID-{number}", {"summary": f"Bid {number}", "labels": []}, issue_id=f"{20000 + number}"
        )
        jira.set_issue_property(f"BID-{number}", PROPERTY, pointer)
    email, token = jira.basic_auth
    gateway = JiraGateway(JiraSettings(url=jira.url, user=email, token=Secret(token), deployment="cloud"))

    jobs = due_jobs(
        gateway, jql="project = BID", property_key=PROPERTY, today=date.fromisoformat(TODAY), now=5.0
    )

    assert [(job.key, job.issue_id, job.event) for job in jobs] == [("BID-1", "20001", EVENT)]
    assert jobs[0].delivery_id == "waiver-ended:20001:2026-11-22"
    assert [r.path for r in jira.requests] == ["/rest/api/2/search/jql"]  # no per-ticket read
    assert jira.requests[0].query["fields"] == "labels"


def test_the_search_covers_the_watched_projects_and_cannot_be_injected() -> None:
    assert recheck_jql(Filters()) == "statusCategory != Done"
    assert (
        recheck_jql(Filters(projects=frozenset({"OPS", 'BID") OR ("X'})))
        == 'project in ("BID\\") OR (\\"X", "OPS") AND statusCategory != Done'
    )


def test_the_service_rechecks_a_ticket_whose_waiver_ended_without_any_delivery(
    tmp_path: Path, jira: JiraServer
) -> None:
    due_id = seed_waived(jira, "BID-1", added=datetime(2026, 10, 1, 10, 0, tzinfo=UTC))  # ended 2026-10-31
    stale = jira.add_comment(
        "BID-1",
        "h3. gonogo verdict: GO (waiver active)",
        properties={PROPERTY: {"gonogo": True}},
        author=jira.user,
    )
    jira.set_issue_property(
        "BID-1", PROPERTY, {"commentId": stale["id"], "verdict": "go", "waiverExpiresOn": "2026-10-31"}
    )
    seed_waived(jira, "BID-2", added=datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    jira.set_issue_property(
        "BID-2", PROPERTY, {"commentId": "1", "verdict": "go", "waiverExpiresOn": "2026-12-20"}
    )
    service = Service(tmp_path / "svc", jira, webhook='projects = ["BID"]\nwaiver_recheck_hours = 24\n')
    service.start()
    try:
        wait_until(
            lambda: "expired after" in plain(jira.comments("BID-1")[0]["body"]),
            timeout=20,
            what="the re-checked comment",
        )
        wait_until(lambda: bool(service.delivery_lines()), timeout=10, what="the delivery log line")
    finally:
        service.stop()
    (line,) = service.delivery_lines()
    assert (line["event"], line["ticket"], line["outcome"]) == (EVENT, "BID-1", "posted")
    assert "waiverExpiresOn" not in jira.issue_properties("BID-1")[PROPERTY]
    assert len(jira.comments("BID-1")) == 1  # the same sticky comment, updated
    read = [r.path for r in jira.requests if r.method == "GET" and "/issue/" in r.path]
    # BID-2's waiver still holds: not read at all. BID-1's hand-set pointer has no seal, so the
    # comment it names is read once to see it is gonogo's before it is edited.
    assert read == [f"/rest/api/2/issue/{due_id}", f"/rest/api/2/issue/{due_id}/comment/{stale['id']}"]
