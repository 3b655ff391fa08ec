"""A `[fields]` mapping is checked against the site when, and only when, a ticket lacks a mapped field."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from jiraserver import JiraServer, running_server
from site_helpers import jira_env as env
from site_helpers import seed
from support import TODAY, Gonogo
from webhook_helpers import Metrics

from gonogo.core.jira_shapes.site_fields import closest_fields, unknown_to_site
from gonogo.flows.assessor import build_assessor
from gonogo.sources.config import load_settings
from gonogo.webhook.classify import Filters
from gonogo.webhook.queue import Job
from gonogo.webhook.queue.local import LocalQueue, read_dead_letters
from gonogo.webhook.service import check_runner
from gonogo.webhook.settings import QueueSettings, RetryPolicy
from gonogo.webhook.worker import Workers

SITE = {
    "customfield_10101": "Contract value",
    "customfield_10109": "Contract type",
    "customfield_10102": "Submission deadline",
    "summary": "Summary",
}


def test_unknown_refs_and_the_closest_names_are_found_by_name_or_id_ignoring_case() -> None:
    refs = {"budget": "contract VALUE", "deadline": "customfield_10102", "x": "Contract Valu", "y": "nope"}
    assert unknown_to_site(refs, SITE) == {"x": "Contract Valu", "y": "nope"}
    assert closest_fields("Contract Valu", SITE)[0] == '"Contract value" (customfield_10101)'
    assert {c.split(" (")[1] for c in closest_fields("customfield_10110", SITE)} == {
        "customfield_10101)",
        "customfield_10109)",
        "customfield_10102)",
    }


@pytest.fixture
def jira() -> Iterator[JiraServer]:
    with running_server(deployment="Cloud") as server:
        seed(server, "healthy", "BID-1")
        yield server
        assert server.internal_errors == []


def calls(server: JiraServer) -> list[str]:
    return [f"{r.method} {r.path}" for r in server.requests]


@pytest.mark.parametrize(
    ("mapping", "closest"),
    [
        ('budget = "Contract Valu"', '"Contract value" (customfield_10101)'),
        ('budget = "customfield_99999"', "closest: "),
    ],
)
def test_a_typo_in_fields_exits_3_naming_the_closest_field_and_writes_nothing(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path, mapping: str, closest: str
) -> None:
    (tmp_path / "gonogo.toml").write_text(f"[fields]\n{mapping}\n")
    run = gonogo("check", "BID-1", "--today", TODAY, env=env(jira))
    assert run.exit_code == 3
    assert run.stderr.startswith("gonogo: error: [fields] budget = ")
    assert "is not a field of this Jira site" in run.stderr
    assert closest in run.stderr
    assert run.stderr.count("\n") == 1
    assert calls(jira) == ["GET /rest/api/2/issue/BID-1", "GET /rest/api/2/field"]
    assert jira.comments("BID-1") == []
    assert jira.issue_properties("BID-1") == {}


def test_a_normal_check_does_not_ask_for_the_site_fields(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    (tmp_path / "gonogo.toml").write_text('[fields]\nbudget = "contract value"\n')
    assert gonogo("check", "BID-1", "--today", TODAY, "--dry-run", env=env(jira)).exit_code == 0
    assert calls(jira) == ["GET /rest/api/2/issue/BID-1"]


def test_a_field_of_the_site_that_this_ticket_lacks_is_missing_information(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    jira.add_issue(
        "BID-2",
        {"summary": "Elsewhere", "customfield_20001": "Osterby"},
        names={"summary": "Summary", "customfield_20001": "Account"},
    )
    (tmp_path / "gonogo.toml").write_text('[fields]\ncustomer = "Account"\n')
    run = gonogo("check", "BID-1", "--today", TODAY, "--dry-run", env=env(jira))
    assert run.exit_code == 0, run.stderr  # customer is read by no must-know rule
    assert calls(jira) == ["GET /rest/api/2/issue/BID-1", "GET /rest/api/2/field"]


def test_the_service_dead_letters_a_delivery_with_the_reason(jira: JiraServer, tmp_path: Path) -> None:
    config = tmp_path / "gonogo.toml"
    config.write_text('[fields]\nbudget = "Contract Valu"\n')
    settings = load_settings(config, environ=env(jira))
    runner = check_runner(
        build_assessor(settings), settings.jira, filters=Filters(), today=date(2026, 11, 23)
    )
    queue = LocalQueue(QueueSettings(kind="local", path=tmp_path / "queue"))
    try:
        queue.submit(Job("d-1", "BID-1", None, "jira:issue_created", time.time()), dedupe=True)
        claimed = queue.claim(1)
        assert claimed is not None
        retry = RetryPolicy(max_attempts=3, initial_seconds=0.01, max_seconds=0.02)
        metrics = Metrics()
        Workers(queue=queue, run_check=runner, count=1, retry=retry, metrics=metrics).process(claimed)
        (letter,) = read_dead_letters(queue.folder)
    finally:
        queue.close()
    assert letter.attempts == 1
    assert '[fields] budget = "Contract Valu" is not a field of this Jira site' in letter.reason
    assert "Contract value" in letter.reason
    assert [r.method for r in jira.requests] == ["GET", "GET"]
    assert jira.comments("BID-1") == []
