"""Jira's change history of one issue, which waivers and decisions rest on: who changed which field, when.
Cloud names people and fields by id, Data Center by user name and display name, so both are kept; a
comment's author and `GET myself` are the same user object as a change's author: one reader serves all."""

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
    field: str
    field_id: str | None  # only on Cloud
    before: str
    after: str


@dataclass(frozen=True)
class History:
    """One history entry: a person changing fields at one moment (none for the ticket's creation)."""

    author: Person | None
    created: datetime | None
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class LaterChange:
    """A change, after a judgement, to a field it rests on: a waiver lapses, a decision is on older facts."""

    field: str
    by: str | None
    on: date


def read_histories(changelog: Mapping[str, Any]) -> tuple[History, ...]:
    """The histories in a changelog object, oldest first; entries Jira did not shape right are skipped."""
    raw = changelog.get("histories")
    entries = [_history(item) for item in raw if isinstance(item, dict)] if isinstance(raw, list) else []
    return tuple(sorted(entries, key=lambda h: (h.created is None, h.created or datetime.min)))


def changelog_is_complete(changelog: Mapping[str, Any]) -> bool:
    """Whether a changelog holds every entry: Jira sends only the most recent ones and their `total`,
    which must be there (unlike `is_complete`, for ticket files)."""
    total = changelog.get("total")
    whole = is_complete(changelog) and not changelog.get("startAt")
    return whole and isinstance(total, int) and not isinstance(total, bool)


def is_complete(changelog: Mapping[str, Any]) -> bool:
    """Whether the changelog is whole (one without `total` counts): only then a label dates from creation."""
    raw, total = changelog.get("histories"), changelog.get("total")
    return isinstance(raw, list) and (not isinstance(total, int) or total <= len(raw))


def labels_added(histories: Iterable[History]) -> dict[str, History]:
    """Each label (case-folded) with the most recent history entry that added it."""
    added: dict[str, History] = {}
    for history, change in changes_to(histories, field_ids={"labels"}, field_names={"labels"}):
        before = {label.casefold() for label in change.before.split()}
        for label in change.after.split():
            if label.casefold() not in before:
                added[label.casefold()] = history
    return added


def creation(fields: Mapping[str, Any]) -> History | None:
    """The issue's creation as a history entry: a label set at creation leaves no changelog entry."""
    person = _person(fields.get("creator")) or _person(fields.get("reporter"))
    created = _time(fields.get("created"))
    return History(person, created, ()) if person is not None or created is not None else None


def changes_to(
    histories: Iterable[History], *, field_ids: set[str], field_names: set[str], after: datetime | None = None
) -> list[tuple[History, FieldChange]]:
    """The changes to one of the fields (by id, or by case-folded display name) in the histories' order
    (oldest first, as read), with `after` only those of entries after that moment."""
    return [
        (history, change)
        for history in histories
        if after is None or (history.created is not None and history.created > after)
        for change in history.changes
        if change.field_id in field_ids or change.field.casefold() in field_names
    ]


def _history(item: Mapping[str, Any]) -> History:
    items = item.get("items")
    return History(
        author=_person(item.get("author")),
        created=_time(item.get("created")),
        changes=tuple(
            FieldChange(
                field=str(c.get("field") or ""),
                field_id=c["fieldId"] if isinstance(c.get("fieldId"), str) else None,
                before=str(c.get("fromString") or ""),
                after=str(c.get("toString") or ""),
            )
            for c in (items if isinstance(items, list) else ())
            if isinstance(c, dict)
        ),
    )


def _named(user: Any) -> list[tuple[str, str]]:
    """A user object's ids: account id (Cloud), user name and key (Data Center)."""
    keys = ("accountId", "name", "key") if isinstance(user, dict) else ()
    return [(k, user[k]) for k in keys if isinstance(user.get(k), str) and user[k]]


def user_ids(user: Any) -> frozenset[str]:
    return frozenset(value for _, value in _named(user))


def account_key(user: Any) -> str | None:
    """ "accountId:…", "name:…" or "key:…", to compare a comment's author with gonogo's own account."""
    return next((f"{k}:{value}" for k, value in _named(user)), None)


def _person(raw: Any) -> Person | None:
    if not isinstance(raw, dict):
        return None
    name = raw.get("displayName")
    return Person(name=name if isinstance(name, str) else None, ids=user_ids(raw))


def _time(raw: Any) -> datetime | None:
    """Jira's `2026-11-18T15:02:00.000+0000`; None when absent, not a time or without a zone."""
    try:
        moment = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None
