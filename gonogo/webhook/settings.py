"""The `[webhook]` table, the environment and the flags of `gonogo serve`, read once.

The secrets are read here only, wrapped in `Secret` (never in a repr or a log line); nothing else
in the service reads the environment. The schema checks the table's shape; this module what a
schema cannot (a readable secret file, a safe address to listen on).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gonogo.core.backoff import doubling
from gonogo.core.errors import ConfigurationError
from gonogo.sources.config import Secret, Settings
from gonogo.webhook.classify import Filters

SECRET_ENV = "GONOGO_WEBHOOK_SECRET"
TOKEN_ENV = "GONOGO_WEBHOOK_TOKEN"
REDIS_URL_ENV = "GONOGO_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

QueueKind = Literal["local", "redis"]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a check that failed on Jira is tried again before dead-lettering."""

    max_attempts: int = 8
    initial_seconds: float = 5.0
    max_seconds: float = 300.0

    def delay(self, failed_attempts: int) -> float:
        """Seconds to wait after the `failed_attempts`-th failure: doubling, capped."""
        return doubling(failed_attempts, first=self.initial_seconds, cap=self.max_seconds)


@dataclass(frozen=True)
class QueueSettings:
    """Which durable queue holds accepted deliveries until their check has finished."""

    kind: QueueKind = "local"
    path: Path = Path("gonogo-queue")
    redis_url: Secret = field(default_factory=lambda: Secret(DEFAULT_REDIS_URL))
    redis_prefix: str = "gonogo"
    dedupe_seconds: float = 24 * 3600.0
    lease_seconds: float = 60.0


@dataclass(frozen=True)
class Credentials:
    """What a sender must prove. Both None: deliveries are not authenticated (loopback only)."""

    secret: Secret | None = None  # HMAC-SHA256 key of Jira's X-Hub-Signature
    token: Secret | None = None  # shared token for senders that cannot sign (Jira Automation)
    token_header: str = "X-Gonogo-Token"

    @property
    def configured(self) -> bool:
        return self.secret is not None or self.token is not None


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
    credentials: Credentials = Credentials()
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
    """Combine the `[webhook]` table, the environment and command-line flags (flags win)."""
    table: Mapping[str, Any] = settings.webhook
    base = settings.base_dir
    defaults = WebhookSettings()
    retry_defaults = RetryPolicy()
    path = str(table.get("path", defaults.path))
    if not path.startswith("/"):
        raise ConfigurationError(f'[webhook].path must start with "/", e.g. "/webhook" (got {path!r})')
    credentials = Credentials(
        secret=_secret(environ, SECRET_ENV, table.get("secret_file"), base, "secret_file"),
        token=_secret(environ, TOKEN_ENV, table.get("token_file"), base, "token_file"),
        token_header=str(table.get("token_header", Credentials.token_header)),
    )
    queue = queue_settings(settings, environ)
    retry = RetryPolicy(
        max_attempts=int(table.get("max_attempts", retry_defaults.max_attempts)),
        initial_seconds=float(table.get("retry_initial_seconds", retry_defaults.initial_seconds)),
        max_seconds=float(table.get("retry_max_seconds", retry_defaults.max_seconds)),
    )
    filters = Filters(
        projects=frozenset(str(p).upper() for p in table.get("projects", [])),
        issue_types=frozenset(str(t).casefold() for t in table.get("issue_types", [])),
        check_on_update=bool(table.get("check_on_update", False)),
        ignore_accounts=frozenset(str(a) for a in table.get("ignore_accounts", [])),
    )
    result = WebhookSettings(
        host=host or str(table.get("host", defaults.host)),
        port=port if port is not None else int(table.get("port", defaults.port)),
        path=path,
        max_body_bytes=int(table.get("max_body_bytes", defaults.max_body_bytes)),
        workers=workers or int(table.get("workers", defaults.workers)),
        max_connections=int(table.get("max_connections", defaults.max_connections)),
        request_timeout_seconds=float(table.get("request_timeout_seconds", defaults.request_timeout_seconds)),
        allow_unauthenticated=(
            allow_unauthenticated
            if allow_unauthenticated is not None
            else bool(table.get("allow_unauthenticated", False))
        ),
        credentials=credentials,
        filters=filters,
        queue=queue,
        retry=retry,
        waiver_recheck_hours=float(table.get("waiver_recheck_hours", defaults.waiver_recheck_hours)),
    )
    _refuse_open_exposure(result)
    return result


def queue_settings(settings: Settings, environ: Mapping[str, str]) -> QueueSettings:
    """Only where the queue is: all `gonogo dead-letters` needs.

    Separate from `webhook_settings` because a reader has no business with what serving needs: it
    must work where the webhook secret is not readable (another user, another machine with Redis)
    and whatever `host` the service listens on.
    """
    table: Mapping[str, Any] = settings.webhook
    defaults = QueueSettings()
    redis_url = environ.get(REDIS_URL_ENV) or table.get("redis_url") or DEFAULT_REDIS_URL
    return QueueSettings(
        kind="redis" if table.get("queue") == "redis" else "local",
        path=settings.base_dir / str(table.get("queue_path", defaults.path)),
        redis_url=Secret(str(redis_url)),
        redis_prefix=str(table.get("redis_prefix", defaults.redis_prefix)),
        dedupe_seconds=float(table.get("dedupe_hours", defaults.dedupe_seconds / 3600)) * 3600,
        lease_seconds=float(table.get("lease_seconds", defaults.lease_seconds)),
    )


def _secret(
    environ: Mapping[str, str], variable: str, file_value: Any, base: Path, key: str
) -> Secret | None:
    """A secret from its environment variable, else from the file `[webhook].<key>` names.

    A file rather than the value itself in gonogo.toml: the toml is shared and committed, a secret
    file is not (systemd credentials, container secrets and Kubernetes secrets are files).
    """
    value = environ.get(variable)
    if value:
        return Secret(value.strip())
    if file_value is None:
        return None
    path = base / str(file_value)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"[webhook].{key} {path}: cannot read it ({exc.__class__.__name__}); "
            f"fix the path or export {variable} instead"
        ) from None
    if not text:
        raise ConfigurationError(f"[webhook].{key} {path} is empty: put the secret in it")
    return Secret(text)


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything, so it counts as exposed


def _refuse_open_exposure(settings: WebhookSettings) -> None:
    """An unauthenticated service on a reachable address would let anyone trigger checks."""
    if settings.credentials.configured or settings.allow_unauthenticated or is_loopback(settings.host):
        return
    raise ConfigurationError(
        f"refusing to listen on {settings.host} without a webhook secret: export {SECRET_ENV} "
        f"(the secret of the Jira webhook) and/or {TOKEN_ENV} (the token a Jira Automation rule "
        "sends), or pass --allow-unauthenticated if an authenticating proxy sits in front"
    )
