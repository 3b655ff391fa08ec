"""Who may act for the bid (waiver approvers, decision owners): account ids, user names, `group:NAME`.

An empty list means anyone may act. Group membership comes in as a function, asked once per group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from gonogo.core.jira_shapes.changelog import History, Person

GROUP_PREFIX = "group:"

GroupMembers = Callable[[str], frozenset[str]]
"""A group name → the ids of its members (account ids, user names, keys), case-folded."""


def groups_in(entries: Sequence[str]) -> tuple[str, ...]:
    """The Jira groups named as `group:NAME`."""
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
    return tuple(
        entry if entry.startswith(GROUP_PREFIX) else names.get(entry.casefold(), entry) for entry in entries
    )
