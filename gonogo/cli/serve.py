"""`gonogo serve`, `gonogo worker` and `gonogo dead-letters`: the webhook service and its leftovers. The
service's packages are the optional `serve` extra: each command checks them (`require_serve_extra`)
before importing them, so a CLI-only install gets one line, not a traceback."""

from __future__ import annotations

import os
from contextlib import suppress
from datetime import UTC, date, datetime
from typing import Any

import click

from gonogo.cli.common import load, today_option
from gonogo.core.errors import ConfigurationError


def require_serve_extra(command: str) -> None:
    """One line naming the install command (exit code 3) rather than an import error halfway."""
    import importlib.util

    for name in ("uvicorn", "starlette", "prometheus_client", "persistqueue", "redis"):  # the `serve` extra
        with suppress(ImportError, ValueError):
            if importlib.util.find_spec(name) is not None:
                continue
        raise ConfigurationError(
            f"{command} needs the webhook service's packages ({name} is not installed): "
            "install them with pip install 'gonogo[serve]'"
        )


workers_option = click.option(
    "--workers", type=click.IntRange(1, 64), help="Check worker threads (default: [webhook].workers or 4)."
)
today_of_each_check = today_option("Date to count deadlines from (default: each check's day).")


@click.command()
@click.option("--host", help="Address to listen on (default: [webhook].host or 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: [webhook].port or 8080).")
@workers_option
@click.option(
    "--allow-unauthenticated",
    is_flag=True,
    default=None,
    help="Listen on a non-loopback address without a webhook secret (an authenticating proxy is in front).",
)
@today_of_each_check
@click.pass_context
def serve(ctx: click.Context, /, today: date | None, **flags: Any) -> None:
    """Run the webhook service: POST /webhook, GET /healthz, GET /metrics (docs/webhook-service.md)."""
    _run(ctx, "gonogo serve", today, flags)


@click.command()
@workers_option
@today_of_each_check
@click.pass_context
def worker(ctx: click.Context, /, today: date | None, **flags: Any) -> None:
    """Run more check workers on the Redis queue of gonogo serve (docs/webhook-service.md)."""
    _run(ctx, "gonogo worker", today, flags)


def _run(ctx: click.Context, command: str, today: date | None, flags: dict[str, Any]) -> None:
    require_serve_extra(command)
    from gonogo.webhook.service import run_service, run_workers
    from gonogo.webhook.settings import webhook_settings

    settings = load(ctx)
    webhook = webhook_settings(settings, os.environ, **flags)
    run = run_service if command == "gonogo serve" else run_workers
    ctx.exit(run(settings, webhook, today=today, verbose=ctx.obj["verbose"]))


@click.command("dead-letters")
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_context
def dead_letters(ctx: click.Context, output_format: str) -> None:
    """List deliveries whose check kept failing, with the reason (safe while the service runs)."""
    require_serve_extra("gonogo dead-letters")
    import json

    from gonogo.redaction import redact, redact_data
    from gonogo.webhook.queue import dead_letters
    from gonogo.webhook.settings import queue_settings

    settings = load(ctx)
    # Only the queue's settings: listing needs neither the webhook secret nor a safe `host`.
    letters = dead_letters(queue_settings(settings, os.environ))
    if output_format == "json":
        lines = [
            {
                "delivery": letter.job.delivery_id,
                "ticket": letter.job.key,
                "issue_id": letter.job.issue_id,
                "event": letter.job.event,
                "received_at": _iso(letter.job.received_at),
                "failed_at": _iso(letter.failed_at),
                "attempts": letter.attempts,
                "reason": letter.reason,
            }
            for letter in letters
        ]
        # Redacted as data: JSON escapes quotes and backslashes, which would split a secret in the text.
        click.echo(json.dumps(redact_data(lines), indent=2, ensure_ascii=False))
        return
    if not letters:
        click.echo("No dead letters.")
    for letter in letters:
        click.echo(
            f"{_iso(letter.failed_at)}  {letter.job.key}  delivery {letter.job.delivery_id}  "
            f"after {letter.attempts} attempt(s)"
        )
        click.echo(f"    {redact(letter.reason)}")


def _iso(unix_time: float) -> str:
    return datetime.fromtimestamp(unix_time, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
