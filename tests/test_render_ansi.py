"""The renderer's own ANSI styling writes exactly what click's `style` writes for the same request."""

from __future__ import annotations

import click
import pytest

from gonogo.render.ansi import style


@pytest.mark.parametrize("fg", [None, "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"])
@pytest.mark.parametrize("bold", [None, False, True])
def test_style_matches_click(fg: str | None, bold: bool | None) -> None:
    assert style("NO-GO", fg=fg, bold=bold) == click.style("NO-GO", fg=fg, bold=bold)


def test_an_unknown_colour_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown colour"):
        style("x", fg="chartreuse")
