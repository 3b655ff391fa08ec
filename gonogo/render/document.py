"""The verdict comment as a small block structure, written as ADF (Cloud) or wiki markup (Data Center).

Ticket text must never become structure in either: the comment environment prints every `{{ value }}`
as an opaque token (its text in base64 between two NULs), so `parse_document` reads structure from the
template's own wording only (the syntax: docs/templates.md). In ADF a value is a text node, which
Jira never parses; in wiki markup a value that could form markup is escaped (`wikimarkup`).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from itertools import groupby, pairwise
from operator import itemgetter
from typing import Any

from gonogo.core.errors import ConfigurationError
from gonogo.render import wikimarkup

_VALUE = r"\x00[vf][A-Za-z0-9+/=]*\x00"  # a sealed value's token
_TOKEN = re.compile(f"({_VALUE})")  # a group: re.split keeps tokens at odd places
_HEADING = re.compile(r"h([1-6])\. (.*)")
_PANEL = re.compile(r":::(?:\s+(\w+))?\s*")
# A line's pieces: text at even places; a value's token, a star or an emoticon at odd ones.
_INLINE = re.compile(rf"({_VALUE}|\*|\((?:x|\?|!|/|i)\))")


class ValueKind(StrEnum):
    TEXT = "v"  # any text: ticket values, names, checklist texts; escaped in wiki if it could form markup
    FIXED = "f"  # a number, date, verdict or yes/no gonogo formatted itself: never escaped or wrapped


@dataclass(frozen=True)
class Words:  # wording written in the template itself
    text: str
    strong: bool = False


@dataclass(frozen=True)
class Value:  # a value the template printed: opaque text, never parsed as structure
    text: str
    kind: ValueKind = ValueKind.TEXT


@dataclass(frozen=True)
class Emoticon:  # by its wiki spelling without parentheses (`x`, `?`...)
    name: str


Inline = Words | Value | Emoticon


@dataclass(frozen=True)
class Heading:
    level: int
    content: tuple[Inline, ...]


@dataclass(frozen=True)
class Paragraph:  # consecutive template lines, each shown on a line of its own
    lines: tuple[tuple[Inline, ...], ...]


@dataclass(frozen=True)
class BulletList:
    items: tuple[tuple[Inline, ...], ...]


@dataclass(frozen=True)
class Rule:  # a horizontal rule
    pass


@dataclass(frozen=True)
class Panel:  # the verdict panel; its colour comes from the verdict, not from the template
    blocks: tuple[Block, ...]


Block = Heading | Paragraph | BulletList | Rule | Panel
Document = tuple[Block, ...]


def seal(text: str, kind: ValueKind) -> str:
    """The token a template prints for a value: no character of `text` appears in it."""
    return f"\x00{kind.value}{base64.b64encode(text.encode('utf-8', 'surrogatepass')).decode('ascii')}\x00"


def seal_unsealed(text: str) -> str:
    """`text` with every stretch outside a token sealed as TEXT, for a filter that hands back what it
    was given: whatever reaches it unsealed may be ticket text (a value the template passed straight
    in), so none of it may count as template wording."""
    return "".join(
        piece if index % 2 or not piece else seal(piece, ValueKind.TEXT)
        for index, piece in enumerate(_TOKEN.split(text))
    )


def parse_document(rendered: str, *, template: str) -> Document:
    """The blocks of a rendered comment template; a line that breaks the syntax is a template error."""
    outer: list[Block] = []
    panel: list[Block] | None = None  # the verdict panel's blocks while it is open
    lines: list[tuple[int, str]] = []  # (number, line) since the last panel marker
    for number, line in enumerate(map(str.rstrip, rendered.splitlines()), start=1):
        marker = _PANEL.fullmatch(line)
        if marker is None:
            lines.append((number, line))
            continue
        (outer if panel is None else panel).extend(_blocks(lines, template))
        lines = []
        if panel is None:
            if marker[1] != "verdict":
                raise _error(template, number, "a panel opens with '::: verdict' (the only panel there is)")
            panel = []
        elif marker[1] is None:
            outer.append(Panel(tuple(panel)))
            panel = None
        else:
            raise _error(template, number, "panels do not nest: close the verdict panel with ::: first")
    (outer if panel is None else panel).extend(_blocks(lines, template))
    if panel is not None:
        raise _error(template, 0, "the verdict panel (::: verdict) is not closed with :::")
    return tuple(outer)


def _blocks(lines: list[tuple[int, str]], template: str) -> list[Block]:
    blocks: list[Block] = []
    for (kind, _), group in groupby(_keyed(lines), key=itemgetter(0)):
        rows = [(number, line) for _, number, line in group]
        if kind == "item":
            blocks.append(BulletList(tuple(_inline(line, template, number) for number, line in rows)))
        elif kind == "text":
            # A line that printed only empty values is no line.
            if paragraph := tuple(filter(None, (_inline(line, template, number) for number, line in rows))):
                blocks.append(Paragraph(paragraph))
        elif heading := _HEADING.fullmatch(rows[0][1]):
            blocks.append(Heading(int(heading[1]), _inline(heading[2], template, rows[0][0])))
        else:
            blocks.append(Rule())
    return blocks


def _keyed(lines: list[tuple[int, str]]) -> Iterator[tuple[tuple[str, int], int, str]]:
    """Each line but blank ones, keyed by the block it belongs to: consecutive `* ` lines make one
    list, blank lines between them allowed; consecutive other lines one paragraph, which a blank
    line ends; a heading or a rule stands alone."""
    blank_lines = 0
    for number, line in lines:
        if not line.strip():
            blank_lines += 1
        elif _HEADING.fullmatch(line) or line.strip() == "----":
            yield ("alone", number), number, line
        elif line.startswith("* "):
            yield ("item", 0), number, line[2:]
        else:
            yield ("text", blank_lines), number, line


def _inline(line: str, template: str, number: int) -> tuple[Inline, ...]:
    """The template's own words (strong spans, emoticons) and the values between them."""
    content: list[Inline] = []
    strong = False
    for index, piece in enumerate(_INLINE.split(line)):
        if index % 2 == 0:
            if "\x00" in piece:
                raise _error(template, number, "the template's text holds a NUL character")
            if content and isinstance(last := content[-1], Words) and last.strong == strong:
                content[-1] = Words(last.text + piece, strong)
            elif piece:
                content.append(Words(piece, strong))
        elif piece == "*":
            strong = not strong
        elif not piece.startswith("\x00"):
            content.append(Emoticon(piece[1:-1]))
        elif strong:
            problem = "a {{ value }} inside *strong* text: keep values outside the stars"
            raise _error(template, number, problem)
        elif text := base64.b64decode(piece[2:-1]).decode("utf-8", "surrogatepass"):
            content.append(Value(text, ValueKind(piece[1])))
    if strong:
        raise _error(template, number, "a *strong* text is not closed on its line")
    return tuple(content)


