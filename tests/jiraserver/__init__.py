"""A Jira-compatible HTTP server for tests, driven through the real ``jira`` client.

No Jira is reachable from the test machines, so tests start this server on
127.0.0.1 (an OS-chosen port), seed issues through its Python API, point the
real client at ``server.url`` and then inspect what was stored and requested::

    with running_server(deployment="Cloud") as server:
        server.add_issue("BID-1", {"summary": "Bridge"}, names={"summary": "Summary"})
        client = JIRA(server.url, basic_auth=server.basic_auth, max_retries=0, timeout=5)
        client.add_comment("BID-1", "hello")
        assert server.comments("BID-1")[0]["body"] == "hello"

REST v2 and v3 are served side by side (v3 speaks ADF for rich text); Cloud
removes ``/search`` (410) and Data Center lacks ``/search/jql`` (404), as the
real deployments do. Response shapes follow Atlassian's OpenAPI schemas, which
``tests/test_jira_server_contract.py`` checks.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Literal

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import JiraApp, Recorder
from .calls import AuthConfig, BasicAuth, BearerAuth, Settings
from .faults import GARBLED_JSON, CannedAnswer, FaultBook, encode_body
from .model import (
    BOT_USER,
    DEFAULT_NOW,
    DIRECTOR_USER,
    HUMAN_USER,
    Deployment,
    JiraUser,
    RecordedRequest,
    StoredIssue,
)
from .shapes import SYSTEM_FIELD_NAMES
from .store import JiraStore

__all__ = [
    "BOT_USER",
    "DEFAULT_AUTH",
    "DEFAULT_NOW",
    "DIRECTOR_USER",
    "HUMAN_USER",
    "AuthConfig",
    "BasicAuth",
    "BearerAuth",
    "JiraServer",
    "JiraUser",
    "RecordedRequest",
    "running_server",
]

DEFAULT_AUTH: BasicAuth = ("basic", BOT_USER.email, "test-api-token")
"""Credentials the server accepts unless a test configures others."""

STOP_GRACE_SECONDS = 5.0
"""Upper bound on waiting for in-flight handlers at ``stop`` (they normally finish at once)."""


class _QuietHandler(WSGIRequestHandler):
    """Request handler that keeps werkzeug's access log out of test output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Skip the access log line; the server records requests itself."""


