"""The portfolio's teaching sections against the loopback Jira with hundreds of open and closed bids.

Why bids fail here, what changed, and how verdicts fared: every number the report shows in every
format is compared with what this test computes on its own from what it seeded.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import jsonschema
import pytest
from jiraserver import JiraServer, running_server
from portfolio_helpers import (
    ClosedSeed,
    ExpectedBid,
    env_for,
    expected_bids,
    expected_failures,
    history_entry,
    seed_closed,
    seed_portfolio,
    share,
    solo_row,
    win_rate,
)
from support import TODAY, Gonogo

from gonogo.core.pipeline.verdict import Verdict
from gonogo.flows.assessor import build_assessor
from gonogo.sources.config import Settings
from gonogo.sources.resources import schema_path

PORTFOLIO_SCHEMA = json.loads(schema_path("portfolio.schema.json").read_text())
# How each bundled rule words its failure without a ticket's values, and what it says should hold.
FAILED_LABELS = {
    f"{c.id}/{r.id}": r.failed_label for c in build_assessor(Settings()).checklists for r in c.rules
}
HOLDS = {f"{c.id}/{r.id}": r.title for c in build_assessor(Settings()).checklists for r in c.rules}
OPEN, CLOSED = 240, 160
OUTCOMES_JQL = "project = BID AND statusCategory = Done"
LABELS = {v.value: v.label for v in Verdict}
ORDER = ("no-go", "needs-info", "go-with-conditions", "go")
KINDS = ("won", "lost", "withdrawn", "no-bid", "none")
SINCE = "2026-11-12"


def open_history(number: int) -> list[dict[str, Any]]:
    """Every fourth open ticket has two stored verdicts; which ones depends on its number."""
    first = ORDER[number % 4]
    second = ORDER[(number // 4) % 4]
    return [
        history_entry(date(2026, 11, 1), first, 50),
        history_entry(date(2026, 11, 10) + timedelta(days=number % 8), second, 60),
    ]


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[JiraServer, dict[str, str], dict[str, ClosedSeed]]]:
    with running_server(deployment="Cloud", search_page_cap=100) as server:
        open_seeded = seed_portfolio(server, OPEN)
        for key in open_seeded:
            number = int(key.split("-")[1])
            if number % 4 == 0:
                server.set_issue_property(
                    key, "gonogo.verdict", {"commentId": "1", "history": open_history(number)}
                )
        closed = seed_closed(server, CLOSED, first=OPEN + 1)
        yield server, open_seeded, closed
        assert server.internal_errors == []


def report(gonogo: Gonogo, server: JiraServer, *args: str) -> Any:
    run = gonogo("report", "--today", TODAY, *args, env=env_for(server))
    assert run.exit_code == 0, run.stderr
    return run


def report_json(gonogo: Gonogo, server: JiraServer, *args: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(report(gonogo, server, "--format", "json", *args).stdout)
    jsonschema.validate(document, PORTFOLIO_SCHEMA)
    return document


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# --- why bids fail here -----------------------------------------------------------------------------


def test_why_bids_fail_counts_rules_and_missing_information_in_every_format(
    gonogo: Gonogo, site: tuple[JiraServer, dict[str, str], dict[str, ClosedSeed]]
) -> None:
    server, seeded, _ = site
    rules, missing = expected_failures(seeded)
    document = report_json(gonogo, server, "--project", "BID")
    failures = document["failures"]
    assert failures["assessed"] == OPEN
    got_rules = {r["rule"]: r for r in failures["rules"]}
    assert set(got_rules) == set(rules)
    for ref, keys in rules.items():
        assert got_rules[ref]["count"] == len(keys), ref
        assert got_rules[ref]["keys"] == keys
        assert got_rules[ref]["share"] == share(len(keys), OPEN)
    counts = [r["count"] for r in failures["rules"]]
    assert counts == sorted(counts, reverse=True)  # most often first
    for severity, refs in failures["by_severity"].items():
        assert all(got_rules[ref]["severity"] == severity for ref in refs)
    assert sum(len(refs) for refs in failures["by_severity"].values()) == len(rules)
    assert {m["property"]: m["keys"] for m in failures["missing"]} == missing

    text = report(gonogo, server, "--project", "BID").stdout
    assert f"Why bids fail here (count, share of {OPEN} assessed tickets, tickets)" in text
    for rule in failures["rules"]:  # headed by the failure, never by what should have held
        assert rule["problem"] == FAILED_LABELS[rule["rule"]]
        line = f"{rule['count']:5d} {rule['share']:4d}%  {rule['problem']}  [{rule['rule']}]"
        assert line in text
        assert HOLDS[rule["rule"]] not in text
    for item in failures["missing"]:
        assert f"{item['count']:5d} {item['share']:4d}%  {item['label']}  [{item['property']}]" in text

    table = csv_rows(
        report(gonogo, server, "--project", "BID", "--format", "csv", "--section", "rules").stdout
    )
    assert {row["rule"]: (int(row["count"]), int(row["share"]), row["keys"].split()) for row in table} == {
        ref: (len(keys), share(len(keys), OPEN), keys) for ref, keys in rules.items()
    }
    assert all(row["problem"] == FAILED_LABELS[row["rule"]] for row in table)
    gaps = csv_rows(
        report(gonogo, server, "--project", "BID", "--format", "csv", "--section", "missing").stdout
    )
    assert {row["property"]: row["keys"].split() for row in gaps} == missing


# --- what changed -----------------------------------------------------------------------------------


def expected_change(key: str, name: str) -> tuple[str, str, str] | None:
    """(from, to, on): the latest verdict change of stored history plus today's verdict."""
    number = int(key.split("-")[1])
    history = [(e["verdict"], e["score"], e["on"]) for e in open_history(number)] if number % 4 == 0 else []
    now = solo_row(name)
    assert now.verdict is not None
    if not history or history[-1][:2] != (now.verdict.value, now.score):
        history.append((now.verdict.value, now.score, TODAY))
    for before, after in zip(reversed(history[:-1]), reversed(history[1:]), strict=True):
        if before[0] != after[0]:
            return before[0], after[0], after[2]
    return None


