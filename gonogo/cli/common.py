"""Options several commands declare, and the small conversions behind them."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def use_colour(environ: Mapping[str, str]) -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in environ


def iso_date(value: str | datetime) -> datetime:
    """A YYYY-MM-DD date, with a message that shows the form (click.DateTime's names a strptime format)."""
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
