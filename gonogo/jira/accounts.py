"""How gonogo names a Jira account, so a comment's author can be compared with its own account.

Cloud names people by `accountId`; Data Center by `name` (and `key`). The same user object shape
comes with a comment's `author` and with `GET myself`, so one key serves both sides of the
comparison.
"""

from __future__ import annotations

from typing import Any


def account_key(user: Any) -> str | None:
    """ "accountId:…", "name:…" or "key:…" for a Jira user object; None when it names nobody."""
    if not isinstance(user, dict):
        return None
    for field in ("accountId", "name", "key"):
        value = user.get(field)
        if isinstance(value, str) and value:
            return f"{field}:{value}"
    return None