def test_the_changed_column_and_the_since_section_follow_the_stored_history(
    gonogo: Gonogo, site: tuple[JiraServer, dict[str, str], dict[str, ClosedSeed]]
) -> None:
    server, seeded, _ = site
    expected = {key: expected_change(key, name) for key, name in seeded.items()}
    assert sum(1 for c in expected.values() if c is not None) >= 30
    document = report_json(gonogo, server, "--project", "BID", "--since", SINCE)
    today = date.fromisoformat(TODAY)
    for ticket in document["tickets"]:
        change = expected[ticket["key"]]
        if change is None:
            assert ticket["change"] is None, ticket["key"]
            continue
        days = (today - date.fromisoformat(change[2])).days
        assert ticket["change"] == {
            "from": change[0],
            "to": change[1],
            "on": change[2],
            "days_ago": days,
            "estimates_only": False,  # the seeded histories come with no field edits
        }
    since = {k: c for k, c in expected.items() if c is not None and c[2] >= SINCE}
    assert since
    assert len(since) < sum(1 for c in expected.values() if c is not None)
    assert document["since"] == SINCE
    assert {c["key"]: (c["from"], c["to"], c["on"]) for c in document["changes"]} == since
    assert [c["on"] for c in document["changes"]] == sorted(
        (c["on"] for c in document["changes"]), reverse=True
    )

    text = report(gonogo, server, "--project", "BID", "--since", SINCE).stdout
    assert f"Verdict changes since {SINCE}: {len(since)} tickets" in text
    for key, (before, after, on) in since.items():
        days = (today - date.fromisoformat(on)).days
        ago = "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"
        assert f"{LABELS[before]} → {LABELS[after]}, {ago}" in text
        assert f"{LABELS[before]} → {LABELS[after]}, {ago} ({on})" in text, key

    table = csv_rows(report(gonogo, server, "--project", "BID", "--format", "csv").stdout)
    for row in table:
        change = expected[row["key"]]
        if change is None:
            assert (row["changed"], row["changed_on"]) == ("", "")
        else:
            assert (row["changed"], row["changed_on"]) == (
                f"{LABELS[change[0]]} → {LABELS[change[1]]}",
                change[2],
            )
    listed = csv_rows(
        report(
            gonogo, server, "--project", "BID", "--since", SINCE, "--format", "csv", "--section", "changes"
        ).stdout
    )
    assert {row["key"]: (row["from"], row["to"], row["on"]) for row in listed} == {
        k: (LABELS[c[0]], LABELS[c[1]], c[2]) for k, c in since.items()
    }


