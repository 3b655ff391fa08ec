"""`gonogo check KEY` against the Jira-compatible server on loopback, through the real client."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from jiraserver import BOT_USER, JiraServer, running_server
from site_helpers import jira_env as cloud_env
from site_helpers import seed
from support import TODAY, Gonogo

from gonogo.core.errors import RETRY_AFTER_CEILING_SECONDS, JiraError
from gonogo.flows.assessor import build_assessor
from gonogo.flows.check_ticket import check_ticket
from gonogo.jira.gateway import JiraGateway
from gonogo.sources.config import load_settings

PROPERTY = "gonogo.verdict"


@pytest.fixture
def jira() -> Iterator[JiraServer]:
    with running_server(deployment="Cloud") as server:
        seed(server, "doomed", "BID-1")
        yield server
        assert server.internal_errors == []


def check(gonogo: Gonogo, server: JiraServer, *args: str, env: dict[str, str] | None = None) -> Any:
    return gonogo("check", *args, "--today", TODAY, env=env or cloud_env(server))


def calls(server: JiraServer) -> list[str]:
    return [f"{r.method} {r.path}" for r in server.requests]


def test_first_check_posts_one_comment_and_a_recheck_updates_it(gonogo: Gonogo, jira: JiraServer) -> None:
    first = check(gonogo, jira, "BID-1")
    assert first.exit_code == 12, first.stderr
    (comment,) = jira.comments("BID-1")
    assert first.stdout.endswith(f"\n\nCreated the verdict comment on BID-1 (comment {comment['id']}).\n")
    assert comment["body"].startswith("h3. gonogo verdict:")
    assert jira.issue_properties("BID-1")[PROPERTY]["commentId"] == comment["id"]
    assert PROPERTY in jira.comment_properties(comment["id"])
    first_digest = jira.issue_properties("BID-1")[PROPERTY]["digest"]
    assert first_digest.startswith("sha256:")
    issue_id = jira.requests[0].response_json["id"]
    assert calls(jira) == [
        "GET /rest/api/2/issue/BID-1",
        f"POST /rest/api/2/issue/{issue_id}/comment",
        f"PUT /rest/api/2/issue/{issue_id}",
    ]
    assert jira.requests[2].body["update"] == {"labels": [{"add": "gonogo-no-go"}]}
    assert jira.issue_fields("BID-1")["labels"] == ["gonogo-no-go"]

    jira.clear_requests()
    second = check(gonogo, jira, "BID-1")
    assert second.exit_code == 12
    unchanged = (
        f"\n\nThe verdict comment on BID-1 is unchanged (comment {comment['id']}): nothing was written.\n"
    )
    assert second.stdout.endswith(unchanged)
    assert [c["id"] for c in jira.comments("BID-1")] == [comment["id"]]
    assert calls(jira) == ["GET /rest/api/2/issue/BID-1"]  # same text: nothing written, nobody notified
    assert jira.comments("BID-1")[0]["updated"] == comment["updated"]

    jira.clear_requests()
    later = gonogo("check", "BID-1", "--today", "2026-11-24", env=cloud_env(jira))  # a day closer
    assert later.exit_code == 12
    assert "Updated the verdict comment on BID-1" in later.stdout
    # One write: the issue edit carries the comment's new body and the pointer with its new digest.
    assert calls(jira) == ["GET /rest/api/2/issue/BID-1", f"PUT /rest/api/2/issue/{issue_id}"]
    edit = jira.requests[-1].body
    assert edit["update"]["comment"][0]["edit"]["id"] == comment["id"]
    assert [p["key"] for p in edit["properties"]] == [PROPERTY]
    (updated,) = jira.comments("BID-1")
    assert updated["body"] != comment["body"]
    assert jira.issue_properties("BID-1")[PROPERTY]["digest"] != first_digest


def test_an_unchanged_recheck_is_one_get_and_says_so_in_json(gonogo: Gonogo, jira: JiraServer) -> None:
    created = json.loads(check(gonogo, jira, "BID-1", "--format", "json").stdout)
    jira.clear_requests()
    again = json.loads(check(gonogo, jira, "BID-1", "--format", "json").stdout)
    assert again["comment"] == {"action": "unchanged", "id": created["comment"]["id"]}
    assert [r.method for r in jira.requests] == ["GET"]


def test_a_pointer_from_an_older_gonogo_gets_its_digest_on_the_next_check(
    gonogo: Gonogo, jira: JiraServer
) -> None:
    check(gonogo, jira, "BID-1")
    pointer = jira.issue_properties("BID-1")[PROPERTY]
    jira.set_issue_property("BID-1", PROPERTY, {"commentId": pointer["commentId"], "verdict": "no-go"})
    jira.clear_requests()
    assert "Updated the verdict comment" in check(gonogo, jira, "BID-1").stdout
    # One issue edit; the unsealed pointer's comment and gonogo's account are read first, once.
    assert [r.method for r in jira.requests] == ["GET", "GET", "GET", "PUT"]
    assert jira.issue_properties("BID-1")[PROPERTY]["digest"] == pointer["digest"]
    jira.clear_requests()
    assert "unchanged" in check(gonogo, jira, "BID-1").stdout
    assert [r.method for r in jira.requests] == ["GET"]


def test_an_unchanged_verdict_whose_comment_was_deleted_is_posted_again(
    gonogo: Gonogo, jira: JiraServer
) -> None:
    """The GET lists the ticket's comments; a pointer to one no longer there is not "unchanged"."""
    check(gonogo, jira, "BID-1")
    (comment,) = jira.comments("BID-1")
    deleted = requests.delete(
        f"{jira.url}/rest/api/2/issue/BID-1/comment/{comment['id']}", headers=jira.auth_headers, timeout=5
    )
    assert deleted.status_code == 204
    jira.clear_requests()
    run = check(gonogo, jira, "BID-1")
    assert "Recreated the verdict comment on BID-1" in run.stdout
    assert [r.method for r in jira.requests] == ["GET", "POST", "PUT"]  # no PUT to the deleted one
    (again,) = jira.comments("BID-1")
    assert again["id"] != comment["id"]
    assert jira.issue_properties("BID-1")[PROPERTY]["commentId"] == again["id"]


