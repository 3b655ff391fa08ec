"""How the core's codes read: which refusal or question it is comes from the core, the words from here."""

from __future__ import annotations

from gonogo.core.pipeline.findings import MissingInformation
from gonogo.core.pipeline.waivers import Refusal, Waiver

_WORDS = {
    Refusal.NOT_A_DATE: "its until date {until} is not a date: name it as gonogo-waive-RULE-until-YYYY-MM-DD",
    Refusal.NO_REASON: "a waiver needs a justification in the waiver reason field",
    Refusal.BLOCKER: (
        "a show-stopper cannot be waived here (set [waivers].allow_blockers in gonogo.toml to allow it)"
    ),
    Refusal.MISSING_INFORMATION: "missing information cannot be waived: answer the question instead",
}


def refusal_text(refused: Refusal | None, waiver: Waiver) -> str | None:
    """The sentence for a refusal (a value, escaped like ticket text: it quotes the label's date)."""
    return None if refused is None else _WORDS[refused].format(until=waiver.bad_until)


def question_text(missing: MissingInformation) -> str:
    """The question to answer: the vocabulary's or the rule's own, else one asking for the property."""
    return missing.question if missing.question is not None else f"What is the {missing.about} for this bid?"
