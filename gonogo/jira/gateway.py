"""The only module that talks to Jira: its requests (`gonogo.jira.http`), retries, errors in plain words.

Retries are here, with tenacity: bounded, honouring Retry-After (also as an HTTP date), and never
repeating a write that might already have happened. Errors are re-worded from the status code and
Jira's own messages alone: nothing of the request (its Authorization header above all) is quoted.

Why not the `jira` client (pycontribs): every response must pass the round-trip count and the
shared throttle, and most calls (a comment with its properties in one POST, ADF on REST v3, one
`PUT issue` with properties, labels and a comment edit, paged searches and comment lists) have no
public method; the client reaches both only through private attributes. Its `search_issues`
pages on its own (our retries would restart the whole search) and, without the serverInfo call we
skip, assumes Data Center and calls the `/search` that Cloud has removed. `search` here pages
itself, one `_call` per page, in the style the deployment needs (see `deployment`).
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from typing import Any, TypeVar

import requests
import tenacity

from gonogo import __version__
from gonogo.core.backoff import doubling
from gonogo.core.errors import (
    ConfigurationError,
    EditRefused,
    GonogoError,
    InputError,
    JiraError,
    bounded_wait,
)
from gonogo.core.jira_shapes.comment_format import CommentBody, is_cloud_host
from gonogo.core.jira_shapes.site_fields import SiteField, editable_fields_from, site_fields_from
from gonogo.core.jira_shapes.verdict_labels import NO_LABEL_CHANGE, LabelChange
from gonogo.core.pipeline.ticket import Ticket, ticket_from_rest
from gonogo.jira.accounts import account_key
from gonogo.jira.http import (
    MAX_JSON_DEPTH,
    BasicAuth,
    BearerAuth,
    HttpError,
    JiraHttp,
    RedirectRefused,
    TooDeep,
    json_of,
)
from gonogo.jira.throttle import Throttle
from gonogo.redaction import REDACTOR, redact
from gonogo.sources.config import JiraSettings

log = logging.getLogger(__name__)

T = TypeVar("T")

_ALWAYS_RETRYABLE = {429, 503}  # Jira says the request was not processed
# The answer broke off on its way (dropped connection, body shorter than its length, reset):
# like a timeout, the request may or may not have been processed.
_BROKEN_ANSWER = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)
_RETRYABLE_IF_IDEMPOTENT = {500, 502, 504}
_COMMENT_PAGE_SIZE = 100
_GROUP_PAGE_SIZE = 50  # Jira's cap for group/member
SEARCH_PAGE_SIZE = 100  # Cloud's cap when fields are asked for; Data Center may answer with fewer
ADMIN_WEBHOOKS = "/rest/webhooks/1.0/webhook"  # admin webhooks: their own REST API, Cloud and DC


class Deployment(StrEnum):
    """Which search API the site has: Cloud's token-paged `search/jql` or Data Center's `search`."""

    CLOUD = "cloud"
    DATA_CENTER = "data-center"


@dataclass(frozen=True)
class SearchPage:
    """One page of search results: Jira's issue objects, and the total when Jira says it (DC)."""

    issues: list[Any]
    total: int | None


