"""`[values.PROPERTY]`: a site's own option text for a vocabulary value ("Full" = "strong").

Without aliases a site whose options read Full / Partial / None would make every healthy proposal
NEEDS INFO. An alias to a value the vocabulary lacks would never match, so it is an error.
"""

from __future__ import annotations

from collections.abc import Mapping

from gonogo.core.errors import ConfigurationError
from gonogo.core.vocabulary import Vocabulary

OptionAliases = Mapping[str, Mapping[str, str]]
"""Property → (site option text, case-folded) → vocabulary value."""


def option_key(text: str) -> str:
    """How an option's text is compared with an alias: case and surrounding spaces do not matter."""
    return " ".join(text.split()).casefold()


def parse_option_aliases(table: Mapping[str, Mapping[str, str]], vocabulary: Vocabulary) -> OptionAliases:
    """Check `[values]` against the vocabulary and index it for look-ups by `option_key`."""
    with_options = sorted(name for name, spec in vocabulary.properties.items() if spec.enum)
    parsed: dict[str, dict[str, str]] = {}
    for prop, aliases in table.items():
        spec = vocabulary.properties.get(prop)
        if spec is None or not spec.enum:
            raise ConfigurationError(
                f"[values.{prop}]: {prop} is not a property with fixed options; "
                f"[values] tables exist for: {', '.join(with_options)}"
            )
        index: dict[str, str] = {}
        for text, value in aliases.items():
            if value not in spec.enum:
                raise ConfigurationError(
                    f'[values.{prop}]: "{text}" = "{value}", but {prop} has no value "{value}": '
                    f"use one of {', '.join(spec.enum)}"
                )
            key = option_key(text)
            if index.get(key, value) != value:
                raise ConfigurationError(
                    f'[values.{prop}]: "{text}" is given twice (ignoring case) with different values: '
                    "keep one"
                )
            index[key] = value
        parsed[prop] = index
    return parsed
