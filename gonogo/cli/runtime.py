"""What a running command shares: log lines and error lines on stderr, without secrets.

A command's problems leave it as a `GonogoError`; the `gonogo` group hands them to `fail`: one line
on stderr and the error's exit code (`gonogo.cli.exits`).
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path
from typing import NoReturn

import click

from gonogo.cli.exits import for_error
from gonogo.core.errors import GonogoError
from gonogo.redaction import RedactRecords, redact, route_other_loggers


def logger() -> logging.Logger:
    return logging.getLogger("gonogo")


def setup_logging(verbose: int) -> None:
    """gonogo's log lines on stderr, and every other library's routed through the same redaction.

    A handler on the root logger matters even when it prints nothing: without one, a library's
    module-level `logging.error(...)` installs Python's default handler, which prints `ERROR:root:`
    and whatever the record holds (a whole Jira response body, once). Other libraries speak only
    from -vv on, one line each.
    """
    log = logger()
    log.handlers[:] = [_stderr_handler()]
    log.propagate = False
    log.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    route_other_loggers(_stderr_handler(), level=logging.WARNING if verbose > 1 else logging.CRITICAL + 1)


def _stderr_handler() -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("gonogo: %(message)s"))
    handler.addFilter(RedactRecords())
    return handler


def fail(error: GonogoError, config_file: str | None = None) -> NoReturn:
    """One line on stderr, then the exit code of the error's family.

    `config_file` is the configuration file given (--config or GONOGO_CONFIG): a message that
    says "fix ... in gonogo.toml" names that file instead, the one actually read.
    """
    message = redact(named_config(" ".join(str(error).split()), config_file))
    click.echo(f"gonogo: error: {message}", err=True)
    sys.exit(for_error(error))


def named_config(text: str, config_file: str | None) -> str:
    """`text` with the word gonogo.toml (not part of a longer path) replaced by the file given."""
    if config_file is None:
        return text
    return re.sub(r"(?<![\w/.\\-])gonogo\.toml\b", lambda _: str(Path(config_file)), text)


def more_verbose(ctx: click.Context, verbose: int) -> int:
    """`gonogo -v check -v` adds up; returns the level in force."""
    level = int(ctx.obj["verbose"]) + verbose
    if verbose:
        setup_logging(level)
    return level
