"""Issue 13, case 1: a comment Jira commits after gonogo gave up on its POST is not left as a duplicate.

A POST held by the test Jira outlives the client's timeout; the next run finds nothing and posts
again; then the held POST is committed. The run after that must leave exactly one gonogo comment:
the one the pointer names, or without a pointer the oldest. The pointer is trusted only when it names
gonogo's own comment, and a check that deleted a duplicate says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from jiraserver import BOT_USER, JiraServer, running_server
from portfolio_helpers import env_for
from support import TODAY, Gonogo
from webhook_helpers import Service, created_event, seed, signed, wait_until

PROPERTY = "gonogo.verdict"
MARK = {PROPERTY: {"gonogo": True}}


@pytest.fixture
def jira() -> Iterator[JiraServer]:
    with running_server(deployment="Cloud") as server:
        yield server
        assert server.internal_errors == []


def check(gonogo: Gonogo, server: JiraServer, key: str, *options: str, today: str = TODAY) -> Any:
    return gonogo("check", key, "--today", today, *options, env=env_for(server))


def deletes(server: JiraServer) -> list[str]:
    return [r.path.rsplit("/", 1)[1] for r in server.requests if r.method == "DELETE"]


def test_a_post_committed_after_the_client_gave_up_is_healed_by_the_next_check(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    seed(jira, "BID-1", "doomed")
    (tmp_path / "gonogo.toml").write_text("[jira]\ntimeout_seconds = 0.5\nretries = 0\n")
    jira.hang_next("POST", r"/comment$")  # Jira commits this POST only after we gave up on it
    first = check(gonogo, jira, "BID-1")
    assert first.exit_code == 5, first.stderr
    assert jira.held_requests == 1

    second = check(gonogo, jira, "BID-1")  # re-run within the window: nothing to adopt yet
    assert second.exit_code == 12, second.stderr
    (posted,) = jira.comments("BID-1")
    jira.release()
    wait_until(lambda: len(jira.comments("BID-1")) == 2, timeout=10, what="the late POST to land")

    jira.clear_requests()
    third = check(gonogo, jira, "BID-1")
    assert third.exit_code == 12, third.stderr
    (kept,) = jira.comments("BID-1")
    assert kept["id"] == posted["id"] == jira.issue_properties("BID-1")[PROPERTY]["commentId"]
    assert len(deletes(jira)) == 1

    jira.clear_requests()
    assert check(gonogo, jira, "BID-1").exit_code == 12
    assert [r.method for r in jira.requests] == ["GET"]  # healed: an unchanged re-check is one GET again


def test_without_a_pointer_the_oldest_gonogo_comment_is_kept_and_the_others_deleted(
    gonogo: Gonogo, jira: JiraServer
) -> None:
    seed(jira, "BID-2", "doomed")
    jira.add_comments("BID-2", 3)  # people's comments stay untouched
    oldest = jira.add_comment("BID-2", "old verdict", author=BOT_USER, properties=MARK)
    newer = jira.add_comment("BID-2", "late duplicate", author=BOT_USER, properties=MARK)
    run = check(gonogo, jira, "BID-2")
    assert run.exit_code == 12, run.stderr
    ids = [c["id"] for c in jira.comments("BID-2")]
    assert oldest["id"] in ids
    assert newer["id"] not in ids
    assert len(ids) == 4
    assert jira.issue_properties("BID-2")[PROPERTY]["commentId"] == oldest["id"]


def test_report_post_heals_a_ticket_with_two_gonogo_comments(gonogo: Gonogo, jira: JiraServer) -> None:
    seed(jira, "BID-3", "healthy")
    pointed = jira.add_comment("BID-3", "current verdict", author=BOT_USER, properties=MARK)
    late = jira.add_comment("BID-3", "late duplicate", author=BOT_USER, properties=MARK)
    jira.set_issue_property("BID-3", PROPERTY, {"commentId": pointed["id"], "verdict": "go"})
    run = gonogo("report", "--project", "BID", "--post", "--today", TODAY, env=env_for(jira))
    assert run.exit_code == 0, run.stderr
    assert [c["id"] for c in jira.comments("BID-3")] == [pointed["id"]]
    assert deletes(jira) == [late["id"]]


def test_a_recheck_reads_no_comments_when_nobody_else_wrote_as_gonogo(
    gonogo: Gonogo, jira: JiraServer
) -> None:
    seed(jira, "BID-4", "doomed")
    assert check(gonogo, jira, "BID-4").exit_code == 12
    jira.add_comments("BID-4", 3)  # people answering the verdict
    jira.clear_requests()
    assert check(gonogo, jira, "BID-4").exit_code == 12
    assert [r.method for r in jira.requests] == ["GET"]  # nothing to heal, nothing changed: no write


def test_the_service_heals_a_comment_that_landed_after_its_worker_gave_up(
    tmp_path: Path, jira: JiraServer
) -> None:
    """The issue's scenario: the worker's POST times out, its retry posts again, the first lands."""
    issue_id = seed(jira, "BID-5", "doomed")
    service = Service(tmp_path / "svc", jira, jira_table="retries = 0\ntimeout_seconds = 0.5")
    jira.hang_next("POST", r"/comment$")
    service.start()
    try:
        body = created_event("BID-5", issue_id)
        assert service.post(body, signed(body, "first")).json()["outcome"] == "queued"
        wait_until(lambda: len(jira.comments("BID-5")) == 1, timeout=15, what="the retry's comment")
        jira.release()
        wait_until(lambda: len(jira.comments("BID-5")) == 2, timeout=10, what="the late POST to land")
        wait_until(service.idle, timeout=10, what="the first delivery to finish")
        assert service.post(body, signed(body, "second")).json()["outcome"] == "queued"
        wait_until(lambda: len(jira.comments("BID-5")) == 1, timeout=15, what="the duplicate to go")
        wait_until(service.idle, timeout=10, what="the second delivery to finish")
    finally:
        service.stop()
    (kept,) = jira.comments("BID-5")
    assert jira.issue_properties("BID-5")[PROPERTY]["commentId"] == kept["id"]


def test_a_deleted_verdict_comment_on_a_busy_ticket_is_posted_again(gonogo: Gonogo, jira: JiraServer) -> None:
    """Jira embeds only some of a busy ticket's comments: the pages read show ours is gone."""
    seed(jira, "BID-6", "doomed")
    jira.add_comments("BID-6", 120)  # more than the issue GET embeds (and than one comment page)
    assert check(gonogo, jira, "BID-6").exit_code == 12
    (first,) = [c for c in jira.comments("BID-6") if c["author"] == BOT_USER.account_id]
    jira.delete_comment(first["id"])
    jira.clear_requests()
    run = check(gonogo, jira, "BID-6")
    assert run.exit_code == 12, run.stderr
    (again,) = [c for c in jira.comments("BID-6") if c["author"] == BOT_USER.account_id]
    assert again["id"] != first["id"]
    assert jira.issue_properties("BID-6")[PROPERTY]["commentId"] == again["id"]
    assert "unchanged" not in run.stdout


