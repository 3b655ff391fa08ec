"""ANSI colour and bold for the terminal report, without loading click into the renderer.

The codes are the ones click's `style` writes (tests/test_render_ansi.py compares them), so the
coloured report reads the same as before the renderer stopped importing click.
"""

from __future__ import annotations

_COLOURS = {
    "black": 30,
    "red": 31,
    "green": 32,
    "yellow": 33,
    "blue": 34,
    "magenta": 35,
    "cyan": 36,
    "white": 37,
    "reset": 39,
}


def style(text: str, *, fg: str | None = None, bold: bool | None = None) -> str:
    """`text` in colour `fg`, bold (True) or explicitly not bold (False), then every attribute reset."""
    codes = ""
    if fg is not None:
        if fg not in _COLOURS:
            raise ValueError(f"unknown colour {fg!r}")
        codes += f"\x1b[{_COLOURS[fg]}m"
    if bold is not None:
        codes += "\x1b[1m" if bold else "\x1b[22m"
    return f"{codes}{text}\x1b[0m"
