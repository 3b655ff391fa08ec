"""A hostile ticket cannot make anything live in the posted comment (Atlassian's parser decides).

The ticket's summary, description, field names and values carry mentions, links, bare URLs,
images, macros, headings, tables and HTML. A team checklist quotes summary and description as
evidence, and unusable values are quoted as problems, so all of it reaches the comment. The
comment Jira stored is then parsed by Atlassian's wiki-markup parser and must contain exactly
the constructs of the same comment made from harmless text.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from hostile_corpus import TICKET_TEXT
from jiraserver import JiraServer, running_server
from realdeps import require_real_or_skip
from support import TODAY, Gonogo
from tickets import field_id, issue
from wiki_oracle import live_constructs, oracle_unavailable_reason, plain_text, render_wiki_to_adf

from gonogo.render.wikimarkup import LOOKALIKES, WORD_JOINER

BENIGN = {key: "ordinary text " * (1 + len(value) // 15) for key, value in TICKET_TEXT.items()}

SCOPE_CHECKLIST = {
    "id": "scope",
    "title": "Scope is written down",
    "version": "1.0",
    "description": "A team checklist that quotes the ticket's own words as evidence.",
    "rules": [
        {
            "id": "scope-described",
            "title": "The scope is described precisely",
            "failed_title": "The scope is vague: {description}",
            "failed_label": "The scope is vague",
            "severity": "major",
            "condition": {
                "required": ["summary", "description"],
                "properties": {"description": {"pattern": "^Scope:"}},
            },
            "why": "A vague scope cannot be priced, so the bid would carry unpriced risk.",
            "fix": "Write the scope as a list of deliverables, starting with 'Scope:'.",
        }
    ],
}


@pytest.fixture
def oracle() -> None:
    reason = oracle_unavailable_reason()
    if reason:
        require_real_or_skip(reason)


@pytest.fixture
def team_config(tmp_path: Path) -> Path:
    folder = tmp_path / "team-checklists"
    folder.mkdir()
    (folder / "scope.json").write_text(json.dumps(SCOPE_CHECKLIST))
    props = [
        "budget",
        "deadline",
        "decision_maker",
        "win_probability",
        "effort_days",
        "competitors",
        "contract_type",
        "capability_fit",
    ]
    lines = ["[checklists]", 'paths = ["team-checklists"]', "[fields]"]
    # by field id: the hostile ticket renames the budget's field
    names = issue("healthy")["names"]
    lines += [f'{prop} = "{field_id(names, prop)}"' for prop in props]
    (tmp_path / "gonogo.toml").write_text("\n".join(lines) + "\n")
    return tmp_path


def posted_comment(gonogo: Gonogo, server: JiraServer, key: str, texts: dict[str, str]) -> str:
    data = issue(
        "healthy",
        summary=texts["summary"],
        description=texts["description"],
        budget=texts["budget"],
        capability_fit={"value": texts["capability"], "id": "1"},
    )
    fields = {k: v for k, v in data["fields"].items() if k != "comment"}
    names = {**data["names"], field_id(data["names"], "budget"): texts["label"]}
    server.add_issue(key, fields, names=names)
    email, token = server.basic_auth
    env = {"JIRA_URL": server.url, "JIRA_USER": email, "JIRA_API_TOKEN": token}
    run = gonogo("check", key, "--today", TODAY, env=env)
    assert run.exit_code == 11, run.stderr  # the unusable values leave must-know information missing
    (comment,) = server.comments(key)
    return str(comment["body"])


@pytest.mark.usefixtures("oracle", "team_config")
def test_hostile_ticket_text_is_inert_in_the_posted_comment(gonogo: Gonogo) -> None:
    with running_server() as server:
        hostile = posted_comment(gonogo, server, "BID-66", TICKET_TEXT)
        benign = posted_comment(gonogo, server, "BID-67", BENIGN)
    hostile_adf, benign_adf = render_wiki_to_adf([hostile, benign])

    constructs = Counter(live_constructs(hostile_adf))
    assert constructs == Counter(live_constructs(benign_adf))
    for dangerous in (
        "mention",
        "mediaSingle",
        "media",
        "inlineCard",
        "mark:link",
        "codeBlock",
        "panel",
        "table",
    ):
        assert constructs[dangerous] == 0, dangerous

    seen = plain_text(hostile_adf).replace(WORD_JOINER, "")
    for original, lookalike in LOOKALIKES.items():  # the documented stand-ins for unescapable characters
        seen = seen.replace(lookalike, original)
    for fragment in (
        "[~accountid:5b10ac8d82e05b22cc7d4ef5]",
        "{code}rm -rf /{code}",
        "{panel:title=Pwned}",
        "h1. Heading",
        "[click|https",
        "<script>alert(1)</script>",
        "{quote}q{quote}",
    ):
        assert fragment in seen, fragment


def test_bundled_wiki_templates_never_wrap_a_value_in_a_text_effect() -> None:
    """Jira strips escapes inside *bold*, _italic_ and friends, so values must stay outside them."""
    templates = Path(__file__).resolve().parent.parent / "templates"
    for template in templates.glob("*.jira.j2"):
        for number, line in enumerate(template.read_text().splitlines(), start=1):
            code = re.sub(r"\{#.*?#\}", "", line)
            for value in re.finditer(r"\{\{", code):
                before = code[: value.start()]
                for marker in "*_+^~":
                    m = re.escape(marker)
                    opened = len(re.findall(rf"(?:^|[\s(]){m}(?=\S)", before))
                    closed = len(re.findall(rf"(?<=\S){m}(?=$|[\s.,:;)])", before))
                    assert opened <= closed, (
                        f"{template.name}:{number}: value inside {marker}: {line.strip()}"
                    )
