"""What the webhook tests share: sample deliveries, a real Redis per test, and `gonogo serve` run
as a subprocess against the loopback Jira, the way an operator runs it."""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from jiraserver import JiraServer
from realdeps import require_real_or_skip
from support import EXAMPLES, REPO, TODAY

from gonogo.webhook.metrics import Metrics
from gonogo.webhook.verify import signature

SAMPLES = REPO / "tests" / "webhook_samples"
SECRET = "test-webhook-secret-5f1e"
TOKEN = "test-automation-token-9c2a"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
READY_TIMEOUT = 30.0


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return data


def created_event(
    key: str, issue_id: str, *, project: str | None = None, issue_type: str = "Proposal"
) -> bytes:
    """A `jira:issue_created` body shaped like Jira Cloud's, for the ticket `key`/`issue_id`."""
    data = copy.deepcopy(sample("cloud-issue-created.json"))
    data["issue"]["key"] = key
    data["issue"]["id"] = issue_id
    data["issue"]["fields"]["project"]["key"] = project or key.rsplit("-", 1)[0]
    data["issue"]["fields"]["issuetype"]["name"] = issue_type
    return json.dumps(data).encode("utf-8")


def label_edit(
    user: dict[str, Any], *, before: str, after: str, key: str = "BID-42", issue_id: str = "20042"
) -> bytes:
    """Jira Cloud's `issue_updated` for a labels edit by `user` (the samples' user shape)."""
    data = copy.deepcopy(sample("cloud-issue-updated-field.json"))
    data["issue"]["key"], data["issue"]["id"] = key, issue_id
    data["user"] = user
    data["changelog"]["items"] = [
        {
            "field": "labels",
            "fieldtype": "jira",
            "fieldId": "labels",
            "from": None,
            "fromString": before,
            "to": None,
            "toString": after,
        }
    ]
    return json.dumps(data).encode()


def signed(body: bytes, delivery: str | None = None, secret: str = SECRET) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "X-Hub-Signature": signature(body, secret)}
    if delivery is not None:
        headers["X-Atlassian-Webhook-Identifier"] = delivery
    return headers


def example_fields(example: str = "healthy") -> dict[str, Any]:
    """A bundled example ticket's fields, without its comments (a fresh ticket has none)."""
    data = json.loads((EXAMPLES / f"{example}.json").read_text())
    return {k: v for k, v in data["fields"].items() if k != "comment"}


def seed(server: JiraServer, key: str, example: str = "healthy") -> str:
    """Put a bundled example ticket on the server under `key`; returns its issue id."""
    data = json.loads((EXAMPLES / f"{example}.json").read_text())
    return server.add_issue(key, example_fields(example), names=data["names"])["id"]


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


@contextmanager
def fresh_redis_prefix() -> Iterator[str]:
    """A fresh key prefix on the real Redis, deleted afterwards (skip, or fail in CI, without Redis)."""
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        require_real_or_skip(
            f"Redis is not running on {REDIS_HOST}:{REDIS_PORT} "
            "(apt-get install redis-server; redis-server --daemonize yes)"
        )
    prefix = f"gonogo-test-{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        for key in client.scan_iter(match=f"{{{prefix}}}:*"):
            client.delete(key)
        client.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Service:
    """`gonogo serve` in a subprocess, configured by a gonogo.toml of its own in `folder`."""

    def __init__(
        self,
        folder: Path,
        jira: JiraServer,
        *,
        webhook: str = "",
        jira_table: str = "retries = 0\ntimeout_seconds = 5",
        env: dict[str, str] | None = None,
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.config = folder / "gonogo.toml"
        self.config.write_text(
            f'[jira]\n{jira_table}\n\n[webhook]\nqueue_path = "queue"\n'
            f"retry_initial_seconds = 0.05\nretry_max_seconds = 0.2\n{webhook}\n"
            + ("" if "waiver_recheck_hours" in webhook else "waiver_recheck_hours = 0\n"),
            encoding="utf-8",
        )
        email, api_token = jira.basic_auth
        self.env = {
            **os.environ,
            "JIRA_URL": jira.url,
            "JIRA_USER": email,
            "JIRA_API_TOKEN": api_token,
            "GONOGO_CONFIG": str(self.config),
            "GONOGO_TODAY": TODAY,
            "GONOGO_WEBHOOK_SECRET": SECRET,
            **(env or {}),
        }
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.jira = jira
        self.own_account_reads = 0  # GET myself at each start: how the service knows its own echo
        self._starts = 0

    @property
    def log_path(self) -> Path:
        return self.folder / f"serve-{self._starts}.log"

    def start(self) -> Service:
        self._starts += 1
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gonogo", "serve", "--port", str(self.port)],
                env=self.env,
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until(
                self._ready, timeout=READY_TIMEOUT, what=f"gonogo serve on port {self.port} to be ready"
            )
        except BaseException:
            # A service that never became ready is not the test's to stop: end it here.
            self.process.kill()
            self.process.wait(timeout=10)
            raise
        # Kept out of the log the tests count requests in; counted here instead.
        self.own_account_reads += self.jira.forget_requests(r"/myself$")
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"gonogo serve exited with {self.process.returncode}:\n{self.log_text()}")
        try:
            return requests.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except (requests.ConnectionError, requests.Timeout):  # a slow answer while starting: not ready yet
            return False

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`gonogo ARGS` in the service's folder and environment, to its end."""
        return subprocess.run(
            [sys.executable, "-m", "gonogo", *args],
            env=self.env,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def post(
        self, body: bytes, headers: dict[str, str] | None = None, path: str = "/webhook"
    ) -> requests.Response:
        return requests.post(self.url + path, data=body, headers=headers or {}, timeout=10)

    def metrics(self) -> dict[str, float]:
        """Samples of /metrics by their full name with labels, e.g. 'x_total{outcome="queued"}'."""
        answer = requests.get(f"{self.url}/metrics", timeout=5)
        assert answer.status_code == 200, f"/metrics answered {answer.status_code}: {answer.text[:200]}"
        text = answer.text
        samples = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                samples[name] = float(value)
        return samples

    def idle(self) -> bool:
        metrics = self.metrics()
        return (
            metrics.get("gonogo_webhook_queue_depth") == 0
            and metrics.get("gonogo_webhook_checks_in_progress") == 0
        )

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind runs."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def log_text(self) -> str:
        return "\n".join(
            path.read_text(encoding="utf-8", errors="replace")
            for path in sorted(self.folder.glob("serve-*.log"))
        )

    def log_lines(self) -> list[dict[str, Any]]:
        """Every JSON line of the log."""
        return [json.loads(line) for line in self.log_text().splitlines() if line.startswith("{")]

    def delivery_lines(self) -> list[dict[str, Any]]:
        return [record for record in self.log_lines() if record.get("logger") == "gonogo.webhook.delivery"]


__all__ = ["Metrics"]  # the service's metrics, for tests that run its parts without a server
