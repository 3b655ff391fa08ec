"""Every Jira operation gonogo needs: which requests (`rest`) it sends (`transport`), and its failures
worded for people, never quoting a request (its Authorization header above all). Why not the `jira`
client (pycontribs): docs/development.md, "Why the Jira edge is gonogo's own".
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any

import requests

from gonogo.core.errors import ConfigurationError, EditRefused, InputError, JiraError
from gonogo.core.jira_shapes.changelog import account_key, user_ids
from gonogo.core.jira_shapes.comment_format import CommentBody, is_cloud_host
from gonogo.core.jira_shapes.site_fields import SiteField, editable_fields_from, site_fields_from
from gonogo.core.jira_shapes.verdict_labels import NO_LABEL_CHANGE, LabelChange
from gonogo.core.pipeline.ticket import Ticket, ticket_from_rest
from gonogo.jira import rest
from gonogo.jira.throttle import Throttle
from gonogo.jira.transport import RedirectRefused, RetryAfterTooLong, Transport
from gonogo.redaction import redact, remember_credentials

if TYPE_CHECKING:
    from gonogo.sources.config import JiraSettings

# What some operations make of a refusal instead of the worded JiraError: the failure's class → error
# (or a function of the failure, when the error quotes Jira's words).
Refusals = Mapping[type[Exception], Exception | Callable[[Any], Exception]]


class Deployment(StrEnum):
    """Which search API the site has: Cloud's token-paged `search/jql` or Data Center's `search`."""

    CLOUD = "cloud"
    DATA_CENTER = "data-center"


class JiraGateway:
    """Jira operations, each one round-trip (paged lists: one per page); nothing sent until asked."""

    def __init__(
        self,
        settings: JiraSettings,
        *,
        sleep: Callable[[float], None] | None = None,
        throttle: Throttle | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        url, token = settings.require_connection()
        secret = token.reveal()
        remember_credentials(settings.user, secret)
        self._settings = settings
        self._seal_key = secret.encode("utf-8")
        self._me: dict[str, Any] | None = None
        self._names: dict[str, str] = {}  # issue id → key, for messages
        auth = (settings.user, secret) if settings.user else secret
        self._transport = Transport(url, settings, auth=auth, throttle=throttle, sleep=sleep, clock=clock)

    @property
    def round_trips(self) -> int:
        return self._transport.round_trips

    def fetch_ticket(self, key: str, *, fields: Sequence[str] | None, label: str | None = None) -> Ticket:
        """The issue in one GET (see `rest.get_issue`); `key` may be the id, `label` then names it."""
        name = _short_name(label or key)
        with self._asking(f"read {name}", _missing(name)):
            raw = self._json(rest.get_issue(key, fields, self._settings.comment_property))
            ticket = ticket_from_rest(raw, origin=f"Jira's answer for {name}")
        if ticket.id:
            self._names[ticket.id] = ticket.key
        return ticket

    def deployment(self) -> Deployment:
        """[jira].deployment, a Cloud host, else one serverInfo: each has removed the other's search API."""
        if self._settings.deployment != "auto":
            return Deployment(self._settings.deployment)
        if is_cloud_host(self._settings.url):
            return Deployment.CLOUD
        kind, _ = self.server_info("ask Jira whether it is Cloud or Data Center")
        return Deployment.CLOUD if kind == "Cloud" else Deployment.DATA_CENTER

    def server_info(self, action: str = "read the site's server information") -> tuple[str, str]:
        """(deployment type, version) from `GET serverInfo`, which Jira answers without credentials."""
        info = self._ask(action, rest.Request("GET", "serverInfo"), dict)
        kind = "Cloud" if info.get("deploymentType") == "Cloud" else "Data Center"
        return kind, str(info.get("version") or "unknown version")

    def field_names(self) -> dict[str, str]:  # id → display name, to search by id for mapped names
        return {site_field.id: site_field.name for site_field in self.site_fields()}

    def site_fields(self) -> list[SiteField]:
        return site_fields_from(self._ask("list Jira's fields", rest.Request("GET", "field"), list))

    def editable_fields(self, key: str) -> dict[str, SiteField]:
        """The fields on `key`'s edit screen this account may edit, with select options."""
        action, request = f"read the edit screen of {key}", rest.Request("GET", f"issue/{key}/editmeta")
        return editable_fields_from(self._ask(action, request, object, _missing(key)))

    def permissions(self, key: str, wanted: Sequence[str]) -> dict[str, bool]:
        """Which of the `wanted` permission keys this account has on `key` (`mypermissions`)."""
        request = rest.Request("GET", "mypermissions", {"issueKey": key, "permissions": ",".join(wanted)})
        answer = self._ask(f"read this account's permissions on {key}", request, refusals=_missing(key))
        return {name: rest.has_permission(answer, name) for name in wanted}

    def group_members(self, group: str) -> frozenset[str]:
        """Every id of every member, 50 a page; an unknown or hidden group is a configuration problem."""
        refusals: Refusals = {
            rest.Forbidden: ConfigurationError(
                f"this account may not list the members of the Jira group {group} (403): "
                "give it the Browse users and groups global permission (Jira Cloud; Administer "
                "Jira on Data Center), or name the approvers in [waivers].approvers by account "
                "id or user name"
            ),
            rest.NotFound: ConfigurationError(
                f"[waivers].approvers names group:{group}, but Jira has no group of that name "
                "(names are case-sensitive): fix the name in gonogo.toml"
            ),
        }
        action = f"list the members of the Jira group {group}"
        pages = self._pages(action, partial(rest.group_members, group), rest.member_page, refusals)
        return frozenset(name for page in pages for name in page.items)

    def user_name(self, ref: str) -> str | None:
        """The display name of the account `ref` names, or None when Jira knows no such account."""
        cloud = self.deployment() is Deployment.CLOUD
        request = rest.Request("GET", "user", {"accountId": ref} if cloud else {"username": ref})
        with self._asking(f"look up the Jira user {ref}"):
            try:
                found = self._json(request)
            except rest.NotFound:
                return None
        name = found.get("displayName") if isinstance(found, dict) else None
        return name if isinstance(name, str) and name else ref

    def myself(self) -> str:
        """Who the credentials belong to, as "Display Name (account id or user name)"."""
        me = self._myself()
        who = me.get("accountId") or me.get("name") or me.get("key") or "?"
        return f"{me.get('displayName') or who} ({who})"

    def own_account(self) -> str | None:
        """gonogo's own account as `account_key` names it (one `GET myself` per gateway), asked only when
        a comment carrying gonogo's property may be a person's: the documented request counts rest on it."""
        return account_key(self._myself())

    def account_ids(self) -> frozenset[str]:
        """The ids a webhook names gonogo's own account by: Cloud's accountId, Data Center's name and key."""
        return user_ids(self._myself())

    def _myself(self) -> dict[str, Any]:
        # Not functools.cached_property: on Python 3.11 it holds one lock for every gateway, so one
        # slow `GET myself` would make every worker thread of the service wait in turn.
        if self._me is None:
            self._me = self._ask("check the credentials", rest.Request("GET", "myself"), dict)
        return self._me

    def pointer_seal(self, issue: str, comment_id: str) -> str:
        """The verdict pointer's seal: an HMAC keyed by the API token, which only gonogo holds."""
        message = f"gonogo verdict pointer {issue} {comment_id}".encode()
        return hmac.new(self._seal_key, message, hashlib.sha256).hexdigest()[:32]

    def admin_webhooks(self) -> list[dict[str, Any]]:
        request = rest.Request("GET", rest.ADMIN_WEBHOOKS)
        listed = self._ask("list the site's webhooks", request, list, _administer())
        return [rest.webhook_with_id(hook) for hook in listed if isinstance(hook, dict)]

    def save_admin_webhook(self, webhook: Mapping[str, Any], webhook_id: str | None = None) -> dict[str, Any]:
        """Register an admin webhook, or replace the one with `webhook_id`; Jira's answer, with its `id`.
        A lost answer is not sent twice: the next setup finds the webhook by its URL."""
        action = "register the webhook" if webhook_id is None else "update the webhook"
        saved = self._ask(action, rest.save_admin_webhook(webhook, webhook_id), dict, _administer())
        return rest.webhook_with_id(saved)

    def search(
        self,
        jql: str,
        *,
        fields: Sequence[str],
        properties: Sequence[str] = (),
        expand: Sequence[str] = (),
        deployment: Deployment,
    ) -> Iterator[rest.Page]:
        """Every issue the JQL finds, a page per request; a bad query is an InputError with Jira's words."""
        params: dict[str, Any] = {"jql": jql, "maxResults": rest.SEARCH_PAGE_SIZE, "fields": ",".join(fields)}
        params |= {"properties": ",".join(properties)} if properties else {}
        params |= {"expand": ",".join(expand)} if expand else {}
        cloud = deployment is Deployment.CLOUD
        api, other = ("search/jql", "data-center") if cloud else ("search", "cloud")
        refusals: Refusals = {
            rest.NotFound: JiraError(
                f'this Jira has no {api} API: set [jira].deployment = "{other}" in gonogo.toml '
                '(or leave it "auto")'
            ),
            rest.BadRequest: lambda refused: InputError(f"Jira refused the search: {refused.messages}"),
        }
        read = partial(rest.search_page, cloud=cloud)
        return self._pages("search Jira", partial(rest.search, params, cloud=cloud), read, refusals)

    def comments(self, issue: str) -> Iterator[rest.RemoteComment]:
        """Every comment with its properties, newest first, one request per page."""
        action = f"list the comments of {self._name(issue)}"
        for page in self._pages(action, partial(rest.comments, issue), rest.comment_page):
            yield from map(rest.remote_comment, page.items)

    def _pages(
        self,
        action: str,
        request: Callable[[Any], rest.Request],
        read: Callable[[Any, Any], rest.Page],
        refusals: Refusals | None = None,
    ) -> Iterator[rest.Page]:
        """Every page of a list, one request each, from the first (`after` None) to the one Jira says is
        last; a next-page token given twice would never end (offsets only grow)."""
        after: str | int | None = None
        seen: set[str | int] = set()
        while True:
            with self._asking(action, refusals):
                page = read(self._json(request(after)), after)
            yield page
            if page.after is None:
                return
            if page.after in seen:
                said = "Jira's search gave the same next-page token twice, so it would never finish"
                raise JiraError(f"{said}: try again later", retryable=True)
            after = page.after
            seen.add(after)

    def comment(self, issue: str, comment_id: str) -> rest.RemoteComment | None:
        """One comment with its author and properties; None when it is gone."""
        with self._asking(f"read the comment the verdict pointer of {self._name(issue)} names"):
            try:
                item = self._json(rest.comment(issue, comment_id))
            except rest.NotFound:
                return None
        return rest.remote_comment(item) if isinstance(item, dict) and "id" in item else None

    def create_comment(self, issue: str, body: CommentBody, *, properties: Mapping[str, Any]) -> str:
        """POST a comment with its properties in the same request (never retried); returns its id."""
        action = f"post the verdict comment on {self._name(issue)}"
        created = self._ask(action, rest.create_comment(issue, body, properties), dict)
        if "id" not in created:
            raise self._worded(rest.WrongShape("comment"), action)
        return str(created["id"])

    def update_comment(self, issue: str, comment_id: str, body: CommentBody) -> bool:
        """PUT a new body; False when the comment is gone (someone deleted it)."""
        request = rest.update_comment(issue, comment_id, body)
        return self._unless_gone(f"update the verdict comment on {self._name(issue)}", request)

    def delete_comment(self, issue: str, comment_id: str) -> None:
        """DELETE a duplicate of gonogo's own comment; one already gone is fine."""
        request = rest.delete_comment(issue, comment_id)
        self._unless_gone(f"delete a duplicate verdict comment on {self._name(issue)}", request)

    def edit_issue(
        self,
        issue: str,
        *,
        properties: Mapping[str, Any],
        labels: LabelChange = NO_LABEL_CHANGE,
        comment: tuple[str, CommentBody] | None = None,
    ) -> None:
        """One `PUT issue`, all or nothing; a refusal (400/404: labels off the edit screen, a deleted
        comment) is `EditRefused`, to retry without a part."""
        action = f"record the verdict on {self._name(issue)}"
        with self._asking(action):
            try:
                self._transport.send(rest.edit_issue(issue, properties, labels, comment))
            except (rest.BadRequest, rest.NotFound) as refused:
                said = f"Jira refused to {action}: {refused.messages}"
                raise EditRefused(said) from None

    def _name(self, issue: str) -> str:
        return self._names.get(issue, issue)

    def _unless_gone(self, action: str, request: rest.Request) -> bool:  # False: gone (404, 410)
        with self._asking(action):
            try:
                self._transport.send(request)
            except rest.NotFound:
                return False
        return True

    def _json(self, request: rest.Request) -> Any:
        return rest.read(self._transport.send(request))

    def _ask(
        self, action: str, request: rest.Request, kind: type = object, refusals: Refusals | None = None
    ) -> Any:
        with self._asking(action, refusals):
            answer = self._json(request)
            if not isinstance(answer, kind):
                raise rest.WrongShape(kind.__name__)
            return answer

    @contextmanager
    def _asking(self, action: str, refusals: Refusals | None = None) -> Iterator[None]:
        """Failures inside worded for `action` (`_WORDS`), unless `refusals` names them; gonogo's own pass."""
        try:
            yield
        except tuple(_WORDS) as failure:
            kinds = (refusals or {}).items()
            instead = next((error for kind, error in kinds if isinstance(failure, kind)), None)
            if callable(instead):
                instead = instead(failure)
            raise (instead or self._worded(failure, action)) from None

    def _worded(self, failure: Exception, action: str) -> JiraError:
        """One line: the action, what Jira said (its own words only), and what to do."""
        template = next(_WORDS[kind] for kind in type(failure).__mro__ if kind in _WORDS)
        status, seconds = getattr(failure, "status", None), getattr(failure, "seconds", None)
        said = template.format(
            action=action,
            status=status,
            said=getattr(failure, "messages", ""),
            hint=self._credentials_hint() if status == 401 else "",
            seconds=seconds or 0,
            max_wait=self._settings.max_retry_wait_seconds,
            location=_short_name(redact(getattr(failure, "location", "")), 200),
            url=self._transport.url,
            timeout=self._settings.timeout_seconds,
        )
        final = isinstance(failure, (rest.ErrorAnswer, RedirectRefused, rest.TooDeep))
        retryable = not final or isinstance(failure, (rest.RateLimited, rest.ServerBroken))
        return JiraError(said, retryable=retryable, retry_after=getattr(failure, "retry_after", seconds))

    def _credentials_hint(self) -> str:
        """What to check after a 401: tokens expire now, and a scoped one works only via the gateway."""
        if not self._settings.user:
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


