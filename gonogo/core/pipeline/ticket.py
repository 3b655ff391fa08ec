"""The ticket as Jira returns it (from the API or a JSON file of that shape), and the issue key grammar."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gonogo.core.errors import InputError

# The same bounds as a webhook delivery's key: up to 100 characters of project key and 18 digits.
# Anything longer is not a key, and is never sent to Jira.
PROJECT_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")
ISSUE_KEY = re.compile(rf"{PROJECT_KEY.pattern}-[1-9][0-9]{{0,17}}")
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
    # The options each select field's edit screen offers (`expand=editmeta`), by field id; a field
    # not listed has options nobody told us about (a ticket file), not none.
    edit_options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def project_key(self) -> str:
        return self.key.rsplit("-", 1)[0]

    @property
    def issue_type(self) -> str | None:
        name = _object(self.fields.get("issuetype")).get("name")
        return name if isinstance(name, str) else None


def ticket_from_rest(data: Any, *, origin: str) -> Ticket:
    """Build a Ticket from Jira's issue JSON; `origin` names where it came from, for the error."""
    if not isinstance(data, dict):
        raise InputError(f"{origin}: expected a Jira issue object, got {type(data).__name__}")
    key, fields, issue_id = data.get("key"), data.get("fields"), data.get("id")
    if not isinstance(key, str) or not ISSUE_KEY.fullmatch(key):
        raise InputError(f'{origin}: no issue "key" like "BID-42"; is this Jira\'s issue JSON?')
    if not isinstance(fields, dict):
        raise InputError(f'{origin}: no "fields" object; is this Jira\'s issue JSON?')
    return Ticket(
        key=key.upper(),
        id=str(issue_id) if isinstance(issue_id, (str, int)) else None,
        fields=fields,
        names={str(k): str(v) for k, v in _object(data.get("names")).items()},
        properties=_object(data.get("properties")),
        changelog=_object(data.get("changelog")),
        edit_options=_edit_options(data.get("editmeta")),
    )


def _object(value: Any) -> dict[str, Any]:
    """A JSON object of Jira's answer, or an empty one where it sent something else or nothing."""
    return value if isinstance(value, dict) else {}


def _edit_options(editmeta: Any) -> dict[str, tuple[str, ...]]:
    """Field id → the option texts its edit screen offers, for select fields (`allowedValues`)."""
    options: dict[str, tuple[str, ...]] = {}
    for field_id, meta in _object(_object(editmeta).get("fields")).items():
        allowed = _object(meta).get("allowedValues")
        if isinstance(allowed, list):
            values = [_object(item).get("value") for item in allowed]
            options[str(field_id)] = tuple(str(value) for value in values if isinstance(value, str))
    return options
