"""What leaves a running command: log lines and the error line on stderr, and the exit code, decided
here only. Commands return what they found (a `Verdict`, `Problems`, `FailedRows`) and raise a
`GonogoError` when they could not do their job; the `gonogo` group turns either into the exit code
(README, "Exit codes"), an error after one line on stderr."""

from __future__ import annotations

import logging
import re
import sys
from enum import IntEnum
from pathlib import Path
from typing import NamedTuple, NoReturn

import click

from gonogo.core.errors import ConfigurationError, GonogoError, InputError, JiraError, one_line
from gonogo.core.pipeline.verdict import Verdict
from gonogo.redaction import RedactRecords, redact, route_other_loggers

log = logging.getLogger("gonogo")


class ExitCode(IntEnum):
    """A verdict's code has the verdict's name (`for_result`)."""

    GO = 0
    INTERNAL_ERROR = 1
    USAGE = 2  # click's own code for bad arguments
    CONFIGURATION = 3
    INPUT = 4
    JIRA = 5
    REPORT_FAILED_ROWS = 6  # gonogo report: some tickets could not be checked or posted
    GO_WITH_CONDITIONS = 10
    NEEDS_INFO = 11
    NO_GO = 12
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


class Problems(NamedTuple):
    """Configuration problems a command found and listed (`checklists lint`, `doctor`)."""

    found: int


class FailedRows(NamedTuple):
    """Tickets `report` could not check or post (they are error rows in the report)."""

    tickets: int


def for_error(error: GonogoError) -> ExitCode:
    """The code of the family the error belongs to; a bare GonogoError is an internal error."""
    if isinstance(error, ConfigurationError):
        return ExitCode.CONFIGURATION
    if isinstance(error, InputError):
        return ExitCode.INPUT
    return ExitCode.JIRA if isinstance(error, JiraError) else ExitCode.INTERNAL_ERROR


def for_result(result: object) -> ExitCode:
    """What a command returned, as an exit code (nothing returned is success); a check's code says its
    verdict, so a script can branch without parsing the report."""
    if isinstance(result, Verdict):
        return ExitCode[result.name]
    if isinstance(result, Problems) and result.found:
        return ExitCode.CONFIGURATION
    if isinstance(result, FailedRows) and result.tickets:
        return ExitCode.REPORT_FAILED_ROWS
    return ExitCode.GO


def fail(error: GonogoError, config_file: str | None) -> NoReturn:
    """One line on stderr, naming the configuration file given (--config) where it says gonogo.toml."""
    message = one_line(error)
    if config_file is not None:  # gonogo.toml as a word, not part of a longer path
        message = re.sub(r"(?<![\w/.\\-])gonogo\.toml\b", lambda _: str(Path(config_file)), message)
    click.echo(f"gonogo: error: {redact(message)}", err=True)
    sys.exit(for_error(error))


def setup_logging(verbose: int) -> None:
    """gonogo's log lines on stderr; every other library's through the same redaction, from -vv on."""
    log.handlers[:] = [_stderr_handler()]
    log.propagate = False
    log.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    route_other_loggers(_stderr_handler(), level=logging.WARNING if verbose > 1 else logging.CRITICAL + 1)


def _stderr_handler() -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("gonogo: %(message)s"))
    handler.addFilter(RedactRecords())
    return handler
