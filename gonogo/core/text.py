"""How a proposal value reads in a sentence, shared by findings and every rendered text."""

from __future__ import annotations

from typing import Any

from gonogo.core.pipeline.proposal import SiteOption


def display_value(value: Any) -> str:
    """480,000 rather than 480000.0; "not given" for a value the ticket does not have."""
    if value is None:
        return "not given"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):  # enough decimals that 14.996 % does not read as the 15 % floor it fails
        places = 2
        while places < 6 and not value.is_integer() and round(value, places) == round(value):
            places += 1
        return f"{value:,.{places}f}".rstrip("0").rstrip(".")
    if isinstance(value, list):
        return ", ".join(display_value(item) for item in value)
    # An option in the site's own words, never gonogo's vocabulary.
    return value.site_text if isinstance(value, SiteOption) else str(value)


def clipped(text: str, limit: int = 60) -> str:
    """What a message may quote of something the user typed: a 5,000-character argument is cut."""
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"
