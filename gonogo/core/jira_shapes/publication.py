"""What happened to a ticket's verdict comment: created, updated, recreated or left unchanged."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class CommentAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    RECREATED = "recreated"
    UNCHANGED = "unchanged"  # the comment, pointer and label would be identical: nothing was written


@dataclass(frozen=True)
class Publication:
    action: CommentAction
    comment_id: str
    removed: tuple[str, ...] = field(default=())  # duplicate gonogo comments deleted by this run
