"""Plain records the Jira test server stores and the tests inspect.

They hold Jira's data in one canonical form (rich text as a wiki-markup
string, times as aware datetimes); ``shapes`` turns them into the JSON each
REST version answers with.
"""

from __future__ import annotations

import copy
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Deployment = Literal["Cloud", "Server"]

DEFAULT_NOW = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
"""The fixed "now" every timestamp uses unless a test chooses another."""


@dataclass(frozen=True)
class JiraUser:
    """A Jira account: Cloud knows it by ``account_id``, Data Center by ``name``/``key``."""

    account_id: str
    display_name: str
    email: str
    name: str
    time_zone: str = "Etc/UTC"
    account_type: Literal["atlassian", "app", "customer", "unknown"] = "atlassian"
    active: bool = True

    @property
    def key(self) -> str:
        """Data Center's immutable user key; Jira derives it as ``JIRAUSER<n>``."""
        return f"JIRAUSER{zlib.crc32(self.account_id.encode()) % 100000}"


BOT_USER = JiraUser(
    account_id="712020:00000000-0000-4000-8000-0000000b0701",
    display_name="gonogo bot",
    email="gonogo-bot@example.com",
    name="gonogo-bot",
)
"""The account the configured credentials belong to (``GET myself``)."""

HUMAN_USER = JiraUser(
    account_id="712020:00000000-0000-4000-8000-00000000a11e",
    display_name="Alex Reviewer",
    email="alex.reviewer@example.com",
    name="alex.reviewer",
)
"""Default author of comments seeded by tests: somebody other than the bot."""

DIRECTOR_USER = JiraUser(
    account_id="712020:00000000-0000-4000-8000-0000000d1a0c",
    display_name="Dana Director",
    email="dana.director@example.com",
    name="dana.director",
)
"""Somebody with bid authority: the approver in waiver tests."""


@dataclass
class StoredComment:
    """A comment as stored; ``body`` is its text whichever API version wrote it.

    ``adf`` is the ADF document a v3 request wrote (``None`` after a v2 write): v3 answers with
    it, and tests inspect exactly what gonogo sent.
    """

    id: str
    issue_id: str
    body: str
    author: JiraUser
    update_author: JiraUser
    created: datetime
    updated: datetime
    properties: dict[str, Any] = field(default_factory=dict)
    visibility: dict[str, Any] | None = None
    adf: dict[str, Any] | None = None

    def snapshot(self) -> dict[str, Any]:
        """Return a detached dict for tests, so they cannot mutate the store."""
        return {
            "id": self.id,
            "issue_id": self.issue_id,
            "body": self.body,
            "adf": copy.deepcopy(self.adf),
            "author": self.author.account_id,
            "update_author": self.update_author.account_id,
            "created": self.created,
            "updated": self.updated,
            "properties": copy.deepcopy(self.properties),
            "visibility": copy.deepcopy(self.visibility),
        }


@dataclass(frozen=True)
class ChangeItem:
    """One field's change inside a history entry (schema ChangeDetails).

    ``from_value``/``to_value`` are Jira's raw ids (an option id, an account id), absent for
    plain values; the ``*_string`` forms are what Jira shows, labels joined by spaces.
    """

    field_id: str
    field_name: str
    field_type: str
    from_string: str | None
    to_string: str | None
    from_value: str | None = None
    to_value: str | None = None


@dataclass(frozen=True)
class StoredHistory:
    """One changelog entry: who changed which fields, and when."""

    id: str
    author: JiraUser
    created: datetime
    items: tuple[ChangeItem, ...]


@dataclass
class StoredIssue:
    """An issue: its field values (rich text as wiki strings), names, properties, comments."""

    id: str
    key: str
    fields: dict[str, Any]
    names: dict[str, str]
    rich_text: frozenset[str]
    properties: dict[str, Any] = field(default_factory=dict)
    comments: list[StoredComment] = field(default_factory=list)
    history: list[StoredHistory] = field(default_factory=list)

    @property
    def project_key(self) -> str:
        """The project part of the key, which JQL ``project = X`` compares against."""
        project = self.fields.get("project")
        if isinstance(project, dict) and isinstance(project.get("key"), str):
            return str(project["key"])
        return self.key.rsplit("-", 1)[0]


@dataclass
class RecordedRequest:
    """One request the server received and what it answered.

    ``query`` joins repeated parameters with commas (Jira treats both forms
    alike); ``raw_query`` keeps the exact query string so tests can prove that
    no secret travelled in the URL. ``injected`` marks answers produced by
    ``fail_next``/``garble_next`` rather than by the Jira emulation.
    """

    method: str
    path: str
    query: dict[str, str]
    raw_query: str
    headers: dict[str, str]
    body: Any
    raw_body: bytes
    status: int | None = None
    response_json: Any = None
    response_body: bytes = b""
    response_headers: dict[str, str] = field(default_factory=dict)
    injected: bool = False

    @property
    def has_authorization(self) -> bool:
        """Whether the request carried an ``Authorization`` header at all."""
        return any(name.lower() == "authorization" for name in self.headers)