def _error(template: str, number: int, problem: str) -> ConfigurationError:
    where = f"{template}:{number}" if number else template
    return ConfigurationError(f"{where}: {problem}")


# --- the writers ---------------------------------------------------------------------------------

Adf = dict[str, Any]

# The verdict panel's colour (ADF panelType) for each verdict.
PANEL_TYPES = {"go": "success", "go-with-conditions": "warning", "needs-info": "info", "no-go": "error"}

# Atlassian's emoji for the template's emoticons, as Jira itself converts them from wiki markup.
_EMOJI = {
    "x": (":cross_mark:", "atlassian-cross_mark"),
    "?": (":question:", "atlassian-question_mark"),
    "!": (":warning:", "atlassian-warning"),
    "/": (":check_mark:", "atlassian-check_mark"),
    "i": (":info:", "atlassian-info"),
}


def to_adf(document: Document, *, verdict: str) -> Adf:
    """The ADF `doc` for a comment document; `verdict` colours the verdict panel."""
    return {"type": "doc", "version": 1, "content": [_adf_block(block, verdict) for block in document]}


def compact_json(adf: Adf) -> str:
    """The document as sent to Jira, whose size is what counts against the comment limit."""
    return json.dumps(adf, ensure_ascii=False, separators=(",", ":"))