def test_a_recheck_after_the_ticket_changed_rewrites_the_same_comment(
    gonogo: Gonogo, jira: JiraServer
) -> None:
    seed(jira, "healthy", "BID-2")
    assert check(gonogo, jira, "BID-2").exit_code == 0
    (before,) = jira.comments("BID-2")
    assert "GO" in before["body"]
    cleared = requests.put(
        f"{jira.url}/rest/api/2/issue/BID-2",
        json={"fields": {"customfield_10101": None, "customfield_10103": None}},
        headers=jira.auth_headers,
        timeout=5,
    )
    assert cleared.status_code == 204
    assert check(gonogo, jira, "BID-2").exit_code == 11
    (after,) = jira.comments("BID-2")
    assert after["id"] == before["id"]
    assert "NEEDS INFO" in after["body"]


def test_dry_run_prints_the_comment_and_changes_nothing(gonogo: Gonogo, jira: JiraServer) -> None:
    run = check(gonogo, jira, "BID-1", "--dry-run")
    assert run.exit_code == 12
    assert "Dry run: nothing was changed" in run.stdout
    assert "h3. gonogo verdict:" in run.stdout
    assert jira.comments("BID-1") == []
    assert {r.method for r in jira.requests} == {"GET"}


def test_json_output_reports_what_happened_to_the_comment(gonogo: Gonogo, jira: JiraServer) -> None:
    run = check(gonogo, jira, "BID-1", "--format", "json")
    document = json.loads(run.stdout)
    assert document["comment"] == {"action": "created", "id": jira.comments("BID-1")[0]["id"]}
    dry = json.loads(check(gonogo, jira, "BID-1", "--format", "json", "--dry-run").stdout)
    assert dry["comment"]["action"] == "dry-run"
    assert dry["comment"]["body"].startswith("h3. gonogo verdict:")


def test_a_browse_url_of_the_configured_site_works_and_a_foreign_one_is_refused(
    gonogo: Gonogo, jira: JiraServer
) -> None:
    assert check(gonogo, jira, f"{jira.url}/browse/BID-1", "--dry-run").exit_code == 12
    foreign = check(gonogo, jira, "https://elsewhere.example/browse/BID-1")
    assert foreign.exit_code == 4
    assert "points at elsewhere.example" in foreign.stderr
    assert jira.requests == [jira.requests[0]]  # only the first run talked to Jira


