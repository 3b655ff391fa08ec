"""The proposal vocabulary (gonogo/schemas/proposal.schema.json) and a site's own words for its values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from gonogo.core.errors import ConfigurationError

# A value made only of these stands for nothing yet: "-", "?", "--", "…".
_BLANK_MARKS = frozenset("-\u2010\u2013\u2014?.\u2026_/ ")


@dataclass(frozen=True)
class PropertySpec:
    """One proposal property as the vocabulary declares it."""

    name: str
    type: str
    default_field: str | None
    label: str
    ask: str | None = None
    enum: tuple[str, ...] = ()
    derived_from: tuple[str, ...] = ()
    minimum: float | None = None
    exclusive_minimum: float | None = None
    maximum: float | None = None
    optional: str | None = None  # a site may lack the field: what would read it (x-gonogo-optional)
    prose: bool = False  # the proposal's own words (x-gonogo-prose): text signals read them whole
    actor: str | None = None  # who can change it: customer, team, estimate or market (x-gonogo-actor)
    unit: str | None = None  # what its number counts, for a sentence ("person-days")

    @property
    def is_derived(self) -> bool:
        return bool(self.derived_from)


@dataclass(frozen=True)
class Vocabulary:
    properties: Mapping[str, PropertySpec]
    thresholds: Mapping[str, float]  # each tunable number's default ([thresholds] in gonogo.toml overrides)
    placeholders: frozenset[str] = frozenset()  # "not known yet" (TBD, n/a), as `option_key` reads them

    def with_placeholders(self, extra: Iterable[str]) -> Vocabulary:
        """The vocabulary with a site's own placeholders added ([vocabulary].placeholders)."""
        return replace(self, placeholders=self.placeholders | {option_key(p) for p in extra})

    def with_flags(self, labels: Mapping[str, str]) -> Vocabulary:
        """The vocabulary with the yes/no properties text signals set (`gonogo.core.pipeline.signals`)."""
        flags = {name: PropertySpec(name, "boolean", None, label) for name, label in labels.items()}
        return replace(self, properties={**self.properties, **flags})

    def placeholder(self, text: str) -> bool:
        """Whether the whole value says "not known yet": a listed placeholder, or only `_BLANK_MARKS`."""
        key = option_key(text)
        return key in self.placeholders or key.rstrip(".!") in self.placeholders or set(key) <= _BLANK_MARKS

    @cached_property  # asked for every rule of every ticket
    def with_sources(self) -> dict[str, tuple[str, ...]]:
        """Each property preceded by what it is derived from, all the way down (its evidence order)."""

        def expanded(name: str) -> tuple[str, ...]:
            spec = self.properties.get(name)
            sources = [item for source in (spec.derived_from if spec else ()) for item in expanded(source)]
            return tuple(dict.fromkeys([*sources, name]))

        return {name: expanded(name) for name in self.properties}

    def default_field_map(self) -> dict[str, str]:
        return {s.name: s.default_field for s in self.properties.values() if s.default_field is not None}


def option_key(text: str) -> str:
    """How a site's text is compared with a placeholder or an option alias: case and spaces do not matter."""
    return " ".join(text.casefold().split())


def thresholds_declared(declared: Mapping[str, Any]) -> dict[str, float]:
    """Each threshold a schema or checklist declares (`x-gonogo-thresholds`, `thresholds`), by its default."""
    return {name: float(spec["default"]) for name, spec in declared.items()}


def vocabulary_from_schema(data: Mapping[str, Any]) -> Vocabulary:
    """The vocabulary a proposal schema declares (`gonogo.sources.resources.bundled_vocabulary` reads it)."""
    return Vocabulary(
        properties={name: _property(name, spec) for name, spec in data["properties"].items()},
        thresholds=thresholds_declared(data.get("x-gonogo-thresholds", {})),
        placeholders=frozenset(option_key(p) for p in data.get("x-gonogo-placeholders", ())),
    )


def _property(name: str, spec: Mapping[str, Any]) -> PropertySpec:
    return PropertySpec(
        name=name,
        type="date" if spec.get("format") == "date" else str(spec.get("type", "string")),
        default_field=spec.get("x-gonogo-field"),
        label=str(spec.get("x-gonogo-label", name)),
        ask=spec.get("x-gonogo-ask"),
        enum=tuple(spec.get("enum", ())),
        derived_from=tuple(spec.get("x-gonogo-derived", {}).get("from", ())),
        minimum=spec.get("minimum"),
        exclusive_minimum=spec.get("exclusiveMinimum"),
        maximum=spec.get("maximum"),
        optional=spec.get("x-gonogo-optional"),
        prose=bool(spec.get("x-gonogo-prose", False)),
        actor=spec.get("x-gonogo-actor"),
        unit=spec.get("x-gonogo-unit"),
    )


# `[values.PROPERTY]`: property → site option text (`option_key`) → vocabulary value ("Full" = "strong"),
# so that a site whose options read Full / Partial / None does not make every proposal NEEDS INFO.
OptionAliases = Mapping[str, Mapping[str, str]]


def parse_option_aliases(table: Mapping[str, Mapping[str, str]], vocabulary: Vocabulary) -> OptionAliases:
    """Check `[values]` against the vocabulary (an alias to a value it lacks never matches) and index it."""
    with_options = sorted(name for name, spec in vocabulary.properties.items() if spec.enum)
    parsed: dict[str, dict[str, str]] = {}
    for prop, aliases in table.items():
        spec = vocabulary.properties.get(prop)
        if spec is None or not spec.enum:
            raise ConfigurationError(
                f"[values.{prop}]: {prop} is not a property with fixed options; "
                f"[values] tables exist for: {', '.join(with_options)}"
            )
        index = parsed[prop] = {}
        for text, value in aliases.items():
            if value not in spec.enum:
                raise ConfigurationError(
                    f'[values.{prop}]: "{text}" = "{value}", but {prop} has no value "{value}": '
                    f"use one of {', '.join(spec.enum)}"
                )
            if index.setdefault(option_key(text), value) != value:
                raise ConfigurationError(
                    f'[values.{prop}]: "{text}" is given twice (ignoring case) with different values: '
                    "keep one"
                )
    return parsed
