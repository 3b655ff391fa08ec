"""The only module that talks to Jira: the `jira` client, retries, and errors in plain words.

Why not the client's own retries: `ResilientSession` retries POSTs after lost responses (a second
comment), sleeps for minutes with its defaults, and cannot parse an HTTP-date Retry-After. gonogo
turns them off and retries here with tenacity: bounded, honouring Retry-After, and never repeating a
write that might already have happened. Why not `str(JIRAError)`: it includes the request headers,
Authorization among them, so errors are re-worded from the status code alone.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import requests
import tenacity
from jira import JIRA, JIRAError

from gonogo import __version__
from gonogo.config import JiraSettings
from gonogo.errors import InputError, JiraError
from gonogo.ticket import Ticket, ticket_from_rest

log = logging.getLogger(__name__)

T = TypeVar("T")

_ALWAYS_RETRYABLE = {429, 503}  # Jira says the request was not processed
_RETRYABLE_IF_IDEMPOTENT = {500, 502, 504}
_COMMENT_PAGE_SIZE = 100


class RetryAfterTooLong(Exception):
    """Jira asked us to wait longer than we are willing to: give up now rather than hang."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


@dataclass(frozen=True)
class RemoteComment:
    id: str
    properties: Mapping[str, Any]


class JiraGateway:
    """Jira operations gonogo needs, each one HTTP round-trip (comment scans: one per page)."""

    def __init__(
        self,
        client: JIRA,
        settings: JiraSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._settings = settings
        self._sleep = sleep
        self.round_trips = 0
        client._session.hooks["response"].append(self._on_response)

    @classmethod
    def connect(cls, settings: JiraSettings, *, sleep: Callable[[float], None] = time.sleep) -> JiraGateway:
        """Build the client without contacting Jira (no serverInfo round-trip)."""
        url, token = settings.require_connection()
        auth: dict[str, Any] = (
            {"basic_auth": (settings.user, token.reveal())}
            if settings.auth_style == "basic"
            else {"token_auth": token.reveal()}
        )
        client = JIRA(
            server=url,
            options={"check_update": False, "headers": {"User-Agent": f"gonogo/{__version__}"}},
            get_server_info=False,
            max_retries=0,
            timeout=settings.timeout_seconds,
            logging=False,
            **auth,
        )
        return cls(client, settings, sleep=sleep)

    def fetch_ticket(self, key: str, *, fields: Sequence[str] | None) -> Ticket:
        """GET the issue with display names, changelog (who added a waiver) and gonogo's property, at once."""

        def call() -> Ticket:
            issue = self._client.issue(
                key,
                fields=",".join(fields) if fields else "*all",
                expand="names,changelog",
                properties=self._settings.comment_property,
            )
            return ticket_from_rest(issue.raw, origin=f"Jira's answer for {key}")

        return self._call(
            call,
            action=f"read {key}",
            idempotent=True,
            not_found=f"{key} does not exist or this account cannot see it",
        )

    def comments(self, issue: str) -> Iterator[RemoteComment]:
        """Every comment with its properties, newest first, one request per page."""
        start = 0
        while True:
            params = {
                "startAt": start,
                "maxResults": _COMMENT_PAGE_SIZE,
                "orderBy": "-created",
                "expand": "properties",
            }
            page: Any = self._call(
                partial(self._client._get_json, f"issue/{issue}/comment", params=params),
                action=f"list the comments of {issue}",
                idempotent=True,
            )
            items = page.get("comments", []) if isinstance(page, dict) else []
            for item in items:
                props = {
                    str(p.get("key")): p.get("value")
                    for p in item.get("properties", [])
                    if isinstance(p, dict)
                }
                yield RemoteComment(id=str(item.get("id")), properties=props)
            start += len(items)
            if not items or start >= int(page.get("total", 0)):
                return

    def create_comment(self, issue: str, body: str, *, properties: Mapping[str, Any]) -> str:
        """POST a comment with its comment properties in the same request; returns its id."""
        payload = {
            "body": body,
            "properties": [{"key": k, "value": v} for k, v in properties.items()],
        }
        url = self._client._get_url(f"issue/{issue}/comment")
        response = self._call(
            lambda: self._client._session.post(url, data=json.dumps(payload)),
            action=f"post the verdict comment on {issue}",
            idempotent=False,
        )
        return str(_json(response, f"post the verdict comment on {issue}")["id"])

    def update_comment(self, issue: str, comment_id: str, body: str) -> bool:
        """PUT a new body; False when the comment is gone (someone deleted it)."""
        url = self._client._get_url(f"issue/{issue}/comment/{comment_id}")
        try:
            self._call(
                lambda: self._client._session.put(url, data=json.dumps({"body": body})),
                action=f"update the verdict comment on {issue}",
                idempotent=True,
                not_found="",
            )
        except _NotFound:
            return False
        return True

    def set_issue_property(self, issue: str, key: str, value: Mapping[str, Any]) -> None:
        self._call(
            lambda: self._client.add_issue_property(issue, key, dict(value)),
            action=f"record the verdict comment on {issue}",
            idempotent=True,
        )

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.round_trips += 1
        log.debug(
            "jira %s %s -> %s in %.0f ms",
            response.request.method,
            response.request.path_url.split("?")[0],
            response.status_code,
            response.elapsed.total_seconds() * 1000,
        )

    def _call(
        self,
        operation: Callable[[], T],
        *,
        action: str,
        idempotent: bool,
        not_found: str | None = None,
    ) -> T:
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self._settings.retries + 1),
            wait=self._wait,
            retry=tenacity.retry_if_exception(lambda exc: self._should_retry(exc, idempotent)),
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda state: log.info(
                "retrying to %s in %.1f s (%s)",
                action,
                state.upcoming_sleep,
                _short(state.outcome.exception() if state.outcome else None),
            ),
        )
        try:
            return retrying(operation)
        except RetryAfterTooLong as exc:
            raise JiraError(
                f"Jira is rate-limiting us and asked to wait {exc.seconds:.0f} s to {action}, "
                f"longer than max_retry_wait_seconds ({self._settings.max_retry_wait_seconds:.0f}); "
                "try again later"
            ) from None
        except JIRAError as exc:
            if exc.status_code == 404 and not_found is not None:
                if not_found:
                    raise JiraError(
                        f"{not_found} (404): check the key and the account's permissions"
                    ) from None
                raise _NotFound from None
            raise JiraError(self._explain_status(exc, action)) from None
        except requests.Timeout:
            raise JiraError(
                f"Jira did not answer within {self._settings.timeout_seconds:g} s when trying to {action}: "
                "try again later, or raise [jira].timeout_seconds"
            ) from None
        except requests.ConnectionError:
            raise JiraError(
                f"cannot reach Jira at {self._settings.url} to {action}: check JIRA_URL and the network"
            ) from None
        except (ValueError, InputError):
            raise JiraError(
                f"Jira's answer when trying to {action} was not the JSON Jira sends: "
                "is JIRA_URL the Jira site itself (not a proxy or login page)?"
            ) from None

    def _should_retry(self, exc: BaseException, idempotent: bool) -> bool:
        if isinstance(exc, JIRAError):
            status = exc.status_code or 0
            if status in _ALWAYS_RETRYABLE:
                delay = _retry_after(exc)
                if delay is not None and delay > self._settings.max_retry_wait_seconds:
                    raise RetryAfterTooLong(delay)
                return True
            return idempotent and status in _RETRYABLE_IF_IDEMPOTENT
        if isinstance(exc, requests.ConnectTimeout):
            return True  # never connected, so nothing was sent
        if isinstance(exc, (requests.Timeout, requests.ConnectionError)):
            return idempotent
        return False

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        told = _retry_after(exc) if isinstance(exc, JIRAError) else None
        if told is not None:
            return told
        backoff = 0.5 * 2 ** (state.attempt_number - 1)
        return float(min(backoff, self._settings.max_retry_wait_seconds))

    def _explain_status(self, exc: JIRAError, action: str) -> str:
        status = exc.status_code
        if status == 401:
            hint = (
                "check JIRA_USER (your Atlassian email) and JIRA_API_TOKEN"
                if self._settings.auth_style == "basic"
                else "check JIRA_API_TOKEN (a Data Center personal access token; "
                "for Jira Cloud also set JIRA_USER)"
            )
            return f"Jira rejected the credentials (401) when trying to {action}: {hint}"
        if status == 403:
            return (
                f"Jira refused to let this account {action} (403): it needs Browse Projects, "
                "Add Comments and Edit Own Comments on the project"
            )
        if status == 429:
            return f"Jira kept rate-limiting us (429) when trying to {action}: try again later"
        if status is not None and status >= 500:
            return f"Jira failed with {status} when trying to {action}, after retrying: try again later"
        return f"Jira answered {status} when trying to {action}: {_jira_messages(exc)}"


class _NotFound(Exception):
    """A 404 the caller handles itself (a deleted comment)."""


def _retry_after(exc: BaseException | None) -> float | None:
    """Seconds from a Retry-After header, in either of its forms (delta-seconds or HTTP-date)."""
    response = getattr(exc, "response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _json(response: requests.Response, action: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise JiraError(f"Jira's answer when trying to {action} was not JSON") from None
    if not isinstance(data, dict) or "id" not in data:
        raise JiraError(f"Jira's answer when trying to {action} had no comment id")
    return data


def _jira_messages(exc: JIRAError) -> str:
    """Jira's own error text (ErrorCollection), one line, without anything from our request."""
    response = getattr(exc, "response", None)
    try:
        body = response.json() if response is not None else {}
    except ValueError:
        body = {}
    messages = (
        [*body.get("errorMessages", []), *body.get("errors", {}).values()] if isinstance(body, dict) else []
    )
    text = "; ".join(str(m) for m in messages) or "no details given"
    return " ".join(text.split())[:300]


def _short(exc: BaseException | None) -> str:
    if isinstance(exc, JIRAError):
        return f"HTTP {exc.status_code}"
    return exc.__class__.__name__ if exc else "unknown"