def test_a_deleted_comment_is_posted_again(gonogo: Gonogo, jira: JiraServer) -> None:
    check(gonogo, jira, "BID-1")
    (old,) = jira.comments("BID-1")
    deleted = requests.delete(
        f"{jira.url}/rest/api/2/issue/BID-1/comment/{old['id']}",
        headers=jira.auth_headers,
        timeout=5,
    )
    assert deleted.status_code == 204
    run = check(gonogo, jira, "BID-1")
    assert "Recreated the verdict comment" in run.stdout
    (new,) = jira.comments("BID-1")
    assert new["id"] != old["id"]
    assert jira.issue_properties("BID-1")[PROPERTY]["commentId"] == new["id"]


def test_own_comment_is_found_among_hundreds_when_the_pointer_is_lost(gonogo: Gonogo) -> None:
    with running_server(comment_page_cap=50) as server:
        seed(server, "doomed", "BID-7")
        server.add_comments("BID-7", 250)  # one a minute, the last one now
        ours = server.add_comment(
            "BID-7",
            "old verdict",
            author=BOT_USER,
            properties={PROPERTY: {"gonogo": True}},
            created=server.now - timedelta(minutes=130, seconds=30),
        )
        run = check(gonogo, server, "BID-7")
        assert run.exit_code == 12, run.stderr
        bodies = {c["id"]: c["body"] for c in server.comments("BID-7")}
        assert len(bodies) == 251
        assert bodies[ours["id"]].startswith("h3. gonogo verdict:")
        assert server.issue_properties("BID-7")[PROPERTY]["commentId"] == ours["id"]
        pages = [r for r in server.requests if r.path.endswith("/comment") and r.method == "GET"]
        assert len(pages) == 6  # every page, 50 a page: a second gonogo comment could be on any


def test_data_center_personal_access_token_is_sent_as_bearer(gonogo: Gonogo) -> None:
    with running_server(deployment="Server", auth=("bearer", "pat-123")) as server:
        seed(server, "healthy", "BID-3")
        run = check(gonogo, server, "BID-3", env={"JIRA_URL": server.url, "JIRA_API_TOKEN": "pat-123"})
        assert run.exit_code == 0, run.stderr
        assert len(server.comments("BID-3")) == 1
        assert {r.headers.get("Authorization") for r in server.requests} == {"Bearer pat-123"}


def test_cloud_basic_auth_sends_email_and_token(gonogo: Gonogo, jira: JiraServer) -> None:
    check(gonogo, jira, "BID-1")
    assert {r.headers.get("Authorization") for r in jira.requests} == {jira.auth_headers["Authorization"]}
    assert all("token" not in r.raw_query for r in jira.requests)


# --- failures: one line, the right exit code, nothing half-posted ---------------------------


def assert_jira_failure(run: Any, message: str) -> None:
    assert run.exit_code == 5, run.stdout + run.stderr
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert message in run.stderr


def test_wrong_credentials(gonogo: Gonogo, jira: JiraServer) -> None:
    env = {**cloud_env(jira), "JIRA_API_TOKEN": "wrong-token-value"}
    run = check(gonogo, jira, "BID-1", env=env)
    assert_jira_failure(run, "Jira rejected the credentials (401) when trying to read BID-1: check JIRA_USER")


@pytest.mark.parametrize("token", ["wrong-token-value", None])
def test_secrets_never_appear_even_in_debug_output(
    gonogo: Gonogo, jira: JiraServer, token: str | None
) -> None:
    env = {**cloud_env(jira), **({"JIRA_API_TOKEN": token} if token else {})}
    run = check(gonogo, jira, "BID-1", "-vv", env=env)
    assert "gonogo: jira GET /rest/api/2/issue/BID-1 -> " in run.stderr  # debug output is on
    secret = env["JIRA_API_TOKEN"]
    assert secret not in run.stdout + run.stderr
    assert "Authorization" not in run.stdout + run.stderr


def test_permission_denied_on_posting_leaves_no_comment(gonogo: Gonogo, jira: JiraServer) -> None:
    jira.fail_next("POST", r"/comment$", 403)
    assert_jira_failure(
        check(gonogo, jira, "BID-1"), "Jira refused to let this account post the verdict comment"
    )
    assert jira.comments("BID-1") == []


