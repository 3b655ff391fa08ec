"""Jira's change history of one issue, as typed data: who changed which field, and when.

Waivers and decisions rest on it (who added a label, what changed since). Cloud names people and
fields by id, Data Center by user name and display name, so both are kept. A comment's author and
`GET myself` are the same user object as a change's author.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Person:
    """Who made a change: the display name to show, and every id Jira gave (account id, name, key)."""

    name: str | None
    ids: frozenset[str]


@dataclass(frozen=True)
class FieldChange:
    """One field's change within a history entry; `field_id` only on Cloud."""

    field: str
    field_id: str | None
    before: str
    after: str


@dataclass(frozen=True)
class History:
    """One history entry: a person changing one or more fields at one moment."""

    author: Person | None
    created: datetime | None
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class LaterChange:
    """A change, after a judgement, to a field it rests on: a waiver lapses, a decision is on older facts."""

    field: str
    by: str | None
    on: date


@dataclass(frozen=True)
class LabelAdded:
    """When a label was (last) added, and by whom."""

    by: Person | None
    on: datetime | None


def read_histories(changelog: Mapping[str, Any]) -> tuple[History, ...]:
    """The histories in a changelog object, oldest first; entries Jira did not shape right are skipped."""
    raw = changelog.get("histories") if isinstance(changelog, Mapping) else None
    entries = [_history(item) for item in raw if isinstance(item, dict)] if isinstance(raw, list) else []
    return tuple(sorted(entries, key=lambda h: (h.created is None, h.created or datetime.min)))


def changelog_is_complete(changelog: Mapping[str, Any]) -> bool:
    """Whether a changelog holds every entry. Jira sends only the most recent ones ("recent updates
    ... starting from the most recent") and says how many there are in `total`."""
    histories = changelog.get("histories") if isinstance(changelog, Mapping) else None
    total = changelog.get("total") if isinstance(changelog, Mapping) else None
    return (
        isinstance(histories, list)
        and isinstance(total, int)
        and not isinstance(total, bool)
        and total <= len(histories)
        and not changelog.get("startAt")
    )


def labels_added(histories: Iterable[History]) -> dict[str, LabelAdded]:
    """Each label (case-folded) with the most recent history entry that added it."""
    added: dict[str, LabelAdded] = {}
    for history in histories:
        for change in history.changes:
            if change.field_id != "labels" and change.field.casefold() != "labels":
                continue
            before = {label.casefold() for label in change.before.split()}
            for label in change.after.split():
                if label.casefold() not in before:
                    added[label.casefold()] = LabelAdded(history.author, history.created)
    return added


def is_complete(changelog: Mapping[str, Any]) -> bool:
    """Whether the changelog is whole (Jira pages long ones): only then can a label be known to date from
    creation."""
    raw = changelog.get("histories") if isinstance(changelog, Mapping) else None
    if not isinstance(raw, list):
        return False
    total = changelog.get("total")
    return not isinstance(total, int) or total <= len(raw)


def creation(fields: Mapping[str, Any]) -> LabelAdded | None:
    """The issue's creation as a label addition: a label set at creation leaves no changelog entry."""
    person = _person(fields.get("creator")) or _person(fields.get("reporter"))
    created = _time(fields.get("created"))
    return LabelAdded(person, created) if person is not None or created is not None else None


def first_change_after(
    histories: Iterable[History], moment: datetime, *, field_ids: set[str], field_names: set[str]
) -> tuple[History, FieldChange] | None:
    """The earliest change after `moment` to one of the fields (by id, or by case-folded display name)."""
    for history in histories:
        if history.created is None or history.created <= moment:
            continue
        for change in history.changes:
            if change.field_id in field_ids or change.field.casefold() in field_names:
                return history, change
    return None


def last_change(
    histories: Iterable[History],
    *,
    field_ids: set[str],
    field_names: set[str],
    after: datetime | None = None,
) -> tuple[History, FieldChange] | None:
    """The latest change to one of the fields (by id or case-folded name), optionally only after `after`."""
    found = None
    for history in histories:
        if after is not None and (history.created is None or history.created <= after):
            continue
        for change in history.changes:
            if change.field_id in field_ids or change.field.casefold() in field_names:
                found = (history, change)
    return found


def _history(item: Mapping[str, Any]) -> History:
    items = item.get("items")
    return History(
        author=_person(item.get("author")),
        created=_time(item.get("created")),
        changes=tuple(_change(c) for c in items if isinstance(c, dict)) if isinstance(items, list) else (),
    )


def user_ids(user: Any) -> frozenset[str]:
    """Every id a Jira user object gives: account id (Cloud), user name and key (Data Center)."""
    if not isinstance(user, dict):
        return frozenset()
    return frozenset(
        user[k] for k in ("accountId", "name", "key") if isinstance(user.get(k), str) and user[k]
    )


def account_key(user: Any) -> str | None:
    """ "accountId:…", "name:…" or "key:…" for a user object, to compare a comment's author with
    gonogo's own account; None when it names nobody."""
    if not isinstance(user, dict):
        return None
    named = (
        f"{k}:{user[k]}" for k in ("accountId", "name", "key") if isinstance(user.get(k), str) and user[k]
    )
    return next(named, None)


def _person(raw: Any) -> Person | None:
    if not isinstance(raw, dict):
        return None
    name = raw.get("displayName")
    return Person(name=name if isinstance(name, str) else None, ids=user_ids(raw))


def _change(raw: Mapping[str, Any]) -> FieldChange:
    field_id = raw.get("fieldId")
    return FieldChange(
        field=str(raw.get("field") or ""),
        field_id=field_id if isinstance(field_id, str) else None,
        before=str(raw.get("fromString") or ""),
        after=str(raw.get("toString") or ""),
    )


def _time(raw: Any) -> datetime | None:
    """Jira's `2026-11-18T15:02:00.000+0000`; None when absent or not a time."""
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            return None
    return moment if moment.tzinfo is not None else None
