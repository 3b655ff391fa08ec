"""Where a ticket comes from on the command line: an issue key, a browse URL, or a JSON file of
Jira's issue representation (assessed offline, never posted)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from gonogo.core.errors import ConfigurationError, InputError
from gonogo.core.pipeline.ticket import ISSUE_KEY, Ticket, ticket_from_rest
from gonogo.core.text import clipped


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


TicketRef = str | Path  # an issue key, of a ticket to fetch from the configured Jira, or a ticket file


def parse_ticket_ref(text: str, *, jira_url: str | None) -> TicketRef:
    """Interpret the TICKET argument: an issue key, a Jira browse URL, or a JSON file path. A URL is
    accepted only for the configured site: credentials go to JIRA_URL, whatever a link names."""
    candidate = text.strip()
    if ISSUE_KEY.fullmatch(candidate):
        return candidate.upper()
    if candidate.startswith(("http://", "https://")):
        return _key_from_browse_url(candidate, jira_url)
    path = Path(candidate)
    if os.path.isfile(path):  # os.path's are False for a name unusable as a path (too long, ...)
        return path
    if path.suffix.lower() == ".json" or os.path.exists(path):
        raise InputError(
            f"{clipped(candidate)}: no such file; give an issue key, a browse URL or a .json file"
        )
    raise InputError(
        f"{clipped(candidate)!r} is not a ticket: give an issue key like BID-42, "
        "a URL like https://your-site.atlassian.net/browse/BID-42, or a path to a .json file"
    )


def _key_from_browse_url(url: str, jira_url: str | None) -> str:
    parts = urlsplit(url)
    match = re.search(r"/browse/([^/?#]+)", parts.path)
    if not match or not ISSUE_KEY.fullmatch(match.group(1)):
        raise InputError("that URL is not a Jira issue link: expected …/browse/KEY-123")
    if jira_url is None:
        raise ConfigurationError(
            "no site to match the link against: export JIRA_URL=https://your-site.atlassian.net "
            "(when JIRA_URL is the API gateway, set [jira] site_url to the site instead)"
        )
    if parts.netloc.lower() != urlsplit(jira_url).netloc.lower():
        raise InputError(
            f"that link points at {parts.hostname}, but JIRA_URL is {urlsplit(jira_url).hostname}: "
            "use a link from the configured site or change JIRA_URL"
        )
    return match.group(1).upper()