def test_unknown_ticket(gonogo: Gonogo, jira: JiraServer) -> None:
    assert_jira_failure(
        check(gonogo, jira, "BID-404"), "BID-404 does not exist or this account cannot see it (404)"
    )


def test_unreachable_jira(gonogo: Gonogo, tmp_path: Path) -> None:
    (tmp_path / "gonogo.toml").write_text("[jira]\nretries = 0\n")  # retrying is tested in-process below
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"JIRA_URL": f"http://127.0.0.1:{port}", "JIRA_USER": "a@b.c", "JIRA_API_TOKEN": "t"}
    run = gonogo("check", "BID-1", env=env)
    assert_jira_failure(run, f"cannot reach Jira at http://127.0.0.1:{port} to read BID-1")


def test_garbled_answer(gonogo: Gonogo, jira: JiraServer) -> None:
    jira.garble_next("GET", r"/issue/BID-1$")
    assert_jira_failure(check(gonogo, jira, "BID-1"), "was not the JSON Jira sends")


def test_timeout_is_reported_and_nothing_posted(gonogo: Gonogo, jira: JiraServer, tmp_path: Path) -> None:
    (tmp_path / "gonogo.toml").write_text("[jira]\ntimeout_seconds = 0.3\nretries = 0\n")
    jira.hang_next("GET", r"/issue/BID-1$")
    assert_jira_failure(
        check(gonogo, jira, "BID-1"), "Jira did not answer within 0.3 s when trying to read BID-1"
    )
    assert jira.comments("BID-1") == []


