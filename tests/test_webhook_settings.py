"""`[webhook]` settings: defaults, environment and flags, secrets, and refusing an open service."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from support import Gonogo

from gonogo.core.errors import ConfigurationError
from gonogo.sources.config import load_settings
from gonogo.webhook.settings import (
    RetryPolicy,
    WebhookSettings,
    is_loopback,
    queue_settings,
    webhook_settings,
)


def settings_from(
    tmp_path: Path, table: str, environ: dict[str, str] | None = None, **flags: Any
) -> WebhookSettings:
    config = tmp_path / "gonogo.toml"
    config.write_text(f"[webhook]\n{table}\n", encoding="utf-8")
    return webhook_settings(load_settings(config, environ={}), environ or {}, **flags)


def test_defaults_are_a_loopback_service_with_a_local_queue_beside_the_config(tmp_path: Path) -> None:
    settings = webhook_settings(load_settings(environ={}), {})
    assert (settings.host, settings.port, settings.path) == ("127.0.0.1", 8080, "/webhook")
    assert settings.queue.kind == "local"
    assert settings.queue.path == tmp_path / "gonogo-queue"  # the tests run in tmp_path
    assert (settings.secret, settings.token) == (None, None)


def test_the_file_the_environment_and_flags_combine_with_flags_winning(tmp_path: Path) -> None:
    (tmp_path / "hook.secret").write_text("from-a-file\n", encoding="utf-8")
    settings = settings_from(
        tmp_path,
        'host = "0.0.0.0"\nport = 9000\nsecret_file = "hook.secret"\nprojects = ["bid"]\n'
        'issue_types = ["Proposal"]\nqueue = "redis"\nredis_url = "redis://cache:6379/2"\nmax_attempts = 3\n',
        {"GONOGO_WEBHOOK_TOKEN": "tok", "GONOGO_REDIS_URL": "redis://:pw@cache:6379/1"},
        port=9100,
    )
    assert settings.host == "0.0.0.0"
    assert settings.port == 9100
    secret, token = settings.secret, settings.token
    assert secret is not None
    assert secret.reveal() == "from-a-file"
    assert token is not None
    assert token.reveal() == "tok"
    assert settings.filters.projects == {"BID"}
    assert settings.filters.issue_types == {"proposal"}
    assert settings.queue.redis_url.reveal() == "redis://:pw@cache:6379/1"
    assert "pw" not in repr(settings)
    assert "from-a-file" not in repr(settings)
    assert settings.retry.max_attempts == 3


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "gonogo.example.com"])
def test_an_exposed_address_without_a_secret_is_refused_unless_explicitly_allowed(
    tmp_path: Path, host: str
) -> None:
    with pytest.raises(ConfigurationError, match="GONOGO_WEBHOOK_SECRET"):
        settings_from(tmp_path, "", host=host)
    assert settings_from(tmp_path, "", host=host, allow_unauthenticated=True)
    assert settings_from(tmp_path, "", {"GONOGO_WEBHOOK_SECRET": "s"}, host=host)


def test_loopback_addresses() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.1", "example.com"))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('secret = "inline"', "secret"),
        ('queue = "kafka"', "kafka"),
        ("port = 70000", "70000"),
        ('path = "webhook"', "does not match"),
        ('secret_file = "missing.txt"', "cannot read it"),
        ('secret_file = "empty.txt"', "is empty"),
    ],
)
def test_mistakes_are_configuration_errors_that_name_the_key(
    tmp_path: Path, table: str, message: str
) -> None:
    (tmp_path / "empty.txt").write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message):
        settings_from(tmp_path, table)


def test_retry_delays_double_up_to_the_cap() -> None:
    policy = RetryPolicy(max_attempts=6, initial_seconds=5, max_seconds=30)
    assert [policy.delay(n) for n in range(1, 6)] == [5, 10, 20, 30, 30]


def test_serve_refuses_to_start_exposed_without_a_secret(gonogo: Gonogo) -> None:
    run = gonogo(
        "serve", "--host", "0.0.0.0", env={"JIRA_URL": "https://x.atlassian.net", "JIRA_API_TOKEN": "t"}
    )
    assert run.exit_code == 3
    assert "refusing to listen on 0.0.0.0 without a webhook secret" in run.stderr


def test_serve_stops_before_listening_when_jira_or_redis_is_not_usable(tmp_path: Path) -> None:
    """Run as a process, like an operator: exit 3, one line naming the fix, no password shown."""

    def serve(env: dict[str, str], toml: str = "") -> subprocess.CompletedProcess[str]:
        config = tmp_path / "gonogo.toml"
        config.write_text(f"[webhook]\n{toml}\n", encoding="utf-8")
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "GONOGO_"))}
        return subprocess.run(
            [sys.executable, "-m", "gonogo", "serve", "--port", "0"],
            env={**clean, "GONOGO_CONFIG": str(config), **env},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    no_jira = serve({})
    assert no_jira.returncode == 3
    assert "JIRA_URL is not set" in no_jira.stderr
    no_redis = serve(
        {
            "JIRA_URL": "https://x.atlassian.net",
            "JIRA_API_TOKEN": "t",
            "GONOGO_REDIS_URL": "redis://:hunter2@127.0.0.1:1/0",
        },
        'queue = "redis"',
    )
    assert no_redis.returncode == 3
    assert "cannot use Redis at 127.0.0.1:1" in no_redis.stderr
    assert "hunter2" not in no_redis.stderr + no_redis.stdout


def test_dead_letters_read_the_queue_whatever_serving_would_refuse(gonogo: Gonogo, tmp_path: Path) -> None:
    """Listing needs only the queue: not a secret it cannot read, nor a safe address to listen on."""
    (tmp_path / "gonogo.toml").write_text(
        '[webhook]\nhost = "0.0.0.0"\nsecret_file = "not-readable-here.secret"\nqueue_path = "q"\n',
        encoding="utf-8",
    )
    run = gonogo("dead-letters")
    assert (run.exit_code, run.stdout, run.stderr) == (0, "No dead letters.\n", "")
    settings = load_settings(tmp_path / "gonogo.toml", environ={})
    assert queue_settings(settings, {}).path == tmp_path / "q"
    with pytest.raises(ConfigurationError, match="cannot read it"):
        webhook_settings(settings, {})  # serving still refuses


def test_queue_settings_are_the_ones_the_service_uses(tmp_path: Path) -> None:
    table = 'queue = "redis"\nredis_prefix = "bids"\ndedupe_hours = 2\nlease_seconds = 30\n'
    environ = {"GONOGO_REDIS_URL": "redis://:pw@cache:6379/1"}
    config = tmp_path / "gonogo.toml"
    config.write_text(f"[webhook]\n{table}\n", encoding="utf-8")
    settings = load_settings(config, environ={})
    reader, served = queue_settings(settings, environ), webhook_settings(settings, environ).queue
    assert reader.redis_url.reveal() == served.redis_url.reveal() == "redis://:pw@cache:6379/1"
    assert replace(reader, redis_url=served.redis_url) == served
