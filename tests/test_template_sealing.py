"""A team's templates are sealed: ticket text stays text through every filter, and the template
cannot reach outside the sandbox.

Review 2, finding 4: every filter a team's comment template may use keeps ticket text sealed.

A template that writes `{{ value|escaped }}` (the bundled ones write `{{ w.evidence(e)|escaped }}`
for a macro's output) or `{{ value|plural("x") }}` must not let a value become a mention, a link,
an image, a heading or a list item, in wiki markup (checked with Atlassian's parser) or in ADF
(checked with Atlassian's schema and by walking the text nodes).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hostile_corpus import LINE_STARTERS, TEMPLATE_ESCAPES
from jiraserver.adf_schema import adf_errors, adf_schema_unavailable_reason
from realdeps import require_real_or_skip
from support import EXAMPLES, TODAY, adf_comment, wiki_comment
from test_check_adf import walk
from test_wikimarkup import fold
from wiki_oracle import live_constructs, oracle_unavailable_reason, plain_text, render_wiki_to_adf

from gonogo.core.errors import ConfigurationError
from gonogo.core.pipeline.findings import Assessment
from gonogo.flows.assessor import Assessor, build_assessor
from gonogo.sources.config import Settings
from gonogo.sources.tickets import load_ticket_file

TEAM_TEMPLATE = """h3. gonogo verdict: {{ verdict }}
Summary: {{ summary|escaped }}
{{ summary|escaped }}
* {{ summary|escaped }}
Open: {{ summary|plural("question") }}.
"""
HARMLESS = "word"


def team_engine(tmp_path: Path, template: str = TEAM_TEMPLATE, name: str = "comment.jira.j2") -> Assessor:
    """An assessor whose team folder overrides the bundled template `name` with `template`."""
    folder = tmp_path / "team-templates"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(template)
    return build_assessor(Settings(template_dir=folder))


def assess(engine: Assessor, summary: str | None = None) -> Assessment:
    ticket = load_ticket_file(EXAMPLES / "healthy.json")
    if summary is not None:
        ticket = replace(ticket, fields={**ticket.fields, "summary": summary})
    return engine.assess(ticket, today=date.fromisoformat(TODAY))


@pytest.fixture(scope="module")
def wiki_oracle() -> Callable[[list[str]], list[Any]]:
    if reason := oracle_unavailable_reason():
        require_real_or_skip(reason)
    return render_wiki_to_adf


def test_escaped_and_plural_keep_a_value_plain_text_in_wiki_markup(
    tmp_path: Path, wiki_oracle: Callable[[list[str]], list[Any]]
) -> None:
    engine = team_engine(tmp_path)
    baseline_wiki = wiki_comment(engine.renderer, assess(engine, HARMLESS))
    hostile_wiki = [wiki_comment(engine.renderer, assess(engine, value)) for value in LINE_STARTERS]
    baseline, *parsed = wiki_oracle([baseline_wiki, *hostile_wiki])
    allowed = Counter(live_constructs(baseline))
    for value, wiki, document in zip(LINE_STARTERS, hostile_wiki, parsed, strict=True):
        assert Counter(live_constructs(document)) == allowed, (value, wiki)
        assert fold(plain_text(document)).count(fold(value.strip())) >= 3, (value, wiki)


def test_escaped_and_plural_keep_a_value_in_adf_text_nodes_without_marks(tmp_path: Path) -> None:
    if reason := adf_schema_unavailable_reason():
        require_real_or_skip(reason)
    engine = team_engine(tmp_path)
    shape = [node["type"] for node in walk(adf_comment(engine.renderer, assess(engine, HARMLESS)))]
    for value in LINE_STARTERS:
        adf = adf_comment(engine.renderer, assess(engine, value))
        assert adf_errors(adf) == []
        nodes = list(walk(adf))
        assert [node["type"] for node in nodes] == shape, value
        holding = [node for node in nodes if node["type"] == "text" and value.strip() in node["text"]]
        assert len(holding) >= 3, value
        assert all("marks" not in node for node in holding), value
        assert value not in json.dumps(
            [{k: v for k, v in n.items() if k not in ("text", "content")} for n in nodes]
        )


@pytest.mark.parametrize(
    "use", ["{{ summary|wrap(20) }}", "{{ summary|style(false) }}", "{{ summary|toml }}"]
)
def test_terminal_and_toml_filters_are_refused_in_a_comment_template(tmp_path: Path, use: str) -> None:
    engine = team_engine(tmp_path, f"h3. gonogo verdict: {{{{ verdict }}}}\n{use}\n")
    with pytest.raises(ConfigurationError, match=r"comment\.jira\.j2"):
        wiki_comment(engine.renderer, assess(engine, HARMLESS))


# --- a team template cannot leave the sandbox (issue 23's hostile run) ----------------------


@pytest.mark.parametrize("escape", TEMPLATE_ESCAPES)
def test_an_escape_from_a_team_comment_template_is_a_configuration_error_and_never_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, escape: str
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = team_engine(tmp_path, f"h3. gonogo verdict: {{{{ verdict }}}}\n{escape}\n")
    with pytest.raises(ConfigurationError, match=r"comment\.jira\.j2:2: "):
        wiki_comment(engine.renderer, assess(engine))
    assert not (tmp_path / "PWNED").exists()


def test_the_terminal_and_html_templates_are_sandboxed_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = team_engine(tmp_path, "line one\n" + TEMPLATE_ESCAPES[0] + "\n", name="headline.txt.j2")
    with pytest.raises(ConfigurationError, match=r"headline\.txt\.j2:2: "):
        engine.renderer.headline(assess(engine))
    engine = team_engine(tmp_path, "<p>\n" + TEMPLATE_ESCAPES[1] + "\n", name="page.html.j2")
    with pytest.raises(ConfigurationError, match=r"page\.html\.j2:2: "):
        engine.renderer.html_page("page.html.j2")
    assert not (tmp_path / "PWNED").exists()


def test_the_filters_and_globals_gonogo_offers_still_work_in_a_team_template(tmp_path: Path) -> None:
    template = (
        "h3. gonogo verdict: {{ verdict }}\n"
        "{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}{% endfor %}"
        "{{ ns.n }} {{ summary|upper|truncate(40) }} {{ blockers|length|plural('blocker') }}\n"
    )
    engine = team_engine(tmp_path, template)
    assert "3 HEALTHY" in wiki_comment(engine.renderer, assess(engine, "healthy bid"))
