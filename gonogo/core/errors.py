"""One exception family for "gonogo could not check" (`gonogo.cli.exits` picks each one's exit code),
and how long to wait before trying again."""

from __future__ import annotations

import math


class GonogoError(Exception):
    """A problem that prevents a check; its message is one line naming the problem and the fix."""


def one_line(error: object) -> str:
    """An error's (or a lint problem's) text as one line: Jira's and the OS's messages may span several."""
    return " ".join(str(error).split())


class ConfigurationError(GonogoError):
    """gonogo.toml, an environment variable or a checklist file is missing or wrong."""


class InputError(GonogoError):
    """The TICKET argument or a ticket file cannot be used."""


class JiraError(GonogoError):
    """Jira could not be reached, refused us, or lacks the ticket; `retryable` says if waiting cures it."""

    def __init__(self, message: str, *, retryable: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = bounded_wait(retry_after)


class EditRefused(JiraError):
    """Jira refused an issue edit as a whole (labels off the edit screen, a deleted comment): a retry
    can leave a part out."""


# The longest Retry-After gonogo believes. Jira's rate limits ask for seconds or minutes; a bigger,
# infinite or non-numeric value would park a webhook job for ever, neither retried nor dead-lettered.
RETRY_AFTER_CEILING_SECONDS = 24 * 3600.0


def bounded_wait(seconds: float | None) -> float | None:
    """A wait Jira asked for, made safe: None when not a finite number, else within [0, ceiling]."""
    if seconds is None or not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), RETRY_AFTER_CEILING_SECONDS)


def doubling(failures: int, *, first: float, cap: float) -> float:
    """The back-off of Jira's retries and webhook jobs: seconds after the `failures`-th failure (1 first)."""
    return float(min(first * 2 ** (failures - 1), cap))
