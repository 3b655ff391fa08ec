"""A test Jira behind tests/tcp_proxy.py's `FaultyHttpProxy`, which breaks its answers on the wire: an
answer cut short or a connection reset is retried like a timeout (by `gonogo check`, and by the
service instead of dead-lettering it), a trickling answer ends at the overall deadline, a redirect
is followed only within the Jira site, and an answer nested absurdly deep is a Jira error; what
still cannot be read ends in a one-line Jira error, with nothing posted.
"""

from __future__ import annotations

import itertools
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from jiraserver import JiraServer, running_server
from site_helpers import jira_env, seed
from support import TODAY, Gonogo
from tcp_proxy import FaultyHttpProxy
from webhook_helpers import Service, created_event, signed, wait_until

from gonogo.core.errors import JiraError
from gonogo.jira.gateway import JiraGateway
from gonogo.sources.config import load_settings


@pytest.fixture
def jira() -> Iterator[JiraServer]:
    with running_server(deployment="Cloud") as server:
        seed(server, "doomed", "BID-1")
        yield server


@pytest.fixture
def proxy(jira: JiraServer) -> Iterator[FaultyHttpProxy]:
    with FaultyHttpProxy(int(jira.url.rsplit(":", 1)[1])) as faulty:
        yield faulty


def issue_id(jira: JiraServer, key: str) -> str:
    answer = requests.get(f"{jira.url}/rest/api/2/issue/{key}", headers=jira.auth_headers, timeout=5)
    return str(answer.json()["id"])


def via(proxy: FaultyHttpProxy, jira: JiraServer) -> dict[str, str]:
    return {**jira_env(jira), "JIRA_URL": proxy.url}


def one_line_failure(run: object, exit_code: int, message: str) -> None:
    assert run.exit_code == exit_code, run.stdout + run.stderr  # type: ignore[attr-defined]
    assert run.stderr.count("\n") == 1, run.stderr  # type: ignore[attr-defined]
    assert message in run.stderr, run.stderr  # type: ignore[attr-defined]


# --- an answer cut short, or a reset, is retried like a timeout ------------------------------


@pytest.mark.parametrize("fault", ["cut", "reset"])
def test_an_answer_broken_on_the_wire_is_retried_and_the_verdict_posted(
    gonogo: Gonogo, jira: JiraServer, proxy: FaultyHttpProxy, fault: str
) -> None:
    proxy.break_next("GET", r"/issue/BID-1$", fault)
    run = gonogo("check", "BID-1", "--today", TODAY, env=via(proxy, jira))
    assert run.exit_code == 12, run.stderr
    assert proxy.requests[:2] == ["GET /rest/api/2/issue/BID-1"] * 2
    assert len(jira.comments("BID-1")) == 1


def test_an_answer_cut_short_every_time_is_a_jira_error_in_one_line(
    gonogo: Gonogo, jira: JiraServer, proxy: FaultyHttpProxy, tmp_path: Path
) -> None:
    (tmp_path / "gonogo.toml").write_text("[jira]\nretries = 1\n")
    proxy.break_next("GET", r"/issue/BID-1$", "cut", times=2)
    run = gonogo("check", "BID-1", "--today", TODAY, env=via(proxy, jira))
    one_line_failure(run, 5, "the connection to Jira broke off in the middle of its answer when trying to")
    assert jira.comments("BID-1") == []


def test_the_service_retries_an_answer_cut_short_instead_of_dead_lettering_it(
    jira: JiraServer, proxy: FaultyHttpProxy, tmp_path: Path
) -> None:
    proxy.break_next("GET", r"/issue/[^/]+$", "cut")
    service = Service(tmp_path / "svc", jira, env={"JIRA_URL": proxy.url})
    service.start()
    try:
        body = created_event("BID-1", issue_id(jira, "BID-1"))
        assert service.post(body, signed(body, "cut-1")).json()["outcome"] == "queued"
        wait_until(lambda: len(jira.comments("BID-1")) == 1, timeout=20, what="the comment after a retry")
        wait_until(service.idle, timeout=20, what="the delivery to be settled")
    finally:
        service.stop()
    assert "broke off" in service.log_text()
    assert "dead letter" not in service.log_text().lower()


