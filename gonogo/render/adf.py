"""The comment document as Atlassian Document Format (ADF), what Jira Cloud stores, for REST v3.

Why ADF on Cloud: in ADF, text is the `text` of a text node, which Jira never parses, so ticket text
cannot become a mention, link, image or macro whatever characters it holds. Nothing is escaped
and nothing invisible is added: a value's characters are stored exactly as the ticket had them
(line breaks and other control characters become spaces, since a value is inline). Only
gonogo's own wording may carry a mark (strong); a value never does.
"""

from __future__ import annotations

import json
from typing import Any

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
    Rule,
    Value,
    Words,
)
from gonogo.render.wikimarkup import inline_plain

Adf = dict[str, Any]

PANEL_TYPES = {
    "go": "success",
    "go-with-conditions": "warning",
    "needs-info": "info",
    "no-go": "error",
}
"""The verdict panel's colour (ADF panelType) for each verdict."""

_EMOJI = {
    "x": {"shortName": ":cross_mark:", "id": "atlassian-cross_mark", "text": ":cross_mark:"},
    "?": {"shortName": ":question:", "id": "atlassian-question_mark", "text": ":question:"},
    "!": {"shortName": ":warning:", "id": "atlassian-warning", "text": ":warning:"},
    "/": {"shortName": ":check_mark:", "id": "atlassian-check_mark", "text": ":check_mark:"},
    "i": {"shortName": ":info:", "id": "atlassian-info", "text": ":info:"},
}
"""Atlassian's emoji for the template's emoticons, as Jira itself converts them from wiki markup."""


def to_adf(document: Document, *, verdict: str) -> Adf:
    """The ADF `doc` for a comment document; `verdict` colours the verdict panel."""
    return {"type": "doc", "version": 1, "content": [_block(block, verdict) for block in document.blocks]}


def compact_json(adf: Adf) -> str:
    """The document as sent to Jira, whose size is what counts against the comment limit."""
    return json.dumps(adf, ensure_ascii=False, separators=(",", ":"))


def _block(block: Block, verdict: str) -> Adf:
    if isinstance(block, Heading):
        return {"type": "heading", "attrs": {"level": block.level}, **_content(block.content)}
    if isinstance(block, Paragraph):
        return {"type": "paragraph", **_content(block.content)}
    if isinstance(block, BulletList):
        return {
            "type": "bulletList",
            "content": [
                {"type": "listItem", "content": [{"type": "paragraph", **_content(item)}]}
                for item in block.items
            ],
        }
    if isinstance(block, Rule):
        return {"type": "rule"}
    return {
        "type": "panel",
        "attrs": {"panelType": PANEL_TYPES.get(verdict, "info")},
        "content": [_block(child, verdict) for child in _panel_blocks(block)],
    }


def _panel_blocks(panel: Panel) -> list[Block]:
    """A panel holds paragraphs, headings, lists and rules; an empty one holds an empty paragraph."""
    return list(panel.blocks) or [Paragraph(())]


def _content(content: tuple[Inline, ...]) -> Adf:
    """Inline nodes; neighbouring unmarked text (wording and values) shares one text node."""
    nodes: list[Adf] = []
    for item in content:
        node = _inline(item)
        if node is None:
            continue
        last = nodes[-1] if nodes else None
        if last is not None and _plain_text_node(last) and _plain_text_node(node):
            nodes[-1] = {"type": "text", "text": last["text"] + node["text"]}
        else:
            nodes.append(node)
    return {"content": nodes} if nodes else {}


def _plain_text_node(node: Adf) -> bool:
    return node["type"] == "text" and "marks" not in node


def _inline(item: Inline) -> Adf | None:
    if isinstance(item, Words):
        if not item.text:
            return None
        node: Adf = {"type": "text", "text": item.text}
        if item.strong:
            node["marks"] = [{"type": "strong"}]
        return node
    if isinstance(item, Value):
        text = inline_plain(item.text)
        return {"type": "text", "text": text} if text else None
    if isinstance(item, Emoticon):
        return {"type": "emoji", "attrs": dict(_EMOJI[item.name])}
    if isinstance(item, LineBreak):
        return {"type": "hardBreak"}
    return None
