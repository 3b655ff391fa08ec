"""Jira requests for one verdict, gonogo's own edge against the `jira` client's public API, side by side.

Usage: python bench/edge_requests.py

Both run against the loopback test Jira (Cloud flavour), on the same tickets: a first check (read
the ticket, post the comment, record the pointer and the verdict label), a re-check with nothing
changed, and a re-check whose comment changed. gonogo runs its real check flow. The client does
the same job with public methods only (`issue`, `add_comment`, `Comment.update`,
`add_issue_property`, `Issue.update`), as a tool built on it would; it has none for a comment
property, ADF per call, or a combined issue edit, so its comment is unmarked wiki markup and every
part of the record is a request of its own. The counts are the record docs/development.md keeps.
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from jira import JIRA  # noqa: E402
from jiraserver import JiraServer, running_server  # noqa: E402
from portfolio_helpers import settings_for  # noqa: E402
from site_helpers import seed  # noqa: E402

from gonogo.flows.assessor import build_assessor  # noqa: E402
from gonogo.flows.check_ticket import check_ticket  # noqa: E402

TODAY = date(2026, 11, 23)
PROPERTY = "gonogo.verdict"


def counted(server: JiraServer) -> str:
    kinds = Counter(f"{r.method}" for r in server.requests)
    server.clear_requests()
    return f"{sum(kinds.values())} ({', '.join(f'{n} {m}' for m, n in sorted(kinds.items()))})"


def with_gonogo(server: JiraServer) -> list[str]:
    settings = settings_for(server)
    assessor = build_assessor(settings)

    def check(today: date) -> None:
        check_ticket("BID-1", assessor=assessor, today=today, dry_run=False)

    check(TODAY)
    first = counted(server)
    check(TODAY)
    unchanged = counted(server)
    check(date(2026, 11, 24))  # a day later: the days left to the deadline change the comment
    changed = counted(server)
    return [first, unchanged, changed]


def with_client(server: JiraServer) -> list[str]:
    email, token = server.basic_auth

    def connect() -> Any:
        return JIRA(server.url, basic_auth=(email, token), max_retries=0, timeout=5)

    def record(client: Any, issue: Any, verdict: str, comment_id: str) -> None:
        client.add_issue_property(issue.key, PROPERTY, {"commentId": comment_id, "verdict": verdict})
        issue.update(fields={"labels": [f"gonogo-{verdict}"]})

    client = connect()
    issue = client.issue("BID-2", expand="names,changelog", properties=PROPERTY)
    comment = client.add_comment(issue.key, "h3. gonogo verdict: GO\nfirst")
    record(client, issue, "go", comment.id)
    first = counted(server)

    client = connect()
    client.issue("BID-2", expand="names,changelog", properties=PROPERTY)
    unchanged = counted(server)

    client = connect()
    issue = client.issue("BID-2", expand="names,changelog", properties=PROPERTY)
    client.comment(issue.key, comment.id).update(body="h3. gonogo verdict: GO\nchanged")
    record(client, issue, "go", comment.id)
    changed = counted(server)
    return [first, unchanged, changed]


def main() -> None:
    with running_server(deployment="Cloud") as server:
        seed(server, "healthy", "BID-1")
        seed(server, "healthy", "BID-2")
        server.clear_requests()
        ours = with_gonogo(server)
        theirs = with_client(server)
    print("| run | gonogo's edge | jira client, public API |")
    print("|---|---|---|")
    for name, a, b in zip(
        ("first check", "re-check, unchanged", "re-check, comment changed"), ours, theirs, strict=True
    ):
        print(f"| {name} | {a} | {b} |")


if __name__ == "__main__":
    main()