class RetryAfterTooLong(Exception):
    """Jira asked us to wait longer than we are willing to: give up now rather than hang."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


@dataclass(frozen=True)
class RemoteComment:
    id: str
    properties: Mapping[str, Any]
    author: str | None = None  # `accounts.account_key` of who wrote it


class JiraGateway:
    """Jira operations gonogo needs, each one HTTP round-trip (comment scans: one per page)."""

    def __init__(
        self,
        settings: JiraSettings,
        *,
        sleep: Callable[[float], None] | None = None,
        throttle: Throttle | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """A gateway on its own HTTP session; nothing is sent until the first call (no serverInfo).

        `clock` measures each request's overall deadline ([jira].timeout_seconds, `gonogo.jira.http`).
        """
        url, token = settings.require_connection()
        REDACTOR.remember_credentials(settings.user, token.reveal())
        self._settings = settings
        # A retry's back-off: through the run's throttle, so that stopping the run cuts it short.
        self._sleep = sleep or (throttle.pause if throttle is not None else time.sleep)
        self._throttle = throttle  # shared by the gateways of one run (gonogo report's workers)
        self.round_trips = 0
        self._names: dict[str, str] = {}  # issue id → key, for messages
        self._own_account: str | None = None  # cached `own_account`; "" when Jira named nobody
        self._seal_key = token.reveal().encode("utf-8")
        self._http = JiraHttp(
            url,
            auth=BasicAuth(str(settings.user), token.reveal())
            if settings.auth_style == "basic"
            else BearerAuth(token.reveal()),
            timeout=settings.timeout_seconds,
            user_agent=f"gonogo/{__version__}",
            on_response=self._on_response,
            clock=clock,
            before_send=throttle.wait_turn if throttle is not None else lambda method, url: None,
        )

    @classmethod
    def connect(
        cls,
        settings: JiraSettings,
        *,
        sleep: Callable[[float], None] | None = None,
        throttle: Throttle | None = None,
    ) -> JiraGateway:
        """The gateway for the configured site, without contacting Jira (no serverInfo round-trip)."""
        return cls(settings, sleep=sleep, throttle=throttle)

    def fetch_ticket(self, key: str, *, fields: Sequence[str] | None, label: str | None = None) -> Ticket:
        """GET the issue with display names, changelog (who added a waiver, who changed what), the edit
        screen's options (what a path may propose) and gonogo's property, at once.

        `key` may be the issue id; `label` is what messages call the ticket then (its key, as
        people know it). Later messages about the ticket name its key too.
        """
        name = _short_name(label or key)

        params = {
            "fields": ",".join(fields) if fields else "*all",
            "expand": "names,changelog,editmeta",
            "properties": self._settings.comment_property,
        }

        def call() -> Ticket:
            raw = self._http.get_json(f"issue/{key}", params)
            return ticket_from_rest(raw, origin=f"Jira's answer for {name}")

        ticket = self._call(
            call,
            action=f"read {name}",
            idempotent=True,
            not_found=f"{name} does not exist or this account cannot see it",
        )
        if ticket.id:
            self._names[ticket.id] = ticket.key
        return ticket

    def deployment(self) -> Deployment:
        """Cloud or Data Center: from [jira].deployment, the site's host, or one serverInfo request.

        The client is built without serverInfo (docs/jira.md, "No surprise requests"); a search needs to
        know, because each deployment has removed the other's search API. A `*.atlassian.net` site
        is Cloud without asking; any other "auto" site is asked once.
        """
        if self._settings.deployment != "auto":
            return Deployment(self._settings.deployment)
        if is_cloud_host(self._settings.url):
            return Deployment.CLOUD
        info: Any = self._call(
            self._get("serverInfo"),
            action="ask Jira whether it is Cloud or Data Center",
            idempotent=True,
        )
        kind = info.get("deploymentType") if isinstance(info, dict) else None
        return Deployment.CLOUD if kind == "Cloud" else Deployment.DATA_CENTER

    def field_names(self) -> dict[str, str]:
        """Every field's id and display name (one `GET field`), to search by id for mapped names."""
        return {site_field.id: site_field.name for site_field in self.site_fields()}

    def site_fields(self) -> list[SiteField]:
        """Every field of the site with its type (one `GET field`)."""
        listed: Any = self._call(self._get("field"), action="list Jira's fields", idempotent=True)
        if not isinstance(listed, list):
            raise JiraError("Jira's list of fields was not a list: is JIRA_URL the Jira site itself?")
        return site_fields_from(listed)

    def editable_fields(self, key: str) -> dict[str, SiteField]:
        """The fields on `key`'s edit screen this account may edit, with select options (`editmeta`)."""
        meta: Any = self._call(
            self._get(f"issue/{key}/editmeta"),
            action=f"read the edit screen of {key}",
            idempotent=True,
            not_found=f"{key} does not exist or this account cannot see it",
        )
        return editable_fields_from(meta)

    def permissions(self, key: str, wanted: Sequence[str]) -> dict[str, bool]:
        """Which of the `wanted` permission keys this account has on `key` (`mypermissions`)."""
        answer: Any = self._call(
            self._get("mypermissions", {"issueKey": key, "permissions": ",".join(wanted)}),
            action=f"read this account's permissions on {key}",
            idempotent=True,
            not_found=f"{key} does not exist or this account cannot see it",
        )
        granted = answer.get("permissions") if isinstance(answer, dict) else None
        return {
            name: isinstance(granted, dict)
            and isinstance(granted.get(name), dict)
            and granted[name].get("havePermission") is True
            for name in wanted
        }

    def group_members(self, group: str) -> frozenset[str]:
        """Every id of every active member of a Jira group (`GET group/member`, 50 a page).

        Account ids (Cloud), user names and keys (Data Center): whatever identifies a person in a
        changelog. A group Jira does not know, or may not show this account (listing members needs
        Browse users and groups on Cloud, Administer Jira on Data Center), is a configuration
        problem, not a passing Jira failure.
        """
        ids: set[str] = set()
        start = 0
        while True:
            params = {"groupname": group, "startAt": start, "maxResults": _GROUP_PAGE_SIZE}
            page: Any = self._call(
                self._get("group/member", params),
                action=f"list the members of the Jira group {group}",
                idempotent=True,
                on_status={
                    403: lambda _: ConfigurationError(
                        f"this account may not list the members of the Jira group {group} (403): "
                        "give it the Browse users and groups global permission (Jira Cloud; Administer "
                        "Jira on Data Center), or name the approvers in [waivers].approvers by account "
                        "id or user name"
                    ),
                    404: lambda _: ConfigurationError(
                        f"[waivers].approvers names group:{group}, but Jira has no group of that name "
                        "(names are case-sensitive): fix the name in gonogo.toml"
                    ),
                },
            )
            members = page.get("values") if isinstance(page, dict) else None
            if not isinstance(members, list):
                raise JiraError(f"Jira's list of the members of {group} is not the shape Jira documents")
            for member in members:
                if isinstance(member, dict):
                    ids.update(str(member[k]) for k in ("accountId", "name", "key") if member.get(k))
            start += len(members)
            if not members or _last_page(page, start):
                return frozenset(ids)

    def user_name(self, ref: str) -> str | None:
        """The display name of the account `ref` names, or None when Jira knows no such account.

        `GET user` by `accountId` on Cloud and by `username` on Data Center: how [decisions] owners
        and [waivers] approvers name people on each. Jira answers 404 for an unknown account.
        """
        cloud = self.deployment() is Deployment.CLOUD
        try:
            found: Any = self._call(
                self._get("user", {"accountId": ref} if cloud else {"username": ref}),
                action=f"look up the Jira user {ref}",
                idempotent=True,
                not_found="",
            )
        except _NotFound:
            return None
        name = found.get("displayName") if isinstance(found, dict) else None
        return name if isinstance(name, str) and name else ref

    def myself(self) -> str:
        """Who the credentials belong to, as "Display Name (account id or user name)" (`GET myself`)."""
        me = self._me()
        who = me.get("accountId") or me.get("name") or me.get("key") or "?"
        return f"{me.get('displayName') or who} ({who})"

    def own_account(self) -> str | None:
        """gonogo's own account as `accounts.account_key` names it; one `GET myself` per gateway.

        Asked only when a comment carrying gonogo's property must be told apart from one a person
        wrote (healing, adoption), so a normal check never pays for it.
        """
        if self._own_account is None:
            self._own_account = account_key(self._me()) or ""
        return self._own_account or None

    def pointer_seal(self, issue: str, comment_id: str) -> str:
        """The verdict pointer's seal (`sticky_comment.SEAL_KEY`): an HMAC keyed by the API token."""
        message = f"gonogo verdict pointer {issue} {comment_id}".encode()
        return hmac.new(self._seal_key, message, hashlib.sha256).hexdigest()[:32]

    def account_ids(self) -> frozenset[str]:
        """The ids a webhook names gonogo's own account by: Cloud's accountId, Data Center's name and key."""
        me = self._me()
        return frozenset(str(me[k]) for k in ("accountId", "name", "key") if me.get(k))

    def _me(self) -> dict[str, Any]:
        me: Any = self._call(self._get("myself"), action="check the credentials", idempotent=True)
        if not isinstance(me, dict):
            raise JiraError("Jira's answer about this account was not an object: is JIRA_URL the Jira site?")
        return me

    def server_info(self) -> tuple[str, str]:
        """(deployment type, version) from `GET serverInfo`, which Jira answers without credentials."""
        info: Any = self._call(
            self._get("serverInfo"), action="read the site's server information", idempotent=True
        )
        if not isinstance(info, dict):
            raise JiraError("Jira's server information was not an object: is JIRA_URL the Jira site itself?")
        kind = "Cloud" if info.get("deploymentType") == "Cloud" else "Data Center"
        return kind, str(info.get("version") or "unknown version")

    def admin_webhooks(self) -> list[dict[str, Any]]:
        """The site's admin webhooks (`GET /rest/webhooks/1.0/webhook`), each with its `id`."""
        listed: Any = self._call(
            self._get(ADMIN_WEBHOOKS),
            action="list the site's webhooks",
            idempotent=True,
            on_status={403: _needs_administer},
        )
        if not isinstance(listed, list):
            raise JiraError("Jira's list of webhooks was not a list: is JIRA_URL the Jira site itself?")
        return [_with_webhook_id(hook) for hook in listed if isinstance(hook, dict)]

    def save_admin_webhook(self, webhook: Mapping[str, Any], webhook_id: str | None = None) -> dict[str, Any]:
        """Register an admin webhook, or replace the one with `webhook_id`; Jira's answer, with its `id`.

        A registration whose answer was lost may have happened: it is not sent twice here, and the
        next `gonogo setup --webhook` finds it by its URL and updates it instead.
        """
        path = ADMIN_WEBHOOKS if webhook_id is None else f"{ADMIN_WEBHOOKS}/{webhook_id}"
        response = self._call(
            lambda: self._http.send_json("POST" if webhook_id is None else "PUT", path, dict(webhook)),
            action="register the webhook" if webhook_id is None else "update the webhook",
            idempotent=webhook_id is not None,
            on_status={403: _needs_administer},
        )
        try:
            saved = response.json()
        except ValueError:
            saved = None
        if not isinstance(saved, dict):
            raise JiraError("Jira's answer about the webhook was not an object: is JIRA_URL the Jira site?")
        return _with_webhook_id(saved)

    def search(
        self,
        jql: str,
        *,
        fields: Sequence[str],
        properties: Sequence[str] = (),
        expand: Sequence[str] = (),
        deployment: Deployment,
        page_size: int = SEARCH_PAGE_SIZE,
    ) -> Iterator[SearchPage]:
        """Every issue the JQL finds, a page per request, paged as `deployment` requires.

        Cloud (`search/jql`): follow `nextPageToken` until `isLast`; there is no total. Data Center
        (`search`): `startAt` offsets until `total`. A bad query is an InputError with Jira's words.
        `expand` (e.g. `changelog`) is a comma-separated list on both.
        """
        params: dict[str, Any] = {"jql": jql, "maxResults": page_size, "fields": ",".join(fields)}
        if properties:
            params["properties"] = ",".join(properties)
        if expand:
            params["expand"] = ",".join(expand)
        if deployment is Deployment.CLOUD:
            yield from self._search_by_token(params)
        else:
            yield from self._search_by_offset(params)

    def _search_by_token(self, params: dict[str, Any]) -> Iterator[SearchPage]:
        """Follow `nextPageToken` while there is one: `isLast` is optional in Atlassian's schema.

        Stops on `isLast: true`, a page without a token, or an empty page; a token Jira already
        gave would page forever, so it is an error rather than a silently short report.
        """
        token: str | None = None
        seen: set[str] = set()
        while True:
            page = self._search_page("search/jql", {**params, **({"nextPageToken": token} if token else {})})
            issues = _issues(page)
            yield SearchPage(issues, None)
            token = page.get("nextPageToken")
            if page.get("isLast") is True or not isinstance(token, str) or not token or not issues:
                return
            if token in seen:
                raise JiraError(
                    "Jira's search gave the same next-page token twice, so it would never finish: "
                    "try again later",
                    retryable=True,
                )
            seen.add(token)

    def _search_by_offset(self, params: dict[str, Any]) -> Iterator[SearchPage]:
        start = 0
        while True:
            page = self._search_page("search", {**params, "startAt": start})
            issues = _issues(page)
            total = page.get("total")
            yield SearchPage(issues, total if isinstance(total, int) else None)
            start += len(issues)
            if not issues or not isinstance(total, int) or start >= total:
                return

    def _search_page(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        wrong_api = (
            'this Jira has no {path} API: set [jira].deployment = "{other}" in gonogo.toml '
            '(or leave it "auto")'
        )
        other = "data-center" if path == "search/jql" else "cloud"
        page: Any = self._call(
            self._get(path, params),
            action="search Jira",
            idempotent=True,
            on_status={
                400: lambda said: InputError(f"Jira refused the search: {said}"),
                404: lambda _: JiraError(wrong_api.format(path=path, other=other)),
                410: lambda _: JiraError(wrong_api.format(path=path, other=other)),
            },
        )
        if not isinstance(page, dict):
            raise JiraError("Jira's search answer was not a JSON object: is JIRA_URL the Jira site itself?")
        return page

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
                self._get(f"issue/{issue}/comment", params),
                action=f"list the comments of {self._name(issue)}",
                idempotent=True,
            )
            items, total = _comment_page(page, self._name(issue))
            yield from (_remote_comment(item) for item in items)
            start += len(items)
            if not items or start >= total:
                return

    def comment(self, issue: str, comment_id: str) -> RemoteComment | None:
        """One comment with its author and properties (`GET comment/{id}`); None when it is gone."""
        try:
            item: Any = self._call(
                self._get(f"issue/{issue}/comment/{comment_id}", {"expand": "properties"}),
                action=f"read the comment the verdict pointer of {self._name(issue)} names",
                idempotent=True,
                not_found="",
            )
        except _NotFound:
            return None
        return _remote_comment(item) if isinstance(item, dict) and "id" in item else None

    def create_comment(self, issue: str, body: CommentBody, *, properties: Mapping[str, Any]) -> str:
        """POST a comment with its comment properties in the same request; returns its id.

        ADF goes to REST v3, wiki markup to REST v2 (`_api_version`), as for every comment write.
        """
        payload = {
            "body": body.content,
            "properties": [{"key": k, "value": v} for k, v in properties.items()],
        }
        version = _api_version(body)
        response = self._call(
            lambda: self._http.send_json("POST", f"issue/{issue}/comment", payload, version=version),
            action=f"post the verdict comment on {self._name(issue)}",
            idempotent=False,
        )
        return str(_json(response, f"post the verdict comment on {self._name(issue)}")["id"])

    def update_comment(self, issue: str, comment_id: str, body: CommentBody) -> bool:
        """PUT a new body; False when the comment is gone (someone deleted it)."""
        path, version = f"issue/{issue}/comment/{comment_id}", _api_version(body)
        try:
            self._call(
                lambda: self._http.send_json("PUT", path, {"body": body.content}, version=version),
                action=f"update the verdict comment on {self._name(issue)}",
                idempotent=True,
                not_found="",
            )
        except _NotFound:
            return False
        return True

    def delete_comment(self, issue: str, comment_id: str) -> None:
        """DELETE a comment (a duplicate of gonogo's own); one already gone is fine."""
        try:
            self._call(
                lambda: self._http.delete(f"issue/{issue}/comment/{comment_id}"),
                action=f"delete a duplicate verdict comment on {self._name(issue)}",
                idempotent=True,
                not_found="",
            )
        except _NotFound:
            return

    def edit_issue(
        self,
        issue: str,
        *,
        properties: Mapping[str, Any],
        labels: LabelChange = NO_LABEL_CHANGE,
        comment: tuple[str, CommentBody] | None = None,
    ) -> None:
        """One `PUT issue`: gonogo's issue properties, its verdict label and (comment id, body), at once.

        With an ADF body the edit goes to REST v3, whose `update.comment` takes ADF; properties
        and labels mean the same in both versions.

        Label `add`/`remove` operations leave every other label alone. Jira refuses the whole edit
        (400/404) when one part cannot be done, e.g. labels not on the edit screen or a deleted
        comment: that is an `EditRefused` naming the fields Jira objected to, for the caller to
        retry without that part. Every part is idempotent, so lost answers are retried.
        """
        update: dict[str, Any] = {}
        if labels:
            update["labels"] = labels.operations()
        if comment is not None:
            update["comment"] = [{"edit": {"id": comment[0], "body": comment[1].content}}]
        payload: dict[str, Any] = {"properties": [{"key": k, "value": v} for k, v in properties.items()]}
        if update:
            payload["update"] = update
        version = _api_version(comment[1] if comment is not None else None)
        action = f"record the verdict on {self._name(issue)}"
        self._call(
            lambda: self._http.send_json("PUT", f"issue/{issue}", payload, version=version),
            action=action,
            idempotent=True,
            on_refusal=lambda exc: EditRefused(
                f"Jira refused to {action}: {_jira_messages(exc)}", fields=_error_fields(exc)
            ),
        )

    def _name(self, issue: str) -> str:
        """The key of a ticket this gateway has read, else `issue` as given (for messages)."""
        return self._names.get(issue, issue)

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Callable[[], Any]:
        """One GET of a REST path (relative to /rest/api/2/), as an operation `_call` can retry."""
        return partial(self._http.get_json, path, dict(params or {}))

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.round_trips += 1
        if self._throttle is not None:
            self._throttle.observe(
                response.status_code,
                _retry_after_seconds(response.headers.get("Retry-After")),
                near_limit=response.headers.get("X-RateLimit-NearLimit", "").lower() == "true",
                reason=response.headers.get("RateLimit-Reason"),
                method=str(response.request.method),
                url=str(response.request.url),
            )
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
        on_status: Mapping[int, Callable[[str], GonogoError]] | None = None,
        on_refusal: Callable[[HttpError], GonogoError] | None = None,
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
                "try again later",
                retryable=True,
                retry_after=exc.seconds,
            ) from None
        except HttpError as exc:
            explain = (on_status or {}).get(exc.status_code or 0)
            if explain is not None:
                raise explain(_jira_messages(exc)) from None
            if on_refusal is not None and exc.status_code in (400, 404):
                raise on_refusal(exc) from None
            if exc.status_code == 404 and not_found is not None:
                if not_found:
                    raise JiraError(
                        f"{not_found} (404): check the key and the account's permissions"
                    ) from None
                raise _NotFound from None
            status = exc.status_code or 0
            raise JiraError(
                self._explain_status(exc, action),
                retryable=status in _ALWAYS_RETRYABLE or status >= 500,
                retry_after=_retry_after(exc),
            ) from None
        except RedirectRefused as exc:
            raise JiraError(
                f"Jira tried to send gonogo to {_short_name(redact(exc.location), 200)} when asked to "
                f"{action}; gonogo follows redirects only within {self._http.url}: "
                "set JIRA_URL to the address Jira answers on",
            ) from None
        except TooDeep:
            raise JiraError(
                f"Jira's answer when trying to {action} was nested deeper than {MAX_JSON_DEPTH} "
                "levels, which no Jira answer is: is JIRA_URL the Jira site itself (not a proxy)?",
            ) from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
            raise JiraError(
                f"the connection to Jira broke off in the middle of its answer when trying to {action}: "
                "try again later",
                retryable=True,
            ) from None
        except requests.Timeout:
            raise JiraError(
                f"Jira did not answer within {self._settings.timeout_seconds:g} s when trying to {action}: "
                "try again later, or raise [jira].timeout_seconds",
                retryable=True,
            ) from None
        except requests.ConnectionError:
            raise JiraError(
                f"cannot reach Jira at {self._http.url} to {action}: check JIRA_URL and the network",
                retryable=True,
            ) from None
        except (ValueError, InputError):
            # Retryable: a proxy's error page during an outage looks just like this.
            raise JiraError(
                f"Jira's answer when trying to {action} was not the JSON Jira sends: "
                "is JIRA_URL the Jira site itself (not a proxy or login page)?",
                retryable=True,
            ) from None

    def _should_retry(self, exc: BaseException, idempotent: bool) -> bool:
        if isinstance(exc, HttpError):
            status = exc.status_code or 0
            retryable = status in _ALWAYS_RETRYABLE or (idempotent and status in _RETRYABLE_IF_IDEMPOTENT)
            delay = _retry_after(exc) if retryable else None
            if delay is not None and delay > self._settings.max_retry_wait_seconds:
                raise RetryAfterTooLong(delay)
            return retryable
        if isinstance(exc, requests.ConnectTimeout):
            return True  # never connected, so nothing was sent
        if isinstance(exc, _BROKEN_ANSWER):
            return idempotent
        return False

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        told = _retry_after(exc) if isinstance(exc, HttpError) else None
        if told is not None:
            return told
        return doubling(state.attempt_number, first=0.5, cap=self._settings.max_retry_wait_seconds)

    def _explain_status(self, exc: HttpError, action: str) -> str:
        status = exc.status_code
        if status == 401:
            return f"Jira rejected the credentials (401) when trying to {action}: {self._credentials_hint()}"
        if status == 403:
            return (
                f"Jira refused to let this account {action} (403): it needs Browse Projects, "
                "Add Comments, Edit Own Comments and Delete Own Comments on the project"
            )
        if status == 429:
            return f"Jira kept rate-limiting us (429) when trying to {action}: try again later"
        if status is not None and status >= 500:
            return f"Jira failed with {status} when trying to {action}, after retrying: try again later"
        return f"Jira answered {status} when trying to {action}: {_jira_messages(exc)}"

    def _credentials_hint(self) -> str:
        """What to check after a 401: tokens expire now, and a scoped one works only via the gateway."""
        if self._settings.auth_style != "basic":
            return (
                "check JIRA_API_TOKEN (a Data Center personal access token, which may have expired; "
                "for Jira Cloud also set JIRA_USER)"
            )
        expiry = "Atlassian API tokens expire (within a year at most): create a new one if it has"
        if self._settings.via_gateway:
            return f"check JIRA_USER (the account's email) and JIRA_API_TOKEN, a scoped API token; {expiry}"
        return (
            f"check JIRA_USER (your Atlassian email) and JIRA_API_TOKEN; {expiry}. A scoped API token "
            "(a service account's) works only through Atlassian's API gateway: set [jira] cloud_id"
        )


def _needs_administer(said: str) -> GonogoError:
    return ConfigurationError(
        "Jira refused to let this account manage webhooks (403): admin webhooks need the Administer "
        "Jira permission; run gonogo setup --webhook with an administrator's credentials once"
    )


def _with_webhook_id(hook: dict[str, Any]) -> dict[str, Any]:
    """The webhook with an `id`: Jira names an admin webhook by its `self` URL, `…/webhook/{id}`."""
    self_url = hook.get("self")
    found = str(self_url).rstrip("/").rsplit("/", 1)[-1] if isinstance(self_url, str) else hook.get("id")
    return {**hook, "id": str(found) if found is not None else None}


def _api_version(body: CommentBody | None) -> int:
    """The REST version a comment body's format needs: 3 for ADF, 2 for wiki markup (and without one)."""
    return body.format.api_version if body is not None else 2


class _NotFound(Exception):
    """A 404 the caller handles itself (a deleted comment)."""


def _retry_after(exc: BaseException | None) -> float | None:
    """Seconds from a Retry-After header, in either of its forms (delta-seconds or HTTP-date)."""
    response = getattr(exc, "response", None)
    return _retry_after_seconds(response.headers.get("Retry-After") if response is not None else None)


def _retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header value, in either of its forms (delta-seconds or HTTP-date)."""
    if not value:
        return None
    try:
        return bounded_wait(float(value))  # "inf", "nan" or "1e12" would hold a job for ever
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return bounded_wait((when - datetime.now(UTC)).total_seconds())


def _last_page(page: Mapping[str, Any], seen: int) -> bool:
    """Whether an offset page is the last: `isLast` when Jira says it, else the `total` (none: stop)."""
    is_last = page.get("isLast")
    if isinstance(is_last, bool):
        return is_last
    total = page.get("total")
    return not isinstance(total, int) or seen >= total


def _issues(page: Mapping[str, Any]) -> list[Any]:
    """The page's issues as Jira sent them; a malformed one is the caller's error row, not a crash."""
    issues = page.get("issues")
    if not isinstance(issues, list):
        raise JiraError("Jira's search answer had no issue list: is JIRA_URL the Jira site itself?")
    return issues


def _comment_page(page: Any, issue: str) -> tuple[list[dict[str, Any]], int]:
    """The comments and total of one page of `GET issue/{key}/comment`, or a JiraError.

    A page that is not Jira's shape must not read as "no comments": that would post a duplicate.
    """
    comments = page.get("comments") if isinstance(page, dict) else None
    total = page.get("total") if isinstance(page, dict) else None
    if (
        not isinstance(comments, list)
        or not all(isinstance(c, dict) and isinstance(c.get("id"), (str, int)) for c in comments)
        or not isinstance(total, int)
        or isinstance(total, bool)
    ):
        raise JiraError(
            f"Jira's list of comments on {issue} is not the shape Jira documents: "
            "is JIRA_URL the Jira site itself (not a proxy)?",
            retryable=True,
        )
    return comments, total


def _remote_comment(item: Mapping[str, Any]) -> RemoteComment:
    """A comment of Jira's answer with its properties (asked with `expand=properties`) and author."""
    properties = item.get("properties")
    props = {
        str(p.get("key")): p.get("value")
        for p in (properties if isinstance(properties, list) else [])
        if isinstance(p, dict)
    }
    return RemoteComment(id=str(item["id"]), properties=props, author=account_key(item.get("author")))


