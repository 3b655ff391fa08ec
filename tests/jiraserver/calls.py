"""Request/answer plumbing shared by the endpoint functions.

Endpoints receive a ``Call`` (the parsed request plus the server state they may
touch) and return a ``Reply`` or raise ``JiraHttpError``; the WSGI layer turns
both into bytes. Keeping HTTP details here lets endpoints read like Jira's docs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from werkzeug.wrappers import Request

from .model import Deployment, JiraUser
from .shapes import View, error_collection
from .store import JiraStore

BasicAuth = tuple[Literal["basic"], str, str]
BearerAuth = tuple[Literal["bearer"], str]
AuthConfig = BasicAuth | BearerAuth | None


@dataclass(frozen=True)
class Settings:
    """How this server instance behaves; fixed for its lifetime."""

    deployment: Deployment
    auth: AuthConfig
    user: JiraUser
    comment_page_cap: int
    search_page_cap: int
    text_limit: int
    build_date: datetime
    changelog_cap: int | None = None  # most recent changelog entries an issue or search shows
    comment_permission: Literal["own", "all"] = "own"  # Edit/Delete Own Comments, or All Comments
    cloud_id: str | None = None  # served only through the API gateway's /ex/jira/{cloud_id} (scoped tokens)
    search_is_last: bool = True  # whether search/jql pages carry `isLast` (optional in the schema)
    administer: bool = True  # the account has Administer Jira (admin webhooks)

    @property
    def gateway_prefix(self) -> str:
        """The path the REST API is served under: "" on the site, `/ex/jira/{id}` via the gateway."""
        return f"/ex/jira/{self.cloud_id}" if self.cloud_id else ""


class JiraHttpError(Exception):
    """An error answer in Jira's ErrorCollection shape."""

    def __init__(
        self,
        status: int,
        messages: list[str] | None = None,
        errors: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status}: {messages or errors}")
        self.status = status
        self.messages = list(messages or [])
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})

    def reply(self) -> Reply:
        """The answer this error stands for."""
        return Reply(self.status, error_collection(self.messages, self.errors), self.headers)


@dataclass
class Reply:
    """An answer: ``payload`` is serialised as JSON unless it is None (no body)."""

    status: int
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    """One authenticated request as the endpoints see it."""

    request: Request
    view: View
    settings: Settings
    store: JiraStore
    raw_body: bytes

    def args(self, name: str) -> list[str] | None:
        """A list parameter (repeated and/or comma-separated); None when absent."""
        values = self.request.args.getlist(name)
        if not values:
            return None
        return split_tokens(values)

    def tokens(self, name: str) -> list[str]:
        """A list parameter, empty when absent."""
        return self.args(name) or []

    def text(self, name: str) -> str | None:
        """A single query parameter."""
        return self.request.args.get(name)

    def integer(self, name: str, default: int) -> int:
        """A non-negative integer parameter; Jira answers 400 to anything else."""
        raw = self.request.args.get(name)
        return parse_count(name, raw, default)

    def flag(self, name: str) -> bool:
        """A boolean query parameter (``true``/``false``)."""
        return (self.request.args.get(name) or "").lower() == "true"

    def expand(self) -> frozenset[str]:
        """The ``expand`` parameter as a set of names."""
        return frozenset(self.tokens("expand"))

    def json(self) -> Any:
        """The request body as JSON; a missing or broken body is Jira's 400."""
        if not self.raw_body.strip():
            raise JiraHttpError(400, ["No content to map to Object due to end of input"])
        try:
            return json.loads(self.raw_body)
        except ValueError as error:
            raise JiraHttpError(400, [f"Unexpected character in request body: {error}"]) from None

    def json_object(self) -> dict[str, Any]:
        """The request body, which must be a JSON object."""
        body = self.json()
        if not isinstance(body, dict):
            raise JiraHttpError(400, ["Can not deserialize instance out of non-object token"])
        return body


def split_tokens(values: list[Any]) -> list[str]:
    """Flatten ``["a,b", "c"]`` into ``["a", "b", "c"]``, ignoring blanks and nulls."""
    return [
        part.strip()
        for value in values
        if value is not None
        for part in str(value).split(",")
        if part.strip()
    ]


def parse_count(name: str, raw: Any, default: int) -> int:
    """Parse a paging number; negative or non-numeric values are Jira's 400."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise JiraHttpError(400, [f"The '{name}' parameter must be a number."]) from None
    if value < 0:
        raise JiraHttpError(400, [f"The '{name}' parameter must not be negative."])
    return value
