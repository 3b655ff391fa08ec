"""The renderer's own ANSI styling writes exactly what click's `style` writes for the same request."""

from __future__ import annotations

import click
import pytest

from gonogo.render.renderer import make_renderer

STYLE = make_renderer().text.filters["style"]


@pytest.mark.parametrize("fg", [None, "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"])
@pytest.mark.parametrize("bold", [None, False, True])
def test_style_matches_click(fg: str | None, bold: bool | None) -> None:
    assert STYLE("NO-GO", True, fg=fg, bold=bold) == click.style("NO-GO", fg=fg, bold=bold)


def test_without_colour_the_text_is_plain() -> None:
    assert STYLE("NO-GO", False, fg="red", bold=True) == "NO-GO"


def test_an_unknown_colour_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown colour"):
        STYLE("x", True, fg="chartreuse")
