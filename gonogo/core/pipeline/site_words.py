"""A path to GO in the site's words: its field names, its option texts, and who can act.

The path is searched in gonogo's vocabulary, but a person types into the site's field, whose options
may read otherwise and whose edit screen may not offer every value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from gonogo.core.pipeline.path_to_go import Fix, PathToGo
from gonogo.core.pipeline.proposal import SiteOption, canonical_option
from gonogo.core.vocabulary import PropertySpec, Vocabulary, option_key

OptionTexts = Mapping[str, Mapping[str, str]]
"""Property → vocabulary value → the site's text for it (only values the site can hold)."""


def option_spellings(table: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """`[values]` reversed: each vocabulary value's first site text, as gonogo.toml writes it."""
    spelled: dict[str, dict[str, str]] = {}
    for prop, aliases in table.items():
        for text, value in aliases.items():
            spelled.setdefault(prop, {}).setdefault(value, " ".join(text.split()))
    return spelled


def site_options(
    spec: PropertySpec,
    *,
    offered: Sequence[str] | None,
    spellings: Mapping[str, str],
    aliases: Mapping[str, str],
) -> dict[str, str]:
    """Vocabulary value → the site's text for it, for the values the site's field can hold (all, when
    unknown)."""
    if offered is None:
        return {value: spellings.get(value) or value.replace("-", " ").capitalize() for value in spec.enum}
    found: dict[str, str] = {}
    for text in offered:
        value = aliases.get(option_key(text)) or canonical_option(text)
        if value in spec.enum:
            found.setdefault(value, text)
    return found


def narrowed(vocabulary: Vocabulary, offered: OptionTexts, inputs: Mapping[str, Any]) -> Vocabulary:
    """The vocabulary with each listed property's options cut to those the site offers, the current value
    kept."""
    properties = dict(vocabulary.properties)
    for name, texts in offered.items():
        spec = properties[name]
        kept = tuple(value for value in spec.enum if value in texts or value == inputs.get(name))
        properties[name] = replace(spec, enum=kept)
    return replace(vocabulary, properties=properties)


def in_site_words(
    path: PathToGo,
    *,
    vocabulary: Vocabulary,
    options: OptionTexts,
    current_texts: Mapping[str, str],
    field_names: Mapping[str, str],
) -> PathToGo:
    """The path with every change in the site's words; `needed` keeps the vocabulary value for comparisons."""

    def worded(change: Fix) -> Fix:
        spec = vocabulary.properties.get(change.property)
        texts = options.get(change.property, {})
        needed, set_to = change.needed, change.needed
        if spec is not None and spec.enum and isinstance(needed, str):
            set_to = texts.get(needed, needed)
            needed = SiteOption(needed, site_text=set_to) if set_to != needed else needed
        current = change.current
        if isinstance(current, str) and change.property in current_texts:
            current = SiteOption(current, site_text=current_texts[change.property])
        return replace(
            change,
            field=field_names.get(change.property, change.field),
            current=current,
            needed=needed,
            set_to=set_to,
            actor=spec.actor if spec is not None else None,
        )

    steps = tuple(
        replace(step, change=worded(step.change), alternatives=tuple(worded(a) for a in step.alternatives))
        for step in path.steps
    )
    return replace(path, steps=steps)
