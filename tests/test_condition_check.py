"""A rule's condition is held to the draft 2020-12 meta-schema; common keywords take a cheaper path.

`check_condition` first tries COMMON_CONDITIONS, the meta-schema's rules for the keywords checklists
use; these tests hold it to never accepting what the meta-schema refuses, and to giving the
meta-schema's own message for whatever it refuses.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from gonogo.core.pipeline.rules import COMMON_CONDITIONS, check_condition

TYPES = ("array", "boolean", "integer", "null", "number", "object", "string", "strnig")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.sampled_from(TYPES),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(TYPES), inner, max_size=3),
    max_leaves=8,
)
NAMES = st.sampled_from(("budget", "effort_days", "liability"))


def _keywords(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A condition of the common keywords, each value mostly as the meta-schema wants it, now and
    then any JSON value, now and then beside a keyword outside the common ones."""
    numbers = st.integers() | st.floats(allow_nan=False)
    shaped = {
        "required": st.lists(NAMES, max_size=3),
        "properties": st.dictionaries(NAMES, inner, max_size=2),
        "const": json_values,
        "enum": st.lists(json_values, max_size=3),
        "type": st.sampled_from(TYPES) | st.lists(st.sampled_from(TYPES), max_size=3),
        **dict.fromkeys(("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"), numbers),
        **dict.fromkeys(("not", "if", "then", "else"), inner),
        **dict.fromkeys(("anyOf", "allOf", "oneOf"), st.lists(inner, max_size=3)),
        "pattern": st.sampled_from(("^a", "[")),
        "minLength": numbers,
    }
    values = {key: value | value | value | value | json_values for key, value in shaped.items()}
    keys = st.lists(st.sampled_from(list(values)), max_size=3, unique=True)
    return keys.flatmap(lambda chosen: st.fixed_dictionaries({key: values[key] for key in chosen}))


conditions: st.SearchStrategy[Any] = st.deferred(
    lambda: st.booleans() | _keywords(conditions) | _keywords(conditions)
)
INVALID = [
    {"required": "budget"},
    {"required": ["budget", "budget"]},
    {"properties": {"budget": {"minimum": "5"}}},
    {"properties": {"budget": 5}},
    {"anyOf": []},
    {"type": "strnig"},
    {"if": {"properties": {"contract_type": {"const": "fixed"}}}, "then": {"maximum": None}},
    {"enum": "go"},
]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(condition=conditions)
def test_the_common_keywords_never_accept_a_condition_the_meta_schema_refuses(condition: Any) -> None:
    if COMMON_CONDITIONS.is_valid(condition):
        Draft202012Validator.check_schema(condition)


@pytest.mark.parametrize("condition", INVALID, ids=range(len(INVALID)))
def test_a_refused_condition_gets_the_meta_schemas_own_message(condition: Any) -> None:
    with pytest.raises(jsonschema.SchemaError) as expected:
        Draft202012Validator.check_schema(condition)
    with pytest.raises(jsonschema.SchemaError) as found:
        check_condition(condition)
    assert found.value.message == expected.value.message


def test_conditions_as_checklists_write_them_take_the_common_path() -> None:
    written = {
        "required": ["contract_type", "effort_days"],
        "if": {"anyOf": [{"properties": {"contract_type": {"const": "fixed-price"}}}, {"type": "object"}]},
        "then": {"properties": {"effort_days": {"maximum": 2000, "exclusiveMinimum": 0}}},
        "not": {"properties": {"liability": {"enum": ["Unlimited"]}}},
    }
    assert COMMON_CONDITIONS.is_valid(written)
    check_condition(written)
