"""Proposals whose waiver labels were added by different people on different days, for the
portfolio tests and the request benchmark (bench/waiver_requests.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jiraserver import DIRECTOR_USER, HUMAN_USER, JiraServer, JiraUser
from portfolio_helpers import example

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # the server's clock on the tests' TODAY
DIRECTOR = DIRECTOR_USER
BOARD_MEMBER = JiraUser(
    account_id="712020:00000000-0000-4000-8000-0000000b0a4d",
    display_name="Bo Board",
    email="bo.board@example.com",
    name="bo.board",
)
LABELS = [
    "gonogo-waive-win-probability-target",
    "gonogo-waive-commercial.fixed-price-size",
    "gonogo-waive-capability-proven",
]
# ticket number % 6 -> (who added the labels, days before NOON, win probability changed a day ago)
SCENARIOS: dict[int, tuple[JiraUser, int, bool]] = {
    0: (DIRECTOR, 2, False),  # active, ends in 28 days
    1: (DIRECTOR, 25, False),  # active, ends in 5 days
    2: (DIRECTOR, 40, False),  # expired 10 days ago
    3: (HUMAN_USER, 2, False),  # not approved
    4: (BOARD_MEMBER, 1, False),  # approved through the group
    5: (DIRECTOR, 3, True),  # the win-probability waiver lapsed; the other two stand
}


def seed_scenarios(server: JiraServer, tickets: int) -> None:
    """BID-1..BID-N from the waived example, each labelled as its scenario says; group bid-board."""
    data = example("waived")
    fields = {k: v for k, v in data["fields"].items() if k not in ("comment", "labels")}
    server.add_group("bid-board", [BOARD_MEMBER])
    for number in range(1, tickets + 1):
        key = f"BID-{number}"
        server.add_issue(key, {**fields, "labels": []}, names=data["names"])
        author, days, changed = SCENARIOS[number % 6]
        server.change_issue(key, {"labels": LABELS}, author=author, at=NOON - timedelta(days=days))
        if changed:
            server.change_issue(key, {"customfield_10104": 20}, at=NOON - timedelta(days=1))
