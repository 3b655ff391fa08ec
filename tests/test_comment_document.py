"""One template, two formats: the comment document, its ADF and its wiki markup, on plain data.

The structure comes from the template's own text only; a value is sealed before it is read, so
nothing a ticket says can become a heading, a list, a mark or an emoticon. Every example's ADF
comment is valid against Atlassian's published ADF schema and holds no invisible character, and
its verdict, score, numbers and dates are plain text a search or a regular expression finds.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from jiraserver.adf_schema import adf_errors, adf_schema_unavailable_reason
from realdeps import require_real_or_skip
from support import EXAMPLES, TODAY, adf_comment, wiki_comment

from gonogo.core.errors import ConfigurationError
from gonogo.core.jira_shapes.comment_format import CommentFormat
from gonogo.core.pipeline.findings import Assessment
from gonogo.flows.assessor import Assessor, build_assessor
from gonogo.render.document import (
    BulletList,
    Emoticon,
    Heading,
    Panel,
    Paragraph,
    Rule,
    Value,
    ValueKind,
    Words,
    parse_document,
    seal,
    to_adf,
    to_wiki,
)
from gonogo.render.wikimarkup import escape_inline, is_inert
from gonogo.sources.config import JiraSettings, Settings
from gonogo.sources.tickets import load_ticket_file

NAMES = sorted(p.stem for p in EXAMPLES.glob("*.json"))
# Characters a reader cannot see: format characters (U+2060, U+200B, bidi controls...) and
# the invisible separators. None may appear in a comment gonogo writes from the examples.
INVISIBLE = re.compile(
    r"[\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]"
)


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return build_assessor(Settings())


def assess(assessor: Assessor, name: str) -> Assessment:
    return assessor.assess(load_ticket_file(EXAMPLES / f"{name}.json"), today=date.fromisoformat(TODAY))


def v(text: str) -> str:
    return seal(text, ValueKind.TEXT)


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for child in node.get("content", ()):
            yield from walk(child)


def adf_text(adf: dict[str, Any]) -> str:
    """The text of every text node, one block per line (what a search over the comment reads)."""
    lines: list[str] = []
    for node in walk(adf):
        if node["type"] in ("paragraph", "heading"):
            parts = [
                child.get("text", "\n" if child["type"] == "hardBreak" else "")
                for child in node.get("content", ())
            ]
            lines.append("".join(parts))
    return "\n".join(lines)


# --- the structure comes from the template's words only ------------------------------------------


def test_the_template_syntax_gives_headings_lists_rules_strong_emoticons_and_the_panel() -> None:
    rendered = (
        "::: verdict\nh3. gonogo verdict: " + v("NO-GO") + "\n*Do not bid.* Score " + v("28") + "\n:::\n"
        "h4. (x) Show-stoppers\n* first " + v("a") + "\n\n* second\n----\nline one\nline two\n"
    )
    document = parse_document(rendered, template="t.j2")
    assert document == (
        Panel(
            (
                Heading(3, (Words("gonogo verdict: "), Value("NO-GO"))),
                Paragraph(((Words("Do not bid.", strong=True), Words(" Score "), Value("28")),)),
            )
        ),
        Heading(4, (Emoticon("x"), Words(" Show-stoppers"))),
        BulletList(((Words("first "), Value("a")), (Words("second"),))),
        Rule(),
        Paragraph(((Words("line one"),), (Words("line two"),))),
    )


@pytest.mark.parametrize(
    "hostile",
    ["h1. Heading", "* item", "----", "::: verdict", ":::", "*bold*", "(x)", "\n* item\nh2. x", "\x00v\x00"],
)
def test_a_value_is_never_read_as_structure(hostile: str) -> None:
    document = parse_document(v(hostile) + "\n* " + v(hostile) + "\nh3. " + v(hostile) + "\n", template="t")
    assert document == (
        Paragraph(((Value(hostile),),)),
        BulletList(((Value(hostile),),)),
        Heading(3, (Value(hostile),)),
    )


@pytest.mark.parametrize(
    ("rendered", "problem"),
    [
        ("*Owner " + v("x") + "*\n", "t.j2:1: a {{ value }} inside *strong* text"),
        ("a\n*open\n", "t.j2:2: a *strong* text is not closed on its line"),
        ("::: verdict\nx\n", "t.j2: the verdict panel (::: verdict) is not closed"),
        ("::: warning\n", "t.j2:1: a panel opens with '::: verdict'"),
        ("::: verdict\n::: verdict\n", "t.j2:2: panels do not nest"),
    ],
)
def test_a_template_that_would_mark_a_value_or_break_the_structure_is_refused(
    rendered: str, problem: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        parse_document(rendered, template="t.j2")
    assert str(raised.value).startswith(problem)


# --- the two serialisations ---------------------------------------------------------------------


def test_adf_puts_values_in_text_nodes_without_marks_and_colours_the_panel_by_verdict() -> None:
    document = parse_document(
        "::: verdict\nh3. Verdict: " + v("[~admin] *x*") + "\n:::\n* (/) *Why:* " + v("a\nb") + "\n",
        template="t",
    )
    adf = to_adf(document, verdict="no-go")
    assert adf == {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "panel",
                "attrs": {"panelType": "error"},
                "content": [
                    {
                        "type": "heading",
                        "attrs": {"level": 3},
                        "content": [{"type": "text", "text": "Verdict: [~admin] *x*"}],
                    }
                ],
            },
            {
                "type": "bulletList",
                "content": [
                    {
                        "type": "listItem",
                        "content": [
                            {
                                "type": "paragraph",
                                "content": [
                                    {
                                        "type": "emoji",
                                        "attrs": {
                                            "shortName": ":check_mark:",
                                            "id": "atlassian-check_mark",
                                            "text": ":check_mark:",
                                        },
                                    },
                                    {"type": "text", "text": " "},
                                    {"type": "text", "text": "Why:", "marks": [{"type": "strong"}]},
                                    {"type": "text", "text": " a b"},
                                ],
                            }
                        ],
                    }
                ],
            },
        ],
    }
    assert {
        to_adf(document, verdict=verdict)["content"][0]["attrs"]["panelType"]
        for verdict in ("go", "go-with-conditions", "needs-info", "no-go")
    } == {"success", "warning", "info", "error"}


def test_wiki_prints_inert_and_fixed_values_as_they_are_and_escapes_the_rest() -> None:
    document = parse_document(
        "h3. Verdict: " + seal("NO-GO", ValueKind.FIXED) + "\n"
        "Spare: "
        + seal("-15", ValueKind.FIXED)
        + "; due "
        + v("2026-11-26")
        + "; owner "
        + v("[~admin]")
        + "\n",
        template="t",
    )
    wiki = to_wiki(document)
    assert wiki.startswith(
        "h3. Verdict: NO-GO\n\nSpare: -15; due 2026-11-26; owner " + escape_inline("[~admin]") + "\n"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Harbour Logistics",
        "NO-GO",
        "2026-11-26",
        "480,000",
        "Full (strong)",
        "Dana O'Neill",
        "Expected margin (%)",
        "Who decides, and can we talk to them?",
        "Below 30% we lose; pursuing it",
        "€ 1 200 000",
        "Zoë Müller-Łukasz",
    ],
)
def test_ordinary_values_are_inert(text: str) -> None:
    assert is_inert(text)


@pytest.mark.parametrize(
    "text",
    [
        "[~admin]",
        "http://x",
        "a:b",
        "ABC-123",
        "see ab-1",
        "-15",
        "a-",
        "x--y",
        "(y)",
        "y",
        " on ",
        "(x",
        "x)",
        "www.evil.example",
        "h1. x",
        "bq. x",
        "a*b",
        "a_b",
        "a+b",
        "a^b",
        "a~b",
        "a|b",
        "a!b",
        "a{b",
        "a\\b",
        "a@b",
        "a&b",
        "a#b",
        "a<b",
        "?x",
        "a??",
        "(?)",
        "a?)",
        "x;)",
        ":)",
        "a\u200bb",
        "a\u202eb",
        "a\nb",
        "a`b",
    ],
)
def test_values_that_could_form_markup_are_not_inert(text: str) -> None:
    assert not is_inert(text)


# --- where each site's format comes from --------------------------------------------------------


@pytest.mark.parametrize(
    ("deployment", "url", "api_version", "expected"),
    [
        ("auto", "https://acme.atlassian.net", None, CommentFormat.ADF),
        ("auto", "https://acme.jira.com", None, CommentFormat.ADF),
        ("auto", "https://jira.acme.example", None, CommentFormat.WIKI),
        ("auto", "http://127.0.0.1:8080", None, CommentFormat.WIKI),
        ("cloud", "https://jira.acme.example", None, CommentFormat.ADF),
        ("cloud", "https://acme.atlassian.net", 2, CommentFormat.WIKI),
        ("auto", "https://acme.atlassian.net", 2, CommentFormat.WIKI),
        ("auto", "https://jira.acme.example", 3, CommentFormat.ADF),
        ("data-center", "https://acme.atlassian.net", None, CommentFormat.WIKI),
    ],
)
def test_the_format_follows_the_deployment_and_api_version(
    deployment: str, url: str, api_version: int | None, expected: CommentFormat
) -> None:
    assert JiraSettings(url=url, deployment=deployment, api_version=api_version).comment_format is expected
    assert expected.api_version == (3 if expected is CommentFormat.ADF else 2)


# --- every example ------------------------------------------------------------------------------


@pytest.fixture
def adf_schema() -> None:
    if reason := adf_schema_unavailable_reason():
        require_real_or_skip(reason)


@pytest.mark.usefixtures("adf_schema")
@pytest.mark.parametrize("name", NAMES)
def test_every_example_adf_comment_is_valid_adf_with_no_invisible_character(
    assessor: Assessor, name: str
) -> None:
    assessment = assess(assessor, name)
    adf = adf_comment(assessor.renderer, assessment)
    assert adf_errors(adf) == []
    serialised = json.dumps(adf, ensure_ascii=False)
    assert INVISIBLE.findall(serialised) == []
    texts = [node["text"] for node in walk(adf) if node["type"] == "text"]
    assert [c for text in texts for c in text if unicodedata.category(c) in ("Cf", "Cc", "Zl", "Zp")] == []
    text = adf_text(adf)
    assert f"gonogo verdict: {assessment.verdict.label}\n" in text
    if assessment.score is not None and assessment.verdict.value in ("go", "go-with-conditions"):
        match = re.search(r"Bid score: (\d+)/100", text)
        assert match is not None
        assert int(match.group(1)) == assessment.score
    panel = adf["content"][0]
    assert panel["type"] == "panel"
    for node in walk(adf):
        if node["type"] == "text" and "marks" in node:
            assert node["marks"] == [{"type": "strong"}]


@pytest.mark.parametrize("name", NAMES)
def test_every_example_wiki_comment_has_no_invisible_character(assessor: Assessor, name: str) -> None:
    wiki = wiki_comment(assessor.renderer, assess(assessor, name))
    assert INVISIBLE.findall(wiki) == []
    assert "\\" not in wiki  # nothing in the examples needed escaping


def test_numbers_and_dates_in_the_stored_comment_parse_as_written(assessor: Assessor) -> None:
    assessment = assess(assessor, "doomed")
    text = adf_text(adf_comment(assessor.renderer, assessment))
    wiki = wiki_comment(assessor.renderer, assessment)
    for comment in (text, wiki):
        assert "Submission deadline: 2026-11-26;" in comment
        assert date.fromisoformat(re.findall(r"Submission deadline: ([^;\s]+);", comment)[0]) == date(
            2026, 11, 26
        )
        assert int(re.findall(r"; (\d+) days short\.", comment)[0]) == 15
        assert (
            int(re.findall(r"a Contract value of at least ([\d,]+);", comment)[0].replace(",", "")) == 636_000
        )
        assert re.search(r"^NO-GO: ", comment, re.MULTILINE)
    unprofitable = assess(assessor, "unprofitable")
    for comment in (
        adf_text(adf_comment(assessor.renderer, unprofitable)),
        wiki_comment(assessor.renderer, unprofitable),
    ):
        assert "The price does not cover delivery at the assumed 600 a person-day (margin -50%)" in comment
        assert float(re.findall(r"Expected margin \(%\): (\S+) ", comment)[0]) == -50


def test_the_document_is_the_same_for_both_formats(assessor: Assessor) -> None:
    """One wording: the wiki text and the ADF text nodes say the same words."""
    for name in NAMES:
        assessment = assess(assessor, name)
        wiki_words = re.sub(
            r"h\d\. |\* |\*|----|\(x\)|\(\?\)|\(!\)|\s+", " ", wiki_comment(assessor.renderer, assessment)
        )
        adf_words = re.sub(r"\s+", " ", adf_text(adf_comment(assessor.renderer, assessment)))
        assert " ".join(wiki_words.split()) == " ".join(adf_words.split()), name
