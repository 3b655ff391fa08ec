"""Hostile input, generated: whatever a ticket holds, gonogo gives a verdict or a clear error.

Invariants checked on generated tickets (unicode, huge strings, nested objects where scalars are
expected, nulls, wrong types, markup):
- the assessment produces one of the four verdicts and every rendering succeeds;
- the JSON document keeps its published shape;
- jsonschema and jsonschema-rs reach identical findings;
- a ticket file never crashes the CLI (a verdict, or exit 4 with one line);
- ticket text never makes anything live in the comment (Atlassian's parser decides).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from hostile_corpus import field_values, hostile_text, json_values, markup_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jiraserver.adf_schema import adf_errors, adf_schema_unavailable_reason
from realdeps import require_real_or_skip
from support import EXAMPLES, TODAY, adf_comment, wiki_comment
from wiki_oracle import live_constructs, oracle_unavailable_reason, render_wiki_to_adf

from gonogo.cli import main
from gonogo.core.pipeline.ticket import Ticket
from gonogo.core.pipeline.verdict import Verdict
from gonogo.flows.assessor import Assessor, build_assessor
from gonogo.render.check_json import report_document
from gonogo.render.document import compact_json
from gonogo.render.formats import CheckOutput
from gonogo.render.renderer import COMMENT_CHAR_LIMIT
from gonogo.sources.config import Secret, Settings
from gonogo.sources.resources import bundled_vocabulary, schema_path
from gonogo.webhook.classify import CheckTicket, Filters, Ignore, Malformed, classify
from gonogo.webhook.settings import WebhookSettings
from gonogo.webhook.verify import authentic

REPORT_SCHEMA = json.loads(schema_path("report.schema.json").read_text())
HEALTHY = json.loads((EXAMPLES / "healthy.json").read_text())
CUSTOM_FIELDS = sorted(k for k in HEALTHY["fields"] if k.startswith("customfield_"))
ENGINES = {
    name: build_assessor(Settings(condition_validator=name)) for name in ("jsonschema", "jsonschema-rs")
}
# Hostile input is large on purpose: hypothesis's size health checks would only make the suite flaky.
LARGE = [HealthCheck.too_slow, HealthCheck.data_too_large]
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=LARGE)


def ticket_with(fields: dict[str, Any], names: dict[str, str] | None = None) -> Ticket:
    merged = {**HEALTHY["fields"], **fields}
    return Ticket(key="BID-1", id="1", fields=merged, names={**HEALTHY["names"], **(names or {})})


@SETTINGS
@given(
    values=st.dictionaries(st.sampled_from(CUSTOM_FIELDS), field_values, max_size=6),
    summary=json_values,
    labels=json_values,
    field_name=hostile_text,
)
def test_any_field_values_give_a_verdict_and_safe_renderings(
    values: dict[str, Any], summary: Any, labels: Any, field_name: str
) -> None:
    ticket = ticket_with({**values, "summary": summary, "labels": labels}, {"customfield_10101": field_name})
    today = date.fromisoformat(TODAY)
    findings = {}
    for name, assessor in ENGINES.items():
        assessment = assessor.assess(ticket, today=today)
        assert assessment.verdict in set(Verdict)
        findings[name] = [(f.checklist, f.rule.id, f.outcome) for f in assessment.findings]
    assert findings["jsonschema"] == findings["jsonschema-rs"]
    assessor = ENGINES["jsonschema"]
    comment = wiki_comment(assessor.renderer, assessment)
    assert len(comment) <= COMMENT_CHAR_LIMIT
    adf = adf_comment(assessor.renderer, assessment)
    assert len(compact_json(adf)) <= COMMENT_CHAR_LIMIT
    if adf_schema_unavailable_reason() is None:
        assert adf_errors(adf) == []
    report = assessor.renderer.text_report(assessment, color=False)
    assert "\x1b" not in report
    assert "\u202e" not in report
    output = CheckOutput(assessment, publication=None, comment=None, jira_round_trips=None)
    document = report_document(output, summary=assessor.renderer.headline(assessment))
    jsonschema.validate(json.loads(json.dumps(document)), REPORT_SCHEMA)


@settings(max_examples=100, deadline=None)
@given(content=st.one_of(st.text(max_size=200), json_values.map(json.dumps)))
def test_a_ticket_file_never_crashes_the_cli(tmp_path_factory: pytest.TempPathFactory, content: str) -> None:
    path = tmp_path_factory.mktemp("t") / "ticket.json"
    path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(path), "--today", TODAY], catch_exceptions=False)
    assert result.exit_code in (0, 4, 10, 11, 12)
    if result.exit_code == 4:
        assert result.stderr.startswith("gonogo: error: ")
        assert result.stderr.count("\n") == 1


@settings(max_examples=80, deadline=None, suppress_health_check=LARGE)
@given(ticket=json_values.map(lambda fields: {"key": "BID-9", "fields": fields}))
def test_any_fields_object_shape_is_a_verdict_or_a_clear_error(
    tmp_path_factory: pytest.TempPathFactory, ticket: Any
) -> None:
    path = tmp_path_factory.mktemp("t") / "ticket.json"
    path.write_text(json.dumps(ticket), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["check", str(path), "--today", TODAY, "--format", "json"], catch_exceptions=False
    )
    assert result.exit_code in (4, 10, 11, 12, 0)
    if result.exit_code != 4:
        jsonschema.validate(json.loads(result.stdout), REPORT_SCHEMA)


SCOPE = {
    "id": "scope",
    "title": "Scope",
    "version": "1",
    "description": "Quotes the summary as evidence.",
    "rules": [
        {
            "id": "quoted",
            "title": "Summary is quoted",
            "failed_title": "Summary {summary} is not the expected one",
            "failed_label": "The summary is not the expected one",
            "severity": "major",
            "condition": {"required": ["summary"], "properties": {"summary": {"const": "never"}}},
            "why": "The summary is shown here to test escaping.",
            "fix": "Nothing to fix; this is a test rule.",
        }
    ],
}


@pytest.fixture(scope="module")
def quoting_engine(tmp_path_factory: pytest.TempPathFactory) -> Assessor:
    folder = tmp_path_factory.mktemp("scope")
    (folder / "scope.json").write_text(json.dumps(SCOPE))
    return build_assessor(Settings(checklist_paths=(Path(folder),)))


@settings(max_examples=6, deadline=None, suppress_health_check=[*LARGE, HealthCheck.function_scoped_fixture])
# A text that only says "not known yet" ("?", "--") is a placeholder: the comment rightly asks
# about it instead of quoting it, so the plain words it is compared with would read differently.
@given(
    texts=st.lists(
        markup_text.filter(lambda t: t.strip() and not bundled_vocabulary().placeholder(t)),
        min_size=25,
        max_size=25,
    )
)
def test_generated_ticket_text_is_never_live_in_the_comment(
    quoting_engine: Assessor, texts: list[str]
) -> None:
    if reason := oracle_unavailable_reason():
        require_real_or_skip(reason)
    today = date.fromisoformat(TODAY)
    comments = []
    for text in texts:
        for shown in (text, "plain words"):
            ticket = ticket_with({"summary": shown, "customfield_10109": shown}, {"customfield_10101": shown})
            comments.append(wiki_comment(quoting_engine.renderer, quoting_engine.assess(ticket, today=today)))
    documents = render_wiki_to_adf(comments)
    for index in range(0, len(documents), 2):
        hostile, benign = documents[index], documents[index + 1]
        assert Counter(live_constructs(hostile)) == Counter(live_constructs(benign)), texts[index // 2]


# --- webhook bodies ----------------------------------------------------------------------------

SAMPLE_EVENT = {
    "webhookEvent": "jira:issue_created",
    "user": {"accountId": "5b10ac8d82e05b22cc7d4ef5"},
    "issue": {
        "id": "20042",
        "key": "BID-42",
        "fields": {"project": {"key": "BID"}, "issuetype": {"name": "Proposal"}},
    },
}
webhook_bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {},
        optional={
            "webhookEvent": json_values | st.sampled_from(["jira:issue_created", "jira:issue_updated"]),
            "issue": json_values
            | st.fixed_dictionaries(
                {}, optional={"id": json_values, "key": json_values, "fields": json_values}
            ),
            "user": json_values,
            "changelog": json_values,
            "issueKey": json_values,
            "issueId": json_values,
        },
    ).map(lambda value: json.dumps(value).encode()),
)


@settings(max_examples=200, deadline=None, suppress_health_check=LARGE)
@given(body=webhook_bodies, signature=st.one_of(st.none(), hostile_text))
def test_any_webhook_body_is_classified_never_crashes(body: bytes, signature: str | None) -> None:
    headers = {"x-hub-signature": signature} if signature is not None else {}
    # no forged signature passes
    assert not authentic(body, headers, WebhookSettings(secret=Secret("s3cret")))
    decision = classify(body, filters=Filters(projects=frozenset({"BID"})), watched_fields=["Contract value"])
    assert isinstance(decision, CheckTicket | Ignore | Malformed)
    if isinstance(decision, CheckTicket):
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*-[1-9][0-9]*", decision.key)  # only a plain key goes further


def test_the_sample_event_is_a_check() -> None:
    decision = classify(json.dumps(SAMPLE_EVENT).encode(), filters=Filters(projects=frozenset({"BID"})))
    assert decision == CheckTicket(key="BID-42", issue_id="20042", event="jira:issue_created")
