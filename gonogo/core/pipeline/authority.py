"""Who acted for the bid, when, and whether they may (waiver approvers, decision owners): a list of who
may act holds account ids, user names and `group:NAME` (an empty list: anyone)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from gonogo.core.jira_shapes import changelog
from gonogo.core.jira_shapes.changelog import History, LaterChange, Person
from gonogo.core.pipeline.ticket import Ticket

GROUP_PREFIX = "group:"

GroupMembers = Callable[[str], frozenset[str]]
"""A group name → the ids of its members (account ids, user names, keys), case-folded."""
Labelled = tuple[str, History | None]  # a label and the history entry that added it (None: not known)


def groups_in(entries: Sequence[str]) -> tuple[str, ...]:
    return tuple(e[len(GROUP_PREFIX) :] for e in entries if e.startswith(GROUP_PREFIX))


def may_act(person: Person | None, entries: Sequence[str], group_members: GroupMembers | None) -> bool:
    """Whether the person is on the list; groups are asked only when the person is not named outright.
    Data Center user names ignore case, so ids are compared case-folded."""
    if not entries:
        return True
    if person is None:
        return False
    ids = {i.casefold() for i in person.ids}
    if ids & {e.casefold() for e in entries if not e.startswith(GROUP_PREFIX)}:
        return True
    return group_members is not None and any(ids & group_members(group) for group in groups_in(entries))


def named(entries: Sequence[str], histories: Iterable[History]) -> tuple[str, ...]:
    """The list as a reader knows it: the display name the change history gives an id, else the id;
    `group:NAME` entries as they are. No request: only names the history already carries."""
    people = [h.author for h in histories if h.author is not None]
    names = {i.casefold(): person.name for person in people if person.name for i in person.ids}
    return tuple(e if e.startswith(GROUP_PREFIX) else names.get(e.casefold(), e) for e in entries)


def at_creation(ticket: Ticket) -> History | None:
    """The issue's creation, when the change history is whole: what set a value no entry changed."""
    return changelog.creation(ticket.fields) if changelog.is_complete(ticket.changelog) else None


def labels_with_origin(ticket: Ticket, histories: Iterable[History]) -> list[Labelled]:
    """The ticket's labels, each with who added it and when (the creation, for one no entry added)."""
    labels = ticket.fields.get("labels")
    if not isinstance(labels, list):
        return []
    added, created = changelog.labels_added(histories), at_creation(ticket)
    return [(label, added.get(label.casefold(), created)) for label in labels if isinstance(label, str)]


def change_after(
    histories: Iterable[History], moment: datetime, fields: Mapping[str, str], *, latest: bool = False
) -> LaterChange | None:
    """The first (with `latest`, the last) change after `moment` to one of the fields (id → display name)."""
    ids, names = set(fields), {name.casefold() for name in fields.values()}
    found = changelog.changes_to(histories, field_ids=ids, field_names=names, after=moment)
    if not found:
        return None
    history, change = found[-1] if latest else found[0]
    on = history.created or moment  # always dated: an undated entry never comes after a moment
    return LaterChange(change.field, history.author.name if history.author else None, on.date())
