"""Tickets built by property name: `issue(budget=0, liability="Unlimited")` says what the bid is,
where `{"customfield_10101": 0, "customfield_10110": {"value": "Unlimited"}}` says how Jira stores it.

A property reaches its Jira field the way gonogo finds it on a site: the bundled vocabulary's default
field name, looked up in the ticket's `names`. Values are what a person picks or types in Jira: a
select list's choice becomes an option; None empties the field; anything else (a number, a date,
text, a list, a user or option dict) is stored as given. Jira fields no property reads (labels,
environment) go by their id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from support import EXAMPLES

from gonogo.sources.resources import bundled_vocabulary


def field_id(names: Mapping[str, str], prop: str) -> str:
    """The Jira field that holds `prop` on a ticket whose field names are `names`."""
    spec = bundled_vocabulary().properties.get(prop)
    if spec is None:  # a Jira field no property reads, by its id: labels, environment
        return prop
    if spec.default_field is None:
        raise ValueError(f"{prop} is derived: set {', '.join(spec.derived_from)} instead")
    if spec.default_field in names:  # a system field: summary, description
        return spec.default_field
    wanted = spec.default_field.casefold()
    found = [fid for fid, name in names.items() if name.casefold() == wanted]
    if len(found) != 1:
        raise KeyError(f"{len(found)} fields are named {spec.default_field!r} (for {prop})")
    return found[0]


def jira_value(prop: str, value: Any) -> Any:
    """`value` as Jira holds it in the field of `prop`."""
    spec = bundled_vocabulary().properties.get(prop)
    if spec is None:
        return value
    return {"value": value} if spec.enum and isinstance(value, str) else value


def fields(names: Mapping[str, str], **properties: Any) -> dict[str, Any]:
    """Jira field id -> value for these properties (for an issue's fields or a change of them)."""
    return {field_id(names, prop): jira_value(prop, value) for prop, value in properties.items()}


def issue(example: str = "healthy", **properties: Any) -> dict[str, Any]:
    """The bundled example's issue JSON (as Jira answers with `expand=names`), these properties set."""
    data: dict[str, Any] = json.loads((EXAMPLES / f"{example}.json").read_text())
    data["fields"].update(fields(data["names"], **properties))
    return data


def with_properties(data: dict[str, Any], **properties: Any) -> dict[str, Any]:
    """A copy of an issue JSON with these properties set."""
    changed: dict[str, Any] = json.loads(json.dumps(data))
    changed["fields"].update(fields(changed["names"], **properties))
    return changed


def issue_file(folder: Path, example: str = "healthy", **properties: Any) -> Path:
    """`issue(...)` written as a ticket file into `folder`."""
    path = folder / "ticket.json"
    path.write_text(json.dumps(issue(example, **properties)))
    return path