def _missing(name: str) -> Refusals:
    said = f"{name} does not exist or this account cannot see it (404)"
    return {rest.NotFound: JiraError(f"{said}: check the key and the account's permissions")}


def _administer() -> Refusals:
    return {
        rest.Forbidden: ConfigurationError(
            "Jira refused to let this account manage webhooks (403): admin webhooks need the Administer "
            "Jira permission; run gonogo setup --webhook with an administrator's credentials once"
        )
    }


_WORDS: dict[type[Exception], str] = {
    rest.Unauthorized: "Jira rejected the credentials (401) when trying to {action}: {hint}",
    rest.Forbidden: "Jira refused to let this account {action} (403): it needs Browse Projects, "
    "Add Comments, Edit Own Comments and Delete Own Comments on the project",
    rest.RateLimited: "Jira kept rate-limiting us (429) when trying to {action}: try again later",
    rest.ServerBroken: "Jira failed with {status} when trying to {action}, after retrying: try again later",
    rest.ErrorAnswer: "Jira answered {status} when trying to {action}: {said}",
    RetryAfterTooLong: "Jira is rate-limiting us and asked to wait {seconds:.0f} s to {action}, longer than "
    "max_retry_wait_seconds ({max_wait:.0f}); try again later",
    RedirectRefused: "Jira tried to send gonogo to {location} when asked to {action}; gonogo follows "
    "redirects only within {url}: set JIRA_URL to the address Jira answers on",
    rest.TooDeep: f"Jira's answer when trying to {{action}} was nested deeper than {rest.MAX_JSON_DEPTH} "
    "levels, which no Jira answer is: is JIRA_URL the Jira site itself (not a proxy)?",
    rest.WrongShape: "Jira's answer when trying to {action} is not the shape Jira documents: "
    "is JIRA_URL the Jira site itself (not a proxy)?",
    requests.exceptions.ChunkedEncodingError: "the connection to Jira broke off in the middle of its answer "
    "when trying to {action}: try again later",
    requests.Timeout: "Jira did not answer within {timeout:g} s when trying to {action}: try again later, "
    "or raise [jira].timeout_seconds",
    requests.ConnectionError: "cannot reach Jira at {url} to {action}: check JIRA_URL and the network",
    # Retryable: a proxy's error page during an outage looks just like this.
    ValueError: "Jira's answer when trying to {action} was not the JSON Jira sends: "
    "is JIRA_URL the Jira site itself (not a proxy or login page)?",
}
_WORDS[InputError] = _WORDS[ValueError]
_WORDS[requests.exceptions.ContentDecodingError] = _WORDS[requests.exceptions.ChunkedEncodingError]
_WORDS[requests.ConnectTimeout] = _WORDS[requests.Timeout]  # a timeout first, as people read it


def _short_name(name: str, limit: int = 40) -> str:
    """A ticket name fit for a message: a hostile 5,000-character key is not echoed whole."""
    return name if len(name) <= limit else name[: limit - 1] + "…"