# --- how verdicts fared -----------------------------------------------------------------------------


def tally(bids: list[ExpectedBid]) -> dict[str, Any]:
    counts = Counter(bid.outcome for bid in bids)
    won, lost = counts["won"], counts["lost"]
    return {
        "counts": {kind: counts[kind] for kind in KINDS},
        "total": len(bids),
        "decided": won + lost,
        "won": won,
        "win_rate": win_rate(won, lost),
    }


def expected_sections(bids: dict[str, ExpectedBid]) -> dict[str, Any]:
    everything = list(bids.values())
    bands = []
    for low in range(0, 100, 20):
        high = 100 if low == 80 else low + 19
        bands.append(
            {
                "low": low,
                "high": high,
                **tally([b for b in everything if b.score is not None and low <= b.score <= high]),
            }
        )
    rules = {ref for bid in everything for ref in bid.rules}
    decided = [b for b in everything if b.outcome in ("won", "lost")]
    edge = min(b.win_probability for b in decided if b.outcome == "won")
    beyond = [b.win_probability for b in decided if b.win_probability < edge]
    return {
        "by_verdict": [{"verdict": v, **tally([b for b in everything if b.verdict == v])} for v in ORDER],
        "by_band": bands,
        "by_rule": {ref: tally([b for b in everything if ref in b.rules]) for ref in rules},
        "overall": tally(everything),
        "suggestion": {"edge": edge, "bids": len(beyond), "suggested": max(beyond)},
    }


