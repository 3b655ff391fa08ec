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
from jiraserver import JiraServer, running_server
from realdeps import require_real_or_skip
from support import EXAMPLES, TODAY, Gonogo
from wiki_oracle import live_constructs, oracle_unavailable_reason, plain_text, render_wiki_to_adf

from gonogo.render.wikimarkup import LOOKALIKES, WORD_JOINER

HOSTILE = {
    "summary": (
        "[~accountid:5b10ac8d82e05b22cc7d4ef5] http://evil.example/a !http://evil.example/i.png! <b>x</b>"
    ),
    "description": (
        "{code}rm -rf /{code}\n{panel:title=Pwned}owned{panel}\nh1. Heading\n"
        "[click|https://evil.example] {color:red}red{color} ||a||b|| * bold * \\\\[~admin] "
        "<script>alert(1)</script> &#64;here {noformat}x{noformat} ---- :) (/) www.evil.example"
    ),
    "budget": "[~admin] 100 {quote}q{quote}",
    "capability": "!image.png|thumbnail! [x|mailto:a@evil.example]",
    "label": "Contract value h1. [~accountid:123] http://evil.example",
}
BENIGN = {key: "ordinary text " * (1 + len(value) // 15) for key, value in HOSTILE.items()}

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
    ids = [
        "customfield_10101",
        "customfield_10102",
        "customfield_10103",
        "customfield_10104",
        "customfield_10105",
        "customfield_10106",
        "customfield_10107",
        "customfield_10108",
    ]
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
    lines += [f'{prop} = "{field_id}"' for prop, field_id in zip(props, ids, strict=True)]
    (tmp_path / "gonogo.toml").write_text("\n".join(lines) + "\n")
    return tmp_path


def posted_comment(gonogo: Gonogo, server: JiraServer, key: str, texts: dict[str, str]) -> str:
    data = json.loads((EXAMPLES / "healthy.json").read_text())
    fields = {k: v for k, v in data["fields"].items() if k != "comment"}
    fields["summary"] = texts["summary"]
    fields["description"] = texts["description"]
    fields["customfield_10101"] = texts["budget"]
    fields["customfield_10108"] = {"value": texts["capability"], "id": "1"}
    names = {**data["names"], "customfield_10101": texts["label"]}
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
        hostile = posted_comment(gonogo, server, "BID-66", HOSTILE)
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