@pytest.mark.parametrize("human_is_older", [True, False])
def test_a_person_s_comment_carrying_gonogo_s_property_is_neither_adopted_nor_deleted(
    gonogo: Gonogo, human_is_older: bool
) -> None:
    """Anyone may set a property on their own comment; gonogo heals and adopts only its own.

    The account here may edit and delete every comment (a project-admin bot), so only gonogo's
    own check keeps the person's comment.
    """
    with running_server(deployment="Cloud", comment_permission="all") as jira:
        seed(jira, "BID-7", "doomed")
        human = "my own analysis, please keep"
        if human_is_older:
            theirs = jira.add_comment("BID-7", human, properties=MARK)
            ours = jira.add_comment("BID-7", "old verdict", author=BOT_USER, properties=MARK)
        else:
            ours = jira.add_comment("BID-7", "old verdict", author=BOT_USER, properties=MARK)
            theirs = jira.add_comment("BID-7", human, properties=MARK)
        run = check(gonogo, jira, "BID-7")
        assert run.exit_code == 12, run.stderr
        by_id = {c["id"]: c for c in jira.comments("BID-7")}
        assert by_id[theirs["id"]]["body"] == human
        assert jira.issue_properties("BID-7")[PROPERTY]["commentId"] == ours["id"]
        assert by_id[ours["id"]]["body"] != "old verdict"
        assert deletes(jira) == []
        put_paths = [r.path for r in jira.requests if r.method == "PUT"]
        assert not any(path.endswith(f"/comment/{theirs['id']}") for path in put_paths)

        jira.set_issue_property("BID-7", PROPERTY, {"commentId": ours["id"], "verdict": "go"})
        jira.add_comment("BID-7", "another note by the bot's account", author=BOT_USER)  # so it scans
        assert check(gonogo, jira, "BID-7").exit_code == 12  # healing with a pointer: still theirs kept
        assert theirs["id"] in {c["id"] for c in jira.comments("BID-7")}
        assert deletes(jira) == []
        assert jira.internal_errors == []


