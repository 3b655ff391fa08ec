"""The `[webhook]` table, the environment and the flags of `gonogo serve`, read once.

The secrets are read here only, wrapped in `Secret` (never in a repr or a log line); nothing else
in the service reads the environment. The schema checks the table's shape and types; this module
what a schema cannot (a readable secret file, a safe address to listen on).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from gonogo.core.errors import ConfigurationError, doubling
from gonogo.redaction import remember
from gonogo.sources.config import Secret, Settings
from gonogo.webhook.classify import Filters

SECRET_ENV = "GONOGO_WEBHOOK_SECRET"
TOKEN_ENV = "GONOGO_WEBHOOK_TOKEN"
REDIS_URL_ENV = "GONOGO_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a check that failed on Jira is tried again before dead-lettering."""

    max_attempts: int = 8
    initial_seconds: float = 5.0
    max_seconds: float = 300.0

    def delay(self, failed_attempts: int) -> float:
        return doubling(failed_attempts, first=self.initial_seconds, cap=self.max_seconds)


@dataclass(frozen=True)
class QueueSettings:
    """Which durable queue holds accepted deliveries until their check has finished."""

    kind: Literal["local", "redis"] = "local"
    path: Path = Path("gonogo-queue")
    redis_url: Secret = field(default_factory=lambda: Secret(DEFAULT_REDIS_URL))
    redis_prefix: str = "gonogo"
    dedupe_seconds: float = 24 * 3600.0
    lease_seconds: float = 60.0


@dataclass(frozen=True)
class WebhookSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    path: str = "/webhook"
    max_body_bytes: int = 1024 * 1024
    workers: int = 4
    max_connections: int = 4096  # connections and requests in progress beyond which requests get 503
    request_timeout_seconds: float = 5.0  # to send a request body (headers: a reverse proxy bounds them)
    allow_unauthenticated: bool = False
    # What a sender must prove; with neither, deliveries are not authenticated (loopback only).
    secret: Secret | None = None  # HMAC-SHA256 key of Jira's X-Hub-Signature
    token: Secret | None = None  # shared token for senders that cannot sign (Jira Automation)
    token_header: str = "X-Gonogo-Token"
    filters: Filters = Filters()
    queue: QueueSettings = QueueSettings()
    retry: RetryPolicy = RetryPolicy()
    waiver_recheck_hours: float = 24.0  # how often to look for comments showing an ended waiver; 0: never


def webhook_settings(
    settings: Settings,
    environ: Mapping[str, str],
    *,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    allow_unauthenticated: bool | None = None,
) -> WebhookSettings:
    """The `[webhook]` table, the environment and the command line's flags (None: not given); flags win."""
    table: Mapping[str, Any] = settings.webhook
    # `queue` is the queue's kind; every other key sets the field of its name (the schema checked them).
    chosen = {f.name: table[f.name] for f in fields(WebhookSettings) if f.name in table.keys() - {"queue"}}
    flags = {"host": host, "port": port, "workers": workers, "allow_unauthenticated": allow_unauthenticated}
    chosen |= {name: value for name, value in flags.items() if value not in (None, "")}
    result = WebhookSettings(
        **chosen,
        secret=_secret(settings, environ, SECRET_ENV, "secret_file"),
        token=_secret(settings, environ, TOKEN_ENV, "token_file"),
        filters=Filters(
            projects=frozenset(project.upper() for project in table.get("projects", [])),
            issue_types=frozenset(name.casefold() for name in table.get("issue_types", [])),
            check_on_update=table.get("check_on_update", False),
            ignore_accounts=frozenset(table.get("ignore_accounts", [])),
        ),
        queue=queue_settings(settings, environ),
        retry=RetryPolicy(
            max_attempts=table.get("max_attempts", RetryPolicy.max_attempts),
            initial_seconds=table.get("retry_initial_seconds", RetryPolicy.initial_seconds),
            max_seconds=table.get("retry_max_seconds", RetryPolicy.max_seconds),
        ),
    )
    if not (result.secret or result.token or result.allow_unauthenticated or is_loopback(result.host)):
        # an unauthenticated service on a reachable address would let anyone trigger checks
        raise ConfigurationError(
            f"refusing to listen on {result.host} without a webhook secret: export {SECRET_ENV} "
            f"(the secret of the Jira webhook) and/or {TOKEN_ENV} (the token a Jira Automation rule "
            "sends), or pass --allow-unauthenticated if an authenticating proxy sits in front"
        )
    return result


def queue_settings(settings: Settings, environ: Mapping[str, str]) -> QueueSettings:
    """Where the queue is: all `gonogo dead-letters` needs, even where the webhook secret is not
    readable (another user, another machine with Redis) and whatever `host` serving would use."""
    table: Mapping[str, Any] = settings.webhook
    return QueueSettings(
        kind=table.get("queue", "local"),
        path=settings.base_dir / table.get("queue_path", QueueSettings.path),
        redis_url=Secret(environ.get(REDIS_URL_ENV) or table.get("redis_url") or DEFAULT_REDIS_URL),
        redis_prefix=table.get("redis_prefix", QueueSettings.redis_prefix),
        dedupe_seconds=table.get("dedupe_hours", 24) * 3600.0,
        lease_seconds=table.get("lease_seconds", QueueSettings.lease_seconds),
    )


def _secret(settings: Settings, environ: Mapping[str, str], variable: str, key: str) -> Secret | None:
    """A secret from its environment variable, else from the file `[webhook].<key>` names (the toml
    is shared and committed, a secret file is not: systemd, container and Kubernetes secrets are
    files), taught to the redactor as it is read."""
    if value := environ.get(variable):
        text = value.strip()
    elif key not in settings.webhook:
        return None
    else:
        path = settings.base_dir / settings.webhook[key]
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(
                f"[webhook].{key} {path}: cannot read it ({exc.__class__.__name__}); "
                f"fix the path or export {variable} instead"
            ) from None
        if not text:
            raise ConfigurationError(f"[webhook].{key} {path} is empty: put the secret in it")
    remember(text)
    return Secret(text)


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything, so it counts as exposed
