"""The one back-off rule, for the Jira gateway's retries and the webhook service's job retries."""

from __future__ import annotations


def doubling(failures: int, *, first: float, cap: float) -> float:
    """Seconds to wait after the `failures`-th failure in a row (1 for the first): doubling, capped."""
    return float(min(first * 2 ** (failures - 1), cap))