def test_the_test_jira_lets_an_account_change_only_its_own_comments(jira: JiraServer) -> None:
    """Edit/Delete Own Comments, as a bot account normally has: a person's comment is refused (400)."""
    seed(jira, "BID-8", "doomed")
    theirs = jira.add_comment("BID-8", "a person's words")
    ours = jira.add_comment("BID-8", "gonogo's words", author=BOT_USER)
    session = requests.Session()
    session.headers.update({**jira.auth_headers, "Content-Type": "application/json"})
    base = f"{jira.url}/rest/api/2/issue/BID-8/comment"
    assert session.put(f"{base}/{theirs['id']}", json={"body": "x"}, timeout=5).status_code == 400
    assert session.delete(f"{base}/{theirs['id']}", timeout=5).status_code == 400
    assert session.put(f"{base}/{ours['id']}", json={"body": "y"}, timeout=5).status_code == 200
    assert session.delete(f"{base}/{ours['id']}", timeout=5).status_code == 204
    assert [c["body"] for c in jira.comments("BID-8")] == ["a person's words"]


@pytest.mark.parametrize("permission", ["own", "all"])
@pytest.mark.parametrize("marked", [True, False])
def test_a_pointer_a_person_turned_to_their_own_comment_is_healed_and_their_comment_untouched(
    gonogo: Gonogo, permission: str, marked: bool
) -> None:
    with running_server(deployment="Cloud", comment_permission=permission) as jira:
        seed(jira, "BID-1", "doomed")
        assert check(gonogo, jira, "BID-1").exit_code == 12
        (ours,) = jira.comments("BID-1")
        words = "my own notes, please keep"
        theirs = jira.add_comment("BID-1", words, properties=MARK if marked else None)
        forged = {**jira.issue_properties("BID-1")[PROPERTY], "commentId": theirs["id"], "seal": "0" * 32}
        jira.set_issue_property("BID-1", PROPERTY, {**forged, "verdict": "go"})
        jira.clear_requests()
        run = check(gonogo, jira, "BID-1")
        assert run.exit_code == 12, run.stderr
        by_id = {c["id"]: c for c in jira.comments("BID-1")}
        assert by_id[theirs["id"]]["body"] == words
        assert set(by_id) == {ours["id"], theirs["id"]}
        assert jira.issue_properties("BID-1")[PROPERTY]["commentId"] == ours["id"]
        edits = [r for r in jira.requests if r.method in ("PUT", "DELETE")]
        assert not any(r.path.endswith(f"/comment/{theirs['id']}") for r in edits)
        assert theirs["id"] not in json.dumps([r.body for r in edits], default=str)
        jira.clear_requests()
        assert "unchanged" in check(gonogo, jira, "BID-1").stdout
        assert [r.method for r in jira.requests] == ["GET"]  # healed: sealed again, one GET


def test_gonogo_s_own_sealed_pointer_costs_no_extra_request_when_the_verdict_changes(
    gonogo: Gonogo, jira: JiraServer
) -> None:
    seed(jira, "BID-1", "doomed")
    assert check(gonogo, jira, "BID-1").exit_code == 12
    assert jira.issue_properties("BID-1")[PROPERTY]["seal"]
    jira.clear_requests()
    assert check(gonogo, jira, "BID-1", today="2026-11-21").exit_code == 12
    assert [r.method for r in jira.requests] == ["GET", "PUT"]


def test_an_unchanged_check_that_deleted_a_duplicate_says_so_in_its_output_and_json(
    gonogo: Gonogo, jira: JiraServer
) -> None:
    seed(jira, "BID-1", "doomed")
    assert check(gonogo, jira, "BID-1").exit_code == 12
    duplicate = jira.add_comment("BID-1", "a late duplicate", author=BOT_USER, properties=MARK)
    text = check(gonogo, jira, "BID-1")
    assert "nothing was written" not in text.stdout
    assert f"Deleted 1 duplicate gonogo comment: {duplicate['id']}." in text.stdout
    duplicate = jira.add_comment("BID-1", "another", author=BOT_USER, properties=MARK)
    document = json.loads(check(gonogo, jira, "BID-1", "--format", "json").stdout)
    assert document["comment"]["action"] == "unchanged"
    assert document["comment"]["deleted"] == [duplicate["id"]]
