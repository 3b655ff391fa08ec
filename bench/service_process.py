"""`gonogo serve` and `gonogo worker` as subprocesses running this checkout's code, for the benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from jiraserver import JiraServer  # noqa: E402
from webhook_helpers import SECRET, free_port  # noqa: E402

READY_TIMEOUT = 30.0


def service_environment(
    folder: Path,
    jira: JiraServer,
    webhook: str,
    *,
    jira_table: str = "retries = 0",
    env: dict[str, str] | None = None,
) -> dict[str, str]:
    """Write gonogo.toml with these [webhook] and [jira] tables; the environment that runs gonogo on it."""
    config = folder / "gonogo.toml"
    config.write_text(f"[jira]\n{jira_table}\n\n[webhook]\n{webhook}\n", encoding="utf-8")
    email, token = jira.basic_auth
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "JIRA_URL": jira.url,
        "JIRA_USER": email,
        "JIRA_API_TOKEN": token,
        "GONOGO_CONFIG": str(config),
        "GONOGO_WEBHOOK_SECRET": SECRET,
        **(env or {}),
    }


def start_serve(
    folder: Path,
    jira: JiraServer,
    webhook: str,
    *,
    jira_table: str = "retries = 0",
    env: dict[str, str] | None = None,
    before_exec: Callable[[], None] | None = None,
    port: int | None = None,
    log_name: str = "serve.log",
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """Start `gonogo serve` (on `port`, else a free one); return (process, url, log file) once ready."""
    environment = service_environment(folder, jira, webhook, jira_table=jira_table, env=env)
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = folder / log_name
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gonogo", "serve", "--port", str(port)],
            env=environment,
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=before_exec,  # noqa: PLW1509 (only sets a resource limit in the child)
        )
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url, log_path
        except requests.RequestException:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise SystemExit(f"gonogo serve did not start:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.1)


def start_worker(
    folder: Path, environment: dict[str, str], *, log_name: str = "worker.log"
) -> subprocess.Popen[bytes]:
    """Start `gonogo worker` with `environment` (see `service_environment`) and wait until it is ready."""
    log_path = folder / log_name
    with log_path.open("ab") as log:
        start = log_path.stat().st_size
        process = subprocess.Popen(
            [sys.executable, "-m", "gonogo", "worker"],
            env=environment,
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + READY_TIMEOUT
    while b"gonogo worker ready" not in log_path.read_bytes()[start:]:
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise SystemExit(f"gonogo worker did not start:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.1)
    return process
