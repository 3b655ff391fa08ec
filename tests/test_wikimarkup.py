"""escape_inline must keep hostile ticket text inert in every place a template quotes it.

The proof is empirical: each hostile string from ``tests/markup/hostile.txt`` (plus a few
generated ones) is escaped, placed in realistic template contexts, and parsed by Atlassian's
own wiki-markup parser (``tests/wiki_oracle.py``). The resulting document must hold exactly
the constructs the context holds with a harmless word in its place, and must still show the
ticket's text. Pure unit tests of escape_inline's contract follow; they need no Node.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from hostile_corpus import WIKI_STRINGS, decode_corpus_line
from realdeps import require_real_or_skip
from wiki_oracle import (
    Adf,
    OracleUnavailableError,
    live_constructs,
    oracle_unavailable_reason,
    plain_text,
    render_wiki_to_adf,
)

from gonogo.render.wikimarkup import ELLIPSIS, LOOKALIKES, WORD_JOINER, escape_inline, shorten

# Where templates put escaped values: <<0>> is the value; a context with <<1>> takes two.
CONTEXTS: dict[str, str] = {
    "paragraph": "Summary: <<0>>",
    "line start": "<<0>>",
    "second line start": "Verdict: GO\n<<0>>",
    "list item": "* <<0>>",
    "nested list": "* first\n** <<0>>\n* last",
    "numbered list": "# <<0>>\n# second",
    "table cell": "|<<0>>|x|",
    "table header": "||<<0>>||x||",
    "table row, emoticon after": "|<<0>>|(!)|x|",
    "between bold": "*Label:* <<0>> *next*",
    "bold label no space": "*Owner:*<<0>>",
    "in parentheses": "Owner (<<0>>) approved",
    "heading": "h3. <<0>>",
    "quote line": "bq. <<0>>",
    "panel body": "{panel:title=Why}<<0>>{panel}",
    "quote macro body": "{quote}<<0>>{quote}",
    "color macro body": "{color:red}<<0>>{color}",
    "bold value": "*<<0>>*",
    "emphasis in a sentence": "Owner: _<<0>>_ (from the ticket)",
    "bold value in a cell": "|*<<0>>*|x|",
    "bold label in a list": "* *<<0>>:* yes",
    "monospace": "{{<<0>>}}",
    "citation": "??<<0>>??",
    "full template": (
        "h3. Verdict: *NO-GO*\n"
        "||Field||Value||\n"
        "|Summary|<<0>>|\n"
        "|Owner|<<0>> (!)|\n"
        "* <<0>> (x)\n"
        "{panel:title=Fix}Add the missing field.{panel}"
    ),
}
PAIR_CONTEXTS: dict[str, str] = {
    "two table cells": "|<<0>>|<<1>>|",
    "adjacent": "<<0>><<1>>",
    "same line": "<<0>> and <<1>>",
    "two list items": "* <<0>>\n* <<1>>",
    "bold between": "*A:* <<0>> *B:* <<1>>",
}
# Pairs of values that could combine into one construct across the template between them.
HOSTILE_PAIRS = [
    ("a[b", "c]d"),
    ("[~admin", "]"),
    ("[x", "|http://evil.example]"),
    ("a!b", "c!d"),
    ("!evil", ".png!"),
    ("{panel}", "{panel}"),
    ("{panel:title=x|bgColor=red}a", "b{panel}"),
    ("{code:java}a", "b{code}"),
    ("{color:red}", "{color}"),
    ("{noformat}", "x{noformat}"),
    ("*a", "b*"),
    ("_a", "b_"),
    ("{{a", "b}}"),
    ("http", "://evil.example"),
    ("mailto", ":admin@example.com"),
    ("(", "y)"),
    (":", ")"),
    ("\\", "\\[~admin]"),
    ("ABC", "-123"),
    ("h1", ". heading"),
    ("-", "---"),
]

# What Atlassian's parser does with raw markup: proof that the oracle sees live constructs
# (an oracle broken into rendering everything as text would pass every other test here), and
# the reason for each rule of escape_inline that a plain backslash would not cover.
PARSER_FACTS: list[tuple[str, str, list[str]]] = [
    ("mention", "[~admin]", ["mention"]),
    ("escaped mention", "\\[~admin]", []),
    ("double backslash is a line break", "\\\\[~admin]", ["hardBreak", "mention"]),
    ("bare URL", "see http://evil.example", ["mark:link"]),
    ("mailto", "mailto:a@b.example", ["mark:link"]),
    ("image", "!evil.png!", ["mediaSingle", "media"]),
    ("attachment link", "[^file.pdf]", ["mediaGroup", "media"]),
    ("panel", "{panel}x{panel}", ["panel"]),
    ("escaping the first {panel} only", "\\{panel}x{panel}", ["panel"]),
    (
        "raw ADF",
        '{adf}{"type":"paragraph","content":[{"type":"status","attrs":{"text":"GO","color":"green"}}]}{adf}',
        ["status"],
    ),
    ("heading", "h1. x", ["heading"]),
    ("emoticon", "a :) b", ["emoji"]),
    ("issue key", "see ABC-123", ["inlineCard"]),
    ("effect", "a ~s~ b", ["mark:subsup"]),
    # why "|" is a look-alike: a backslash does not stop a table cell from ending
    ("escaped pipe in a cell", "|a\\|b|", ["table", "tableRow", "tableCell", "tableCell"]),
    # why "!" gets word joiners: a later "!" in the row closes an image and eats a cell
    ("escaped bang in a row", "|a\\!b|(!)|", ["table", "tableRow", "tableCell", "emoji"]),
    # why brackets are look-alikes: an escaped "[" in one cell pairs with "]" in the next
    ("escaped brackets across cells", "|a\\[b|c\\]d|", ["table", "tableRow", "tableCell"]),
    # why "{" gets a word joiner: list items are scanned for macros before escapes apply
    (
        "escaped macro across list items",
        "* a\\{code:x\\}b\n* c{code}",
        ["bulletList", "listItem", "hardBreak", "codeBlock"],
    ),
    # why the value is wrapped in word joiners: it fuses with the template's parentheses
    ("value between parentheses", "Owner (y) approved", ["emoji"]),
    # why escaped characters are wrapped in word joiners too: a text effect's content loses
    # one level of escapes before it is parsed again
    ("escaped mention inside bold", "*\\[~admin\\]*", ["mention"]),
]

HARMLESS = "word"
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_PLACEHOLDER = re.compile(r"<<(\d)>>")
TRUNCATE_AT = 12


def fold(text: str) -> str:
    """What a reader compares: joiners dropped, look-alikes read as the original, spaces merged."""
    text = text.replace(WORD_JOINER, "")
    for original, lookalike in LOOKALIKES.items():
        text = text.replace(lookalike, original)
    chars = []
    for char in text:
        category = unicodedata.category(char)
        if category in {"Cc", "Zl", "Zp"} or char in _BIDI_CONTROLS:
            chars.append(" ")
        elif category == "Cs":
            chars.append("\ufffd")
        else:
            chars.append(char)
    return " ".join("".join(chars).split())


@dataclass(frozen=True)
class Case:
    """One rendering to check: the wiki text, its harmless baseline and the texts to see."""

    label: str
    wiki: str
    baseline: str
    expected_texts: tuple[str, ...]


def _fill(context: str, values: tuple[str, ...]) -> str:
    """Put the values into the context in one pass (a value may itself contain "<<1>>")."""
    return _PLACEHOLDER.sub(lambda match: values[int(match.group(1))], context)


def cases_for(value: str) -> Iterator[Case]:
    """Every context with ``value`` escaped in it, plus a shortened copy in a paragraph."""
    escaped = escape_inline(value)
    expected = fold(value)
    for name, context in CONTEXTS.items():
        yield Case(
            label=name,
            wiki=_fill(context, (escaped, escaped)),
            baseline=_fill(context, (HARMLESS, HARMLESS)),
            expected_texts=(expected,),
        )
    shortened = escape_inline(shorten(value, TRUNCATE_AT))
    yield Case(
        label=f"paragraph, shortened to {TRUNCATE_AT}",
        wiki=_fill(CONTEXTS["paragraph"], (shortened,)),
        baseline=_fill(CONTEXTS["paragraph"], (HARMLESS,)),
        expected_texts=(fold(value[: TRUNCATE_AT // 2]),),
    )


def cases_for_pair(first: str, second: str) -> Iterator[Case]:
    values = (escape_inline(first), escape_inline(second))
    for name, context in PAIR_CONTEXTS.items():
        yield Case(
            label=name,
            wiki=_fill(context, values),
            baseline=_fill(context, (HARMLESS, HARMLESS)),
            expected_texts=(fold(first), fold(second)),
        )


def _case_id(index: int, value: str) -> str:
    return f"{index:03d}:{ascii(value)[1:-1][:40]}"


@pytest.fixture(scope="module")
def render_one() -> Callable[[str], Adf]:
    """Render every wiki text the module needs in one Node process, then look them up."""
    reason = oracle_unavailable_reason()
    if reason is not None:
        require_real_or_skip(reason)
    texts: set[str] = set()
    for value in WIKI_STRINGS:
        for case in cases_for(value):
            texts.update((case.wiki, case.baseline))
    for first, second in HOSTILE_PAIRS:
        for case in cases_for_pair(first, second):
            texts.update((case.wiki, case.baseline))
    texts.update(wiki for _, wiki, _ in PARSER_FACTS)
    ordered = sorted(texts)
    try:
        documents = render_wiki_to_adf(ordered)
    except OracleUnavailableError as error:
        require_real_or_skip(str(error))
    by_text = dict(zip(ordered, documents, strict=True))
    return by_text.__getitem__


def _problems(cases: Iterator[Case], render_one: Callable[[str], Adf]) -> list[str]:
    problems = []
    for case in cases:
        document = render_one(case.wiki)
        found = Counter(live_constructs(document))
        allowed = Counter(live_constructs(render_one(case.baseline)))
        if found != allowed:
            extra = found - allowed
            missing = allowed - found
            problems.append(
                f"[{case.label}] constructs differ from the harmless baseline: "
                f"extra {dict(extra)}, missing {dict(missing)}\n  wiki: {case.wiki!r}\n"
                f"  adf: {document}"
            )
        shown = fold(plain_text(document))
        for expected in case.expected_texts:
            if expected not in shown:
                problems.append(
                    f"[{case.label}] text not shown as written: expected {expected!r} in {shown!r}"
                )
    return problems


@pytest.mark.parametrize(
    "value", WIKI_STRINGS, ids=[_case_id(i, value) for i, value in enumerate(WIKI_STRINGS)]
)
def test_hostile_value_stays_plain_text_in_every_context(
    value: str, render_one: Callable[[str], Adf]
) -> None:
    if not fold(value):
        assert fold(escape_inline(value)) == ""
        return
    problems = _problems(cases_for(value), render_one)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("first", "second"),
    HOSTILE_PAIRS,
    ids=[_case_id(i, a + " + " + b) for i, (a, b) in enumerate(HOSTILE_PAIRS)],
)
def test_two_hostile_values_cannot_combine_across_the_template(
    first: str, second: str, render_one: Callable[[str], Adf]
) -> None:
    problems = _problems(cases_for_pair(first, second), render_one)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("wiki", "expected"),
    [(wiki, expected) for _, wiki, expected in PARSER_FACTS],
    ids=[label for label, _, _ in PARSER_FACTS],
)
def test_oracle_sees_live_markup(wiki: str, expected: list[str], render_one: Callable[[str], Adf]) -> None:
    assert Counter(live_constructs(render_one(wiki))) == Counter(expected)


def test_corpus_covers_the_constructs_it_claims() -> None:
    """Guard the corpus itself: each family of attack is present, and decoding works."""
    joined = "\n".join(WIKI_STRINGS)
    for needle in (
        "[~",
        "http://",
        "mailto:",
        "!",
        "{panel}",
        "{noformat}",
        "h1.",
        "|",
        "\\\\",
        ":)",
        "(y)",
        "----",
        "<script>",
        "&#64;",
        "www.",
        "ABC-123",
        "\u202e",
    ):
        assert needle in joined, needle
    assert "" in WIKI_STRINGS
    assert "first line\nsecond line" in WIKI_STRINGS
    assert decode_corpus_line(r"\\[~admin]") == "\\\\[~admin]"
    assert decode_corpus_line(r"\u{5C}n\e") == "\\n"


# --- pure unit tests of the contract (no Node needed) ---


def _visible(escaped: str) -> str:
    """What the reader sees once Jira has applied the escapes (for simple inputs)."""
    unescaped = re.sub(r"\\([^\u2060])", r"\1", escaped)  # "\\" + joiner is a lone "\\"
    return unescaped.replace(WORD_JOINER, "")


def test_plain_words_pass_through_between_joiners() -> None:
    assert escape_inline("Bid for ACME 2025") == f"{WORD_JOINER}Bid for ACME 2025{WORD_JOINER}"


def test_empty_text_stays_empty() -> None:
    assert escape_inline("") == ""


def test_escaped_characters_keep_their_backslash_between_joiners() -> None:
    assert escape_inline("a*b") == f"{WORD_JOINER}a{WORD_JOINER}\\*{WORD_JOINER}b{WORD_JOINER}"
    assert _visible(escape_inline("{panel}x_y")) == "{panel}x_y"


def test_brackets_and_pipe_become_lookalikes() -> None:
    assert _visible(escape_inline("[~admin|x]")) == "\uff3b~admin\u2223x\uff3d"


def test_backslash_is_kept_and_never_doubled() -> None:
    escaped = escape_inline("C:\\temp\\*x*")
    assert "\\\\" not in escaped  # two backslashes in a row would be a forced line break
    assert _visible(escaped) == "C:\\temp\\*x*"


def test_url_scheme_and_emoticons_are_split_by_joiners() -> None:
    assert "http:" + WORD_JOINER + "//" in escape_inline("http://evil.example")
    assert "www" + WORD_JOINER + "." in escape_inline("www.evil.example")
    assert ":" + WORD_JOINER + "D" in escape_inline(":D")


def test_control_characters_become_single_spaces() -> None:
    value = "a\nb\tc\r\nd\x00e\u2028f\u202eg\x7fh"
    assert _visible(escape_inline(value)) == "a b c  d e f g h"


def test_lone_surrogate_becomes_replacement_character() -> None:
    assert _visible(escape_inline("a\ud800b")) == "a\ufffdb"


def test_escape_is_deterministic() -> None:
    for value in WIKI_STRINGS:
        assert escape_inline(value) == escape_inline(value)
        assert escape_inline(shorten(value, 7)) == escape_inline(shorten(value, 7))


def test_escaping_twice_is_not_a_no_op() -> None:
    """Documented: escape exactly once (the second pass would show the first's backslashes)."""
    once = escape_inline("*x*")
    assert escape_inline(once) != once


def test_short_text_is_not_cut() -> None:
    assert escape_inline(shorten("abc", 3)) == escape_inline("abc")


@pytest.mark.parametrize("value", ["*[~admin]*!x!{panel}", "\\\\\\\\", "a|b[c]d", "h1. " * 5])
def test_truncation_cuts_the_input_never_an_escape(value: str) -> None:
    for max_length in range(1, len(value) + 1):
        escaped = escape_inline(shorten(value, max_length))
        if len(value) <= max_length:
            assert escaped == escape_inline(value)
            continue
        assert escaped.endswith(ELLIPSIS + WORD_JOINER)
        kept = value[: max_length - 1].rstrip()
        # The result is the escape of a prefix of the input plus "…": no escape was split.
        assert escaped == escape_inline(kept + ELLIPSIS)
        assert len(_visible(escaped)) <= max_length


def test_truncation_does_not_split_combining_characters() -> None:
    assert _visible(escape_inline(shorten("ab\u0301\u0301cd", 4))) == "a" + ELLIPSIS
    assert _visible(escape_inline(shorten("ab\u0301\u0301cd", 5))) == "ab\u0301\u0301" + ELLIPSIS