def _json(response: requests.Response, action: str) -> dict[str, Any]:
    try:
        data = json_of(response)
    except ValueError:
        raise JiraError(f"Jira's answer when trying to {action} was not JSON", retryable=True) from None
    if not isinstance(data, dict) or "id" not in data:
        raise JiraError(f"Jira's answer when trying to {action} had no comment id", retryable=True)
    return data


def _jira_messages(exc: HttpError) -> str:
    """Jira's own error text (ErrorCollection), one line, without anything from our request."""
    body = _error_body(exc)
    messages = (
        [*body.get("errorMessages", []), *body.get("errors", {}).values()] if isinstance(body, dict) else []
    )
    text = "; ".join(str(m) for m in messages) or "no details given"
    return redact(" ".join(text.split()))[:300]


def _short_name(name: str, limit: int = 40) -> str:
    """A ticket name fit for a message: a hostile 5,000-character key is not echoed whole."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _error_fields(exc: HttpError) -> frozenset[str]:
    """The field names of Jira's ErrorCollection `errors` (e.g. "labels", "comment")."""
    errors = _error_body(exc).get("errors")
    return frozenset(str(name) for name in errors) if isinstance(errors, dict) else frozenset()


def _error_body(exc: HttpError) -> dict[str, Any]:
    """The JSON object of an error answer (an ErrorCollection), or {} when it has none."""
    response = getattr(exc, "response", None)
    try:
        body = json_of(response) if response is not None else {}
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _short(exc: BaseException | None) -> str:
    if isinstance(exc, HttpError):
        return f"HTTP {exc.status_code}"
    return exc.__class__.__name__ if exc else "unknown"
