"""A ticket's verdict history, kept in gonogo's issue property ("pointer"; Jira returns it with the ticket
and every search page, so reading it costs no request), and its latest change. An entry is added only
when the verdict or score changes, and MAX_ENTRIES bound it far below Jira's 32 KB limit."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from gonogo.core.jira_shapes.changelog import FieldChange, History
from gonogo.core.pipeline.proposal import Source
from gonogo.core.pipeline.verdict import Verdict
from gonogo.core.vocabulary import Vocabulary

HISTORY_KEY = "history"
MAX_ENTRIES = 20


@dataclass(frozen=True)
class HistoryEntry:
    on: date
    verdict: Verdict
    score: int | None

    def as_json(self) -> dict[str, Any]:
        return {"on": self.on.isoformat(), "verdict": self.verdict.value, "score": self.score}


@dataclass(frozen=True)
class Edit:
    """One field's edits between two checks: its first value, its last, and who changed it."""

    property: str
    field: str
    before: str | None  # None: free text, whose words the comment does not repeat
    after: str | None
    by: tuple[str, ...]  # display names, in the order they edited
    actor: str | None = None


@dataclass(frozen=True)
class VerdictChange:
    """The latest verdict change: the verdict before and the last day seen, the one after and its first
    day, and (where the change history is known) the edits to the rules' inputs in between."""

    before: Verdict
    before_on: date
    after: Verdict
    on: date
    edits: tuple[Edit, ...] = ()

    @property
    def by_estimates_alone(self) -> bool:
        """Only estimates and judgements were edited: the verdict moved because numbers were typed."""
        return bool(self.edits) and all(edit.actor == "estimate" for edit in self.edits)


def read_history(pointer: Any) -> tuple[HistoryEntry, ...]:
    """The entries in a pointer value, oldest first; anyone may edit it, so unreadable ones are skipped."""
    raw = pointer.get(HISTORY_KEY) if isinstance(pointer, Mapping) else None
    entries = map(_entry, raw[-MAX_ENTRIES:] if isinstance(raw, list) else ())
    return tuple(entry for entry in entries if entry is not None)


def with_entry(pointer: Mapping[str, Any], entry: HistoryEntry) -> dict[str, Any]:
    """The pointer with `entry` added when it is news, bounded; every other key of the pointer is kept."""
    history = extended(read_history(pointer), entry)
    return {**pointer, HISTORY_KEY: [item.as_json() for item in history[-MAX_ENTRIES:]]}


def extended(history: Sequence[HistoryEntry], current: HistoryEntry) -> tuple[HistoryEntry, ...]:
    """The history plus `current` when its verdict or score differs from the last entry's."""
    last = history[-1] if history else None
    if last and (last.verdict, last.score) == (current.verdict, current.score):
        return tuple(history)
    return (*history, current)


def latest_change(history: Sequence[HistoryEntry]) -> VerdictChange | None:
    """The most recent entry whose verdict differs from the one before it; None if it never changed."""
    for before, after in zip(reversed(history[:-1]), reversed(history[1:]), strict=True):
        if before.verdict is not after.verdict:
            return VerdictChange(before.verdict, before.on, after.verdict, after.on)
    return None


def change_with_edits(
    history: Sequence[HistoryEntry],
    today: HistoryEntry,
    histories: Iterable[History],
    *,
    sources: Mapping[str, Source],
    vocabulary: Vocabulary,
) -> VerdictChange | None:
    """The latest verdict change in the history plus today's check, with the edits behind it (less fields
    edited back to where they were); `sources`: the Jira field each property comes from (the proposal's)."""
    change = latest_change(extended(history, today))
    return None if change is None else replace(change, edits=_edits(change, histories, sources, vocabulary))


def _edits(
    change: VerdictChange, histories: Iterable[History], sources: Mapping[str, Source], vocabulary: Vocabulary
) -> tuple[Edit, ...]:
    specs = vocabulary.properties
    by_field: dict[str, Edit] = {}  # each field's first value before, last after, and its editors
    for who, prop, item in _changes_between_verdicts(change, histories, sources, specs):
        edit = by_field.get(prop) or Edit(
            prop, sources[prop].field_name, before=item.before, after="", by=(), actor=specs[prop].actor
        )
        editors = edit.by + ((who,) if who and who not in edit.by else ())  # each once, in order
        by_field[prop] = replace(edit, after=item.after, by=editors)
    # Free text: that it changed is news, its words are not.
    prose = {name for name, spec in specs.items() if spec.type == "string" and not spec.enum}
    changed = [edit for edit in by_field.values() if edit.before != edit.after]
    return tuple(replace(e, before=None, after=None) if e.property in prose else e for e in changed)


def _changes_between_verdicts(
    change: VerdictChange, histories: Iterable[History], sources: Mapping[str, Source], specs: Collection[str]
) -> Iterator[tuple[str | None, str, FieldChange]]:
    """The changes from the old verdict's last day to the new one's first to the properties' fields (by id
    or case-folded name), each with who made it and its property."""
    ids = {s.field_id: prop for prop, s in sources.items() if s.field_id and prop in specs}
    names = {s.field_name.casefold(): prop for prop, s in sources.items() if prop in specs}
    for entry in histories:
        if entry.created and change.before_on <= entry.created.date() <= change.on:
            who = (entry.author.name or None) if entry.author else None
            for item in entry.changes:
                if prop := ids.get(item.field_id or "") or names.get(item.field.casefold()):
                    yield who, prop, item


def verdict_on(history: Sequence[HistoryEntry], day: date) -> HistoryEntry | None:
    """The last entry made on or before `day` (the verdict in force that day), or None."""
    return next((entry for entry in reversed(history) if entry.on <= day), None)


def _entry(item: Any) -> HistoryEntry | None:
    if not isinstance(item, Mapping):
        return None
    try:
        on = date.fromisoformat(str(item.get("on")))
        verdict = Verdict(str(item.get("verdict")))
    except ValueError:
        return None
    score = item.get("score")
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        score = None
    return HistoryEntry(on=on, verdict=verdict, score=score)
