"""Jira's REST API without I/O: builders return a `Request`; readers take an `Answer` (status, headers,
body) and return data, or `error_for` names a failed one after its HTTP meaning (an `ErrorAnswer`).
Every reading is tested on answers captured from the test Jira.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from gonogo.core.errors import bounded_wait
from gonogo.core.jira_shapes.changelog import account_key, user_ids
from gonogo.core.jira_shapes.comment_format import CommentBody
from gonogo.core.jira_shapes.verdict_labels import NO_LABEL_CHANGE, LabelChange
from gonogo.redaction import redact

MAX_JSON_DEPTH = 100  # Jira's deepest answers (ADF with nested lists) are a few dozen levels deep
COMMENT_PAGE_SIZE = 100
GROUP_PAGE_SIZE = 50  # Jira's cap for group/member
SEARCH_PAGE_SIZE = 100  # Cloud's cap when fields are asked for; Data Center may answer with fewer
ADMIN_WEBHOOKS = "/rest/webhooks/1.0/webhook"  # their own REST API, on Cloud and Data Center


@dataclass(frozen=True)
class Request:
    """One REST call; `path` is under /rest/api/{version}/ unless it starts with "/"."""

    method: str
    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    body: Any = None
    version: int = 2

    @property
    def idempotent(self) -> bool:
        return self.method != "POST"  # every call gonogo makes but a POST may be sent twice


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    content: bytes


class TooDeep(ValueError):
    """An answer nested deeper than `MAX_JSON_DEPTH`: no Jira answer is."""


class WrongShape(ValueError):
    """An answer that is not the shape Jira documents (a proxy's page, a truncated list)."""


class ErrorAnswer(Exception):
    """Jira answered with an error status; `messages` are Jira's own words, redacted, one line."""

    def __init__(self, answer: Answer, now: datetime) -> None:
        super().__init__(f"HTTP {answer.status}")
        self.status = answer.status
        body: Any = None
        with contextlib.suppress(ValueError):
            body = read(answer)
        body = body if isinstance(body, dict) else {}
        errors = body.get("errors")
        errors = errors if isinstance(errors, dict) else {}
        listed = body.get("errorMessages")
        # Jira sends a list; anything else (a number, a string) must not crash or spell out letters.
        listed = listed if isinstance(listed, list) else [listed] if isinstance(listed, str) else []
        said = [*listed, *errors.values()]
        self.messages = redact(" ".join(("; ".join(map(str, said)) or "no details given").split()))[:300]
        self.retry_after = retry_after_seconds(answer.headers.get("Retry-After"), now)


class BadRequest(ErrorAnswer): ...  # 400 and any 4xx without a meaning of its own


class Unauthorized(ErrorAnswer): ...  # 401: the credentials were refused


class Forbidden(ErrorAnswer): ...  # 403: the account may not do this


class NotFound(ErrorAnswer): ...  # 404 or 410: no such thing, or this account may not see it


class RateLimited(ErrorAnswer): ...  # 429: not processed; `retry_after` says when to ask again


class ServerBroken(ErrorAnswer): ...  # 5xx: 503 was not processed, the others may have been


_ERRORS = {401: Unauthorized, 403: Forbidden, 404: NotFound, 410: NotFound, 429: RateLimited}


def error_for(answer: Answer, now: datetime) -> ErrorAnswer:
    kind = ServerBroken if answer.status >= 500 else _ERRORS.get(answer.status, BadRequest)
    return kind(answer, now)


def read(answer: Answer) -> Any:
    """The answer's JSON, `{}` when empty, or ValueError (`TooDeep` for absurd nesting, never
    RecursionError); the transport raises a failed answer's `error_for` instead of reading it."""
    if not answer.content:
        return {}
    try:
        data = json.loads(answer.content)
    except RecursionError:
        raise TooDeep(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    pending = [(data, 1)]
    while pending:  # without recursion: the nesting itself is what is being checked
        value, depth = pending.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise TooDeep(f"nested deeper than {MAX_JSON_DEPTH} levels")
            pending.extend(
                (child, depth + 1) for child in (value.values() if isinstance(value, dict) else value)
            )
    return data


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After value, delta-seconds or HTTP date; bounded, so "inf" cannot park a job."""
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return bounded_wait(float(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=now.tzinfo)
    return bounded_wait(when.timestamp() - now.timestamp())


def get_issue(key: str, fields: Sequence[str] | None, property_key: str) -> Request:
    """The issue with display names, changelog, edit screen and gonogo's property, at once."""
    expand = {"expand": "names,changelog,editmeta", "properties": property_key}
    return Request("GET", f"issue/{key}", {"fields": ",".join(fields) if fields else "*all", **expand})


def group_members(group: str, start: int | None) -> Request:
    params = {"groupname": group, "startAt": start or 0, "maxResults": GROUP_PAGE_SIZE}
    return Request("GET", "group/member", params)


def save_admin_webhook(webhook: Mapping[str, Any], webhook_id: str | None) -> Request:
    if webhook_id is None:
        return Request("POST", ADMIN_WEBHOOKS, body=dict(webhook))
    return Request("PUT", f"{ADMIN_WEBHOOKS}/{webhook_id}", body=dict(webhook))


def search(params: Mapping[str, Any], after: str | int | None, *, cloud: bool) -> Request:
    """A page of a search: Cloud's `search/jql` after a page token, Data Center's `search` at an offset."""
    if cloud:
        return Request("GET", "search/jql", {**params, **({"nextPageToken": after} if after else {})})
    return Request("GET", "search", {**params, "startAt": after or 0})


def comments(issue: str, start: int | None) -> Request:
    """A page of comments, newest first, each with its properties."""
    params = {
        "startAt": start or 0,
        "maxResults": COMMENT_PAGE_SIZE,
        "orderBy": "-created",
        "expand": "properties",
    }
    return Request("GET", f"issue/{issue}/comment", params)


def comment(issue: str, comment_id: str) -> Request:
    return Request("GET", _comment_path(issue, comment_id), {"expand": "properties"})


def create_comment(issue: str, body: CommentBody, properties: Mapping[str, Any]) -> Request:
    """A comment and its properties in one POST; ADF on REST v3, wiki markup on v2."""
    payload = {"body": body.content, "properties": _properties(properties)}
    return Request("POST", f"issue/{issue}/comment", body=payload, version=body.format.api_version)


def update_comment(issue: str, comment_id: str, body: CommentBody) -> Request:
    payload = {"body": body.content}
    return Request("PUT", _comment_path(issue, comment_id), body=payload, version=body.format.api_version)


def delete_comment(issue: str, comment_id: str) -> Request:
    return Request("DELETE", _comment_path(issue, comment_id))


def edit_issue(
    issue: str,
    properties: Mapping[str, Any],
    labels: LabelChange = NO_LABEL_CHANGE,
    comment: tuple[str, CommentBody] | None = None,
) -> Request:
    """One `PUT issue`: properties, label operations and a comment's new body, all or nothing; with an
    ADF body on REST v3, whose `update.comment` takes ADF."""
    update: dict[str, Any] = {"labels": labels.operations()} if labels else {}
    if comment is not None:
        update["comment"] = [{"edit": {"id": comment[0], "body": comment[1].content}}]
    payload = {"properties": _properties(properties), **({"update": update} if update else {})}
    version = comment[1].format.api_version if comment is not None else 2
    return Request("PUT", f"issue/{issue}", body=payload, version=version)


def _comment_path(issue: str, comment_id: str) -> str:
    """The id stays one path segment: it never adds a "/" or "?" to the path (ids come from answers)."""
    return f"issue/{issue}/comment/{quote(comment_id, safe='')}"


def _properties(properties: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "value": value} for key, value in properties.items()]


@dataclass(frozen=True)
class Page:
    """One page of a paged list."""

    items: list[Any]
    after: str | int | None  # where the next page starts; None: this is the last
    total: int | None = None  # when Jira says it (comments, Data Center's search)


def comment_page(page: Any, start: int | None) -> Page:
    """A page of comments; any other shape is `WrongShape`, never "no comments" (that posts a duplicate)."""
    comments, total = (page.get("comments"), page.get("total")) if isinstance(page, dict) else (None, None)
    if (
        not isinstance(comments, list)
        or not all(isinstance(c, dict) and isinstance(c.get("id"), (str, int)) for c in comments)
        or not isinstance(total, int)
        or isinstance(total, bool)
    ):
        raise WrongShape("comments")
    seen = (start or 0) + len(comments)
    return Page(comments, seen if comments and seen < total else None, total)


def member_page(page: Any, start: int | None) -> Page:
    """A page of a group's members, as the ids each is named by (account id, user name, key)."""
    members = page.get("values") if isinstance(page, dict) else None
    if not isinstance(members, list):
        raise WrongShape("group members")
    seen = (start or 0) + len(members)
    is_last, total = page.get("isLast"), page.get("total")
    last = is_last if isinstance(is_last, bool) else not isinstance(total, int) or seen >= total
    ids = [name for member in members for name in user_ids(member)]
    return Page(ids, None if last or not members else seen)


def search_page(page: Any, after: str | int | None, *, cloud: bool) -> Page:
    """Cloud pages by `nextPageToken` (`isLast` is optional), Data Center by `startAt` up to `total`."""
    issues = page.get("issues") if isinstance(page, dict) else None
    if not isinstance(issues, list):
        raise WrongShape("search")
    if cloud:
        token = page.get("nextPageToken")
        last = page.get("isLast") is True or not isinstance(token, str) or not token or not issues
        return Page(issues, None if last else token)
    total = page.get("total") if isinstance(page.get("total"), int) else None
    seen = int(after or 0) + len(issues)
    return Page(issues, None if not issues or total is None or seen >= total else seen, total)


@dataclass(frozen=True)
class RemoteComment:
    id: str
    properties: Mapping[str, Any]
    author: str | None = None  # `account_key` of who wrote it


def remote_comment(item: Mapping[str, Any]) -> RemoteComment:
    """A comment of Jira's answer with its properties (asked with `expand=properties`) and author."""
    listed = item.get("properties")
    listed = listed if isinstance(listed, list) else []
    properties = {str(p.get("key")): p.get("value") for p in listed if isinstance(p, dict)}
    return RemoteComment(str(item.get("id")), properties, account_key(item.get("author")))


def webhook_with_id(hook: Mapping[str, Any]) -> dict[str, Any]:
    """The webhook with an `id`: Jira names an admin webhook by its `self` URL, `…/webhook/{id}`."""
    self_url = hook.get("self")
    found = str(self_url).rstrip("/").rsplit("/", 1)[-1] if isinstance(self_url, str) else hook.get("id")
    return {**hook, "id": str(found) if found is not None else None}


def has_permission(answer: Any, name: str) -> bool:
    granted = answer.get("permissions") if isinstance(answer, dict) else None
    entry = granted.get(name) if isinstance(granted, dict) else None
    return isinstance(entry, dict) and entry.get("havePermission") is True
