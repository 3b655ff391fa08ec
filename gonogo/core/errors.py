"""One exception family for "gonogo could not check".

Everything that stops a check before a verdict exists is a `GonogoError`. The CLI turns it into one
line on stderr and the family's exit code (`gonogo.cli.exits`, the one place that picks exit codes).
"""

from __future__ import annotations


class GonogoError(Exception):
    """A problem that prevents a check; its message is one line naming the problem and the fix."""


class ConfigurationError(GonogoError):
    """gonogo.toml, an environment variable or a checklist file is missing or wrong."""


class InputError(GonogoError):
    """The TICKET argument or a ticket file cannot be used."""


class JiraError(GonogoError):
    """Jira could not be reached, refused us, or does not have the ticket.

    `retryable` says whether waiting can cure it: an outage (unreachable, a timeout, 5xx) or a rate
    limit can; a missing ticket, refused credentials or permissions, or a bad request cannot, and
    the webhook service dead-letters those at once. `retry_after` is the wait Jira asked for.
    """

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
