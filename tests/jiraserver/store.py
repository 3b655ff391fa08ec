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

from .model import (
    BOT_USER,
    DIRECTOR_USER,
    HUMAN_USER,
    ChangeItem,
    JiraUser,
    StoredComment,
    StoredHistory,
    StoredIssue,
)

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
        self._next_history_id = 30000
        self._groups: dict[str, list[JiraUser]] = {}
        # How the site is set up (what `editmeta` and `mypermissions` answer), set by tests.
        self.field_options: dict[str, list[str]] = {}
        self.off_edit_screen: set[str] = set()
        self.denied_permissions: set[str] = set()
        self.webhooks: dict[int, dict[str, Any]] = {}  # admin webhooks by id, as registered
        self.next_webhook_id = 1

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

    def change_fields(
        self,
        issue: StoredIssue,
        values: Mapping[str, Any],
        *,
        author: JiraUser,
        field_names: Mapping[str, str],
        created: datetime | None = None,
    ) -> StoredHistory | None:
        """Set field values and record the change in the issue's changelog, as Jira does.

        Fields whose value does not change leave no trace; a change of nothing records nothing.
        """
        with self.lock:
            items = tuple(
                _change_item(field_id, field_names.get(field_id, field_id), issue.fields.get(field_id), value)
                for field_id, value in values.items()
                if issue.fields.get(field_id) != value
            )
            for field_id, value in values.items():
                issue.fields[field_id] = copy.deepcopy(value)
            if not items:
                return None
            entry = StoredHistory(
                id=str(self._next_history_id),
                author=author,
                created=created if created is not None else self._now,
                items=items,
            )
            self._next_history_id += 1
            issue.history.append(entry)
            return entry

    def set_group(self, name: str, members: Iterable[JiraUser]) -> None:
        """Create or replace a group with these members (Jira orders them by user name)."""
        with self.lock:
            self._groups[name] = sorted(members, key=lambda user: user.name)

    def users(self) -> list[JiraUser]:
        """Every account the site knows: the tests' people, group members, authors of changes."""
        with self.lock:
            known = {user.account_id: user for user in (BOT_USER, HUMAN_USER, DIRECTOR_USER)}
            for members in self._groups.values():
                known.update((user.account_id, user) for user in members)
            for issue in self._issues.values():
                known.update((entry.author.account_id, entry.author) for entry in issue.history)
            return list(known.values())

    def group(self, name: str) -> list[JiraUser] | None:
        """A group's members, or None when there is no such group (names are case-sensitive)."""
        with self.lock:
            members = self._groups.get(name)
            return list(members) if members is not None else None

    def add_comment(
        self,
        issue: StoredIssue,
        body: str,
        *,
        author: JiraUser,
        properties: Mapping[str, Any] | None = None,
        visibility: Mapping[str, Any] | None = None,
        created: datetime | None = None,
        adf: Mapping[str, Any] | None = None,
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
                adf=copy.deepcopy(dict(adf)) if adf is not None else None,
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
        adf: Mapping[str, Any] | None = None,
    ) -> None:
        """Change a comment's body/visibility/properties and stamp the edit (``adf``: a v3 body)."""
        with self.lock:
            if body is not None:
                comment.body = body
                comment.adf = copy.deepcopy(dict(adf)) if adf is not None else None
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


def _change_item(field_id: str, name: str, before: Any, after: Any) -> ChangeItem:
    """Jira's record of one field change: raw ids where the value has one, and display strings."""
    from_value, from_string = _as_change_strings(before)
    to_value, to_string = _as_change_strings(after)
    return ChangeItem(
        field_id=field_id,
        field_name=name if field_id.startswith("customfield_") else field_id,
        field_type="custom" if field_id.startswith("customfield_") else "jira",
        from_string=from_string,
        to_string=to_string,
        from_value=from_value,
        to_value=to_value,
    )


def _as_change_strings(value: Any) -> tuple[str | None, str | None]:
    """(raw id, display string) of a field value the way a changelog item shows it."""
    if value is None:
        return None, None
    if isinstance(value, list):
        shown = [_as_change_strings(item)[1] or "" for item in value]
        return None, " ".join(shown)
    if isinstance(value, dict):
        if "accountId" in value or ("name" in value and "displayName" in value):
            return str(value.get("accountId") or value.get("name")), str(value.get("displayName", ""))
        if "value" in value:
            return str(value.get("id")) if "id" in value else None, str(value["value"])
        return None, str(value.get("name") or value.get("key") or "")
    return None, str(value)
