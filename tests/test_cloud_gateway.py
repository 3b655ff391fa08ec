"""Jira Cloud as admins run it in 2026: the API gateway, token-paged search, and scoped rate limits.

Scoped API tokens (the only kind a service account has) work only through Atlassian's API gateway,
`https://api.atlassian.com/ex/jira/{cloudId}`; the test Jira serves its API under that path when it
has a cloud id, and refuses the site's own paths as the site refuses a scoped token (401). People
still browse the site, so browse links and pasted links use `[jira] site_url`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from jiraserver import JiraServer, running_server
from jiraserver.adf_schema import adf_schema_unavailable_reason
from portfolio_helpers import VirtualClock, seed_portfolio, settings_for
from realdeps import require_real_or_skip
from site_helpers import seed
from support import TODAY, Gonogo
from webhook_helpers import Service, created_event, signed, wait_until
from webhook_helpers import seed as seed_for_service

from gonogo.core.errors import ConfigurationError, JiraError
from gonogo.flows.assessor import build_assessor
from gonogo.flows.check_ticket import assess_and_post
from gonogo.jira.gateway import Deployment, JiraGateway
from gonogo.jira.rest import Answer
from gonogo.jira.throttle import Throttle, request_scopes
from gonogo.sources.config import load_settings

CLOUD_ID = "4f0c6a5e-8d3b-4c2e-9a71-2b6d0e5f9c13"
SITE = "https://bids.atlassian.net"
GATEWAY = "https://api.atlassian.com"


@pytest.fixture
def gateway_jira() -> Iterator[JiraServer]:
    with running_server(deployment="Cloud", cloud_id=CLOUD_ID) as server:
        yield server
        assert server.internal_errors == []


@pytest.fixture(autouse=True)
def site_config(tmp_path: Path) -> None:
    (tmp_path / "gonogo.toml").write_text(f'[jira]\nsite_url = "{SITE}"\nretries = 1\n')


def gateway_env(server: JiraServer) -> dict[str, str]:
    email, token = server.basic_auth
    return {"JIRA_URL": server.gateway_url, "JIRA_USER": email, "JIRA_API_TOKEN": token}


def test_either_address_form_sends_requests_to_the_gateway_and_links_to_the_site() -> None:
    from_url = load_settings(environ={"JIRA_URL": f"https://api.atlassian.com/ex/jira/{CLOUD_ID}"})
    assert from_url.jira.api_url == f"https://api.atlassian.com/ex/jira/{CLOUD_ID}"
    assert from_url.jira.browse_url == SITE  # [jira] site_url
    assert from_url.jira.deployment == "cloud"
    assert from_url.jira.comment_format.api_version == 3

    Path("gonogo.toml").write_text(f'[jira]\ncloud_id = "{CLOUD_ID.upper()}"\n')
    from_id = load_settings(environ={"JIRA_URL": "https://bids.example.com"})
    assert from_id.jira.api_url == f"https://api.atlassian.com/ex/jira/{CLOUD_ID}"
    assert from_id.jira.browse_url == "https://bids.example.com"
    assert from_id.jira.deployment == "cloud"  # a site on its own domain, yet Cloud: only Cloud has a gateway


@pytest.mark.parametrize(
    ("url", "table", "says"),
    [
        ("https://api.atlassian.com/ex/jira/not-a-uuid", "", "is not a cloud id"),
        (f"{GATEWAY}/ex/jira/{CLOUD_ID}", 'deployment = "data-center"', "serves only Jira Cloud"),
        (
            f"https://api.atlassian.com/ex/jira/{CLOUD_ID}",
            'cloud_id = "00000000-0000-4000-8000-000000000000"',
            "keep one of them",
        ),
    ],
)
def test_a_gateway_address_that_cannot_be_right_is_refused_with_the_fix(
    url: str, table: str, says: str
) -> None:
    Path("gonogo.toml").write_text(f"[jira]\n{table}\n")
    with pytest.raises(ConfigurationError, match=says):
        load_settings(environ={"JIRA_URL": url})


def test_check_through_the_gateway_posts_adf_on_v3_and_takes_a_pasted_site_link(
    gonogo: Gonogo, gateway_jira: JiraServer
) -> None:
    if reason := adf_schema_unavailable_reason():
        require_real_or_skip(reason)
    seed(gateway_jira, "healthy", "BID-1")
    run = gonogo("check", f"{SITE}/browse/BID-1", "--today", TODAY, env=gateway_env(gateway_jira))
    assert run.exit_code == 0, run.stderr
    paths = [f"{r.method} {r.path}" for r in gateway_jira.requests]
    prefix = f"/ex/jira/{CLOUD_ID}/rest/api/"
    assert all(path.split(" ", 1)[1].startswith(prefix) for path in paths), paths
    assert any(p.startswith(f"POST {prefix}3/issue/") and p.endswith("/comment") for p in paths), paths
    (comment,) = gateway_jira.comments("BID-1")
    assert comment["adf"]["type"] == "doc"

    elsewhere = gonogo("check", "https://other.atlassian.net/browse/BID-1", env=gateway_env(gateway_jira))
    assert elsewhere.exit_code != 0
    assert "bids.atlassian.net" in elsewhere.stderr


def test_setup_through_the_gateway_writes_a_config_that_keeps_the_gateway_and_the_site(
    gonogo: Gonogo, gateway_jira: JiraServer, tmp_path: Path
) -> None:
    seed(gateway_jira, "healthy", "BID-1")
    written = tmp_path / "site.toml"
    run = gonogo(
        "setup", "--from", f"{SITE}/browse/BID-1", "--write", str(written), env=gateway_env(gateway_jira)
    )
    assert run.exit_code == 0, run.stderr
    jira = load_settings(written, environ={}).jira
    assert (jira.api_url, jira.browse_url) == (gateway_jira.gateway_url, SITE)


def test_without_a_site_url_a_pasted_link_names_the_setting(gonogo: Gonogo, gateway_jira: JiraServer) -> None:
    Path("gonogo.toml").write_text("[jira]\nretries = 0\n")
    run = gonogo("check", f"{SITE}/browse/BID-1", env=gateway_env(gateway_jira))
    assert run.exit_code == 3
    assert "[jira] site_url" in run.stderr


def test_the_site_itself_refuses_a_scoped_token_and_the_401_mentions_expiry(
    gonogo: Gonogo, gateway_jira: JiraServer
) -> None:
    seed(gateway_jira, "healthy", "BID-1")
    email, token = gateway_jira.basic_auth
    env = {"JIRA_URL": gateway_jira.url, "JIRA_USER": email, "JIRA_API_TOKEN": token}
    run = gonogo("check", "BID-1", "--today", TODAY, env=env)
    assert run.exit_code == 5, run.stderr  # Jira refused
    assert "401" in run.stderr
    assert "expire" in run.stderr
    assert "cloud_id" in run.stderr  # a scoped token must go through the gateway
    assert token not in run.stderr


def test_report_through_the_gateway_links_every_row_to_the_site(
    gonogo: Gonogo, gateway_jira: JiraServer
) -> None:
    seeded = seed_portfolio(gateway_jira, 3)
    args = ("report", "--jql", "project = BID", "--today", TODAY, "--format", "json")
    run = gonogo(*args, env=gateway_env(gateway_jira))
    assert run.exit_code in (0, 10, 11, 12, 13), run.stderr
    rows = json.loads(run.stdout)["tickets"]
    assert sorted(row["key"] for row in rows) == sorted(seeded)
    assert {row["url"] for row in rows} == {f"{SITE}/browse/{key}" for key in seeded}
    assert not any("/serverInfo" in r.path for r in gateway_jira.requests)  # Cloud, without asking
    streamed = gonogo(*args[:-1], "jsonl", env=gateway_env(gateway_jira))  # each line as it is judged
    lines = [json.loads(line) for line in streamed.stdout.splitlines()]
    assert {line["url"] for line in lines} == {f"{SITE}/browse/{key}" for key in seeded}
    table = gonogo(*args[:-1], "csv", env=gateway_env(gateway_jira)).stdout
    assert table.count(f"{SITE}/browse/") == 3
    assert "/ex/jira/" not in table


def test_serve_through_the_gateway_checks_a_delivery_and_comments_in_adf(
    tmp_path: Path, gateway_jira: JiraServer
) -> None:
    service = Service(
        tmp_path / "svc",
        gateway_jira,
        jira_table=f'retries = 0\ntimeout_seconds = 5\nsite_url = "{SITE}"',
        webhook='projects = ["BID"]\n',
        env={"JIRA_URL": gateway_jira.gateway_url},
    ).start()
    try:
        issue_id = seed_for_service(gateway_jira, "BID-4")
        body = created_event("BID-4", issue_id)
        assert service.post(body, signed(body, "gw-1")).json()["outcome"] == "queued"
        wait_until(lambda: len(gateway_jira.comments("BID-4")) == 1, timeout=15, what="the verdict comment")
    finally:
        service.stop()
    posts = [r.path for r in gateway_jira.requests if r.method == "POST"]
    assert posts == [f"/ex/jira/{CLOUD_ID}/rest/api/3/issue/{issue_id}/comment"]


# -- paging ------------------------------------------------------------------------------------


def test_a_search_whose_pages_carry_tokens_but_no_is_last_returns_every_ticket() -> None:
    with running_server(deployment="Cloud", search_is_last=False, search_page_cap=7) as server:
        seeded = seed_portfolio(server, 30)
        settings = settings_for(server)
        gateway = JiraGateway(settings.jira)
        pages = list(gateway.search("project = BID", fields=["summary"], deployment=Deployment.CLOUD))
    assert sorted(issue["key"] for page in pages for issue in page.items) == sorted(seeded)
    assert len(pages) == 5  # 7 + 7 + 7 + 7 + 2, the last without a token
    assert all("isLast" not in (r.response_json or {}) for r in server.requests)


def test_a_search_that_repeats_its_page_token_stops_with_an_error_instead_of_looping() -> None:
    with running_server(deployment="Cloud", validate=False) as server:
        settings = settings_for(server)
        page = {"issues": [{"id": "1", "key": "BID-1", "fields": {}}], "nextPageToken": "same"}
        server.fail_next("GET", r"/search/jql$", 200, body=page, times=3)
        gateway = JiraGateway(settings.jira)
        with pytest.raises(JiraError, match="same next-page token"):
            list(gateway.search("project = BID", fields=["summary"], deployment=Deployment.CLOUD))
        assert sum(1 for r in server.requests if r.path.endswith("/search/jql")) == 2


# -- rate limits by scope ----------------------------------------------------------------------


def test_scopes_name_the_endpoint_without_ids_and_the_issue_only_for_writes() -> None:
    base = f"https://api.atlassian.com/ex/jira/{CLOUD_ID}/rest/api"
    assert request_scopes("PUT", f"{base}/3/issue/10001") == [
        ("everything",),
        ("endpoint", "PUT", "issue/{}"),
        ("issue-writes", "10001"),
    ]
    assert request_scopes("GET", f"{base}/2/issue/BID-7/comment") == [
        ("everything",),
        ("endpoint", "GET", "issue/{}/comment"),
    ]


def test_a_per_issue_write_limit_on_one_ticket_does_not_delay_checks_of_other_tickets() -> None:
    """While BID-1's own gateway waits out its 429, another worker checks BID-2 and BID-3.

    Virtual time: the first gateway's retry sleep is where the other checks run (as another
    thread would meanwhile), and the throttle's sleeps are recorded. A check of another ticket
    must not sleep at all; a write to BID-1 in that window must wait for what Jira asked.
    """
    with running_server(deployment="Cloud") as server:
        for key in ("BID-1", "BID-2", "BID-3"):
            seed(server, "healthy", key)
        settings = settings_for(server)
        assessor = build_assessor(settings)
        time_ = VirtualClock()
        throttle = Throttle(clock=time_.clock, sleep=time_.sleep)
        today = date.fromisoformat(TODAY)
        others = JiraGateway(settings.jira, sleep=time_.sleep, throttle=throttle)
        meanwhile: list[float] = []

        def check(gateway: JiraGateway, key: str) -> Any:
            ticket = gateway.fetch_ticket(key, fields=assessor.fields_to_fetch())
            return assess_and_post(ticket, gateway, assessor=assessor, today=today)

        def backing_off(seconds: float) -> None:
            before = len(time_.sleeps)
            check(others, "BID-2")
            check(others, "BID-3")
            meanwhile.extend(time_.sleeps[before:])
            time_.sleep(seconds)

        busy = JiraGateway(settings.jira, sleep=backing_off, throttle=throttle)
        server.fail_next(
            "POST",
            r"/issue/[^/]+/comment$",
            429,
            headers={"Retry-After": "30", "RateLimit-Reason": "jira-per-issue-on-write"},
        )
        first = check(busy, "BID-1")
        assert meanwhile == []  # BID-2 and BID-3 were read and commented on without a pause
        assert [len(server.comments(k)) for k in ("BID-1", "BID-2", "BID-3")] == [1, 1, 1]
        assert first.publication is not None
        assert time_.sleeps == [30.0]  # BID-1's own wait, as Jira asked; nobody else's

        # Another write limit on BID-1: a write to it now waits; a read of it does not.
        issue = f"{server.url}/rest/api/3/issue/BID-1"
        limit = "jira-per-issue-on-write"
        throttle.observe(Answer(429, {"Retry-After": "5", "RateLimit-Reason": limit}, b""), "PUT", issue)
        throttle.wait_turn("GET", issue)
        assert time_.sleeps == [30.0]
        throttle.wait_turn("PUT", issue)
        assert time_.sleeps == [30.0, 5.0]


@pytest.mark.parametrize(
    ("reason", "held_for_another_ticket", "held_for_another_endpoint"),
    [
        ("jira-per-issue-on-write", 0.0, 0.0),
        ("jira-burst-based", 9.0, 0.0),  # same endpoint and method, another ticket: held
        ("jira-quota-global-based", 9.0, 9.0),
        (None, 9.0, 9.0),  # a 429 that does not say: everything, as before
    ],
)
def test_each_rate_limit_holds_what_it_limited(
    reason: str | None, held_for_another_ticket: float, held_for_another_endpoint: float
) -> None:
    api = f"https://api.atlassian.com/ex/jira/{CLOUD_ID}/rest/api/3"

    def held(method: str, url: str) -> float:
        time_ = VirtualClock()
        throttle = Throttle(clock=time_.clock, sleep=time_.sleep)
        headers = {"Retry-After": "9", **({"RateLimit-Reason": reason} if reason else {})}
        throttle.observe(Answer(429, headers, b""), "PUT", f"{api}/issue/10001")
        throttle.wait_turn(method, url)
        return sum(time_.sleeps)

    assert held("PUT", f"{api}/issue/10001") == 9.0  # what was limited always waits
    assert held("PUT", f"{api}/issue/10002") == held_for_another_ticket
    assert held("GET", f"{api}/search/jql") == held_for_another_endpoint
