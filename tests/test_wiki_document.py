"""The wiki-markup comment, proved with Atlassian's parser: gonogo's structure only, and no escaping it
does not need.

Each hostile string of the corpus is placed as a value in every place the comment document puts
values (paragraphs, line starts, headings, list items, after strong words, in parentheses, next to
another value) and written by `to_wiki`, which prints it as it is when `is_inert` says it cannot
form markup and escapes it otherwise. Parsed by Atlassian's wiki-markup parser, each must hold
exactly the constructs the same document holds with a harmless word, and show the ticket's text.
Every example's wiki comment must parse into the structure of its document, nothing more.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from hostile_corpus import WIKI_STRINGS
from realdeps import require_real_or_skip
from support import EXAMPLES, TODAY, wiki_comment
from test_wikimarkup import fold
from wiki_oracle import Adf, live_constructs, oracle_unavailable_reason, plain_text, render_wiki_to_adf

from gonogo.flows.assessor import build_assessor
from gonogo.render.document import (
    BulletList,
    Document,
    Emoticon,
    Heading,
    Panel,
    Paragraph,
    Rule,
    ValueKind,
    Words,
    parse_document,
    seal,
    to_wiki,
)
from gonogo.render.wikimarkup import is_inert
from gonogo.sources.config import Settings
from gonogo.sources.tickets import load_ticket_file

HARMLESS = "word"
# The places a comment document puts values; <<v>> is the value.
CONTEXTS: dict[str, str] = {
    "paragraph": "Summary: <<v>>",
    "line start": "<<v>>",
    "line start, then the template's dot": "<<v>>. x",
    "second line": "Verdict: GO\n<<v>>",
    "list item": "* <<v>>: <<v>>",
    "list item start, then a heading": "* <<v>>\nh4. Next",
    "heading": "h5. <<v>>",
    "heading after an emoticon": "h4. (x) <<v>>",
    "after strong words": "*Why it matters:* <<v>>",
    "in parentheses": "* The rule (<<v>>: <<v>>)",
    "adjacent values": "<<v>><<v>>",
    "values in a list": "Checklists: <<v>> 1.0, <<v>> 2.0.",
    "paragraph after a list": "* first\n\n<<v>>",
    "panel heading": "::: verdict\nh3. gonogo verdict: <<v>>\n*Bid.* <<v>>\n:::\n----\n<<v>>",
    # a failed title sealed in parts, as `_sealed_failed_title` does: a run of adjacent values
    "failed title in parts": "h5. "
    + seal("No budget (value ", ValueKind.TEXT)
    + "<<v>>"
    + seal(", margin ", ValueKind.TEXT)
    + seal("-50", ValueKind.FIXED)
    + seal("%)", ValueKind.TEXT)
    + "\n* Line: "
    + seal("(", ValueKind.TEXT)
    + "<<v>>"
    + seal(")", ValueKind.TEXT),
}


def wiki_for(context: str, value: str) -> str:
    return to_wiki(parse_document(context.replace("<<v>>", seal(value, ValueKind.TEXT)), template="test"))


def cases(value: str) -> Iterator[tuple[str, str, str]]:
    for name, context in CONTEXTS.items():
        yield name, wiki_for(context, value), wiki_for(context, HARMLESS)


@pytest.fixture(scope="module")
def render_one() -> Callable[[str], Adf]:
    """Render every wiki text the module needs in one Node process, then look them up."""
    if reason := oracle_unavailable_reason():
        require_real_or_skip(reason)
    texts = {
        wiki
        for value in WIKI_STRINGS
        for _, hostile, baseline in cases(value)
        for wiki in (hostile, baseline)
    }
    texts.update(example_comments().values())
    ordered = sorted(texts)
    by_text = dict(zip(ordered, render_wiki_to_adf(ordered), strict=True))
    return by_text.__getitem__


def example_comments() -> dict[str, str]:
    assessor = build_assessor(Settings())
    today = date.fromisoformat(TODAY)
    return {
        path.stem: wiki_comment(assessor.renderer, assessor.assess(load_ticket_file(path), today=today))
        for path in sorted(EXAMPLES.glob("*.json"))
    }


def example_documents() -> dict[str, Document]:
    assessor = build_assessor(Settings())
    today = date.fromisoformat(TODAY)
    return {
        path.stem: assessor.renderer.comment_document(assessor.assess(load_ticket_file(path), today=today))
        for path in sorted(EXAMPLES.glob("*.json"))
    }


@pytest.mark.parametrize(
    "value", WIKI_STRINGS, ids=[f"{i:03d}:{ascii(v)[1:-1][:40]}" for i, v in enumerate(WIKI_STRINGS)]
)
def test_a_hostile_value_is_plain_text_wherever_the_document_puts_it(
    value: str, render_one: Callable[[str], Adf]
) -> None:
    problems = []
    for name, hostile, baseline in cases(value):
        document = render_one(hostile)
        found, allowed = Counter(live_constructs(document)), Counter(live_constructs(render_one(baseline)))
        if found - allowed or (allowed - found and value):  # an empty value may leave a line empty
            problems.append(
                f"[{name}] extra {dict(found - allowed)}, missing {dict(allowed - found)}: {hostile!r}"
            )
        if fold(value) not in fold(plain_text(document)):
            problems.append(f"[{name}] text not shown as written: {hostile!r}")
    assert not problems, "\n".join(problems)


def test_the_corpus_holds_values_printed_as_they_are_and_values_escaped() -> None:
    """Both paths of `to_wiki` are exercised by the corpus above."""
    inert = [value for value in WIKI_STRINGS if value and is_inert(value)]
    assert len(inert) >= 10
    assert len(WIKI_STRINGS) - len(inert) >= 200


def expected_constructs(document: Document) -> Counter[str]:
    """The ADF constructs the document's own structure makes in wiki markup (no panel there)."""
    found: Counter[str] = Counter()

    def inline(content: tuple[object, ...]) -> None:
        for item in content:
            if isinstance(item, Words) and item.strong:
                found["mark:strong"] += 1
            elif isinstance(item, Emoticon):
                found["emoji"] += 1

    def blocks(items: tuple[object, ...]) -> None:
        for block in items:
            if isinstance(block, Heading):
                found["heading"] += 1
                inline(block.content)
            elif isinstance(block, Paragraph):
                found["hardBreak"] += len(block.lines) - 1  # between its lines
                for line in block.lines:
                    inline(line)
            elif isinstance(block, BulletList):
                found["bulletList"] += 1
                found["listItem"] += len(block.items)
                for item in block.items:
                    inline(item)
            elif isinstance(block, Rule):
                found["rule"] += 1
            elif isinstance(block, Panel):
                blocks(block.blocks)

    blocks(document)
    return found


def test_every_example_wiki_comment_parses_into_its_document_structure(
    render_one: Callable[[str], Adf],
) -> None:
    comments = example_comments()
    documents = example_documents()
    for name, wiki in comments.items():
        assert Counter(live_constructs(render_one(wiki))) == expected_constructs(documents[name]), name
