"""The verdict comment: its format (ADF on Cloud over REST v3, wiki markup on Data Center over v2,
decided from the configuration alone: no `serverInfo` round-trip, see `JiraSettings.comment_format`),
its body, what publishing did."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit


class CommentFormat(StrEnum):
    """A comment's format, named as `--format` names it."""

    WIKI = "jira"  # Jira wiki markup, REST v2
    ADF = "adf"  # Atlassian Document Format, REST v3

    @property
    def api_version(self) -> int:
        return 3 if self is CommentFormat.ADF else 2


@dataclass(frozen=True)
class CommentBody:
    """A rendered comment in one format: a wiki string or an ADF document."""

    format: CommentFormat
    content: str | dict[str, Any]

    def redacted(self, redact: Callable[[str], str]) -> CommentBody:
        """The same comment with `redact` applied to its text: the wiki string, or every ADF text node."""
        if isinstance(self.content, str):
            return CommentBody(self.format, redact(self.content))
        document = copy.deepcopy(self.content)
        pending = [document]
        while pending:
            node = pending.pop()
            if node.get("type") == "text" and isinstance(node.get("text"), str):
                node["text"] = redact(node["text"])
            pending.extend(child for child in node.get("content", ()) if isinstance(child, dict))
        return CommentBody(self.format, document)

    def printable(self) -> str:
        """What `--format` and `--dry-run` print: the wiki text, or the ADF document as JSON."""
        if isinstance(self.content, str):
            return self.content
        return json.dumps(self.content, indent=2, ensure_ascii=False) + "\n"


def is_cloud_host(url: str | None) -> bool:
    """A host of Jira Cloud's own domains: Cloud whatever serverInfo would say."""
    return (urlsplit(url or "").hostname or "").lower().endswith((".atlassian.net", ".jira.com"))


class CommentAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    RECREATED = "recreated"
    UNCHANGED = "unchanged"  # the comment, pointer and label would be identical: nothing was written


@dataclass(frozen=True)
class Publication:
    action: CommentAction
    comment_id: str
    removed: tuple[str, ...] = ()  # duplicate gonogo comments deleted by this run
