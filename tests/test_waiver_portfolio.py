"""The portfolio's waiver section on a few hundred tickets: counted and listed right, groups read once.

Three hundred proposals on the loopback Jira carry the same three waiver labels, added by different
people on different days, and some have the win probability changed afterwards. Each ticket's
fate is known from how it was seeded, so the report's counts and items can be checked one by one.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import jsonschema
import pytest
from jiraserver import HUMAN_USER, JiraServer, running_server
from portfolio_helpers import env_for
from support import TODAY, Gonogo
from waiver_helpers import DIRECTOR, NOON, SCENARIOS, seed_scenarios

from gonogo.sources.resources import schema_path

TICKETS = 300
RULES = ("customer/win-probability-target", "commercial/fixed-price-size", "capability/capability-proven")


@pytest.fixture(scope="module", params=["Cloud", "Server"])
def jira(request: pytest.FixtureRequest) -> Iterator[JiraServer]:
    options: dict[str, Any] = (
        {"auth": ("bearer", "pat-waiver-portfolio")} if request.param == "Server" else {}
    )
    with running_server(deployment=request.param, now=NOON, **options) as server:
        seed_scenarios(server, TICKETS)
        yield server
        assert server.internal_errors == []


def report(gonogo: Gonogo, server: JiraServer, tmp_path: Any, fmt: str) -> str:
    approver = DIRECTOR.account_id if server.deployment == "Cloud" else DIRECTOR.name
    (tmp_path / "gonogo.toml").write_text(f'[waivers]\napprovers = ["{approver}", "group:bid-board"]\n')
    run = gonogo("report", "--project", "BID", "--today", TODAY, "--format", fmt, env=env_for(server))
    assert run.exit_code == 0, run.stderr
    return run.stdout


def expected(number: int, rule: str) -> tuple[str, str | None]:
    """(status, expires_on) for one ticket's waiver on one rule, from how it was seeded."""
    author, days, changed = SCENARIOS[number % 6]
    approved = date.fromisoformat(TODAY) - timedelta(days=days)
    if author is HUMAN_USER:
        return "not-approved", None
    ends = (approved + timedelta(days=30)).isoformat()
    if days > 30:
        return "expired", ends
    if changed and rule == RULES[0]:
        return "lapsed-by-change", ends
    return "active", ends


def test_the_waiver_section_and_fields_are_right_on_three_hundred_tickets(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Any
) -> None:
    jira.clear_requests()
    document = json.loads(report(gonogo, jira, tmp_path, "json"))

    schema = json.loads(schema_path("portfolio.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(document)
    waivers = document["waivers"]
    assert len(waivers["items"]) == 3 * TICKETS
    for item in waivers["items"]:
        number = int(item["key"].split("-")[1])
        assert (item["status"], item["expires_on"] if item["status"] != "not-approved" else None) == expected(
            number, item["rule"]
        ), item
    by_status = Counter(item["status"] for item in waivers["items"])
    assert {key: waivers[key] for key in ("active", "expired", "lapsed-by-change", "not-approved")} == {
        "active": 550,  # 50 tickets x 3 in scenarios 0, 1, 4, and 50 x 2 in scenario 5
        "expired": 150,
        "lapsed-by-change": 50,
        "not-approved": 150,
    }
    assert dict(by_status) == {k: v for k, v in waivers.items() if k in by_status}
    assert waivers["expiring_soon"] == 150  # scenario 1 ends on 2026-11-28, within the week
    assert {i["key"] for i in waivers["items"] if i["expiring_soon"]} == {
        f"BID-{n}" for n in range(1, TICKETS + 1) if n % 6 == 1
    }
    actives = [i["expires_on"] for i in waivers["items"] if i["status"] == "active"]
    assert actives == sorted(actives)  # soonest end first
    not_approved = next(i for i in waivers["items"] if i["status"] == "not-approved")
    assert (not_approved["requested_by"], not_approved["approved_by"]) == ("Alex Reviewer", None)
    verdicts = Counter(t["verdict"] for t in document["tickets"])
    assert verdicts == {"go": 150, "go-with-conditions": 150}
    # the group is read once for the whole run, however many tickets and threads ask
    assert sum(1 for r in jira.requests if r.path.endswith("/group/member")) == 1


def test_the_text_report_lists_waivers_by_what_became_of_them(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Any
) -> None:
    text = report(gonogo, jira, tmp_path, "text")

    assert (
        "Waivers: 550 active (150 ending within 7 days), 150 expired, 50 lapsed by a change, "
        "150 not approved, 0 refused" in text
    )
    section = text[text.index("Waivers: 550") :]
    assert section.index("Ending within 7 days") < section.index("Active, ending later or never")
    assert (
        "  BID-1      capability/capability-proven  approved by Dana Director on 2026-10-29, until 2026-11-28"
        in (section)
    )
    assert "  BID-3      capability/capability-proven  requested by Alex Reviewer" in section
    assert (
        "  BID-2      capability/capability-proven  approved by Dana Director on 2026-10-14, "
        "expired after 2026-11-13" in section
    )


def test_the_html_page_has_a_row_per_waiver_by_status(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Any
) -> None:
    page = report(gonogo, jira, tmp_path, "html")

    rows = re.findall(r'<tr data-key="(BID-\d+)" data-rule="([^"]+)" data-status="([^"]+)"', page)
    assert len(rows) == 3 * TICKETS
    assert Counter(status for _, _, status in rows) == {
        "active": 550,
        "expired": 150,
        "lapsed-by-change": 50,
        "not-approved": 150,
    }
    first_rows = [key for key, _, _ in rows[:150]]  # ending within the week come first
    assert all(int(key.split("-")[1]) % 6 == 1 for key in first_rows)
