"""The portfolio learns from the decisions on record: how often teams bid against a NO-GO or held
back on a GO, and how those decisions ended.

Over 210 closed bids on the loopback Jira, decided by an owner, by someone who is not one, or not at
all, every number in JSON, CSV, HTML and text is compared with what this test computes on its own.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from jiraserver import DIRECTOR_USER, HUMAN_USER, JiraServer, JiraUser, running_server
from portfolio_helpers import ClosedSeed, env_for, expected_bids, seed_closed, win_rate
from support import TODAY, Gonogo

from gonogo.sources.resources import schema_path

CLOSED = 210
JQL = "project = BID AND statusCategory = Done"
ORDER = ("no-go", "needs-info", "go-with-conditions", "go")
KINDS = ("won", "lost", "withdrawn", "no-bid", "none")
# ticket number % 6 -> who labelled which decision (None: nobody decided)
SCENARIOS: dict[int, tuple[JiraUser, str] | None] = {
    0: (DIRECTOR_USER, "bid"),
    1: (HUMAN_USER, "bid"),  # not a decision owner: shown, never counted
    2: (DIRECTOR_USER, "no-bid"),
    3: (DIRECTOR_USER, "bid"),
    4: None,
    5: None,
}


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[JiraServer, dict[str, ClosedSeed]]]:
    with running_server(deployment="Cloud", search_page_cap=100) as server:
        seeds = seed_closed(server, CLOSED, first=1)
        for key, seed in seeds.items():
            scenario = SCENARIOS[int(key.split("-")[1]) % 6]
            if scenario is not None:
                who, decision = scenario
                when = datetime.combine(seed.closed - timedelta(days=5), time(10), tzinfo=UTC)
                labels = [*seed.fields.get("labels", []), f"gonogo-decision-{decision}"]  # waivers stay
                server.change_issue(key, {"labels": labels}, author=who, at=when)
        yield server, seeds
        assert server.internal_errors == []


def report(gonogo: Gonogo, server: JiraServer, tmp_path: Path, *args: str) -> str:
    (tmp_path / "gonogo.toml").write_text(f'[decisions]\nowners = ["{DIRECTOR_USER.account_id}"]\n')
    run = gonogo("report", "--jql", JQL, "--outcomes", "--today", TODAY, *args, env=env_for(server))
    assert run.exit_code == 0, run.stderr
    return run.stdout


def counted(key: str) -> str:
    """The decision an owner recorded on the ticket: bid, no-bid, or none."""
    scenario = SCENARIOS[int(key.split("-")[1]) % 6]
    return scenario[1] if scenario is not None and scenario[0] is DIRECTOR_USER else "none"


def test_decisions_by_verdict_and_how_bids_against_a_no_go_ended_in_every_format(
    gonogo: Gonogo, site: tuple[JiraServer, dict[str, ClosedSeed]], tmp_path: Path
) -> None:
    server, seeds = site
    bids = expected_bids(seeds)
    document = json.loads(report(gonogo, server, tmp_path, "--format", "json"))
    jsonschema.validate(document, json.loads(schema_path("portfolio.schema.json").read_text()))
    section = document["decisions"]

    # decisions by the verdict each bid had before closing
    assert section["tickets"] == CLOSED
    expected_by_verdict = []
    for verdict in ORDER:
        keys = [key for key, bid in bids.items() if bid.verdict == verdict]
        decided = Counter(counted(key) for key in keys)
        not_counted = sum(1 for key in keys if SCENARIOS[int(key.split("-")[1]) % 6] == (HUMAN_USER, "bid"))
        expected_by_verdict.append(
            {
                "verdict": verdict,
                "bid": decided["bid"],
                "no_bid": decided["no-bid"],
                "not_counted": not_counted,
                "undecided": len(keys) - decided["bid"] - decided["no-bid"] - not_counted,
                "total": len(keys),
            }
        )
    assert section["by_verdict"] == expected_by_verdict
    against = [key for key, bid in bids.items() if bid.verdict == "no-go" and counted(key) == "bid"]
    assert section["bids_against_no_go"] == len(against) > 0
    assert section["no_bids_against_go"] == sum(
        1
        for key, bid in bids.items()
        if bid.verdict in ("go", "go-with-conditions") and counted(key) == "no-bid"
    )
    items = {item["key"]: item for item in section["items"]}
    assert len(items) == sum(1 for key in seeds if SCENARIOS[int(key.split("-")[1]) % 6] is not None)
    assert all(item["by"] == "Alex Reviewer" for item in items.values() if not item["counts"])

    # how those decisions ended: won N of M, rates only from five decided bids
    outcomes = Counter(bids[key].outcome for key in against)
    got = section["outcomes"]["bids_against_no_go"]
    assert got["counts"] == {kind: outcomes[kind] for kind in KINDS}
    assert (got["won"], got["decided"]) == (outcomes["won"], outcomes["won"] + outcomes["lost"])
    assert got["win_rate"] == win_rate(outcomes["won"], outcomes["lost"])
    rates = []
    for row in section["outcomes"]["by_verdict"]:
        keys = [
            k for k, bid in bids.items() if bid.verdict == row["verdict"] and counted(k) == row["decision"]
        ]
        tally = Counter(bids[k].outcome for k in keys)
        assert row["counts"] == {kind: tally[kind] for kind in KINDS}, row
        assert row["win_rate"] == win_rate(tally["won"], tally["lost"]), row
        rates.append(row["win_rate"])
    assert None in rates  # both sides of the five-bid line
    assert any(rate is not None for rate in rates)

    # CSV
    table = list(
        csv.DictReader(
            io.StringIO(report(gonogo, server, tmp_path, "--format", "csv", "--section", "decisions"))
        )
    )
    assert [(r["bid"], r["no_bid"], r["not_counted"], r["undecided"]) for r in table] == [
        (str(v["bid"]), str(v["no_bid"]), str(v["not_counted"]), str(v["undecided"]))
        for v in expected_by_verdict
    ]
    fared = list(
        csv.DictReader(
            io.StringIO(report(gonogo, server, tmp_path, "--format", "csv", "--section", "decision-outcomes"))
        )
    )
    tickets = csv.DictReader(io.StringIO(report(gonogo, server, tmp_path, "--format", "csv")))
    recorded = {
        r["key"]: (r["decision"], r["decision_by"], r["decision_counts"]) for r in tickets if r["decision"]
    }
    assert recorded == {
        key: (
            {"bid": "BID", "no-bid": "NO BID"}[scenario[1]],
            scenario[0].display_name,
            "yes" if scenario[0] is DIRECTOR_USER else "no",
        )
        for key in seeds
        if (scenario := SCENARIOS[int(key.split("-")[1]) % 6]) is not None
    }
    by_pair = {(r["verdict"], r["decision"]): r for r in fared}
    no_go_bids = by_pair[("NO-GO", "bid")]
    assert (int(no_go_bids["won"]), int(no_go_bids["decided"])) == (got["won"], got["decided"])
    assert no_go_bids["win_rate"] == ("" if got["win_rate"] is None else str(got["win_rate"]))

    # HTML and text
    html = report(gonogo, server, tmp_path, "--format", "html")
    shown = re.search(
        r'id="bids-against-no-go" data-won="(\d+)" data-decided="(\d+)" data-win-rate="(\d*)"', html
    )
    assert shown is not None
    assert shown.groups() == (
        str(got["won"]),
        str(got["decided"]),
        "" if got["win_rate"] is None else str(got["win_rate"]),
    )
    for v in expected_by_verdict:
        assert f'data-verdict="{v["verdict"]}" data-bid="{v["bid"]}" data-no-bid="{v["no_bid"]}"' in html
    text = report(gonogo, server, tmp_path)
    assert f"Bids against a NO-GO: won {got['won']} of {got['decided']} decided" in text


def test_a_report_without_decisions_shows_no_decision_section(gonogo: Gonogo, tmp_path: Path) -> None:
    with running_server(deployment="Cloud") as server:
        seed_closed(server, 6, first=1)
        document: dict[str, Any] = json.loads(report(gonogo, server, tmp_path, "--format", "json"))
        text = report(gonogo, server, tmp_path)
    assert document["decisions"]["items"] == []
    assert document["decisions"]["outcomes"]["bids_against_no_go"]["total"] == 0
    assert "Decisions on record" not in text
