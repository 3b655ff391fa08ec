"""Issue 13, cases 6, 7 and 9: `gonogo serve` as a subprocess against slow clients, a hung Redis,
a taken port, SIGTERM, Jira's Retry-After and a payload whose key and id disagree."""

from __future__ import annotations

import ast
import inspect
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from jiraserver import JiraServer, running_server
from tcp_proxy import SilenceableProxy
from webhook_helpers import (
    REDIS_HOST,
    REDIS_PORT,
    Service,
    created_event,
    fresh_redis_prefix,
    seed,
    signed,
    wait_until,
)

from gonogo.webhook import service as service_module
from gonogo.webhook.service import listen

# What a client waits before giving up in these tests: the old behaviour took 30-60 s.
PATIENCE = 5.0


@pytest.fixture
def jira() -> Iterator[JiraServer]:
    with running_server(deployment="Cloud") as server:
        yield server
        assert server.internal_errors == []


def test_a_hung_redis_costs_a_delivery_its_503_and_healthz_its_answer_within_seconds(
    tmp_path: Path, jira: JiraServer
) -> None:
    """Case 7: Redis accepts connections but never answers."""
    with fresh_redis_prefix() as prefix, SilenceableProxy((REDIS_HOST, REDIS_PORT)) as proxy:
        service = Service(
            tmp_path / "svc",
            jira,
            webhook=f'queue = "redis"\nredis_prefix = "{prefix}"\n',
            env={"GONOGO_REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0"},
        ).start()
        try:
            proxy.hang()
            body = created_event("BID-1", "10001")
            reply = requests.post(
                f"{service.url}/webhook", data=body, headers=signed(body, "hung-1"), timeout=PATIENCE
            )
            assert reply.status_code == 503
            health = requests.get(f"{service.url}/healthz", timeout=PATIENCE)
            assert (health.status_code, health.json()) == (503, {"status": "queue unavailable"})
        finally:
            service.stop()


def test_stalled_connections_do_not_stop_the_service_and_a_trickling_body_gets_408(
    tmp_path: Path, jira: JiraServer
) -> None:
    """Case 6: connections that send part of their headers and wait hold no worker and no answer
    back; a body that trickles is cut at `request_timeout_seconds` (headers: the reverse proxy)."""
    service = Service(tmp_path / "svc", jira, webhook="request_timeout_seconds = 0.5\n").start()
    try:
        stalled = []
        for _ in range(20):
            conn = socket.create_connection(("127.0.0.1", service.port), timeout=PATIENCE)
            conn.sendall(b"POST /webhook HTTP/1.1\r\nHost: gonogo\r\nContent-Ty")
            stalled.append(conn)
        assert requests.get(f"{service.url}/healthz", timeout=PATIENCE).status_code == 200
        body = created_event("BID-1", seed(jira, "BID-1"))
        assert service.post(body, signed(body, "beside-stalled")).json()["outcome"] == "queued"
        wait_until(lambda: len(jira.comments("BID-1")) == 1, timeout=10, what="the comment")
        trickle = socket.create_connection(("127.0.0.1", service.port), timeout=PATIENCE)
        trickle.sendall(b"POST /webhook HTTP/1.1\r\nHost: gonogo\r\nContent-Length: 100\r\n\r\n{")
        assert trickle.recv(100).startswith(b"HTTP/1.1 408 ")
        for conn in [*stalled, trickle]:
            conn.close()
    finally:
        service.stop()
    assert "too_slow" in {line["outcome"] for line in service.delivery_lines()}


def test_accepted_connections_send_at_once_and_detect_a_vanished_peer() -> None:
    """TCP_NODELAY (Nagle held each answer ~40 ms) and keep-alive, inherited from the listening socket."""
    listening = listen("127.0.0.1", 0)
    with listening, socket.create_connection(listening.getsockname()[:2]):
        accepted, _ = listening.accept()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            assert accepted.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0


def test_sigterm_is_an_orderly_stop_with_status_0(tmp_path: Path, jira: JiraServer) -> None:
    """Case 9: uvicorn re-raised SIGTERM after its graceful shutdown: status -15."""
    service = Service(tmp_path / "svc", jira).start()
    assert service.process is not None
    service.process.terminate()
    assert service.process.wait(timeout=30) == 0


def test_a_port_in_use_is_one_error_line_naming_the_fix(tmp_path: Path, jira: JiraServer) -> None:
    """Case 9: uvicorn logged JSON lines and exited; no `gonogo: error:` line said what to do."""
    service = Service(tmp_path / "svc", jira)
    with socket.create_server(("127.0.0.1", service.port)):
        run = service.run("serve", "--port", str(service.port))
    assert run.returncode == 3
    assert run.stderr.strip().splitlines() == [
        f"gonogo: error: cannot listen on 127.0.0.1:{service.port} (Address already in use): stop what "
        "uses that port, or choose another with --port or [webhook].port"
    ]


def test_jiras_retry_after_sets_when_the_job_runs_again(tmp_path: Path, jira: JiraServer) -> None:
    """Case 9: the service's own retry of a 429 waited its back-off (0.05 s here), not Jira's hour."""
    issue_id = seed(jira, "BID-2")
    jira.fail_next("GET", rf"/issue/{issue_id}$", 429, headers={"Retry-After": "3600"})
    service = Service(tmp_path / "svc", jira).start()
    try:
        body = created_event("BID-2", issue_id)
        assert service.post(body, signed(body, "limited")).json()["outcome"] == "queued"
        wait_until(lambda: "check failed, retrying" in service.log_text(), timeout=10, what="the retry line")
        metrics = service.metrics()
    finally:
        service.stop()
    (retry,) = [
        json.loads(line) for line in service.log_text().splitlines() if '"check failed, retrying"' in line
    ]
    assert retry["retry_in_s"] >= 3600
    assert jira.comments("BID-2") == []
    assert metrics["gonogo_webhook_queue_depth"] == 1  # waiting in the queue, not in a worker


def test_the_log_names_the_ticket_that_was_commented_when_key_and_id_disagree(
    tmp_path: Path, jira: JiraServer
) -> None:
    """Case 9: the comment went to the id's ticket, the log line named the payload's key."""
    seed(jira, "BID-3")
    other_id = seed(jira, "BID-4")
    service = Service(tmp_path / "svc", jira).start()
    try:
        body = created_event("BID-3", other_id)
        assert service.post(body, signed(body, "mismatch")).json()["outcome"] == "queued"
        wait_until(lambda: len(jira.comments("BID-4")) == 1, timeout=10, what="the comment")
        wait_until(service.idle, timeout=10, what="the job to finish")
    finally:
        service.stop()
    assert jira.comments("BID-3") == []
    (line,) = [x for x in service.delivery_lines() if x["delivery"] == "mismatch"]
    assert (line["outcome"], line["ticket"]) == ("posted", "BID-4")


def test_the_service_uses_only_uvicorns_public_api() -> None:
    """Review 2, finding 9: no private uvicorn module, no subclass of its classes, no override.

    `gonogo serve` must not break silently when uvicorn reorganises its internals.
    """
    tree = ast.parse(inspect.getsource(service_module))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert {name for name in imported if name.startswith("uvicorn")} == {"uvicorn"}
    bases = [
        ast.unparse(base) for node in ast.walk(tree) if isinstance(node, ast.ClassDef) for base in node.bases
    ]
    assert not [base for base in bases if base.startswith("uvicorn")]
    assert "capture_signals" not in inspect.getsource(service_module)
