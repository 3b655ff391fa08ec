"""What every command shares: logging without secrets, one-line errors, colour, common options.

All "could not check" problems arrive in a command as a GonogoError and leave through `fail` as one
line on stderr and the error's exit code (README, "Exit codes").
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, NoReturn, TypeVar

import click

from gonogo.errors import GonogoError

log = logging.getLogger("gonogo")

F = TypeVar("F", bound=Callable[..., Any])


class _Redact(logging.Filter):
    """Last line of defence: no log record may carry the API token, whatever formatted it."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for secret in self._secrets:
            message = message.replace(secret, "***")
        record.msg, record.args = message, None
        return True


def setup_logging(verbose: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("gonogo: %(message)s"))
    handler.addFilter(_Redact([os.environ.get("JIRA_API_TOKEN", "")]))
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)


def fail(error: GonogoError) -> NoReturn:
    message = " ".join(str(error).split())
    click.echo(f"gonogo: error: {message}", err=True)
    sys.exit(error.exit_code)


def use_colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def more_verbose(ctx: click.Context, verbose: int) -> int:
    """`gonogo -v check -v` adds up; returns the level in force."""
    level = int(ctx.obj["verbose"]) + verbose
    if verbose:
        setup_logging(level)
    return level


def today_option(help_text: str = "Date to count deadlines from (default: today).") -> Callable[[F], F]:
    return click.option(
        "--today",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        envvar="GONOGO_TODAY",
        help=f"{help_text}  [env: GONOGO_TODAY]",
    )


verbose_option = click.option("-v", "--verbose", count=True, help="Same as gonogo -v.")


def day(today: datetime | None) -> date:
    return today.date() if today else date.today()
