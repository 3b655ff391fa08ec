"""Exit codes, decided here only: from what a command found, or from the error that stopped it.

Commands return what they found (a `Verdict`, `Problems`, `FailedRows`) and raise a `GonogoError`
when they could not do their job; the `gonogo` group turns either into the exit code (README,
"Exit codes").
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

from gonogo.core.errors import ConfigurationError, GonogoError, InputError, JiraError
from gonogo.core.pipeline.verdict import Verdict


class ExitCode(IntEnum):
    """A verdict's code has the verdict's name (`for_verdict`)."""

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


# NamedTuple, not a dataclass, for these records (and the format registries'): `gonogo --help`
# imports them, and dataclasses cost it ~4 ms of its ~50 (bench/startup.py).
class Problems(NamedTuple):
    """Configuration problems a command found and listed (`checklists lint`, `doctor`)."""

    found: int


class FailedRows(NamedTuple):
    """Tickets `report` could not check or post (they are error rows in the report)."""

    tickets: int


# Most specific first: an error's code is that of the first family it belongs to.
_FOR_ERROR: tuple[tuple[type[GonogoError], ExitCode], ...] = (
    (ConfigurationError, ExitCode.CONFIGURATION),
    (InputError, ExitCode.INPUT),
    (JiraError, ExitCode.JIRA),
)


def for_verdict(verdict: Verdict) -> ExitCode:
    """A check's exit code says its verdict, so a script can branch without parsing the report."""
    return ExitCode[verdict.name]


def for_error(error: GonogoError) -> ExitCode:
    """The code of the family the error belongs to; a bare GonogoError is an internal error."""
    return next((code for family, code in _FOR_ERROR if isinstance(error, family)), ExitCode.INTERNAL_ERROR)


def for_result(result: object) -> ExitCode:
    """What a command returned, as an exit code; nothing returned is success."""
    if isinstance(result, Verdict):
        return for_verdict(result)
    if isinstance(result, Problems) and result.found:
        return ExitCode.CONFIGURATION
    if isinstance(result, FailedRows) and result.tickets:
        return ExitCode.REPORT_FAILED_ROWS
    return ExitCode.GO