# --- a trickling answer ends at the overall deadline -----------------------------------------


def test_a_trickling_answer_ends_at_the_overall_deadline_measured_on_the_injected_clock(
    jira: JiraServer, proxy: FaultyHttpProxy
) -> None:
    proxy.break_next("GET", r"/issue/BID-1$", "trickle")
    settings = replace(load_settings(environ=via(proxy, jira)).jira, timeout_seconds=5.0, retries=0)
    ticks = itertools.count()  # every look at the clock is one second later
    gateway = JiraGateway(settings, sleep=lambda _: None, clock=lambda: float(next(ticks)))
    with pytest.raises(JiraError, match="did not answer within 5 s when trying to read BID-1") as raised:
        gateway.fetch_ticket("BID-1", fields=None)
    assert raised.value.retryable  # the service tries again later
    assert next(ticks) < 20  # gave up after a handful of reads of a body of thousands of bytes
    assert all(sent < total for sent, total in proxy.trickled)  # the answer was never finished


def test_a_trickling_answer_is_exit_5_in_the_cli(
    gonogo: Gonogo, jira: JiraServer, proxy: FaultyHttpProxy, tmp_path: Path
) -> None:
    (tmp_path / "gonogo.toml").write_text("[jira]\ntimeout_seconds = 0.5\nretries = 0\n")
    proxy.break_next("GET", r"/issue/BID-1$", "trickle")
    run = gonogo("check", "BID-1", "--today", TODAY, env=via(proxy, jira))
    one_line_failure(run, 5, "Jira did not answer within 0.5 s when trying to read BID-1")
    assert jira.comments("BID-1") == []


# --- redirects stay on the Jira site ---------------------------------------------------------


@pytest.fixture
def elsewhere() -> Iterator[socket.socket]:
    """A listener on another port: whatever gonogo sends there would be queued on it."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        yield listener


def nobody_came(listener: socket.socket) -> bool:
    try:
        listener.accept()[0].close()
    except BlockingIOError:
        return True
    return False


@pytest.mark.parametrize(("method", "path"), [("GET", r"/issue/BID-1$"), ("POST", r"/comment$")])
def test_a_redirect_off_the_jira_site_is_refused_and_says_where_to(
    gonogo: Gonogo, jira: JiraServer, proxy: FaultyHttpProxy, elsewhere: socket.socket, method: str, path: str
) -> None:
    target = f"http://127.0.0.1:{elsewhere.getsockname()[1]}/collect"
    proxy.break_next(method, path, ("redirect", target), times=10)
    run = gonogo("check", "BID-1", "--today", TODAY, env=via(proxy, jira))
    one_line_failure(run, 5, f"Jira tried to send gonogo to {target}")
    assert nobody_came(elsewhere)
    assert jira.comments("BID-1") == []


def test_a_redirect_within_the_jira_site_is_followed(
    gonogo: Gonogo, jira: JiraServer, proxy: FaultyHttpProxy
) -> None:
    same_site = f"{proxy.url}/rest/api/2/issue/BID-1?expand=names"
    proxy.break_next("GET", r"/issue/BID-1$", ("redirect", same_site))
    run = gonogo("check", "BID-1", "--today", TODAY, env=via(proxy, jira))
    assert run.exit_code == 12, run.stderr
    assert len(jira.comments("BID-1")) == 1


# --- absurdly nested answers are a Jira error ------------------------------------------------


@pytest.mark.parametrize(
    ("status", "depth", "message"),
    [
        (200, 100_000, "nested deeper than 100 levels"),
        (200, 150, "nested deeper than 100 levels"),
        (400, 100_000, "Jira answered 400 when trying to read BID-1: no details given"),
    ],
)
def test_an_answer_nested_beyond_a_sane_depth_is_a_jira_error(
    gonogo: Gonogo, jira: JiraServer, proxy: FaultyHttpProxy, status: int, depth: int, message: str
) -> None:
    proxy.break_next("GET", r"/issue/BID-1$", ("answer", str(status), "[" * depth + "]" * depth), times=10)
    run = gonogo("check", "BID-1", "--today", TODAY, env=via(proxy, jira))
    one_line_failure(run, 5, message)