def test_a_lost_pointer_write_is_repaired_by_the_next_run(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    (tmp_path / "gonogo.toml").write_text("[jira]\nretries = 0\n")
    jira.fail_next("PUT", r"/issue/[^/]+$", 500)
    assert_jira_failure(
        check(gonogo, jira, "BID-1"),
        "Jira failed with 500 when trying to record the verdict on",
    )
    assert len(jira.comments("BID-1")) == 1
    assert check(gonogo, jira, "BID-1").exit_code == 12
    (comment,) = jira.comments("BID-1")
    assert jira.issue_properties("BID-1")[PROPERTY]["commentId"] == comment["id"]


# --- retries: in-process, so the back-off sleeps are recorded instead of slept ---------------


def check_in_process(server: JiraServer, key: str, sleeps: list[float], **jira_settings: Any) -> Any:
    settings = load_settings(environ=cloud_env(server))
    settings = replace(settings, jira=replace(settings.jira, **jira_settings))
    return check_ticket(
        key,
        assessor=build_assessor(settings),
        today=date.fromisoformat(TODAY),
        dry_run=False,
        connect=lambda s: JiraGateway(s, sleep=sleeps.append),
    )


def test_rate_limit_is_retried_after_the_time_jira_asks_for(jira: JiraServer) -> None:
    jira.fail_next("GET", r"/issue/BID-1$", 429, headers={"Retry-After": "7"})
    jira.fail_next("POST", r"/comment$", 429, headers={"Retry-After": "3"})
    sleeps: list[float] = []
    result = check_in_process(jira, "BID-1", sleeps)
    assert sleeps == [7.0, 3.0]
    assert result.publication.action == "created"
    assert len(jira.comments("BID-1")) == 1


def test_http_date_retry_after_is_understood(jira: JiraServer) -> None:
    jira.fail_next("GET", r"/issue/BID-1$", 503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    sleeps: list[float] = []
    check_in_process(jira, "BID-1", sleeps)
    assert sleeps == [0.0]  # a date in the past means "now"


def test_a_retry_after_beyond_the_limit_fails_at_once(jira: JiraServer) -> None:
    jira.fail_next("GET", r"/issue/BID-1$", 429, headers={"Retry-After": "3600"})
    sleeps: list[float] = []
    with pytest.raises(
        JiraError, match="asked to wait 3600 s to read BID-1, longer than max_retry_wait_seconds"
    ):
        check_in_process(jira, "BID-1", sleeps)
    assert sleeps == []


@pytest.mark.parametrize("asked", ["inf", "Infinity", "1e12", "1e9", "-1e12", "nan"])
def test_an_absurd_retry_after_is_bounded_so_a_job_can_still_retry_or_end(
    jira: JiraServer, asked: str
) -> None:
    """Review 2, finding 3: the wait a service job takes from Retry-After must be a finite number."""
    jira.fail_next("GET", r"/issue/BID-1$", 429, headers={"Retry-After": asked}, times=3)
    sleeps: list[float] = []
    with pytest.raises(JiraError) as raised:
        check_in_process(jira, "BID-1", sleeps, retries=2, max_retry_wait_seconds=60.0)
    wait = raised.value.retry_after
    assert wait is None or 0.0 <= wait <= RETRY_AFTER_CEILING_SECONDS
    assert all(0.0 <= s <= 60.0 for s in sleeps)


def test_server_errors_are_retried_with_bounded_backoff_then_reported(jira: JiraServer) -> None:
    jira.fail_next("GET", r"/issue/BID-1$", 502, times=10)
    sleeps: list[float] = []
    with pytest.raises(JiraError, match="Jira failed with 502 when trying to read BID-1, after retrying"):
        check_in_process(jira, "BID-1", sleeps, retries=3, max_retry_wait_seconds=1.0)
    assert sleeps == [0.5, 1.0, 1.0]
    assert len(jira.requests) == 4


def test_a_failed_post_is_not_repeated_blindly(jira: JiraServer) -> None:
    jira.fail_next("POST", r"/comment$", 502)
    sleeps: list[float] = []
    with pytest.raises(JiraError, match="Jira failed with 502 when trying to post the verdict comment"):
        check_in_process(jira, "BID-1", sleeps)
    assert sleeps == []
    assert [r.method for r in jira.requests].count("POST") == 1


def test_a_503_on_a_post_is_retried_because_jira_did_not_process_it(jira: JiraServer) -> None:
    jira.fail_next("POST", r"/comment$", 503, times=2)
    sleeps: list[float] = []
    check_in_process(jira, "BID-1", sleeps)
    assert sleeps == [0.5, 1.0]
    assert len(jira.comments("BID-1")) == 1


@pytest.mark.parametrize(
    "page",
    [
        {"comments": [5], "total": 1},
        {"comments": [{"id": "1", "properties": 5}]},
        {"comments": [], "total": None},
        [5],
    ],
)
def test_a_malformed_comment_page_is_a_jira_error_and_posts_nothing(
    gonogo: Gonogo, jira: JiraServer, page: Any
) -> None:
    jira.add_comment("BID-1", "an earlier human comment")
    jira.fail_next("GET", r"/comment$", 200, body=json.dumps(page))
    assert_jira_failure(
        check(gonogo, jira, "BID-1"), "list the comments of BID-1 is not the shape Jira documents"
    )
    assert len(jira.comments("BID-1")) == 1


def test_a_retry_after_beyond_the_limit_on_a_server_error_fails_at_once(jira: JiraServer) -> None:
    jira.fail_next("GET", r"/issue/BID-1$", 502, headers={"Retry-After": "3600"})
    sleeps: list[float] = []
    with pytest.raises(JiraError, match="asked to wait 3600 s"):
        check_in_process(jira, "BID-1", sleeps)
    assert sleeps == []


@pytest.mark.parametrize(
    "climb", ["../../{key}/comment/{id}", "..%2F..%2F{key}%2Fcomment%2F{id}", "{id}?x=1"]
)
def test_a_pointer_forged_to_climb_out_of_its_ticket_never_reaches_another_ticket(
    gonogo: Gonogo, climb: str
) -> None:
    # Anyone who may edit BID-1 may set its pointer; BID-2's verdict comment must stay out of reach.
    with running_server(deployment="Cloud", comment_page_cap=1) as server:
        seed(server, "doomed", "BID-1")
        seed(server, "healthy", "BID-2")
        check(gonogo, server, "BID-1")
        check(gonogo, server, "BID-2")
        server.add_comment("BID-1", "a person's answer")  # the ticket's embedded comments are partial
        (theirs,) = server.comments("BID-2")
        forged = {**server.issue_properties("BID-1")[PROPERTY], "verdict": "go"}
        forged["commentId"] = climb.format(key="BID-2", id=theirs["id"])
        server.set_issue_property("BID-1", PROPERTY, forged)
        server.clear_requests()
        assert check(gonogo, server, "BID-1").exit_code == 12
        assert [c["body"] for c in server.comments("BID-2")] == [theirs["body"]]
        assert not [r for r in server.requests if "BID-2" in r.path or theirs["id"] in r.path]
