"""The command line: options in, exit code out; the work happens in the modules it calls.

`run` is the entry point (`gonogo` and `python -m gonogo`). It answers `gonogo --version` and
`gonogo --help` from text click rendered (see `gonogo.cli.fast`) without importing click, and hands
every other command line to the click group in `gonogo.cli.group`. `main` (the click group) is
loaded on first use, so importing this package costs nothing.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

from gonogo.cli.fast import fast_answer


def run() -> NoReturn:
    """Entry point: the two fixed answers at once, everything else through click."""
    answer = fast_answer(sys.argv[1:], os.environ)
    if answer is not None:
        sys.stdout.write(answer)
        sys.stdout.flush()
        sys.exit(0)
    import atexit  # not for the fixed answers above
    import gc

    # What a command made (modules, classes, compiled checklists) lives until the process ends, and
    # the interpreter's last collection at exit would walk all of it for nothing: frozen at exit,
    # it is skipped (15-20 ms of CPU of a ~160 ms `gonogo check FILE`, measured in issue 14d).
    atexit.register(gc.freeze)
    from gonogo.cli.group import run_click

    run_click()


def __getattr__(name: str) -> Any:
    """`gonogo.cli.main`, the click group, imported when first asked for."""
    if name == "main":
        from gonogo.cli.group import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
