"""`gonogo worker`: more check workers on the Redis queue, beside `gonogo serve`, killed at will."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from jiraserver import JiraServer, running_server
from webhook_helpers import Service, created_event, fresh_redis_prefix, seed, signed, wait_until


@pytest.fixture
def jira() -> Iterator[JiraServer]:
    with running_server(deployment="Cloud") as server:
        yield server
        assert server.internal_errors == []


def start_worker(service: Service, log: Path) -> subprocess.Popen[bytes]:
    """`gonogo worker` with the service's configuration, once it says it is ready."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gonogo", "worker"],
            env=service.env,
            cwd=service.folder,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_until(
        lambda: process.poll() is not None or "gonogo worker ready" in log.read_text(errors="replace"),
        timeout=30,
        what="gonogo worker to be ready",
    )
    assert process.poll() is None, log.read_text(errors="replace")
    return process


def test_a_worker_killed_mid_check_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, jira: JiraServer
) -> None:
    with fresh_redis_prefix() as prefix:
        config = f'queue = "redis"\nredis_prefix = "{prefix}"\nlease_seconds = 1\nworkers = 1\n'
        service = Service(tmp_path / "svc", jira, webhook=config).start()
        worker = start_worker(service, tmp_path / "worker.log")
        try:
            keys = [f"BID-{n}" for n in range(500, 510)]
            ids = {key: seed(jira, key) for key in keys}
            # Three checks hang in Jira: serve has one worker thread, so two or more are the worker's.
            jira.hang_next("GET", r"/rest/api/2/issue/", times=3)
            for key in keys:
                body = created_event(key, ids[key])
                assert service.post(body, signed(body, f"w-{key}")).json()["outcome"] == "queued"
            wait_until(lambda: jira.held_requests == 3, timeout=10, what="three checks in flight")
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            jira.release()
            # serve's own thread takes over what the dead worker held once its lease has run out.
            wait_until(lambda: all(jira.comments(key) for key in keys), timeout=30, what="every comment")
            wait_until(service.idle, timeout=10, what="the stream to drain")
            assert {key: len(jira.comments(key)) for key in keys} == dict.fromkeys(keys, 1)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=10)
            service.stop()


def test_a_worker_stops_in_order_on_sigterm_and_shares_the_checks(tmp_path: Path, jira: JiraServer) -> None:
    with fresh_redis_prefix() as prefix:
        config = f'queue = "redis"\nredis_prefix = "{prefix}"\nworkers = 1\n'
        service = Service(tmp_path / "svc", jira, webhook=config).start()
        log = tmp_path / "worker.log"
        worker = start_worker(service, log)
        try:
            keys = [f"BID-{n}" for n in range(600, 620)]
            for key in keys:
                body = created_event(key, seed(jira, key))
                assert service.post(body, signed(body, f"s-{key}")).json()["outcome"] == "queued"
            wait_until(lambda: all(jira.comments(key) for key in keys), timeout=30, what="every comment")
            worker.terminate()
            assert worker.wait(timeout=30) == 0
        finally:
            if worker.poll() is None:
                worker.kill()
            service.stop()
        lines = [line for line in log.read_text().splitlines() if '"gonogo.webhook.delivery"' in line]
        assert lines, "the worker checked none of twenty tickets"


def test_a_worker_needs_the_redis_queue(tmp_path: Path, jira: JiraServer) -> None:
    service = Service(tmp_path / "svc", jira)
    run = service.run("worker")
    assert run.returncode == 3
    assert run.stderr.strip().splitlines() == [
        'gonogo: error: gonogo worker needs queue = "redis" in [webhook]: the local queue belongs to '
        "gonogo serve, which runs its own worker threads (--workers)"
    ]
