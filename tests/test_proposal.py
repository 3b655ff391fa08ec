"""Field mapping and normalisation: what checklists see for what Jira sends."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from gonogo.core.errors import ConfigurationError
from gonogo.core.pipeline.proposal import build_proposal, normalise
from gonogo.core.pipeline.ticket import Ticket
from gonogo.core.text import display_value
from gonogo.sources.resources import bundled_vocabulary

VOCABULARY = bundled_vocabulary()
THRESHOLDS = dict(VOCABULARY.thresholds)
TODAY = date(2026, 11, 23)


def proposal_for(fields: dict[str, Any], names: dict[str, str], field_map: dict[str, str]) -> Any:
    ticket = Ticket(key="BID-1", id="1", fields=fields, names=names)
    return build_proposal(
        ticket, field_map=field_map, vocabulary=VOCABULARY, thresholds=THRESHOLDS, today=TODAY
    )


@pytest.mark.parametrize(
    ("prop", "raw", "expected"),
    [
        ("capability_fit", {"value": "Strong", "id": "1"}, "strong"),
        ("contract_type", {"value": "Time and Materials"}, "time-and-materials"),
        ("decision_maker", {"accountId": "x", "displayName": "Priya Raman"}, "Priya Raman"),
        ("deadline", "2027-01-08", "2027-01-08"),
        ("deadline", "2027-01-08T23:30:00.000+0100", "2027-01-08"),
        ("budget", "480000", 480000),
        ("budget", "480,000.50", 480000.5),
        ("budget", "€ 1 200 000", 1200000),
        ("budget", "EUR 1'200'000", 1200000),
        ("budget", "1 200 000.50", 1200000.5),
        ("win_probability", "35%", 35),
        ("competitors", 4.0, 4),
        ("budget", "", None),
        ("budget", None, None),
        ("competitors", [], None),
        ("summary", "  padded  ", "padded"),
    ],
)
def test_jira_values_are_normalised_for_the_property_type(prop: str, raw: Any, expected: Any) -> None:
    assert normalise(raw, VOCABULARY.properties[prop]) == expected


@pytest.mark.parametrize(
    ("prop", "raw", "message"),
    [
        ("budget", "lots", "expected a number"),
        ("budget", "[~admin] 100 {quote}q{quote}", "expected a number"),
        ("budget", "about 100", "expected a number"),
        ("budget", "480k", "expected a number"),
        ("budget", "100 200 3", "not a number gonogo can read unambiguously"),
        ("budget", "12 5", "not a number gonogo can read unambiguously"),
        ("budget", "1,200 000", "not a number gonogo can read unambiguously"),
        ("budget", 10**400, "expected a number"),
        ("budget", -5, "is below the smallest possible value, 0"),
        ("effort_days", 0, "must be more than 0"),
        ("win_probability", 500, "is above the largest possible value, 100"),
        ("budget", "12,5", "not a number gonogo can read unambiguously"),
        ("budget", True, "expected a number"),
        ("competitors", 2.5, "expected a whole number"),
        ("deadline", "next Friday", "expected a date"),
        ("capability_fit", {"value": "Maybe"}, "is not one of: none, partial, strong"),
        ("budget", {"nested": {"deep": 1}}, "expected a plain value"),
    ],
)
def test_unusable_values_are_refused_with_the_reason(prop: str, raw: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise(raw, VOCABULARY.properties[prop])


def test_fields_map_by_id_or_case_insensitive_display_name() -> None:
    proposal = proposal_for(
        {"customfield_1": 100, "customfield_2": "2026-12-01"},
        {"customfield_1": "Contract Value", "customfield_2": "Submission deadline"},
        {"budget": "contract value", "deadline": "customfield_2"},
    )
    assert proposal.values["budget"] == 100
    assert proposal.values["deadline"] == "2026-12-01"
    assert proposal.sources["budget"].field_id == "customfield_1"
    assert proposal.sources["budget"].field_name == "Contract Value"


def test_an_unusable_value_is_left_out_and_its_problem_kept() -> None:
    proposal = proposal_for(
        {"customfield_1": "a lot"},
        {"customfield_1": "Contract value"},
        {"budget": "Contract value"},
    )
    assert "budget" not in proposal.values
    assert proposal.problems["budget"] == 'expected a number, found "a lot"'


def test_a_field_the_ticket_does_not_have_is_missing_not_an_unusable_value() -> None:
    proposal = proposal_for({}, {}, {"budget": "Contract value"})
    assert "budget" not in proposal.values
    assert "budget" not in proposal.problems  # the ticket holds no value gonogo failed to read
    assert proposal.sources["budget"].field_name == "Contract value"


@pytest.mark.parametrize("text", ["45 %", "45%", "45\u00a0%", " 45 "])
def test_a_percentage_typed_into_a_text_field_reads_as_its_number(text: str) -> None:
    proposal = proposal_for({"customfield_1": text}, {"customfield_1": "PWin"}, {"win_probability": "PWin"})
    assert proposal.values["win_probability"] == 45


def test_two_fields_with_one_display_name_is_a_configuration_error() -> None:
    with pytest.raises(
        ConfigurationError,
        match=r'2 Jira fields are named "Budget" \(customfield_1, customfield_2\)',
    ):
        proposal_for(
            {"customfield_1": 1, "customfield_2": 2},
            {"customfield_1": "Budget", "customfield_2": "budget"},
            {"budget": "Budget"},
        )


def test_derived_deadline_properties_count_from_the_injected_today() -> None:
    proposal = proposal_for(
        {"customfield_2": "2026-11-26", "customfield_3": 900},
        {"customfield_2": "Submission deadline", "customfield_3": "Effort"},
        {"deadline": "customfield_2", "effort_days": "customfield_3"},
    )
    assert proposal.values["days_to_deadline"] == 3
    assert proposal.values["bid_days_needed"] == 18  # 900 person-days at 2 days per 100
    assert proposal.values["deadline_slack_days"] == -15


def test_small_efforts_still_need_the_minimum_bid_time() -> None:
    proposal = proposal_for({"customfield_3": 10}, {}, {"effort_days": "customfield_3"})
    assert proposal.values["bid_days_needed"] == 5
    assert "days_to_deadline" not in proposal.values


def test_commercial_figures_are_derived_from_value_and_effort() -> None:
    proposal = proposal_for(
        {"customfield_1": 150000, "customfield_3": 220, "customfield_4": 4},
        {},
        {"budget": "customfield_1", "effort_days": "customfield_3", "delivery_months": "customfield_4"},
    )
    assert proposal.values["day_rate"] == pytest.approx(150000 / 220)
    assert proposal.values["margin_percent"] == 12.0  # 220 days at 600 cost 132,000 of 150,000
    assert proposal.values["team_size_needed"] == 2.75  # 220 days over 4 months of 20 days


def test_the_margin_a_rule_compares_is_exact_not_rounded() -> None:
    """635,000 against 900 days at 600 a day is a 14.96 % margin: under a 15 % floor, never 15."""
    proposal = proposal_for(
        {"customfield_1": 635_000, "customfield_3": 900},
        {},
        {"budget": "customfield_1", "effort_days": "customfield_3"},
    )
    assert proposal.values["margin_percent"] == pytest.approx(14.96, abs=0.005)
    assert proposal.values["margin_percent"] < 15


def test_no_margin_is_computed_for_a_zero_budget() -> None:
    proposal = proposal_for(
        {"customfield_1": 0, "customfield_3": 900},
        {},
        {"budget": "customfield_1", "effort_days": "customfield_3"},
    )
    assert "margin_percent" not in proposal.values
    assert proposal.values["day_rate"] == 0


def test_a_fraction_never_reads_as_the_whole_number_a_rule_compares_it_with() -> None:
    """A 14.996 % margin fails a 15 % floor; its title must not say "Margin 15%"."""
    assert display_value(14.9961) == "14.996"
    assert display_value(8.0004) == "8.0004"
    assert display_value(14.961904761904763) == "14.96"
    assert display_value(15.0) == "15"
    assert display_value(2.75) == "2.75"
    assert display_value(1234567.5) == "1,234,567.5"