def test_outcomes_by_verdict_score_band_and_rule_with_rates_only_from_five_bids(
    gonogo: Gonogo, site: tuple[JiraServer, dict[str, str], dict[str, ClosedSeed]]
) -> None:
    server, _, closed = site
    bids = expected_bids(closed)
    expected = expected_sections(bids)
    server.clear_requests()
    document = report_json(gonogo, server, "--jql", OUTCOMES_JQL, "--outcomes")
    outcomes = document["outcomes"]

    # The request budget: site kind, field ids, two search pages; the waived tickets' changelogs
    # (who waived) came with the search; no writes.
    paths = Counter(f"{r.method} {r.path}" for r in server.requests)
    calls = Counter(
        {"GET /rest/api/2/serverInfo": 1, "GET /rest/api/2/field": 1, "GET /rest/api/2/search/jql": 2}
    )
    assert any(seed.name == "waived" for seed in closed.values())
    assert paths == calls
    assert document["waivers"] is None  # closed bids: their waivers are not "active" (review 1, finding 16)

    assert outcomes["closed"] == CLOSED
    assert {b["key"]: (b["verdict"], b["score"], b["source"], b["outcome"]) for b in outcomes["bids"]} == {
        k: (b.verdict, b.score, b.source, b.outcome) for k, b in bids.items()
    }
    assert outcomes["from_history"] == sum(1 for b in bids.values() if b.source == "history") > 0
    assert outcomes["assessed"] == sum(1 for b in bids.values() if b.source == "assessed") > 0
    assert outcomes["by_verdict"] == expected["by_verdict"]
    assert outcomes["by_band"] == expected["by_band"]
    assert {
        r["rule"]: {k: r[k] for k in ("counts", "total", "decided", "won", "win_rate")}
        for r in outcomes["by_rule"]
    } == expected["by_rule"]
    assert {k: outcomes["overall"][k] for k in ("decided", "won", "win_rate")} == {
        k: expected["overall"][k] for k in ("decided", "won", "win_rate")
    }
    # a rate rests on at least five decided bids, and both cases occur
    rows = [*outcomes["by_verdict"], *outcomes["by_band"], *outcomes["by_rule"]]
    assert all((row["win_rate"] is None) == (row["decided"] < 5) for row in rows)
    assert any(row["win_rate"] is None and row["total"] for row in rows)
    assert any(row["win_rate"] is not None for row in rows)

    (suggestion,) = [s for s in outcomes["suggestions"] if s["property"] == "win_probability"]
    assert suggestion == {
        "threshold": "min_win_probability",
        "current": 10,
        "property": "win_probability",
        "direction": "below",
        **expected["suggestion"],
    }

    text = report(gonogo, server, "--jql", OUTCOMES_JQL, "--outcomes").stdout
    assert "Waivers:" not in text
    assert "Active, ending later or never" not in text
    for r in outcomes["by_rule"]:  # the rule table names the failure, as the comment did
        assert r["problem"] == FAILED_LABELS[r["rule"]]
        assert f"  {r['problem'][:50]:<50} " in text or f"  {r['problem'][:49]}…" in text
    for row in expected["by_verdict"]:
        c = row["counts"]
        rate = "-" if row["win_rate"] is None else f"{row['win_rate']}%"
        numbers = f"{c['won']:5d} {c['lost']:5d} {c['withdrawn']:10d} {c['no-bid']:7d} {c['none']:11d}"
        assert f"  {LABELS[row['verdict']]:<20} {numbers}  {rate:>8}" in text
    for row in expected["by_band"]:
        rate = "-" if row["win_rate"] is None else f"{row['win_rate']}%"
        assert f"  {str(row['low']) + '-' + str(row['high']):<20} " in text
        assert text.count(f"  {rate:>8}") >= 1
    s = expected["suggestion"]
    assert (
        f"min_win_probability is 10, but no bid was won with win_probability below {s['edge']}: "
        f"all {s['bids']} decided bids there were lost. Consider min_win_probability = {s['suggested']}."
    ) in text

    for section, key in (("outcomes", "verdict"), ("bands", "score_from"), ("rule-outcomes", "rule")):
        table = csv_rows(
            report(
                gonogo, server, "--jql", OUTCOMES_JQL, "--outcomes", "--format", "csv", "--section", section
            ).stdout
        )
        wanted = {
            "outcomes": {LABELS[r["verdict"]]: r for r in expected["by_verdict"]},
            "bands": {str(r["low"]): r for r in expected["by_band"]},
            "rule-outcomes": expected["by_rule"],
        }[section]
        assert {row[key] for row in table} == set(wanted)
        for row in table:
            want = wanted[row[key]]
            assert [int(row[kind]) for kind in KINDS] == [want["counts"][kind] for kind in KINDS]
            assert row["win_rate"] == ("" if want["win_rate"] is None else str(want["win_rate"]))
            if section == "rule-outcomes":
                assert row["problem"] == FAILED_LABELS[row["rule"]]
    lines = csv_rows(
        report(
            gonogo, server, "--jql", OUTCOMES_JQL, "--outcomes", "--format", "csv", "--section", "suggestions"
        ).stdout
    )
    (line,) = [row for row in lines if row["threshold"] == "min_win_probability"]
    assert (line["threshold"], line["suggested"], line["bids"]) == (
        "min_win_probability",
        str(s["suggested"]),
        str(s["bids"]),
    )
