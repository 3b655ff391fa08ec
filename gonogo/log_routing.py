"""Where other libraries' log records go: through gonogo's handler, never Python's default one.

Python prints an unhandled record with its last-resort handler (and a module-level `logging.error()`
installs a default root handler): unredacted, outside the service's JSON lines. gonogo's handler on
the root logger closes that road for every library at once.
"""

from __future__ import annotations

import logging

# Record attributes that are not ours to print (uvicorn adds an ANSI-coloured copy of its messages).
STANDARD_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "color_message",
}

_installed: list[logging.Handler] = []


def route_other_loggers(handler: logging.Handler, *, level: int) -> None:
    """Send records of every logger without a handler of its own to `handler`, from `level` on.

    Replaces the handler an earlier call installed (commands may set logging up twice); handlers
    others put on the root logger (a test runner's) are left alone.
    """
    root = logging.getLogger()
    for old in _installed:
        root.removeHandler(old)
    handler.setLevel(level)
    root.addHandler(handler)
    _installed[:] = [handler]
