"""The verdict as a label Jira can search: exactly one, written in the same edit as the pointer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from jiraserver import JiraServer, running_server
from site_helpers import jira_env as env
from site_helpers import seed
from support import TODAY, Gonogo

from gonogo.core.jira_shapes.verdict_labels import LabelChange, label_change

PROPERTY = "gonogo.verdict"
OTHERS = ["customer-osterby", "gonogo-waive-fixed-price-size"]


@pytest.mark.parametrize(
    ("current", "verdict", "expected"),
    [
        (None, "no-go", LabelChange(add=("gonogo-no-go",))),
        (["gonogo-go", "x"], "go", LabelChange()),
        (
            ["gonogo-go", "gonogo-needs-info", "gonogo-waive-x", "gonogo-going"],
            "no-go",
            LabelChange(add=("gonogo-no-go",), remove=("gonogo-go", "gonogo-needs-info")),
        ),
    ],
)
def test_the_change_keeps_exactly_one_verdict_label_and_touches_nothing_else(
    current: Any, verdict: str, expected: LabelChange
) -> None:
    assert label_change(current, verdict=verdict, prefix="gonogo-") == expected
    assert not label_change(current, verdict=verdict, prefix="")


@pytest.fixture(params=["Cloud", "Server"])
def jira(request: pytest.FixtureRequest) -> Iterator[JiraServer]:
    auth: Any = ("basic", "bot@example.com", "t0k") if request.param == "Cloud" else ("bearer", "pat-1")
    with running_server(deployment=request.param, auth=auth) as server:
        seed(server, "healthy", "BID-1", labels=OTHERS)
        yield server
        assert server.internal_errors == []


def calls(server: JiraServer) -> list[str]:
    return [f"{r.method} {r.path}" for r in server.requests]


def check(gonogo: Gonogo, server: JiraServer) -> int:
    return gonogo("check", "BID-1", "--today", TODAY, env=env(server)).exit_code


def flip_to_needs_info(server: JiraServer) -> None:
    cleared = requests.put(
        f"{server.url}/rest/api/2/issue/BID-1",
        json={"fields": {"customfield_10101": None}},
        headers=server.auth_headers,
        timeout=5,
    )
    assert cleared.status_code == 204
    server.clear_requests()


def test_one_verdict_label_follows_the_verdict_in_as_few_round_trips_as_before(
    gonogo: Gonogo, jira: JiraServer
) -> None:
    assert check(gonogo, jira) == 0
    assert jira.issue_fields("BID-1")["labels"] == [*OTHERS, "gonogo-go"]
    issue_id = jira.requests[0].response_json["id"]
    assert calls(jira) == [
        "GET /rest/api/2/issue/BID-1",
        f"POST /rest/api/2/issue/{issue_id}/comment",
        f"PUT /rest/api/2/issue/{issue_id}",
    ]
    edit = jira.requests[2].body
    assert edit["update"] == {"labels": [{"add": "gonogo-go"}]}
    assert edit["properties"][0]["key"] == PROPERTY

    jira.clear_requests()
    assert check(gonogo, jira) == 0
    assert calls(jira) == ["GET /rest/api/2/issue/BID-1"]  # same verdict, label and text: no write
    (comment,) = jira.comments("BID-1")

    flip_to_needs_info(jira)
    assert check(gonogo, jira) == 11
    assert jira.issue_fields("BID-1")["labels"] == [*OTHERS, "gonogo-needs-info"]
    assert calls(jira) == ["GET /rest/api/2/issue/BID-1", f"PUT /rest/api/2/issue/{issue_id}"]
    update = jira.requests[1].body["update"]
    assert update["labels"] == [{"add": "gonogo-needs-info"}, {"remove": "gonogo-go"}]
    assert update["comment"][0]["edit"]["id"] == comment["id"]
    (after,) = jira.comments("BID-1")
    assert "NEEDS INFO" in after["body"]
    pointer = jira.issue_properties("BID-1")[PROPERTY]
    assert {key: pointer[key] for key in ("commentId", "verdict")} == {
        "commentId": comment["id"],
        "verdict": "needs-info",
    }
    assert [entry["verdict"] for entry in pointer["history"]] == ["go", "needs-info"]


def test_a_deleted_comment_is_recreated_when_the_verdict_also_changed(
    gonogo: Gonogo, jira: JiraServer
) -> None:
    assert check(gonogo, jira) == 0
    (comment,) = jira.comments("BID-1")
    deleted = requests.delete(
        f"{jira.url}/rest/api/2/issue/BID-1/comment/{comment['id']}", headers=jira.auth_headers, timeout=5
    )
    assert deleted.status_code == 204
    flip_to_needs_info(jira)
    run = gonogo("check", "BID-1", "--today", TODAY, env=env(jira))
    assert run.exit_code == 11
    assert "Recreated the verdict comment" in run.stdout
    (fresh,) = jira.comments("BID-1")
    assert jira.issue_properties("BID-1")[PROPERTY]["commentId"] == fresh["id"]
    assert jira.issue_fields("BID-1")["labels"] == [*OTHERS, "gonogo-needs-info"]


def test_an_empty_prefix_turns_labels_off(gonogo: Gonogo, jira: JiraServer, tmp_path: Path) -> None:
    (tmp_path / "gonogo.toml").write_text('[jira]\nlabel_prefix = ""\n')
    assert check(gonogo, jira) == 0
    assert jira.issue_fields("BID-1")["labels"] == OTHERS
    assert "update" not in jira.requests[2].body


def test_labels_off_the_edit_screen_still_record_the_pointer_and_say_why(
    gonogo: Gonogo, jira: JiraServer
) -> None:
    jira.remove_from_edit_screen("labels")
    run = gonogo("check", "BID-1", "--today", TODAY, env=env(jira))
    assert run.exit_code == 0
    assert "the verdict label was not set on BID-1" in run.stderr
    assert "add the Labels field to the edit screen" in run.stderr
    assert jira.issue_fields("BID-1")["labels"] == OTHERS
    (comment,) = jira.comments("BID-1")
    assert jira.issue_properties("BID-1")[PROPERTY]["commentId"] == comment["id"]
    assert "update" not in jira.requests[-1].body


def test_report_post_writes_the_label_with_the_pointer_too(gonogo: Gonogo, jira: JiraServer) -> None:
    seed(jira, "doomed", "BID-2", labels=["gonogo-go"])
    jira.clear_requests()
    run = gonogo("report", "--project", "BID", "--post", "--format", "json", "--today", TODAY, env=env(jira))
    assert run.exit_code == 0, run.stderr
    verdicts = {row["key"]: row["verdict"] for row in json.loads(run.stdout)["tickets"]}
    assert verdicts == {"BID-1": "go", "BID-2": "no-go"}
    assert jira.issue_fields("BID-1")["labels"] == [*OTHERS, "gonogo-go"]
    assert jira.issue_fields("BID-2")["labels"] == ["gonogo-no-go"]
    writes = [f"{r.method} {r.path.rsplit('/', 1)[-1]}" for r in jira.requests if r.method != "GET"]
    assert sorted(writes) == ["POST comment", "POST comment", "PUT 10000", "PUT 10001"]


def test_an_unchanged_verdict_puts_back_the_label_a_person_removed(gonogo: Gonogo, jira: JiraServer) -> None:
    assert check(gonogo, jira) == 0
    jira.change_issue("BID-1", {"labels": OTHERS})  # someone cleared the verdict label by hand
    jira.clear_requests()
    assert check(gonogo, jira) == 0
    assert jira.issue_fields("BID-1")["labels"] == [*OTHERS, "gonogo-go"]
    (edit,) = [r.body for r in jira.requests if r.method == "PUT"]
    assert edit["update"]["labels"] == [{"add": "gonogo-go"}]
