"""Shared fixtures: a clean environment for every test, and the CLI run the way a user runs it."""

from __future__ import annotations

from pathlib import Path

import loopback_guard
import pytest
from click.testing import CliRunner
from support import Gonogo, Run

from gonogo.cli import main

loopback_guard.install()  # every test: a connection outside loopback fails at once


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's Jira settings, config file or colour preferences."""
    for name in ("JIRA_URL", "JIRA_USER", "JIRA_API_TOKEN", "GONOGO_CONFIG", "GONOGO_TODAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def gonogo() -> Gonogo:
    """Run the CLI in-process, as `gonogo ARGS...` with extra environment variables."""

    def run(*args: str, env: dict[str, str] | None = None) -> Run:
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        return Run(result.exit_code, result.stdout, result.stderr)

    return run
