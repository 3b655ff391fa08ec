"""`[values.PROPERTY]`: a site's own option text stands for a vocabulary value."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from support import EXAMPLES, TODAY, Gonogo

from gonogo.core.errors import ConfigurationError
from gonogo.core.pipeline.proposal import build_proposal
from gonogo.core.pipeline.ticket import Ticket
from gonogo.core.text import display_value
from gonogo.core.vocabulary import parse_option_aliases
from gonogo.sources.resources import bundled_vocabulary

VOCABULARY = bundled_vocabulary()
THRESHOLDS = dict(VOCABULARY.thresholds)


def capability_of(text: str, table: dict[str, dict[str, str]]) -> tuple[object, object, object]:
    ticket = Ticket(
        key="BID-1", id="1", fields={"customfield_1": {"value": text}}, names={"customfield_1": "Fit"}
    )
    proposal = build_proposal(
        ticket,
        field_map={"capability_fit": "Fit"},
        vocabulary=VOCABULARY,
        thresholds=THRESHOLDS,
        today=date(2026, 11, 23),
        option_aliases=parse_option_aliases(table, VOCABULARY),
    )
    return (
        proposal.values.get("capability_fit"),
        proposal.problems.get("capability_fit"),
        proposal.evidence_value("capability_fit"),
    )


def test_an_alias_maps_the_site_text_case_insensitively_and_evidence_quotes_both() -> None:
    value, problem, evidence = capability_of("  FULL ", {"capability_fit": {"Full": "strong"}})
    assert (value, problem) == ("strong", None)
    assert type(value) is str  # rules see a plain string
    assert display_value(evidence) == "FULL"  # the site's words: "strong" is not one of its options
    assert json.dumps(evidence) == '"strong"'


def test_without_an_alias_the_site_text_is_refused_with_the_fix() -> None:
    value, problem, _ = capability_of("Full", {})
    assert value is None
    assert problem == '"Full" is not one of: none, partial, strong (or name it in [values.capability_fit])'


def test_an_option_named_like_a_value_still_matches_beside_aliases() -> None:
    assert capability_of("Partial", {"capability_fit": {"Full": "strong"}})[0] == "partial"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"capability_fit": {"Full": "complete"}},
            '[values.capability_fit]: "Full" = "complete", but capability_fit has no value "complete": '
            "use one of none, partial, strong",
        ),
        ({"budget": {"Big": "1"}}, "[values.budget]: budget is not a property with fixed options"),
        (
            {"capability_fit": {"Full": "strong", "FULL": "partial"}},
            '[values.capability_fit]: "FULL" is given twice',
        ),
    ],
)
def test_a_bad_alias_is_a_configuration_error_naming_the_allowed_values(
    table: dict[str, dict[str, str]], message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_option_aliases(table, VOCABULARY)
    assert str(caught.value).startswith(message)


def test_check_with_aliases_gives_the_verdict_of_the_vocabulary_text(gonogo: Gonogo, tmp_path: Path) -> None:
    data = json.loads((EXAMPLES / "healthy.json").read_text())
    fit_id = next(fid for fid, name in data["names"].items() if name == "Capability fit")
    data["fields"][fit_id] = {"value": "Full"}
    ticket = tmp_path / "ticket.json"
    ticket.write_text(json.dumps(data))
    without = gonogo("check", str(ticket), "--today", TODAY)
    assert without.exit_code == 11
    (tmp_path / "gonogo.toml").write_text('[values.capability_fit]\n"full" = "strong"\n')
    run = gonogo("check", str(ticket), "--today", TODAY)
    assert run.exit_code == 0, run.stdout
    assert "Capability fit: Full" in run.stdout
    assert "strong" not in run.stdout
    (tmp_path / "gonogo.toml").write_text('[values.capability_fit]\n"Full" = "complete"\n')
    bad = gonogo("check", str(ticket), "--today", TODAY)
    assert bad.exit_code == 3
    assert bad.stderr.strip().endswith("use one of none, partial, strong")
