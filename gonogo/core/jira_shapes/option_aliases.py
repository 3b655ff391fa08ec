"""`[values.PROPERTY]`: a site's own option text for a vocabulary value ("Full" = "strong").

A Jira site is set up by its admins, not by gonogo, so its select options rarely read like the
vocabulary. Without aliases, a site whose Capability fit options are Full / Partial / None would
turn every healthy proposal into NEEDS INFO. The table is checked once, when the assessor is built:
an alias to a value the vocabulary does not have would silently never match, so it is an error
that lists the allowed values. Pure: no Jira, no files.
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
