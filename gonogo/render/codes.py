"""How the core's codes read: which refusal or question it is comes from the core, the words from here."""

from __future__ import annotations

from gonogo.core.pipeline.findings import Finding, MissingInformation
from gonogo.core.pipeline.rules import fill_values
from gonogo.core.pipeline.waivers import Refusal, Waiver
from gonogo.core.text import display_value

# By `Refusal` value (a StrEnum member looks its value up).
_REFUSALS = {
    "not-a-date": "its until date {until} is not a date: name it as gonogo-waive-RULE-until-YYYY-MM-DD",
    "no-reason": "a waiver needs a justification in the waiver reason field",
    "blocker": (
        "a show-stopper cannot be waived here (set [waivers].allow_blockers in gonogo.toml to allow it)"
    ),
    "missing-information": "missing information cannot be waived: answer the question instead",
}


def refusal_text(refused: Refusal | None, waiver: Waiver) -> str | None:
    """The sentence for a refusal (a value, escaped like ticket text: it quotes the label's date)."""
    return None if refused is None else _REFUSALS[refused].format(until=waiver.bad_until)


def failed_title(finding: Finding) -> str:
    """A failed rule's title with the ticket's values it quotes, as people read them; empty for a
    finding that states no problem with values the ticket has."""
    if finding.quoted is None:
        return finding.rule.failed_title if finding.unconfirmed else ""
    return fill_values(finding.rule.failed_title, finding.quoted, lambda _name, value: display_value(value))


def question_text(missing: MissingInformation) -> str:
    return missing.question if missing.question is not None else f"What is the {missing.about} for this bid?"
