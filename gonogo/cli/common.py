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
from gonogo.log_routing import STANDARD_RECORD_ATTRIBUTES, route_other_loggers
from gonogo.redaction import RedactRecords, redact

log = logging.getLogger("gonogo")

F = TypeVar("F", bound=Callable[..., Any])


def setup_logging(verbose: int) -> None:
    """gonogo's log lines on stderr, and every other library's routed through the same redaction.

    A handler on the root logger matters even when it prints nothing: without one, the `jira`
    library's `logging.error(...)` installs Python's default handler, which prints `ERROR:root:`
    and a whole Jira response body. Other libraries speak only from -vv on, one line each.
    """
    log.handlers[:] = [_stderr_handler()]
    log.propagate = False
    log.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    route_other_loggers(_stderr_handler(), level=logging.WARNING if verbose > 1 else logging.CRITICAL + 1)


def _stderr_handler() -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("gonogo: %(message)s"))
    handler.addFilter(RedactRecords(standard=STANDARD_RECORD_ATTRIBUTES))
    return handler


def fail(error: GonogoError) -> NoReturn:
    message = redact(" ".join(str(error).split()))
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
