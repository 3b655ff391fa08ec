"""One exception family for "gonogo could not check", and the exit codes, decided in one place.

Everything that stops a check before a verdict exists is a `GonogoError`. The CLI turns it into one
line on stderr and `exit_code`; nothing else in the code base picks exit codes.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented process exit codes (README, "Exit codes")."""

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


class GonogoError(Exception):
    """A problem that prevents a check; its message is one line naming the problem and the fix."""

    exit_code: ExitCode = ExitCode.INTERNAL_ERROR


class ConfigurationError(GonogoError):
    """gonogo.toml, an environment variable or a checklist file is missing or wrong."""

    exit_code = ExitCode.CONFIGURATION


class InputError(GonogoError):
    """The TICKET argument or a ticket file cannot be used."""

    exit_code = ExitCode.INPUT


class JiraError(GonogoError):
    """Jira could not be reached, refused us, or does not have the ticket.

    `retryable` says whether waiting can cure it: an outage (unreachable, a timeout, 5xx) or a rate
    limit can; a missing ticket, refused credentials or permissions, or a bad request cannot, and
    the webhook service dead-letters those at once. `retry_after` is the wait Jira asked for.
    """

    exit_code = ExitCode.JIRA

    def __init__(self, message: str, *, retryable: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class EditRefused(JiraError):
    """Jira refused an issue edit as a whole (400/404); `fields` are the ones its answer names.

    The caller may retry without the part Jira objected to (labels off the edit screen, a deleted
    comment); unhandled, it is a Jira error like any other.
    """

    def __init__(self, message: str, *, fields: frozenset[str] = frozenset()) -> None:
        super().__init__(message)
        self.fields = fields
