"""The verdict as a label (`gonogo-no-go`) for JQL, boards and Automation: exactly one of gonogo's,
written with `add`/`remove` operations, which leave every other label alone (unlike `set`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gonogo.core.pipeline.verdict import Verdict

DEFAULT_LABEL_PREFIX = "gonogo-"


@dataclass(frozen=True)
class LabelChange:
    """Labels to add and to remove in one issue edit; empty (falsy) when nothing changes."""

    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.add or self.remove)

    def operations(self) -> list[dict[str, str]]:
        return [{"add": label} for label in self.add] + [{"remove": label} for label in self.remove]


NO_LABEL_CHANGE = LabelChange()


def verdict_labels(prefix: str) -> frozenset[str]:
    """Every label gonogo may write with this prefix; none when labels are off (prefix "")."""
    return frozenset(f"{prefix}{verdict.value}" for verdict in Verdict) if prefix else frozenset()


def label_change(current: Any, *, verdict: str, prefix: str) -> LabelChange:
    """What turns the ticket's `labels` into "exactly one verdict label, this verdict's"."""
    if not prefix:
        return NO_LABEL_CHANGE
    present = [label for label in current if isinstance(label, str)] if isinstance(current, list) else []
    wanted = f"{prefix}{verdict}"
    ours = verdict_labels(prefix)
    return LabelChange(
        add=() if wanted in present else (wanted,),
        remove=tuple(sorted({label for label in present if label in ours and label != wanted})),
    )
