"""What the portfolio tests share: a loopback Jira seeded with hundreds of proposals, and the
verdicts those proposals get when each is checked on its own (the answer a report must agree with)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from jiraserver import JiraServer, JiraUser
from support import EXAMPLES, TODAY

from gonogo.core.pipeline.findings import Assessment
from gonogo.core.pipeline.ticket import ticket_from_rest
from gonogo.core.portfolio.rows import Row, row_from_assessment
from gonogo.flows.assessor import Assessor, build_assessor
from gonogo.sources.config import Settings, load_settings
from gonogo.sources.tickets import load_ticket_file

# The portfolio tests seed these in turn, and their figures (which key is which example) rest on
# this set: examples added later (reading a ticket's words and values) are judged in test_examples.
EXAMPLE_NAMES = (
    "blank",
    "commercial-squeeze",
    "conditions",
    "crowded-field",
    "doomed",
    "healthy",
    "needs-info",
    "stretched-team",
    "unprofitable",
    "waived",
)
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
    assessor = build_assessor(load_settings(environ={}))
    assessment = assessor.assess(load_ticket_file(EXAMPLES / f"{name}.json"), today=date.fromisoformat(TODAY))
    return row_from_assessment(assessment, headline=assessor.renderer.headline(assessment))


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


OUTCOME_FIELD = "customfield_10190"
OUTCOME_OPTIONS = {"won": "Won", "lost": "Lost", "withdrawn": "Withdrawn", "no-bid": "No bid"}
WIN_PROBABILITY_FIELD = "customfield_10104"
CLOSED_BASE = date(2026, 9, 1)
DONE = {"name": "Done", "id": "10003", "statusCategory": {"id": 3, "key": "done", "name": "Done"}}
_VERDICT_CYCLE = ("needs-info", "go", "no-go", "go-with-conditions")


@dataclass(frozen=True)
class ClosedSeed:
    """What the test put on a closed ticket: its example, fields, close date, outcome and history."""

    name: str
    fields: dict[str, Any]
    names: dict[str, str]
    closed: date
    outcome: str | None
    history: tuple[dict[str, Any], ...]


def history_entry(on: date, verdict: str, score: int | None) -> dict[str, Any]:
    return {"on": on.isoformat(), "verdict": verdict, "score": score}


def seed_closed(server: JiraServer, count: int, *, first: int, project: str = "BID") -> dict[str, ClosedSeed]:
    """Seed `count` resolved proposals with an Outcome and, for some, a verdict history.

    Win probabilities run from 11 to 40 %, and no bid below 20 % is won, so the team's results
    contradict min_win_probability (10 %). Every third ticket has a history with one entry before it
    closed and one after (which must not count); the others have none.
    """
    seeded: dict[str, ClosedSeed] = {}
    winning = ("won", "lost", "won", "withdrawn", "no-bid", "lost", None)
    losing = ("lost", "withdrawn", "lost", "no-bid", None)
    for index, number in enumerate(range(first, first + count)):
        name = EXAMPLE_NAMES[index % len(EXAMPLE_NAMES)]
        data = example(name)
        fields = {k: v for k, v in data["fields"].items() if k != "comment"}
        win_probability = 11 + (number * 7) % 30
        cycle = winning if win_probability >= 20 else losing
        outcome = cycle[(number // 3) % len(cycle)]
        closed = CLOSED_BASE + timedelta(days=number % 40)
        fields.update(
            {
                "summary": f"{fields['summary']} #{number}",
                "project": {**fields["project"], "key": project},
                "status": DONE,
                "resolutiondate": f"{closed.isoformat()}T16:30:00.000+0000",
                WIN_PROBABILITY_FIELD: win_probability,
                OUTCOME_FIELD: {"value": OUTCOME_OPTIONS[outcome], "id": "12001"} if outcome else None,
            }
        )
        names = {**data["names"], OUTCOME_FIELD: "Outcome"}
        history: tuple[dict[str, Any], ...] = ()
        key = f"{project}-{number}"
        server.add_issue(key, fields, names=names)
        if number % 3 == 0:
            history = (
                history_entry(closed - timedelta(days=30), "needs-info", 40),
                history_entry(closed - timedelta(days=2), _VERDICT_CYCLE[number % 4], (number * 13) % 101),
                history_entry(closed + timedelta(days=3), "go", 100),  # after closing: must not count
            )
            server.set_issue_property(key, "gonogo.verdict", {"commentId": "1", "history": list(history)})
        seeded[key] = ClosedSeed(name, fields, names, closed, outcome, history)
    return seeded


# --- what the teaching sections must say, computed by the test on its own --------------------------


@cache
def _assessor() -> Assessor:
    return build_assessor(load_settings(environ={}))


def assess_fields(key: str, fields: dict[str, Any], names: dict[str, str], today: date) -> Assessment:
    """A check of exactly these fields on its own, as of `today`."""
    ticket = ticket_from_rest({"key": key, "id": None, "fields": fields, "names": names}, origin=key)
    return _assessor().assess(ticket, today=today)


@cache
def solo_assessment(name: str) -> Assessment:
    return _assessor().assess(load_ticket_file(EXAMPLES / f"{name}.json"), today=date.fromisoformat(TODAY))


def share(count: int, total: int) -> int:
    return round(100 * count / total)


def expected_failures(seeded: dict[str, str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """rule ref -> keys failing it, property -> keys missing it, over `seeded` (key -> example)."""
    rules: dict[str, list[str]] = {}
    missing: dict[str, list[str]] = {}
    for key in sorted(seeded, key=lambda k: int(k.split("-")[1])):
        assessment = solo_assessment(seeded[key])
        for finding in assessment.findings:
            if finding.outcome.value == "failed":
                rules.setdefault(f"{finding.checklist}/{finding.rule.id}", []).append(key)
        for item in assessment.missing_information:
            missing.setdefault(item.property, []).append(key)
    return rules, missing


def win_rate(won: int, lost: int) -> int | None:
    return round(100 * won / (won + lost)) if won + lost >= 5 else None


@dataclass(frozen=True)
class ExpectedBid:
    verdict: str
    score: int | None
    source: str
    outcome: str
    rules: frozenset[str]  # failed or waived, from the final fields
    win_probability: float


def expected_bids(seeds: dict[str, ClosedSeed]) -> dict[str, ExpectedBid]:
    """Each closed ticket's verdict before closing: the last history entry up to its close date,
    else a fresh assessment of its fields as of that date."""
    found = {}
    for key, seed in seeds.items():
        assessment = assess_fields(key, seed.fields, seed.names, seed.closed)
        before = [e for e in seed.history if date.fromisoformat(e["on"]) <= seed.closed]
        if before:
            verdict, score, source = before[-1]["verdict"], before[-1]["score"], "history"
        else:
            verdict, score, source = assessment.verdict.value, assessment.score, "assessed"
        rules = frozenset(
            f"{f.checklist}/{f.rule.id}"
            for f in assessment.findings
            if f.outcome.value in ("failed", "waived")
        )
        found[key] = ExpectedBid(
            verdict, score, source, seed.outcome or "none", rules, seed.fields[WIN_PROBABILITY_FIELD]
        )
    return found


def waived_long_ago(server: JiraServer, key: str) -> None:
    """Give `key` a change newer than its waiver, for a site whose searches show one changelog
    entry (`changelog_cap=1`): the report then reads the ticket on its own to learn who waived."""
    labels = server.issue_fields(key)["labels"]
    waived_on = max(entry["created"] for entry in server.history(key))
    server.change_issue(key, {"labels": [*labels, "later"]}, at=waived_on + timedelta(days=1))
