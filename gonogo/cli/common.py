"""What every command shares: logging without secrets, one-line errors, colour, common options.

All "could not check" problems arrive in a command as a GonogoError and leave through `fail` as one
line on stderr and the error's exit code (README, "Exit codes").
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from gonogo.errors import GonogoError

if TYPE_CHECKING:
    import logging

LOGGER_NAME = "gonogo"

F = TypeVar("F", bound=Callable[..., Any])


def logger() -> logging.Logger:
    """gonogo's logger. `logging` is imported on first use: `gonogo --help` never needs it."""
    import logging

    return logging.getLogger(LOGGER_NAME)


def setup_logging(verbose: int) -> None:
    """Log to stderr at the level `-v` asks for; no record may carry the API token."""
    import logging

    class Redact(logging.Filter):
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

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("gonogo: %(message)s"))
    handler.addFilter(Redact([os.environ.get("JIRA_API_TOKEN", "")]))
    log = logger()
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


def iso_date(value: str | datetime) -> datetime:
    """A YYYY-MM-DD date, read with `datetime.fromisoformat`.

    click.DateTime would do, but it parses with `strptime`, whose import costs a few milliseconds
    on every command that has a --today option (measured; issue 14).
    """
    if isinstance(value, datetime):
        return value
    text = str(value)
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text.replace("-", "").isdigit():
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"{text!r} is not a date in the form YYYY-MM-DD, such as 2026-11-23.")


def today_option(help_text: str = "Date to count deadlines from (default: today).") -> Callable[[F], F]:
    return click.option(
        "--today",
        type=iso_date,
        metavar="YYYY-MM-DD",
        envvar="GONOGO_TODAY",
        help=f"{help_text}  [env: GONOGO_TODAY]",
    )


verbose_option = click.option("-v", "--verbose", count=True, help="Same as gonogo -v.")


def day(today: datetime | None) -> date:
    return today.date() if today else date.today()
