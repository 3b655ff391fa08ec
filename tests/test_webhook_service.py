"""`gonogo serve` end to end: a subprocess, the loopback Jira, signed deliveries over real HTTP.

These are the issue's "done when" scenarios: one comment per ticket whatever is delivered twice or
concurrently; rejections that never reach Jira; SIGKILL at awkward moments; a Jira outage.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from jiraserver import BOT_USER, HUMAN_USER, JiraServer, JiraUser, running_server
from webhook_helpers import (
    SECRET,
    TOKEN,
    Service,
    created_event,
    example_fields,
    fresh_redis_prefix,
    label_edit,
    sample,
    seed,
    signed,
    wait_until,
)

MAX_BODY = 64 * 1024


@pytest.fixture
def jira() -> Iterator[JiraServer]:
    with running_server(deployment="Cloud") as server:
        yield server
        assert server.internal_errors == []


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    with fresh_redis_prefix() as prefix:
        yield prefix


@pytest.fixture
def service(tmp_path: Path, jira: JiraServer) -> Iterator[Service]:
    service = Service(
        tmp_path / "a",
        jira,
        webhook=f'projects = ["BID"]\nissue_types = ["Proposal"]\nmax_body_bytes = {MAX_BODY}\n',
        env={"GONOGO_WEBHOOK_TOKEN": TOKEN},
    )
    yield service.start()
    service.stop()
    log = service.log_text()
    assert SECRET not in log
    assert TOKEN not in log
    assert jira.basic_auth[1] not in log  # the Jira API token


def comment_counts(jira: JiraServer, keys: list[str]) -> dict[str, int]:
    return {key: len(jira.comments(key)) for key in keys}


def test_a_signed_delivery_posts_one_comment_and_redeliveries_or_concurrent_events_add_none(
    jira: JiraServer, service: Service
) -> None:
    issue_id = seed(jira, "BID-1")
    body = created_event("BID-1", issue_id)

    first = service.post(body, signed(body, "delivery-1"))
    assert (first.status_code, first.json()["outcome"]) == (200, "queued")
    wait_until(lambda: len(jira.comments("BID-1")) == 1, timeout=10, what="the verdict comment")

    again = service.post(body, signed(body, "delivery-1"))
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    with ThreadPoolExecutor(10) as pool:
        copies = list(pool.map(lambda _: service.post(body, signed(body, "delivery-1")), range(10)))
        events = list(pool.map(lambda n: service.post(body, signed(body, f"event-{n}")), range(10)))
    assert {(r.status_code, r.json()["outcome"]) for r in copies} == {(200, "duplicate")}
    assert {(r.status_code, r.json()["outcome"]) for r in events} == {(200, "queued")}
    wait_until(service.idle, timeout=20, what="the queue to drain")

    (comment,) = jira.comments("BID-1")
    assert comment["body"].startswith("h3. gonogo verdict:")
    # The ten later events found the verdict as posted: their checks wrote nothing to Jira.
    assert service.metrics()['gonogo_webhook_checks_total{outcome="posted"}'] == 1
    assert service.metrics()['gonogo_webhook_checks_total{outcome="unchanged"}'] == 10
    posted = [line for line in service.delivery_lines() if line["outcome"] in {"posted", "unchanged"}]
    assert {line["delivery"] for line in posted} == {"delivery-1"} | {f"event-{n}" for n in range(10)}
    assert sorted(line["action"] for line in posted) == ["created"] + ["unchanged"] * 10
    assert [r.method for r in jira.requests if r.method != "GET"] == ["POST", "PUT"]
    assert all(line["ticket"] == "BID-1" and line["verdict"] == "go" for line in posted)
    assert all(isinstance(line["latency_ms"], float) for line in posted)
    assert all(line["event"] == "jira:issue_created" for line in posted)
    # the verdict history: one entry for eleven checks of an unchanged ticket, written once
    (entry,) = jira.issue_properties("BID-1")["gonogo.verdict"]["history"]
    assert (entry["verdict"], entry["score"]) == ("go", 100)
    assert sum(1 for r in jira.requests if r.method == "PUT" and "/comment" not in r.path) == 1


def test_rejected_and_ignored_deliveries_get_their_documented_status_and_never_reach_jira(
    jira: JiraServer, service: Service
) -> None:
    seed(jira, "BID-7")
    body = created_event("BID-7", "10000")
    not_json = b"{not json"
    no_key = json.dumps({"webhookEvent": "jira:issue_created", "issue": {"id": "1"}}).encode()
    other_project = created_event("OPS-7", "10001")
    other_type = created_event("BID-8", "10002", issue_type="Bug")
    bot_comment = json.dumps(sample("cloud-issue-commented-by-bot.json")).encode()
    oversized = body + b" " * (MAX_BODY + 1 - len(body))

    cases = [
        ("unsigned", body, {}, 401),
        ("wrong signature", body, signed(body, secret="not-the-secret"), 401),
        ("signature of another body", body, signed(other_project), 401),
        ("wrong token", body, {"X-Gonogo-Token": "guess"}, 401),
        ("oversized", oversized, signed(oversized), 413),
        ("not JSON", not_json, signed(not_json), 400),
        ("no issue key", no_key, signed(no_key), 400),
        ("wrong project", other_project, signed(other_project), 200),
        ("wrong issue type", other_type, signed(other_type), 200),
        ("gonogo's own comment", bot_comment, signed(bot_comment), 200),
    ]
    for name, payload, headers, status in cases:
        answer = service.post(payload, headers)
        assert answer.status_code == status, name
        if status == 200:
            assert answer.json()["outcome"] == "ignored", name
    assert service.post(b"x").status_code == 401  # authenticity is checked before the shape
    assert service.post(b"", path="/nowhere").status_code == 404
    assert requests.get(f"{service.url}/webhook", timeout=5).status_code == 405
    assert requests.put(f"{service.url}/webhook", data=body, timeout=5).status_code == 405

    assert service.idle()
    assert jira.requests == []
    outcomes = [line["outcome"] for line in service.delivery_lines()]
    assert outcomes.count("unauthorized") == 5  # the four cases above and the bare b"x"
    assert outcomes.count("too_large") == 1
    assert outcomes.count("malformed") == 2
    assert outcomes.count("ignored") == 3


def test_an_automation_rule_authenticates_with_the_shared_token(jira: JiraServer, service: Service) -> None:
    issue_id = seed(jira, "BID-42")
    body = json.dumps({"issueKey": "BID-42", "issueId": issue_id}).encode()
    answer = service.post(body, {"X-Gonogo-Token": TOKEN, "Content-Type": "application/json"})
    assert (answer.status_code, answer.json()["outcome"]) == (200, "queued")
    wait_until(lambda: len(jira.comments("BID-42")) == 1, timeout=10, what="the verdict comment")
    wait_until(service.idle, timeout=10, what="the queue to drain")
    assert len(jira.comments("BID-42")) == 1


def test_while_jira_answers_503_the_checks_wait_and_every_comment_arrives_after(
    jira: JiraServer, service: Service
) -> None:
    keys = ["BID-11", "BID-12", "BID-13"]
    ids = {key: seed(jira, key) for key in keys}
    jira.fail_next("*", r"/rest/api/2/", 503, times=15)
    for n, key in enumerate(keys):
        body = created_event(key, ids[key])
        assert service.post(body, signed(body, f"outage-{n}")).status_code == 200
    wait_until(
        lambda: all(jira.comments(key) for key in keys), timeout=30, what="every comment after the outage"
    )
    wait_until(service.idle, timeout=10, what="the queue to drain")
    assert comment_counts(jira, keys) == dict.fromkeys(keys, 1)
    assert sum(1 for r in jira.requests if r.status == 503) == 15
    assert service.metrics()['gonogo_webhook_checks_total{outcome="retry"}'] >= 5


def test_sigkill_with_deliveries_queued_and_in_flight_loses_none_and_duplicates_none(
    jira: JiraServer, service: Service
) -> None:
    # Round 1: both workers stuck inside a check (Jira holds their GET), the rest still queued.
    keys = [f"BID-{n}" for n in range(100, 112)]
    ids = {key: seed(jira, key) for key in keys}
    jira.hang_next("GET", r"/rest/api/2/issue/", times=2)
    for key in keys:
        body = created_event(key, ids[key])
        assert service.post(body, signed(body, f"kill-{key}")).json()["outcome"] == "queued"
    wait_until(lambda: jira.held_requests == 2, timeout=10, what="two checks in flight")
    service.kill()
    jira.release()  # the held requests now answer a dead process
    service.start()
    wait_until(lambda: all(jira.comments(key) for key in keys), timeout=30, what="every comment")
    wait_until(service.idle, timeout=10, what="the queue to drain")
    assert comment_counts(jira, keys) == dict.fromkeys(keys, 1)

    # Round 2: killed while comments are being posted, whatever step each check is at.
    more = [f"BID-{n}" for n in range(200, 210)]
    ids = {key: seed(jira, key) for key in more}
    for key in more:
        body = created_event(key, ids[key])
        assert service.post(body, signed(body, f"kill-{key}")).json()["outcome"] == "queued"
    wait_until(lambda: sum(bool(jira.comments(key)) for key in more) >= 3, timeout=10, what="some comments")
    service.kill()
    service.start()
    wait_until(lambda: all(jira.comments(key) for key in more), timeout=30, what="every comment")
    wait_until(service.idle, timeout=10, what="the queue to drain")
    assert comment_counts(jira, more) == dict.fromkeys(more, 1)
    # Redeliveries after the restart are still recognised.
    body = created_event(more[0], ids[more[0]])
    assert service.post(body, signed(body, f"kill-{more[0]}")).json()["outcome"] == "duplicate"


def test_a_deleted_ticket_is_dead_lettered_at_once_and_listed_by_its_key(
    tmp_path: Path, jira: JiraServer
) -> None:
    """Issue 13, cases 2 and 9: a 404 used to be retried max_attempts times; the reason named the id."""
    service = Service(tmp_path / "dl", jira, webhook="max_attempts = 8\n").start()
    try:
        body = created_event("BID-404", "40404")  # Jira has no such issue: 404 on every attempt
        assert service.post(body, signed(body, "doomed-delivery")).json()["outcome"] == "queued"
        wait_until(service.idle, timeout=10, what="the job to be dead-lettered")
        listing = subprocess.run(
            [sys.executable, "-m", "gonogo", "dead-letters", "--format", "json"],
            env=service.env,
            cwd=service.folder,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        (letter,) = json.loads(listing.stdout)
        assert (letter["ticket"], letter["delivery"], letter["attempts"]) == ("BID-404", "doomed-delivery", 1)
        assert letter["reason"].startswith("BID-404 does not exist")
        assert "40404" not in letter["reason"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", letter["received_at"])
        text = subprocess.run(
            [sys.executable, "-m", "gonogo", "dead-letters"],
            env=service.env,
            cwd=service.folder,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
        assert "BID-404  delivery doomed-delivery  after 1 attempt(s)" in text
        (line,) = [x for x in service.delivery_lines() if x["delivery"] == "doomed-delivery"]
        assert line["outcome"] == "dead_letter"
        assert [r.method for r in jira.requests] == ["GET"]  # one attempt, nothing posted
    finally:
        service.stop()


def test_redis_mode_several_instances_share_the_work_and_survive_sigkill(
    tmp_path: Path, jira: JiraServer, redis_prefix: str
) -> None:
    config = f'queue = "redis"\nredis_prefix = "{redis_prefix}"\nlease_seconds = 1\nworkers = 2\n'
    first = Service(tmp_path / "r1", jira, webhook=config).start()
    second = Service(tmp_path / "r2", jira, webhook=config)
    try:
        # Instance 1 alone acknowledges eight deliveries; two of its checks hang in Jira; it is killed.
        keys = [f"BID-{n}" for n in range(300, 308)]
        ids = {key: seed(jira, key) for key in keys}
        jira.hang_next("GET", r"/rest/api/2/issue/", times=2)
        for key in keys:
            body = created_event(key, ids[key])
            assert first.post(body, signed(body, f"redis-{key}")).json()["outcome"] == "queued"
        wait_until(lambda: jira.held_requests == 2, timeout=10, what="two checks in flight")
        first.kill()
        jira.release()
        # Instance 2 takes over what instance 1 had claimed once the lease runs out.
        second.start()
        wait_until(lambda: all(jira.comments(key) for key in keys), timeout=30, what="every comment")
        wait_until(second.idle, timeout=10, what="the stream to drain")
        assert comment_counts(jira, keys) == dict.fromkeys(keys, 1)

        # Both instances up: duplicates and concurrent events across instances give one comment.
        first.start()
        issue_id = seed(jira, "BID-399")
        body = created_event("BID-399", issue_id)
        with ThreadPoolExecutor(10) as pool:
            copies = list(
                pool.map(
                    lambda n: (first, second)[n % 2].post(body, signed(body, "same-delivery")), range(10)
                )
            )
            events = list(
                pool.map(lambda n: (first, second)[n % 2].post(body, signed(body, f"event-{n}")), range(10))
            )
        assert sorted(r.json()["outcome"] for r in copies) == ["duplicate"] * 9 + ["queued"]
        assert {r.json()["outcome"] for r in events} == {"queued"}
        wait_until(lambda: first.idle() and second.idle(), timeout=30, what="both instances to finish")
        assert len(jira.comments("BID-399")) == 1
        posted = [line for s in (first, second) for line in s.delivery_lines() if line["ticket"] == "BID-399"]
        assert sorted(line["outcome"] for line in posted if line["outcome"] != "duplicate") == [
            "posted",
            *["unchanged"] * 10,
        ]
    finally:
        first.stop()
        second.stop()


def test_a_ticket_fetched_outside_the_filters_gets_no_comment_whatever_the_delivery_named(
    jira: JiraServer, service: Service
) -> None:
    """The reviewer's case: a BID key with the id of an HR ticket; and a BID ticket that is a Bug."""
    hr_id = seed(jira, "HR-7")
    bug = {**example_fields("healthy"), "issuetype": {"id": "10004", "name": "Bug"}}
    bug_id = jira.add_issue("BID-8", bug)["id"]
    token = {"X-Gonogo-Token": TOKEN, "Content-Type": "application/json"}
    for key, issue_id in (("BID-1", hr_id), ("BID-8", bug_id)):
        body = json.dumps({"issueKey": key, "issueId": issue_id}).encode()
        answer = service.post(body, {**token, "X-Atlassian-Webhook-Identifier": f"hint-{key}"})
        assert answer.json()["outcome"] == "queued"
    wait_until(service.idle, timeout=10, what="both jobs to finish")

    assert jira.comments("HR-7") == []
    assert jira.comments("BID-8") == []
    # one read each, nothing written; the two jobs run on concurrent workers, so in either order
    assert sorted((r.method, r.path) for r in jira.requests) == sorted(
        [("GET", f"/rest/api/2/issue/{hr_id}"), ("GET", f"/rest/api/2/issue/{bug_id}")]
    )
    lines = {line["delivery"]: line for line in service.delivery_lines()}
    assert (lines["hint-BID-1"]["outcome"], lines["hint-BID-1"]["reason"]) == (
        "ignored",
        "project HR is not a proposal project",
    )
    assert (lines["hint-BID-8"]["outcome"], lines["hint-BID-8"]["reason"]) == (
        "ignored",
        "the issue type is not a proposal type",
    )
    assert service.metrics()['gonogo_webhook_checks_total{outcome="ignored"}'] == 2


