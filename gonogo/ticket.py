"""The ticket as Jira returns it, and the ways a user can name one on the command line.

A `Ticket` is the REST issue representation (`GET /rest/api/2/issue/KEY?expand=names`) reduced to
what gonogo reads. It is built from a Jira response or from a JSON file holding the same shape, so
both paths meet here and everything after is the same.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gonogo.errors import ConfigurationError, InputError

# The same bounds as a webhook delivery's key: up to 100 characters of project key and 18 digits.
# Anything longer is not a key, and is never sent to Jira.
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}-[1-9][0-9]{0,17}")
CUSTOM_FIELD_ID = re.compile(r"customfield_\d+")


@dataclass(frozen=True)
class Ticket:
    """One Jira issue: identity, raw field values by field id, and the id → display-name map."""

    key: str
    id: str | None
    fields: Mapping[str, Any]
    names: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[str, Any] = field(default_factory=dict)
    changelog: Mapping[str, Any] = field(default_factory=dict)

    @property
    def project_key(self) -> str:
        return self.key.rsplit("-", 1)[0]

    @property
    def issue_type(self) -> str | None:
        issue_type = self.fields.get("issuetype")
        if isinstance(issue_type, dict) and isinstance(issue_type.get("name"), str):
            return str(issue_type["name"])
        return None


def ticket_from_rest(data: Any, *, origin: str) -> Ticket:
    """Build a Ticket from Jira's issue JSON; `origin` names where it came from, for the error."""
    if not isinstance(data, dict):
        raise InputError(f"{origin}: expected a Jira issue object, got {type(data).__name__}")
    key = data.get("key")
    fields = data.get("fields")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InputError(f'{origin}: no issue "key" like "BID-42"; is this Jira\'s issue JSON?')
    if not isinstance(fields, dict):
        raise InputError(f'{origin}: no "fields" object; is this Jira\'s issue JSON?')
    names = data.get("names") if isinstance(data.get("names"), dict) else {}
    properties = data.get("properties") if isinstance(data.get("properties"), dict) else {}
    issue_id = data.get("id")
    changelog = data.get("changelog") if isinstance(data.get("changelog"), dict) else {}
    return Ticket(
        key=key.upper(),
        id=str(issue_id) if isinstance(issue_id, (str, int)) else None,
        fields=fields,
        names={str(k): str(v) for k, v in (names or {}).items()},
        properties=properties or {},
        changelog=changelog or {},
    )


def load_ticket_file(path: Path) -> Ticket:
    """Read a ticket JSON file; any problem is an InputError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror or exc.__class__.__name__})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; save the Jira issue JSON as UTF-8") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return ticket_from_rest(data, origin=str(path))


@dataclass(frozen=True)
class IssueKeyRef:
    """A ticket to fetch from the configured Jira."""

    key: str


@dataclass(frozen=True)
class TicketFileRef:
    """A ticket saved as JSON: assessed offline, never posted."""

    path: Path


TicketRef = IssueKeyRef | TicketFileRef


def parse_ticket_ref(text: str, *, jira_url: str | None) -> TicketRef:
    """Interpret the TICKET argument: an issue key, a Jira browse URL, or a JSON file path.

    A URL is accepted only for the configured Jira site: credentials go to JIRA_URL and nowhere
    else, whatever host a pasted link names.
    """
    candidate = text.strip()
    if _KEY.fullmatch(candidate):
        return IssueKeyRef(candidate.upper())
    if candidate.startswith(("http://", "https://")):
        return IssueKeyRef(_key_from_browse_url(candidate, jira_url))
    path = Path(candidate)
    try:
        is_file = path.is_file()
        exists = is_file or path.exists()
    except OSError:  # a name too long for the file system, or otherwise unusable as a path
        is_file = exists = False
    if path.suffix.lower() == ".json" or exists:
        if not is_file:
            raise InputError(
                f"{shorten(candidate)}: no such file; give an issue key, a browse URL or a .json file"
            )
        return TicketFileRef(path)
    raise InputError(
        f"{shorten(candidate)!r} is not a ticket: give an issue key like BID-42, "
        "a URL like https://your-site.atlassian.net/browse/BID-42, or a path to a .json file"
    )


def shorten(text: str, limit: int = 60) -> str:
    """What a message may quote of something the user typed: a 5,000-character argument is cut."""
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


def _key_from_browse_url(url: str, jira_url: str | None) -> str:
    parts = urlsplit(url)
    match = re.search(r"/browse/([^/?#]+)", parts.path)
    if not match or not _KEY.fullmatch(match.group(1)):
        raise InputError("that URL is not a Jira issue link: expected …/browse/KEY-123")
    if jira_url is None:
        raise ConfigurationError("JIRA_URL is not set: export JIRA_URL to the site the link points at")
    if parts.netloc.lower() != urlsplit(jira_url).netloc.lower():
        raise InputError(
            f"that link points at {parts.hostname}, but JIRA_URL is {urlsplit(jira_url).hostname}: "
            "use a link from the configured site or change JIRA_URL"
        )
    return match.group(1).upper()
