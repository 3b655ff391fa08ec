"""The test server's in-memory Jira data, shared by the HTTP threads and the test thread.

Every public method takes the re-entrant ``lock``; the HTTP layer also holds it
for a whole request so that a response is rendered from one consistent state.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from .model import JiraUser, StoredComment, StoredIssue

DEFAULT_RICH_TEXT_FIELDS = frozenset({"description", "environment"})
"""Fields Jira holds as rich text: wiki strings in REST v2, ADF documents in v3."""


class JiraStore:
    """Issues, comments and entity properties, with Jira-like numeric ids."""

    def __init__(self, *, now: datetime) -> None:
        self.lock = threading.RLock()
        self._now = now
        self._issues: dict[str, StoredIssue] = {}
        self._ids_by_key: dict[str, str] = {}
        self._next_issue_id = 10000
        self._next_comment_id = 10000
        # How the site is set up (what `editmeta` and `mypermissions` answer), set by tests.
        self.field_options: dict[str, list[str]] = {}
        self.off_edit_screen: set[str] = set()
        self.denied_permissions: set[str] = set()

    @property
    def now(self) -> datetime:
        """The fake clock: every created/updated time the server writes."""
        with self.lock:
            return self._now

    @now.setter
    def now(self, value: datetime) -> None:
        with self.lock:
            self._now = value

    def add_issue(
        self,
        key: str,
        fields: Mapping[str, Any],
        *,
        names: Mapping[str, str] | None,
        issue_id: str | None,
        rich_text: Iterable[str] | None,
    ) -> StoredIssue:
        """Store a new issue; a duplicate key or id is a mistake in the test."""
        with self.lock:
            if key.upper() in self._ids_by_key:
                raise ValueError(f"issue {key} already exists")
            new_id = issue_id if issue_id is not None else self._allocate_issue_id()
            if new_id in self._issues:
                raise ValueError(f"issue id {new_id} already exists")
            if new_id.isdigit():
                self._next_issue_id = max(self._next_issue_id, int(new_id) + 1)
            issue = StoredIssue(
                id=new_id,
                key=key,
                fields=copy.deepcopy(dict(fields)),
                names=dict(names or {}),
                rich_text=frozenset(rich_text if rich_text is not None else DEFAULT_RICH_TEXT_FIELDS),
            )
            self._issues[new_id] = issue
            self._ids_by_key[key.upper()] = new_id
            return issue

    def _allocate_issue_id(self) -> str:
        while str(self._next_issue_id) in self._issues:
            self._next_issue_id += 1
        allocated = str(self._next_issue_id)
        self._next_issue_id += 1
        return allocated

    def issue(self, id_or_key: str) -> StoredIssue | None:
        """Find an issue by numeric id or (case-insensitively) by key, as Jira does."""
        with self.lock:
            if id_or_key in self._issues:
                return self._issues[id_or_key]
            issue_id = self._ids_by_key.get(id_or_key.upper())
            return self._issues.get(issue_id) if issue_id is not None else None

    def issues(self) -> list[StoredIssue]:
        """All issues in the order the test added them."""
        with self.lock:
            return list(self._issues.values())

    def add_comment(
        self,
        issue: StoredIssue,
        body: str,
        *,
        author: JiraUser,
        properties: Mapping[str, Any] | None = None,
        visibility: Mapping[str, Any] | None = None,
        created: datetime | None = None,
    ) -> StoredComment:
        """Append a comment, stamped with the fake clock unless ``created`` is given."""
        with self.lock:
            stamp = created if created is not None else self._now
            comment = StoredComment(
                id=str(self._next_comment_id),
                issue_id=issue.id,
                body=body,
                author=author,
                update_author=author,
                created=stamp,
                updated=stamp,
                properties=copy.deepcopy(dict(properties or {})),
                visibility=copy.deepcopy(dict(visibility)) if visibility else None,
            )
            self._next_comment_id += 1
            issue.comments.append(comment)
            return comment

    def comment(self, comment_id: str) -> StoredComment | None:
        """Find a comment by id across all issues (comment ids are global in Jira)."""
        with self.lock:
            for issue in self._issues.values():
                for comment in issue.comments:
                    if comment.id == comment_id:
                        return comment
            return None

    def edit_comment(
        self,
        comment: StoredComment,
        *,
        body: str | None,
        editor: JiraUser,
        visibility: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        """Change a comment's body/visibility/properties and stamp the edit."""
        with self.lock:
            if body is not None:
                comment.body = body
            if visibility is not None:
                comment.visibility = copy.deepcopy(dict(visibility))
            if properties:
                comment.properties.update(copy.deepcopy(dict(properties)))
            comment.update_author = editor
            comment.updated = self._now

    def delete_comment(self, comment: StoredComment) -> None:
        """Remove a comment; later look-ups answer 404."""
        with self.lock:
            issue = self._issues[comment.issue_id]
            issue.comments = [kept for kept in issue.comments if kept.id != comment.id]