def label_event(key: str, issue_id: str, user: JiraUser, *, before: str, after: str) -> bytes:
    person = {**sample("cloud-issue-updated-field.json")["user"], "accountId": user.account_id}
    return label_edit(
        {**person, "displayName": user.display_name}, before=before, after=after, key=key, issue_id=issue_id
    )


def test_a_forged_verdict_label_is_put_right_and_only_gonogos_own_echo_is_ignored(
    tmp_path: Path, jira: JiraServer
) -> None:
    """Review 1, finding 4: someone swaps gonogo-no-go for gonogo-go; the Automation gate trusts it."""
    service = Service(
        tmp_path / "s",
        jira,
        webhook='projects = ["BID"]\ncheck_on_update = true\n',  # no ignore_accounts: GET myself tells
    ).start()
    try:
        assert service.own_account_reads == 1
        issue_id = seed(jira, "BID-9", "doomed")
        body = created_event("BID-9", issue_id)
        service.post(body, signed(body, "first"))
        wait_until(
            lambda: "gonogo-no-go" in jira.issue_fields("BID-9")["labels"], timeout=10, what="the label"
        )
        wait_until(service.idle, timeout=10, what="the first check")

        jira.change_issue("BID-9", {"labels": ["gonogo-go"]}, author=HUMAN_USER)  # the forgery
        forged = label_event("BID-9", issue_id, HUMAN_USER, before="gonogo-no-go", after="gonogo-go")
        assert service.post(forged, signed(forged, "forged")).json()["outcome"] == "queued"
        wait_until(
            lambda: jira.issue_fields("BID-9")["labels"] == ["gonogo-no-go"], timeout=10, what="the repair"
        )
        wait_until(service.idle, timeout=10, what="the re-check")

        # gonogo's own repair comes back as a webhook too: that echo, and only that, is ignored.
        echo = label_event("BID-9", issue_id, BOT_USER, before="gonogo-go", after="gonogo-no-go")
        answer = service.post(echo, signed(echo, "echo")).json()
        assert (answer["outcome"], answer["reason"]) == ("ignored", "caused by gonogo's own account")
    finally:
        service.stop()


def test_the_service_s_delivery_line_names_the_duplicate_it_deleted(jira: JiraServer, tmp_path: Path) -> None:
    issue_id = seed(jira, "BID-1", "doomed")
    service = Service(tmp_path / "svc", jira)
    service.start()
    try:
        body = created_event("BID-1", issue_id)
        assert service.post(body, signed(body, "first")).json()["outcome"] == "queued"
        wait_until(lambda: len(service.delivery_lines()) == 1, timeout=20, what="the first delivery")
        duplicate = jira.add_comment(
            "BID-1", "late", author=BOT_USER, properties={"gonogo.verdict": {"gonogo": True}}
        )
        assert service.post(body, signed(body, "second")).json()["outcome"] == "queued"
        wait_until(lambda: len(service.delivery_lines()) == 2, timeout=20, what="the second delivery")
    finally:
        service.stop()
    line = service.delivery_lines()[1]
    assert (line["outcome"], line["action"], line["deleted"]) == ("posted", "unchanged", [duplicate["id"]])
