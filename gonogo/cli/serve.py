"""`gonogo serve`, `gonogo worker` and `gonogo dead-letters`: the webhook service and its leftovers.

A command imports the work it runs when it runs (see pyproject's note on `gonogo/cli/`); here also
because the service's packages are the optional `serve` extra, checked by `require_serve_extra`
first: imported at the top, they would break every other command of a CLI-only install.
"""

from __future__ import annotations

import importlib.util
import os
from datetime import datetime

import click

from gonogo.cli.common import today_option
from gonogo.core.errors import ConfigurationError

# What the `serve` extra installs; a CLI-only install has none of them.
SERVE_PACKAGES = ("uvicorn", "starlette", "prometheus_client", "persistqueue", "redis")
INSTALL_SERVE = "pip install 'gonogo[serve]'"


def require_serve_extra(command: str) -> None:
    """One line naming the install command (exit code 3) rather than an import error halfway."""
    for name in SERVE_PACKAGES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise ConfigurationError(
                f"{command} needs the webhook service's packages ({name} is not installed): "
                f"install them with {INSTALL_SERVE}"
            )


@click.command()
@click.option("--host", help="Address to listen on (default: [webhook].host or 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: [webhook].port or 8080).")
@click.option(
    "--workers", type=click.IntRange(1, 64), help="Check worker threads (default: [webhook].workers or 4)."
)
@click.option(
    "--allow-unauthenticated",
    is_flag=True,
    default=None,
    help="Listen on a non-loopback address without a webhook secret (an authenticating proxy is in front).",
)
@today_option("Date to count deadlines from (default: each check's day).")
@click.pass_context
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    workers: int | None,
    allow_unauthenticated: bool | None,
    today: datetime | None,
) -> None:
    """Run the webhook service: POST /webhook, GET /healthz, GET /metrics (docs/webhook-service.md)."""
    require_serve_extra("gonogo serve")
    from gonogo.sources.config import load_settings
    from gonogo.webhook.service import run_service
    from gonogo.webhook.settings import webhook_settings

    settings = load_settings(ctx.obj["config_path"])
    webhook = webhook_settings(
        settings,
        os.environ,
        host=host,
        port=port,
        workers=workers,
        allow_unauthenticated=allow_unauthenticated,
    )
    run_service(settings, webhook, today=today.date() if today else None, verbose=ctx.obj["verbose"])


@click.command()
@click.option(
    "--workers", type=click.IntRange(1, 64), help="Check worker threads (default: [webhook].workers or 4)."
)
@today_option("Date to count deadlines from (default: each check's day).")
@click.pass_context
def worker(ctx: click.Context, workers: int | None, today: datetime | None) -> None:
    """Run more check workers on the Redis queue of gonogo serve (docs/webhook-service.md)."""
    require_serve_extra("gonogo worker")
    from gonogo.sources.config import load_settings
    from gonogo.webhook.service import run_workers
    from gonogo.webhook.settings import webhook_settings

    settings = load_settings(ctx.obj["config_path"])
    webhook = webhook_settings(settings, os.environ, workers=workers)
    ctx.exit(
        run_workers(settings, webhook, today=today.date() if today else None, verbose=ctx.obj["verbose"])
    )


@click.command("dead-letters")
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_context
def dead_letters(ctx: click.Context, output_format: str) -> None:
    """List deliveries whose check kept failing, with the reason (safe while the service runs)."""
    require_serve_extra("gonogo dead-letters")
    import json

    from gonogo.redaction import redact
    from gonogo.sources.config import load_settings
    from gonogo.webhook.queue import dead_letter_lines, open_queue
    from gonogo.webhook.settings import queue_settings

    settings = load_settings(ctx.obj["config_path"])
    # Only the queue's settings: listing needs neither the webhook secret nor a safe `host`.
    queue = open_queue(queue_settings(settings, os.environ), reader=True)
    try:
        lines = list(dead_letter_lines(queue.dead_letters()))
    finally:
        queue.close()
    if output_format == "json":
        click.echo(redact(json.dumps(lines, indent=2, ensure_ascii=False)))
        return
    if not lines:
        click.echo("No dead letters.")
    for line in lines:
        click.echo(
            f"{line['failed_at']}  {line['ticket']}  delivery {line['delivery']}  "
            f"after {line['attempts']} attempt(s)"
        )
        click.echo(f"    {redact(line['reason'])}")
