"""Issue 14b: the checks run in a process of their own, which `gonogo serve` starts and supervises;
the queue splits between the two; answers leave without Nagle's delay."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from jiraserver import JiraServer, running_server
from webhook_helpers import Service, created_event, seed, signed, wait_until

from gonogo.core.errors import ConfigurationError
from gonogo.webhook.listener import listen, no_delay
from gonogo.webhook.queue import Job
from gonogo.webhook.queue.local import LocalQueue
from gonogo.webhook.settings import QueueSettings


@pytest.fixture
def jira() -> Iterator[JiraServer]:
    with running_server(deployment="Cloud") as server:
        yield server
        assert server.internal_errors == []


def checks_pids(service: Service) -> list[int]:
    """The check processes the service said were ready, in order (from its log)."""
    return [
        int(line["pid"])
        for line in service.log_lines()
        if line.get("message") == "check process ready" and "pid" in line
    ]


def running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] != "Z"


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def deliver(service: Service, jira: JiraServer, key: str) -> None:
    body = created_event(key, seed(jira, key))
    assert service.post(body, signed(body, f"d-{key}")).json()["outcome"] == "queued"


def test_the_checks_run_in_a_child_that_is_restarted_after_kill_9_and_keeps_its_counts(
    tmp_path: Path, jira: JiraServer
) -> None:
    service = Service(tmp_path / "svc", jira).start()
    try:
        assert service.process is not None
        wait_until(lambda: len(checks_pids(service)) == 1, timeout=30, what="the check process")
        (first,) = checks_pids(service)
        assert first != service.process.pid
        assert parent_of(first) == service.process.pid
        deliver(service, jira, "BID-1")
        # Counted means settled: a kill between the comment and its acknowledgement would make the
        # redelivered job a re-check that finds nothing to change ("unchanged", not "posted").
        posted = 'gonogo_webhook_checks_total{outcome="posted"}'
        wait_until(lambda: service.metrics().get(posted) == 1, timeout=30, what="the first check counted")

        os.kill(first, signal.SIGKILL)
        wait_until(lambda: len(checks_pids(service)) == 2, timeout=30, what="a new check process")
        assert requests.get(f"{service.url}/healthz", timeout=5).status_code == 200
        deliver(service, jira, "BID-2")
        wait_until(lambda: bool(jira.comments("BID-2")), timeout=30, what="the second comment")
        # The dead process's counters still count (prometheus multiprocess files), the live one's too.
        # A job is acknowledged before its outcome is counted, so wait for the count, not the queue.
        wait_until(lambda: service.metrics().get(posted) == 2, timeout=10, what="both checks counted")
        wait_until(service.idle, timeout=10, what="the queue to drain")
        assert [line["message"] for line in service.log_lines() if line["level"] == "error"] == [
            "the check process ended; restarting it"
        ]
    finally:
        service.stop()


def test_kill_9_of_the_service_takes_its_check_process_with_it_and_sigterm_stops_both(
    tmp_path: Path, jira: JiraServer
) -> None:
    service = Service(tmp_path / "svc", jira).start()
    try:
        wait_until(lambda: len(checks_pids(service)) == 1, timeout=30, what="the check process")
        (child,) = checks_pids(service)
        service.kill()
        wait_until(lambda: not running(child), timeout=10, what="the orphaned check process to end")

        service.start()  # the same queue folder: the new check process can take it over
        wait_until(lambda: len(checks_pids(service)) == 2, timeout=30, what="the new check process")
        child = checks_pids(service)[-1]
        deliver(service, jira, "BID-3")
        wait_until(lambda: bool(jira.comments("BID-3")), timeout=30, what="the comment")
        assert service.process is not None
        service.process.terminate()
        assert service.process.wait(timeout=30) == 0
        assert not running(child)
    finally:
        service.stop()


def queue_settings(tmp_path: Path) -> QueueSettings:
    return QueueSettings(kind="local", path=tmp_path / "queue")


def job(key: str) -> Job:
    return Job(f"d-{key}", key, None, "jira:issue_created", received_at=1.0)


def test_the_intake_side_stores_and_the_checks_side_hands_out(tmp_path: Path) -> None:
    nudged: list[bool] = []
    intake = LocalQueue(queue_settings(tmp_path), role="intake", on_stored=lambda: nudged.append(True))
    checks = LocalQueue(queue_settings(tmp_path), role="checks")
    try:
        assert intake.submit(job("BID-1"), dedupe=True)
        assert not intake.submit(job("BID-1"), dedupe=True)  # deduplicated on the intake side
        assert nudged == [True]  # once: the duplicate stored nothing
        checks.nudge()
        claimed = checks.claim(10)
        assert claimed is not None
        assert claimed.job.key == "BID-1"
        # In progress over there (for the moment it is being moved, a job may count twice).
        wait_until(lambda: intake.depth() == 1, timeout=10, what="the inbox row to be moved")
        checks.complete(claimed)
        assert intake.depth() == 0
        with pytest.raises(RuntimeError):
            intake.claim(0)
        # One HTTP side per folder, as before.
        with pytest.raises(ConfigurationError, match="in use by another gonogo serve"):
            LocalQueue(queue_settings(tmp_path), role="intake")
    finally:
        checks.close()
        intake.close()


def test_answers_leave_at_once_rather_than_after_the_clients_delayed_ack() -> None:
    """The listening socket's accepted connections get TCP_NODELAY; asyncio alone does not set it."""

    async def nodelay_of_accepted(turn_off_nagle: bool) -> int:
        loop = asyncio.get_running_loop()
        accepted: asyncio.Future[int] = loop.create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                if turn_off_nagle:
                    no_delay(transport)
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        listening = listen("127.0.0.1", 0)
        server = await loop.create_server(Probe, sock=listening)
        _, writer = await asyncio.open_connection(*listening.getsockname()[:2])
        try:
            return await asyncio.wait_for(accepted, 10)
        finally:
            writer.close()
            server.close()

    assert asyncio.run(nodelay_of_accepted(turn_off_nagle=False)) == 0
    assert asyncio.run(nodelay_of_accepted(turn_off_nagle=True)) != 0
