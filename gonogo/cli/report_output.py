"""Where `gonogo report` writes: stdout or a file that appears only when complete, and its progress line."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO

import click

from gonogo.core.errors import InputError


class ReportFile:
    """Where the report goes: stdout as it is written, or FILE, which appears only when complete.

    A file is written under a temporary name beside it and renamed at the end, so a run that
    stops half-way leaves no half-written report (stdout has what was written by then).
    """

    def __init__(self, path: str | None, colour: bool) -> None:
        self._path = path
        self._colour = colour
        self._file: IO[str] | None = None

    def __enter__(self) -> ReportFile:
        if self._path is not None:
            target = Path(self._path)
            try:
                self._file = tempfile.NamedTemporaryFile(
                    "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", delete=False
                )
            except OSError as exc:
                raise InputError(f"cannot write {self._path}: {exc.strerror or exc}") from None
        return self

    def write(self, text: str) -> None:
        if self._file is None:
            click.echo(text, nl=False, color=self._colour)
        else:
            self._file.write(text)

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if self._file is None or self._path is None:
            return
        self._file.close()
        if kind is not None:
            os.unlink(self._file.name)
            return
        try:
            os.replace(self._file.name, self._path)
        except OSError as error:
            os.unlink(self._file.name)
            raise InputError(f"cannot write {self._path}: {error.strerror or error}") from None


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
