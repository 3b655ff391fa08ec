"""Text signals: what a proposal's own words say, as properties the rules test like any other. A pattern
counts only in a sentence no `unless` pattern matches and no negation stands right before it; a signal
keeps the sentence it fired on, to quote. Plain patterns, on purpose: deterministic, explainable, offline."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from gonogo.core.pipeline.proposal import Proposal, Quote
from gonogo.core.pipeline.rules import ChecklistFile, ChecklistFileError, Problem
from gonogo.core.vocabulary import Vocabulary

DEFAULT_FIELDS = ("summary", "description")
# Words that, just before a match, turn it round: "no unlimited liability", "does not require it".
_NEGATION = re.compile(r"\b(?:no|not|never|without|nor|neither|excluding|excluded|removed)\b|n't\b")
_NEGATION_REACH_WORDS = 3
# A sentence ends at a line break, or at . ! ? followed by a space ("approx. 1.5" stays whole).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*[\r\n]+\s*")
# Bounds, since a team's pattern may backtrack and Jira's answers are untrusted: Jira caps a text
# field at 32,767 characters, so the first 100,000 are all of a real one (an unbounded 5 MB one took
# about 20 s); a run with no full stop is read in pieces of 1,000: work grows with the text, not its square.
_READ_CHARS = 100_000
_SENTENCE_CHARS = 1_000
_QUOTE_CHARS = 160
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Signal:
    """One signal as a check reads text: its label names the property in the vocabulary (`signal_labels`),
    its id only a lint problem."""

    property: str
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...] = ()
    fields: tuple[str, ...] = DEFAULT_FIELDS
    about: str | None = None  # the property the sentence speaks to ("liability")
    agrees_with: tuple[Any, ...] = ()  # its values that say the same as the text

    def first_match(self, sentence: str) -> re.Match[str] | None:
        if any(u.search(sentence) for u in self.unless):
            return None
        for pattern in self.patterns:
            for match in pattern.finditer(sentence):
                before = sentence[: match.start()].split()[-_NEGATION_REACH_WORDS:]
                if not _NEGATION.search(" ".join(before).casefold()):
                    return match
        return None


def compile_signals(files: Iterable[ChecklistFile], known_properties: Iterable[str]) -> tuple[Signal, ...]:
    """Every signal the checklist files declare, or raise with every problem found. `known_properties`:
    those rules may use, the signals' own among them (`signal_labels`)."""
    known = set(known_properties)
    compiled = [_compile_file(checklist_file, known) for checklist_file in files]
    if problems := [problem for _, wrong in compiled for problem in wrong]:
        raise ChecklistFileError(problems)
    return tuple(signal for found, _ in compiled for signal in found)


def lint_signals(checklist_file: ChecklistFile, known_properties: Iterable[str]) -> list[Problem]:
    return _compile_file(checklist_file, set(known_properties))[1]


def signal_labels(files: Iterable[ChecklistFile]) -> dict[str, str]:
    """The properties the files' signals set (any checklist's rules may test them), with the first label."""
    labels: dict[str, str] = {}
    for checklist_file in files:
        for raw in checklist_file.data.get("signals", ()):
            labels.setdefault(raw["property"], raw["label"])
    return labels


def read_signals(proposal: Proposal, signals: Sequence[Signal], vocabulary: Vocabulary) -> Proposal:
    """The proposal with every signal property set: true, with its sentence, where a signal fired."""
    values, quotes = dict(proposal.values), dict(proposal.quotes)
    for signal in signals:
        fired = values.setdefault(signal.property, False) is True  # another signal setting it fired
        if not fired and (quote := _find(signal, proposal, vocabulary)):
            values[signal.property] = True
            quotes[signal.property] = quote
    return replace(proposal, values=values, quotes=quotes)


def sentences(text: str) -> list[str]:
    """The sentences of the text's first 100,000 characters, none longer than 1,000 (cut at a space)."""
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text[:_READ_CHARS]):
        rest = sentence
        while len(rest) > _SENTENCE_CHARS:
            cut = rest.rfind(" ", 0, _SENTENCE_CHARS) + 1 or _SENTENCE_CHARS
            pieces.append(rest[:cut])
            rest = rest[cut:]
        pieces.append(rest)
    return [piece for piece in pieces if piece.strip()]


def _find(signal: Signal, proposal: Proposal, vocabulary: Vocabulary) -> Quote | None:
    """The first sentence the signal fires on, in its fields' order, with what it says about `about`."""
    for name in signal.fields:
        text = proposal.values.get(name)
        for sentence in sentences(text) if isinstance(text, str) else ():
            if (match := signal.first_match(sentence)) is not None:
                about = signal.about
                value = proposal.evidence_value(about) if about else None
                return Quote(
                    field=_label(name, proposal, vocabulary),
                    sentence=excerpt(sentence, match.start(), match.end()),
                    about=_label(about, proposal, vocabulary) if about else None,
                    about_value=value,
                    agrees=None if value is None else value in signal.agrees_with,
                )
    return None


def _label(name: str, proposal: Proposal, vocabulary: Vocabulary) -> str:
    """The field's label as evidence shows it: the site's field name, else the vocabulary's."""
    source, spec = proposal.sources.get(name), vocabulary.properties.get(name)
    if source is not None and source.field_name != source.field_id:
        return source.field_name
    return spec.label if spec else name


def excerpt(sentence: str, start: int, end: int) -> str:
    """The sentence on one line, cut to about 160 characters around what matched, at word breaks."""
    text = _UNPRINTABLE.sub(" ", sentence)
    if len(" ".join(text.split())) <= _QUOTE_CHARS:
        return " ".join(text.split()).removesuffix(".")  # the sentence the quote stands in ends it
    margin = max(0, (_QUOTE_CHARS - (end - start)) // 2)
    left, right = max(0, start - margin), min(len(text), end + margin)
    while left > 0 and not text[left - 1].isspace():
        left += 1
    while right < len(text) and not text[right].isspace():
        right -= 1
    cut = " ".join(text[left:right].split())
    return f"{'…' if left > 0 else ''}{cut}{'…' if right < len(text) else ''}"


def _compile_file(checklist_file: ChecklistFile, known: set[str]) -> tuple[list[Signal], list[Problem]]:
    signals: list[Signal] = []
    problems: list[Problem] = []
    for raw in checklist_file.data.get("signals", ()):
        messages: list[str] = []
        patterns = _patterns(raw.get("patterns", ()), "patterns", messages)
        unless = _patterns(raw.get("unless", ()), "unless", messages)
        fields = tuple(raw.get("fields", DEFAULT_FIELDS))
        if unknown := [f for f in fields if f not in known]:
            messages += [f"reads unknown field(s) {', '.join(unknown)}: map them in [fields] of gonogo.toml"]
        about = raw.get("about")
        if about is not None and about not in known:
            messages.append(f"is about unknown property {about}: use one from the vocabulary or [fields]")
        problems += [Problem(checklist_file.path, f"signal {raw['id']}", m) for m in messages]
        if not messages:
            signals.append(
                Signal(
                    property=raw["property"],
                    patterns=patterns,
                    unless=unless,
                    fields=fields,
                    about=about,
                    agrees_with=tuple(raw.get("agrees_with", ())),
                )
            )
    return signals, problems


def _patterns(raw: Sequence[str], key: str, messages: list[str]) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for number, text in enumerate(raw, start=1):
        try:
            compiled.append(re.compile(text, re.IGNORECASE))
        except re.error as exc:
            messages.append(f"{key} #{number} is not a valid regular expression: {exc}")
    return tuple(compiled)
