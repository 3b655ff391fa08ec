"""The comment document written as ADF (Jira Cloud, REST v3) or as wiki markup (REST v2).

ADF: a value is the `text` of a text node, which Jira never parses, so ticket text cannot become a
mention, link, image or macro; nothing is escaped, only control characters become spaces, and only
gonogo's own wording carries a mark (strong). Wiki markup: the template's wording is written as it
is; a value too, when it cannot form markup (`wikimarkup.is_inert`) or gonogo formatted it (FIXED);
any other value is escaped (`wikimarkup.escape_inline`). Wiki markup has no verdict panel.
"""

from __future__ import annotations

import json
from itertools import groupby, pairwise
from typing import Any

from gonogo.render import wikimarkup
from gonogo.render.document import (
    Block,
    BulletList,
    Document,
    Emoticon,
    Heading,
    Inline,
    LineBreak,
    Panel,
    Paragraph,
    Value,
    ValueKind,
    Words,
)

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
        case Paragraph(content):
            return {"type": "paragraph", **_adf_content(content)}
        case BulletList(items):
            return {
                "type": "bulletList",
                "content": [
                    {"type": "listItem", "content": [{"type": "paragraph", **_adf_content(item)}]}
                    for item in items
                ],
            }
        case Panel(blocks):  # an empty one holds an empty paragraph
            return {
                "type": "panel",
                "attrs": {"panelType": PANEL_TYPES.get(verdict, "info")},
                "content": [_adf_block(child, verdict) for child in blocks or (Paragraph(()),)],
            }
    return {"type": "rule"}


def _adf_content(content: tuple[Inline, ...]) -> Adf:
    """Inline nodes; neighbouring unmarked text (wording and values) shares one text node."""
    nodes: list[Adf] = []
    for node in map(_adf_inline, content):
        if node is None:
            continue
        if nodes and nodes[-1].keys() == node.keys() == {"type", "text"}:
            nodes[-1] = {"type": "text", "text": nodes[-1]["text"] + node["text"]}
        else:
            nodes.append(node)
    return {"content": nodes} if nodes else {}


def _adf_inline(item: Inline) -> Adf | None:
    match item:
        case Words(text, strong) if text:
            return {"type": "text", "text": text, **({"marks": [{"type": "strong"}]} if strong else {})}
        case Value(text) if text:
            return {"type": "text", "text": wikimarkup.inline_plain(text)}
        case Emoticon(name):
            short_name, emoji_id = _EMOJI[name]
            return {"type": "emoji", "attrs": {"shortName": short_name, "id": emoji_id, "text": short_name}}
        case LineBreak():
            return {"type": "hardBreak"}
    return None


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
        case Paragraph(content):
            return _wiki_inline(content)
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
                case LineBreak():
                    parts.append("\n")
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