class JiraServer:
    """A loopback Jira (Cloud or Data Center flavour) with a test-side API.

    Thread-safe: HTTP requests are served on background threads while the
    test thread seeds data, arms faults and reads the request log.
    """

    def __init__(
        self,
        *,
        deployment: Deployment = "Cloud",
        auth: AuthConfig = DEFAULT_AUTH,
        comment_page_cap: int = 100,
        search_page_cap: int = 100,
        changelog_cap: int | None = None,
        text_limit: int = 32767,
        now: datetime = DEFAULT_NOW,
        user: JiraUser = BOT_USER,
        host: str = "127.0.0.1",
        comment_permission: Literal["own", "all"] = "own",
        cloud_id: str | None = None,
        search_is_last: bool = True,
        administer: bool = True,
    ) -> None:
        self._settings = Settings(
            deployment=deployment,
            auth=auth,
            user=user,
            comment_page_cap=comment_page_cap,
            search_page_cap=search_page_cap,
            changelog_cap=changelog_cap,
            text_limit=text_limit,
            build_date=datetime(2024, 11, 4, tzinfo=now.tzinfo),
            comment_permission=comment_permission,
            cloud_id=cloud_id,
            search_is_last=search_is_last,
            administer=administer,
        )
        self._host = host
        self._store = JiraStore(now=now)
        self._faults = FaultBook()
        self._recorder = Recorder()
        self._app = JiraApp(
            settings=self._settings, store=self._store, faults=self._faults, recorder=self._recorder
        )
        self._httpd: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        # Answers that departed from Atlassian's OpenAPI subset, found before a log was cleared.
        self.contract_problems: list[str] = []
        self.validate_answers = True

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> JiraServer:
        """Bind a free port on the loopback interface and serve in a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError("the Jira test server is already running")
        httpd = make_server(self._host, 0, self._app, threaded=True, request_handler=_QuietHandler)
        self._httpd = httpd
        self._app.base_url = f"http://{self._host}:{httpd.server_port}"
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="jira-test-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Answer held requests (503), stop serving, wait for handlers, close the socket."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._app.stopping.set()
        self._faults.close()
        httpd.shutdown()
        self._app.wait_idle(timeout=STOP_GRACE_SECONDS)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> JiraServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- configuration ---------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (what ``serverInfo.baseUrl`` says)."""
        if not self._app.base_url:
            raise RuntimeError("start the Jira test server before asking for its url")
        return self._app.base_url

    @property
    def gateway_url(self) -> str:
        """The API gateway's address for this site's cloud id (only with ``cloud_id``): requests go here."""
        if not self._settings.cloud_id:
            raise RuntimeError("this server is not addressed through the API gateway: pass cloud_id")
        return self.url + self._settings.gateway_prefix

    def webhooks(self) -> list[dict[str, Any]]:
        """The admin webhooks registered over REST, secrets included, oldest first."""
        with self._store.lock:
            return [{"id": i, **w} for i, w in sorted(self._store.webhooks.items())]

    def change_webhook(self, webhook_id: int, **fields: Any) -> None:
        """Change a registered admin webhook as an administrator would in Jira's UI."""
        with self._store.lock:
            self._store.webhooks[webhook_id].update(fields)

    @property
    def deployment(self) -> Deployment:
        """``"Cloud"`` or ``"Server"`` (Data Center)."""
        return self._settings.deployment

    @property
    def user(self) -> JiraUser:
        """The account the accepted credentials belong to (author of API comments)."""
        return self._settings.user

    @property
    def basic_auth(self) -> tuple[str, str]:
        """``(email, token)`` for ``JIRA(basic_auth=...)``; only for basic configurations."""
        auth = self._settings.auth
        if auth is None or auth[0] != "basic":
            raise RuntimeError("this server is not configured for basic auth")
        return auth[1], auth[2]

    @property
    def token(self) -> str:
        """The personal access token for ``JIRA(token_auth=...)`` (bearer setups only)."""
        auth = self._settings.auth
        if auth is None or auth[0] != "bearer":
            raise RuntimeError("this server is not configured for bearer auth")
        return auth[1]

    @property
    def auth_headers(self) -> dict[str, str]:
        """The ``Authorization`` header the server accepts, for raw HTTP calls in tests."""
        auth = self._settings.auth
        if auth is None:
            return {}
        if auth[0] == "basic":
            pair = f"{auth[1]}:{auth[2]}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        return {"Authorization": f"Bearer {auth[1]}"}

    @property
    def now(self) -> datetime:
        """The fake clock stamped on everything the server writes."""
        return self._store.now

    @now.setter
    def now(self, value: datetime) -> None:
        self._store.now = value

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of bugs inside the fake (answered as 500); tests should expect none."""
        return list(self._app.internal_errors)

    # -- seeding and inspection ------------------------------------------------------

    def add_issue(
        self,
        key: str,
        fields: Mapping[str, Any],
        *,
        names: Mapping[str, str] | None = None,
        issue_id: str | None = None,
        rich_text: set[str] | frozenset[str] | None = None,
    ) -> dict[str, str]:
        """Store an issue; returns Jira's created-issue shape ``{id, key, self}``.

        ``fields`` are stored as given (rich text as wiki strings or ADF);
        ``names`` maps field ids to display names for ``expand=names`` and
        ``GET field``; ``rich_text`` lists the fields v3 renders as ADF
        (default ``description`` and ``environment``).
        """
        issue = self._store.add_issue(key, fields, names=names, issue_id=issue_id, rich_text=rich_text)
        return {"id": issue.id, "key": issue.key, "self": self._v2(f"issue/{issue.id}")}

    def change_issue(
        self,
        key: str,
        fields: Mapping[str, Any],
        *,
        author: JiraUser | None = None,
        at: datetime | None = None,
    ) -> None:
        """Change field values as a person would in Jira's UI, leaving a changelog entry.

        ``author`` (default ``HUMAN_USER``) and ``at`` (default ``now``) are what the changelog
        says; ``expand=changelog`` on the issue or a search then shows the change.
        """
        with self._store.lock:
            issue = self._issue(key)
            names = {**SYSTEM_FIELD_NAMES, **issue.names}
            self._store.change_fields(
                issue, fields, author=author or HUMAN_USER, field_names=names, created=at
            )

    def history(self, key: str) -> list[dict[str, Any]]:
        """The issue's changelog, oldest first: author's account id, time and changed field ids."""
        with self._store.lock:
            return [
                {
                    "author": entry.author.account_id,
                    "created": entry.created,
                    "fields": [item.field_id for item in entry.items],
                }
                for entry in self._issue(key).history
            ]

    def add_group(self, name: str, members: list[JiraUser]) -> None:
        """Create (or replace) a Jira group, served by ``GET group/member``."""
        self._store.set_group(name, members)

    def add_comment(
        self,
        key: str,
        body: str,
        *,
        properties: Mapping[str, Any] | None = None,
        author: JiraUser | None = None,
        created: datetime | None = None,
        visibility: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Seed one comment (default author: ``HUMAN_USER``, not the bot)."""
        issue = self._issue(key)
        comment = self._store.add_comment(
            issue,
            body,
            author=author or HUMAN_USER,
            properties=properties,
            visibility=visibility,
            created=created,
        )
        return comment.snapshot()

    def add_comments(
        self, key: str, count: int, *, body: str = "Comment {n}", author: JiraUser | None = None
    ) -> list[dict[str, Any]]:
        """Seed ``count`` comments one minute apart, ending at ``now``.

        ``body`` is formatted with ``n`` (1-based) so every comment differs.
        """
        start = self.now - timedelta(minutes=count)
        return [
            self.add_comment(key, body.format(n=n), author=author, created=start + timedelta(minutes=n))
            for n in range(1, count + 1)
        ]

    def comments(self, key: str) -> list[dict[str, Any]]:
        """The stored comments in creation order: id, body (wiki), properties, authors, times."""
        with self._store.lock:
            return [comment.snapshot() for comment in self._issue(key).comments]

    def delete_comment(self, comment_id: str) -> None:
        """Delete a comment as a person (or an admin) would in Jira's UI."""
        with self._store.lock:
            comment = self._store.comment(comment_id)
            if comment is None:
                raise KeyError(f"no comment {comment_id}")
            self._store.delete_comment(comment)

    def issue_fields(self, key: str) -> dict[str, Any]:
        """A copy of the issue's stored field values (rich text as wiki strings)."""
        with self._store.lock:
            return dict(self._issue(key).fields)

    def issue_properties(self, key: str) -> dict[str, Any]:
        """A copy of the issue's entity properties."""
        with self._store.lock:
            return dict(self._issue(key).properties)

    def set_issue_property(self, key: str, property_key: str, value: Any) -> None:
        """Seed an issue entity property."""
        with self._store.lock:
            self._issue(key).properties[property_key] = value

    def comment_properties(self, comment_id: str) -> dict[str, Any]:
        """A copy of one comment's entity properties."""
        with self._store.lock:
            comment = self._store.comment(comment_id)
            if comment is None:
                raise KeyError(f"no comment {comment_id}")
            return dict(comment.properties)

    # -- how the site is set up ------------------------------------------------------

    def set_field_options(self, field_id: str, options: list[str]) -> None:
        """The options a select field offers (``editmeta``'s ``allowedValues``)."""
        with self._store.lock:
            self._store.field_options[field_id] = list(options)

    def remove_from_edit_screen(self, field_id: str) -> None:
        """Leave a field off every edit screen: ``editmeta`` omits it, editing it is a 400."""
        with self._store.lock:
            self._store.off_edit_screen.add(field_id)

    def deny_permission(self, key: str) -> None:
        """Take a permission (``EDIT_ISSUES``, ``ADD_COMMENTS``, …) from the account (``mypermissions``)."""
        with self._store.lock:
            self._store.denied_permissions.add(key)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far (with the answer given), oldest first."""
        return self._recorder.snapshot()

    def clear_requests(self) -> None:
        """Forget the request log, e.g. after seeding through HTTP (its answers are checked first)."""
        self._check_answers(self._recorder.snapshot())
        self._recorder.clear()

    def forget_requests(self, path_regex: str) -> int:
        """Forget the requests to matching paths (a service's start-up reads); returns how many."""
        pattern = re.compile(path_regex)
        self._check_answers([r for r in self._recorder.snapshot() if pattern.search(r.path)])
        return self._recorder.forget(path_regex)

    def answer_problems(self) -> list[str]:
        """Every answer so far that departs from Atlassian's published schemas (none, normally)."""
        self._check_answers(self._recorder.snapshot())
        problems, self.contract_problems = self.contract_problems, []
        return problems

    def _check_answers(self, records: list[RecordedRequest]) -> None:
        if self.validate_answers:
            from .contract import problems_in, published_contract  # noqa: PLC0415 (loads the spec)

            self.contract_problems += problems_in(published_contract(), records)

    # -- fault injection -------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        *,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | list[Any] | str | bytes | None = None,
    ) -> None:
        """Answer the next ``times`` requests matching ``method`` (or ``"*"``) and
        ``path_regex`` (``re.search`` on the path) with ``status``.

        ``body`` defaults to an ErrorCollection for 4xx/5xx; str/bytes are sent
        verbatim as ``application/json``, so they may be deliberately invalid.
        Use ``headers`` for e.g. ``{"Retry-After": "1"}``.
        """
        answer = CannedAnswer(status, dict(headers or {}), encode_body(status, body))
        self._faults.add_answer(method, path_regex, answer, times=times)

    def garble_next(self, method: str, path_regex: str, *, status: int = 200, times: int = 1) -> None:
        """Answer matching requests with a truncated, unparseable JSON body."""
        self.fail_next(method, path_regex, status, times=times, body=GARBLED_JSON)

    def hang_next(self, method: str, path_regex: str, *, times: int = 1) -> None:
        """Hold matching requests open until ``release()`` or ``stop()``.

        Released requests are then answered normally; on stop they get a 503.
        """
        self._faults.add_hang(method, path_regex, times=times)

    def release(self) -> None:
        """Let every held request continue."""
        self._faults.release()

    @property
    def held_requests(self) -> int:
        """How many requests are currently held by ``hang_next``."""
        return self._faults.held

    @property
    def most_held_at_once(self) -> int:
        """The most ``hang_next`` requests that were ever held together (in flight at once)."""
        return self._faults.most_held

    def clear_faults(self) -> None:
        """Disarm every fault and hang rule not yet used."""
        self._faults.clear()

    # -- helpers ---------------------------------------------------------------------

    def _issue(self, key: str) -> StoredIssue:
        issue = self._store.issue(key)
        if issue is None:
            raise KeyError(f"no issue {key}")
        return issue

    def _v2(self, path: str) -> str:
        return f"{self.url}/rest/api/2/{path}"


@contextmanager
def running_server(*, validate: bool = True, **kwargs: Any) -> Iterator[JiraServer]:
    """A started ``JiraServer(**kwargs)`` that is stopped when the block ends (a fixture helper).

    With `validate` (the default) every answer the server gave must match Atlassian's OpenAPI
    subset (`jiraserver.contract`): a departure fails the test when the block ends.
    """
    server = JiraServer(**kwargs)
    server.validate_answers = validate
    server.start()
    try:
        yield server
    finally:
        server.stop()
    problems = server.answer_problems()
    assert problems == [], "the test Jira answered outside Atlassian's published shapes:\n" + "\n".join(
        problems
    )
