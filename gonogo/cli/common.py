"""What several commands share: options and their conversions, the configuration, text pages."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from gonogo.sources.config import Settings

F = TypeVar("F", bound=Callable[..., Any])


def _more_verbose(ctx: click.Context, _param: click.Parameter, verbose: int) -> None:
    """`gonogo -v check -v` adds up: the level in force is the group's `verbose`."""
    if verbose:
        from gonogo.cli.exits import setup_logging

        options = ctx.find_root().obj
        options["verbose"] += verbose
        setup_logging(options["verbose"])


verbose_option = click.option(
    "-v", "--verbose", count=True, expose_value=False, callback=_more_verbose, help="Same as gonogo -v."
)


def use_colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def iso_date(text: str) -> date:
    """A YYYY-MM-DD date, with a message that shows the form (click.DateTime's names a strptime format)."""
    if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
        with suppress(ValueError):
            return date.fromisoformat(text)
    raise ValueError(f"{text!r} is not a date in the form YYYY-MM-DD, such as 2026-11-23.")


def format_option(formats: Mapping[str, Any]) -> Callable[[F], F]:
    """--format: the choices and their descriptions from a format registry."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(list(formats)),
        default="text",
        show_default=True,
        help="; ".join(f"{name}: {f.description}" for name, f in formats.items()) + ".",
    )


def today_option(help_text: str = "Date to count deadlines from (default: today).") -> Callable[[F], F]:
    return click.option(
        "--today",
        type=iso_date,
        metavar="YYYY-MM-DD",
        envvar="GONOGO_TODAY",
        help=f"{help_text}  [env: GONOGO_TODAY]",
    )


def load(ctx: click.Context) -> Settings:
    """This run's configuration: the file given (--config) or ./gonogo.toml, and the environment."""
    from gonogo.sources.config import load_settings

    return load_settings(ctx.obj["config_path"], os.environ)


def echo_page(settings: Settings, template: str, **context: Any) -> None:
    """A text page from the templates (the site's own folder first) on stdout."""
    from gonogo.render.renderer import make_renderer

    click.echo(make_renderer(settings.template_dir).text_page(template, **context), nl=False)
