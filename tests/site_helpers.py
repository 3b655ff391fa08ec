"""Putting example tickets on the test Jira, and the environment that reaches it (Cloud or Data Center)."""

from __future__ import annotations

import json
from typing import Any

from jiraserver import JiraServer
from support import EXAMPLES


def seed(server: JiraServer, example: str, key: str, **fields: Any) -> None:
    """Put a bundled example ticket on the server under `key`, with `fields` replaced."""
    data = json.loads((EXAMPLES / f"{example}.json").read_text())
    stored = {k: v for k, v in data["fields"].items() if k != "comment"}
    server.add_issue(key, {**stored, **fields}, names=data["names"])


def jira_env(server: JiraServer) -> dict[str, str]:
    """JIRA_URL and the credentials the server accepts: email + token (Cloud) or a PAT (Data Center)."""
    if server.deployment == "Cloud":
        email, token = server.basic_auth
        return {"JIRA_URL": server.url, "JIRA_USER": email, "JIRA_API_TOKEN": token}
    return {"JIRA_URL": server.url, "JIRA_API_TOKEN": server.token}