def _adf_block(block: Block, verdict: str) -> Adf:
    match block:
        case Heading(level, content):
            return {"type": "heading", "attrs": {"level": level}, **_adf_content(content)}
        case Paragraph(lines):
            return {"type": "paragraph", **_adf_content(*lines)}
        case BulletList(items):
            paras = [{"type": "paragraph", **_adf_content(item)} for item in items]
            return {"type": "bulletList", "content": [{"type": "listItem", "content": [p]} for p in paras]}
        case Panel(blocks):  # an empty one holds an empty paragraph
            return {
                "type": "panel",
                "attrs": {"panelType": PANEL_TYPES.get(verdict, "info")},
                "content": [_adf_block(child, verdict) for child in blocks or (Paragraph(()),)],
            }
    return {"type": "rule"}


def _adf_content(*lines: tuple[Inline, ...]) -> Adf:
    """Inline nodes, a hard break between lines; neighbouring unmarked text (wording and values)
    shares one text node."""
    nodes: list[Adf] = []
    for number, line in enumerate(lines):
        if number:
            nodes.append({"type": "hardBreak"})
        for node in map(_adf_inline, line):
            if nodes and nodes[-1].keys() == node.keys() == {"type", "text"}:
                nodes[-1] = {"type": "text", "text": nodes[-1]["text"] + node["text"]}
            else:
                nodes.append(node)
    return {"content": nodes} if nodes else {}


def _adf_inline(item: Inline) -> Adf:
    """An inline item as its ADF node (the parser makes no empty Words or Value)."""
    match item:
        case Words(text, strong):
            return {"type": "text", "text": text, **({"marks": [{"type": "strong"}]} if strong else {})}
        case Value(text):
            return {"type": "text", "text": wikimarkup.inline_plain(text)}
    short_name, emoji_id = _EMOJI[item.name]
    return {"type": "emoji", "attrs": {"shortName": short_name, "id": emoji_id, "text": short_name}}


def to_wiki(document: Document) -> str:
    """The wiki markup of a comment document, blocks on consecutive lines but for a blank line after
    a list (wiki markup continues a list item on the next line, even with a heading), between two
    paragraphs, after a heading before a paragraph (Jira makes the line after a heading a paragraph
    of its own: a line break there would be lost), and before a heading after a paragraph."""
    # Wiki markup shows no panel: the verdict panel's blocks stand in its place (panels do not nest).
    flat = [child for block in document for child in (block.blocks if isinstance(block, Panel) else (block,))]
    written = [_wiki_block(block) for block in flat[:1]]
    for previous, block in pairwise(flat):
        ended = (
            isinstance(previous, BulletList)
            or (isinstance(previous, (Paragraph, Heading)) and isinstance(block, Paragraph))
            or (isinstance(previous, Paragraph) and isinstance(block, Heading))
        )
        written.append(("\n\n" if ended else "\n") + _wiki_block(block))
    return "".join(written) + "\n"


def _wiki_block(block: Block) -> str:
    match block:
        case Heading(level, content):
            return f"h{level}. {_wiki_inline(content)}"
        case Paragraph(lines):
            return "\n".join(map(_wiki_inline, lines))
        case BulletList(items):
            return "\n".join(f"* {_wiki_inline(item)}" for item in items)
    return "----"  # a Rule: a panel was flattened away


def _wiki_inline(content: tuple[Inline, ...]) -> str:
    parts: list[str] = []
    for values, items in groupby(content, key=lambda item: isinstance(item, Value)):
        if values:
            parts.append(_value_run([item for item in items if isinstance(item, Value)]))
            continue
        for item in items:
            match item:
                case Words(text, strong):
                    parts.append(f"*{text}*" if strong else text)
                case Emoticon(name):
                    parts.append(f"({name})")
    return "".join(parts)


def _value_run(run: list[Value]) -> str:
    """Adjacent values, judged as one text: a failed title is sealed in parts ("(margin ", -50,
    "%)"), each of which may look unsafe alone (an unopened parenthesis) where the whole is plain
    text. gonogo's own numbers and dates (FIXED, printed as they are) stand in as a plain digit."""
    if len(run) > 1:
        judged = "".join("0" if value.kind is ValueKind.FIXED else value.text for value in run)
        if wikimarkup.is_inert(judged):
            return "".join(value.text for value in run)
    return "".join(
        value.text
        if value.kind is ValueKind.FIXED or wikimarkup.is_inert(value.text)
        else wikimarkup.escape_inline(value.text)
        for value in run
    )
