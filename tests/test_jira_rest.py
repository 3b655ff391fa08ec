"""The Jira edge without I/O: requests as gonogo builds them, and Jira's recorded answers read back.

The answers under tests/samples/jira/ were captured from the test Jira (`tests/samples/record_jira.py`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gonogo.core.jira_shapes.comment_format import CommentBody, CommentFormat
from gonogo.core.jira_shapes.verdict_labels import LabelChange
from gonogo.jira import rest

SAMPLES = Path(__file__).parent / "samples" / "jira"
NOW = datetime(2026, 10, 21, 7, 27, 30, tzinfo=UTC)
ADF = CommentBody(CommentFormat.ADF, {"type": "doc", "version": 1, "content": []})
WIKI = CommentBody(CommentFormat.WIKI, "h3. verdict")


def sample(name: str) -> rest.Answer:
    recorded = json.loads((SAMPLES / f"{name}.json").read_text())
    return rest.Answer(recorded["status"], recorded["headers"], recorded["body"].encode())


def problem(name: str) -> rest.ErrorAnswer:
    return rest.error_for(sample(name), NOW)


def test_a_comment_page_gives_every_comment_and_the_total() -> None:
    page = rest.comment_page(rest.read(sample("comments_page")), None)
    assert (page.total, len(page.items), page.after) == (4, 4, None)
    assert next(c for c in page.items if c["properties"])["properties"][0]["key"] == "gonogo.verdict"
    assert rest.comment_page({"comments": [{"id": 1}], "total": 3}, 1).after == 2


@pytest.mark.parametrize("page", [{}, {"comments": "x", "total": 1}, {"comments": [{}], "total": 1}, [5]])
def test_a_comment_page_of_another_shape_is_malformed_never_empty(page: Any) -> None:
    with pytest.raises(rest.WrongShape):
        rest.comment_page(page, None)


def test_cloud_search_pages_by_token_until_jira_says_last() -> None:
    page = rest.search_page(rest.read(sample("search_jql_first_page")), None, cloud=True)
    assert [i["key"] for i in page.items] == ["BID-1", "BID-2"]
    assert page.total is None
    assert isinstance(page.after, str)
    assert page.after
    assert rest.search({"jql": "x"}, page.after, cloud=True).params["nextPageToken"] == page.after


def test_data_center_search_pages_by_offset_up_to_the_total() -> None:
    first = rest.search_page(rest.read(sample("search_offset_first_page")), None, cloud=False)
    assert (len(first.items), first.total, first.after) == (2, 3, 2)
    last = rest.search_page(rest.read(sample("search_offset_last_page")), 2, cloud=False)
    assert (len(last.items), last.total, last.after) == (1, 3, None)
    assert rest.search({"jql": "x"}, 2, cloud=False).params["startAt"] == 2


def test_a_group_page_names_members_by_every_id_and_says_it_is_last() -> None:
    page = rest.member_page(rest.read(sample("group_members")), None)
    assert page.after is None
    assert any(member.startswith("712020:") for member in page.items)


@pytest.mark.parametrize(
    ("name", "kind", "words"),
    [
        ("issue_not_found", rest.NotFound, "Issue does not exist"),
        ("credentials_refused", rest.Unauthorized, "not authenticated"),
        ("permission_refused", rest.Forbidden, "do not have permission"),
        ("search_bad_jql", rest.BadRequest, "Error in the JQL Query"),
        ("comment_refused", rest.NotFound, "Can not find a comment"),
    ],
)
def test_errors_are_typed_by_http_meaning_and_keep_jiras_words(name: str, kind: type, words: str) -> None:
    found = problem(name)
    assert type(found) is kind
    assert words in found.messages


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ('{"errorMessages": 5}', "no details given"),
        ('{"errorMessages": true, "errors": {"labels": "not on the screen"}}', "not on the screen"),
        ('{"errorMessages": "Issue does not exist"}', "Issue does not exist"),
    ],
)
def test_error_words_of_another_shape_are_read_not_a_crash(body: str, said: str) -> None:
    # A hostile or broken Jira must give a one-line error, not a TypeError out of the edge.
    refused = rest.error_for(rest.Answer(400, {}, body.encode()), NOW)
    assert isinstance(refused, rest.BadRequest)
    assert refused.messages == said


def test_a_rate_limit_says_when_to_ask_again() -> None:
    limited = problem("rate_limited")
    assert isinstance(limited, rest.RateLimited)
    assert limited.retry_after == 7


def test_an_outage_s_retry_after_may_be_an_http_date() -> None:
    broken = problem("server_broken")
    assert isinstance(broken, rest.ServerBroken)
    assert broken.retry_after == 30


@pytest.mark.parametrize(
    ("value", "seconds"), [("inf", None), ("nan", None), ("1e12", 86400.0), ("-5", 0.0), ("x", None)]
)
def test_an_absurd_retry_after_is_bounded_or_ignored(value: str, seconds: float | None) -> None:
    assert rest.retry_after_seconds(value, NOW) == seconds


def test_an_answer_nested_absurdly_deep_is_refused_without_recursion() -> None:
    with pytest.raises(rest.TooDeep):
        rest.read(rest.Answer(200, {}, b"[" * 150 + b"]" * 150))
    assert rest.read(rest.Answer(200, {}, b"[" * 100 + b"]" * 100)) is not None


def test_a_comment_is_posted_with_its_property_in_one_request_on_its_format_s_api() -> None:
    posted = rest.create_comment("10000", ADF, {"gonogo.verdict": {"gonogo": True}})
    assert (posted.method, posted.path, posted.version, posted.idempotent) == (
        "POST",
        "issue/10000/comment",
        3,
        False,
    )
    assert posted.body["properties"] == [{"key": "gonogo.verdict", "value": {"gonogo": True}}]
    assert rest.update_comment("10000", "7", WIKI).version == 2


def test_one_issue_edit_carries_the_pointer_the_label_and_the_comment() -> None:
    edit = rest.edit_issue("10000", {"p": 1}, LabelChange(add=("gonogo-go",), remove=()), ("7", ADF))
    assert (edit.method, edit.version, edit.idempotent) == ("PUT", 3, True)
    assert edit.body["update"] == {
        "labels": [{"add": "gonogo-go"}],
        "comment": [{"edit": {"id": "7", "body": ADF.content}}],
    }
    assert "update" not in rest.edit_issue("10000", {"p": 1}).body


def test_an_admin_webhook_is_named_by_the_end_of_its_self_url() -> None:
    hook = rest.webhook_with_id({"self": "https://x/rest/webhooks/1.0/webhook/42"})
    assert hook["id"] == "42"
    assert rest.save_admin_webhook({}, "42").path == f"{rest.ADMIN_WEBHOOKS}/42"


def test_a_comment_id_stays_one_path_segment() -> None:
    climbing = "../../BID-2/comment/7?x=1"
    for request in (
        rest.comment("BID-1", climbing),
        rest.update_comment("BID-1", climbing, WIKI),
        rest.delete_comment("BID-1", climbing),
    ):
        assert request.path == "issue/BID-1/comment/..%2F..%2FBID-2%2Fcomment%2F7%3Fx%3D1"
