"""One rule for tests that need a real outside program (node, Redis, Chromium...).

Locally such a test may skip with a reason when the program is not installed. In CI a skip
would let a broken setup pass silently, so CI sets ``GONOGO_REQUIRE_REAL=1`` and the same
missing dependency fails the test instead.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

REQUIRE_REAL_ENV = "GONOGO_REQUIRE_REAL"
_TRUE_VALUES = frozenset({"1", "true", "yes", "on"})


def real_deps_required() -> bool:
    """Tell whether this run forbids skipping for missing real dependencies."""
    return os.environ.get(REQUIRE_REAL_ENV, "").strip().lower() in _TRUE_VALUES


def require_real_or_skip(reason: str) -> NoReturn:
    """Skip the current test because a real dependency is missing, or fail if CI requires it.

    ``reason`` should say what is missing and how to install it.
    """
    if real_deps_required():
        pytest.fail(f"{reason} ({REQUIRE_REAL_ENV} is set, so this may not skip)", pytrace=False)
    pytest.skip(reason)
