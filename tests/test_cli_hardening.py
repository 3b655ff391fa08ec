"""Issue 13, cases 4, 5 and 9: Ctrl-C, absurd arguments, as a user at a terminal meets them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from jiraserver import JiraServer, running_server
from portfolio_helpers import env_for
from support import TODAY, Gonogo
from webhook_helpers import seed, wait_until


@pytest.fixture
def jira() -> Iterator[JiraServer]:
    with running_server(deployment="Cloud") as server:
        seed(server, "BID-1", "doomed")
        yield server


@pytest.mark.parametrize(
    ("args", "held"),
    [
        (["check", "BID-1"], r"/issue/BID-1$"),
        (["report", "--project", "BID"], r"/search/jql$"),
    ],
    ids=["check", "report"],
)
def test_ctrl_c_exits_130_with_one_line(jira: JiraServer, tmp_path: Path, args: list[str], held: str) -> None:
    """Case 4: click's own handling said "Aborted!" and exited 1."""
    jira.hang_next("GET", held)
    process = subprocess.Popen(
        [sys.executable, "-m", "gonogo", *args, "--today", TODAY],
        env={**os.environ, **env_for(jira)},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(lambda: jira.held_requests == 1, timeout=30, what="gonogo to be waiting on Jira")
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        jira.release()
    assert process.returncode == 130
    assert stderr.decode().strip().splitlines() == ["gonogo: interrupted"]


def test_a_300_character_argument_is_an_input_error_not_an_internal_one(gonogo: Gonogo) -> None:
    """Case 5: the path check raised OSError (file name too long), reported as an internal error."""
    run = gonogo("check", "x" * 300)
    assert run.exit_code == 4
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith("gonogo: error: 'xxxx")
    assert "(300 characters)" in line
    assert len(line) < 250


def test_a_5000_digit_key_is_refused_without_asking_jira_or_echoing_it(
    gonogo: Gonogo, jira: JiraServer
) -> None:
    """Case 9: the key was sent to Jira and quoted whole in the error."""
    jira.clear_requests()
    run = gonogo("check", "BID-" + "9" * 5000, env=env_for(jira))
    assert run.exit_code == 4
    (line,) = run.stderr.strip().splitlines()
    assert len(line) < 250
    assert jira.requests == []
