"""What the portfolio tests share: a loopback Jira seeded with hundreds of proposals, and the
verdicts those proposals get when each is checked on its own (the answer a report must agree with)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from jiraserver import JiraServer, JiraUser
from support import EXAMPLES, TODAY

from gonogo.config import Settings, load_settings
from gonogo.engine import build_engine
from gonogo.portfolio import Row, row_from_assessment
from gonogo.ticket import load_ticket_file

EXAMPLE_NAMES = tuple(sorted(path.stem for path in EXAMPLES.glob("*.json")))
PAT = "pat-portfolio-123"


@cache
def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def seed_portfolio(server: JiraServer, count: int, *, project: str = "BID", first: int = 1) -> dict[str, str]:
    """Seed `count` proposals (the bundled examples in turn); returns key -> example name."""
    seeded: dict[str, str] = {}
    for number in range(first, first + count):
        name = EXAMPLE_NAMES[(number - first) % len(EXAMPLE_NAMES)]
        data = example(name)
        fields = {k: v for k, v in data["fields"].items() if k != "comment"}
        fields["summary"] = f"{fields['summary']} #{number}"
        fields["project"] = {**fields["project"], "key": project}
        key = f"{project}-{number}"
        labels = fields.pop("labels", [])
        server.add_issue(key, {**fields, "labels": []}, names=data["names"])
        add_labels_as_history_says(server, key, labels, data.get("changelog", {}))
        seeded[key] = name
    return seeded


def add_labels_as_history_says(server: JiraServer, key: str, labels: list[str], changelog: Any) -> None:
    """Add the example's labels as its changelog says they were added (by whom, when), else at once."""
    for history in changelog.get("histories", []):
        author = history["author"]
        person = JiraUser(
            account_id=author["accountId"],
            display_name=author["displayName"],
            email=f"{author['accountId']}@example.com",
            name=author["displayName"].lower().replace(" ", "."),
        )
        when = datetime.strptime(history["created"], "%Y-%m-%dT%H:%M:%S.%f%z")
        server.change_issue(key, {"labels": labels}, author=person, at=when)
    if server.issue_fields(key)["labels"] != labels:
        server.change_issue(key, {"labels": labels})


def env_for(server: JiraServer) -> dict[str, str]:
    """Cloud: email + API token; Data Center: a personal access token (the server's auth decides)."""
    if server.deployment == "Cloud":
        email, token = server.basic_auth
        return {"JIRA_URL": server.url, "JIRA_USER": email, "JIRA_API_TOKEN": token}
    return {"JIRA_URL": server.url, "JIRA_API_TOKEN": server.token}


def settings_for(server: JiraServer, **jira: Any) -> Settings:
    settings = load_settings(environ=env_for(server))
    if jira:
        settings = Settings(
            **{**settings.__dict__, "jira": settings.jira.__class__(**{**settings.jira.__dict__, **jira})}
        )
    return settings


@cache
def solo_row(name: str) -> Row:
    """The row an example gets when checked on its own, from its file (no search involved)."""
    engine = build_engine(load_settings(environ={}))
    assessment = engine.assess(load_ticket_file(EXAMPLES / f"{name}.json"), today=date.fromisoformat(TODAY))
    return row_from_assessment(assessment)


@dataclass
class VirtualClock:
    """Time that passes only when somebody sleeps: Retry-After waits cost nothing in tests."""

    now: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds
