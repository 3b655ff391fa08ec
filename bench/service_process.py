"""`gonogo serve` as a subprocess running this checkout's code, for the benchmarks that attack it."""

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


def start_serve(
    folder: Path,
    jira: JiraServer,
    webhook: str,
    *,
    jira_table: str = "retries = 0",
    env: dict[str, str] | None = None,
    before_exec: Callable[[], None] | None = None,
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """Start `gonogo serve` with these [webhook] and [jira] tables; return (process, url, log file)."""
    config = folder / "gonogo.toml"
    config.write_text(f"[jira]\n{jira_table}\n\n[webhook]\n{webhook}\n", encoding="utf-8")
    email, token = jira.basic_auth
    environment = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "JIRA_URL": jira.url,
        "JIRA_USER": email,
        "JIRA_API_TOKEN": token,
        "GONOGO_CONFIG": str(config),
        "GONOGO_WEBHOOK_SECRET": SECRET,
        **(env or {}),
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = folder / "serve.log"
    with log_path.open("wb") as log:
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
