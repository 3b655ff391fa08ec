"""A ticket's verdict history, kept in gonogo's issue property ("pointer") under its own key.

Why in the pointer: Jira returns the property with the ticket (`GET issue`) and with every search
page, so reading the history costs no request, and it is written in the same request that writes
the pointer. An entry is the check's date, verdict and score; a new one is added only when the
verdict or the score differs from the last, and only the last MAX_ENTRIES are kept, so the property
stays near 1 KB, far below Jira's 32 KB limit for an entity property. Pure: no Jira, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from gonogo.core.verdict import Verdict

HISTORY_KEY = "history"
MAX_ENTRIES = 20


@dataclass(frozen=True)
class HistoryEntry:
    """What a check concluded on a day."""

    on: date
    verdict: Verdict
    score: int | None

    def as_json(self) -> dict[str, Any]:
        return {"on": self.on.isoformat(), "verdict": self.verdict.value, "score": self.score}


@dataclass(frozen=True)
class Change:
    """The latest verdict change in a history: from what, to what, and on which day."""

    before: Verdict
    after: Verdict
    on: date


def read_history(pointer: Any) -> tuple[HistoryEntry, ...]:
    """The entries stored in a pointer value, oldest first; anything unreadable is left out.

    The property is written by older gonogo versions too (no history) and can be edited by anyone
    with the right permission, so a malformed entry is skipped instead of failing the check.
    """
    raw = pointer.get(HISTORY_KEY) if isinstance(pointer, Mapping) else None
    if not isinstance(raw, list):
        return ()
    entries = (_entry(item) for item in raw[-MAX_ENTRIES:])
    return tuple(entry for entry in entries if entry is not None)


def needs_entry(history: Sequence[HistoryEntry], entry: HistoryEntry) -> bool:
    """True when `entry` says something the last entry does not (another verdict or score)."""
    if not history:
        return True
    last = history[-1]
    return (last.verdict, last.score) != (entry.verdict, entry.score)


def with_entry(pointer: Mapping[str, Any], entry: HistoryEntry) -> dict[str, Any]:
    """The pointer value with `entry` added to its history (when it is news), bounded to MAX_ENTRIES.

    Every other key of the pointer is kept as it is: other features store their own keys there.
    """
    history = list(read_history(pointer))
    if needs_entry(history, entry):
        history.append(entry)
    return {**pointer, HISTORY_KEY: [item.as_json() for item in history[-MAX_ENTRIES:]]}


def extended(history: Sequence[HistoryEntry], current: HistoryEntry | None) -> tuple[HistoryEntry, ...]:
    """The stored history plus today's verdict when it is news (a report that posts nothing)."""
    if current is None or not needs_entry(history, current):
        return tuple(history)
    return (*history, current)


def last_change(history: Sequence[HistoryEntry]) -> Change | None:
    """The most recent entry whose verdict differs from the one before it; None if it never changed."""
    for before, after in zip(reversed(history[:-1]), reversed(history[1:]), strict=True):
        if before.verdict is not after.verdict:
            return Change(before.verdict, after.verdict, after.on)
    return None


def verdict_on(history: Sequence[HistoryEntry], day: date) -> HistoryEntry | None:
    """The last entry made on or before `day` (the verdict in force that day), or None."""
    found = None
    for entry in history:
        if entry.on <= day:
            found = entry
    return found


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
