"""Where `gonogo report` writes: stdout or a file that appears only when complete, and its progress line."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from gonogo.core.errors import InputError


@contextmanager
def report_file(path: str | None, colour: bool) -> Iterator[Callable[[str], object]]:
    """Where the report goes: stdout as it is written, or FILE, which appears only when complete.

    A file is written under a temporary name beside it and renamed at the end, so a run that
    stops half-way leaves no half-written report (stdout has what was written by then).
    """
    if path is None:
        yield lambda text: click.echo(text, nl=False, color=colour)
        return
    target = Path(path)
    try:
        file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by the `with` around the yield
            "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", delete=False
        )
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with file:
            yield file.write
    except BaseException:
        os.unlink(file.name)
        raise
    try:
        os.replace(file.name, path)
    except OSError as error:
        os.unlink(file.name)
        raise InputError(f"cannot write {path}: {error.strerror or error}") from None


class ProgressLine:
    """The report's progress on stderr when it is a terminal ("Checked 250 of 1,200 tickets found").

    Cloud's search gives no total, so the count of tickets found grows with the pages.
    """

    def __init__(self, *, enabled: bool) -> None:
        self._enabled = enabled
        self._found = 0
        self._total: int | None = None
        self._checked = 0

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._enabled and (self._found or self._checked):
            click.echo("", err=True)

    def searching(self, found: int, total: int | None) -> None:
        self._found, self._total = found, total
        self._draw()

    def checked(self) -> None:
        self._checked += 1
        self._draw()

    def _draw(self) -> None:
        if self._enabled:
            of = f"{self._total:,}" if self._total is not None else f"{self._found:,} found so far"
            click.echo(f"\rChecked {self._checked:,} of {of} tickets", nl=False, err=True)
