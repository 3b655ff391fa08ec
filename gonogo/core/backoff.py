"""The one back-off rule: wait `first` seconds after the first failure, doubling each time, up to `cap`.

Shared by the Jira gateway's own retries and by the webhook service's job retries and queue trouble.
"""

from __future__ import annotations


def doubling(failures: int, *, first: float, cap: float) -> float:
    """Seconds to wait after the `failures`-th failure in a row (1 for the first): doubling, capped."""
    return float(min(first * 2 ** (failures - 1), cap))
