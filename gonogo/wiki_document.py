"""The comment document as Jira wiki markup, what REST v2 takes (Data Center, or Cloud on request).

The template's own wording is written as it is: it is gonogo's (or the team's) markup. A value is
written as it is when it cannot form markup (`wikimarkup.is_inert`) or when gonogo formatted it
itself (a number, a date, the verdict); any other value is escaped with
`wikimarkup.escape_inline`, whose guarantee covers every inline place the document puts it. The
verdict panel is ADF's; in wiki markup its blocks are written without one.
"""

from __future__ import annotations

from gonogo import wikimarkup
from gonogo.document import (
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
    ValueKind,
    Words,
)


def to_wiki(document: Document) -> str:
    """The wiki markup of a comment document, one block after another, with one final newline.

    A blank line ends a list (wiki markup continues a list item on the next line, even with a
    heading or a rule) and separates two paragraphs; other blocks are on consecutive lines.
    """
    written: list[str] = []
    previous: Block | None = None
    for block in _flat(document.blocks):
        if previous is not None:
            ended = isinstance(previous, BulletList) or (
                isinstance(previous, Paragraph) and isinstance(block, Paragraph)
            )
            written.append("\n\n" if ended else "\n")
        written.append(_block(block))
        previous = block
    return "".join(written) + "\n"


def wiki_value(value: Value) -> str:
    """A value as wiki markup: as it is when it is gonogo's own or inert, escaped otherwise."""
    if value.kind is ValueKind.FIXED or wikimarkup.is_inert(value.text):
        return value.text
    return wikimarkup.escape_inline(value.text)


def _flat(blocks: tuple[Block, ...]) -> list[Block]:
    """The blocks with the verdict panel's blocks in its place (wiki markup shows no panel)."""
    flat: list[Block] = []
    for block in blocks:
        flat.extend(_flat(block.blocks) if isinstance(block, Panel) else [block])
    return flat


def _block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"h{block.level}. {_inline(block.content)}"
    if isinstance(block, Paragraph):
        return _inline(block.content)
    if isinstance(block, BulletList):
        return "\n".join(f"* {_inline(item)}" for item in block.items)
    if isinstance(block, Rule):
        return "----"
    return ""


def _inline(content: tuple[Inline, ...]) -> str:
    parts: list[str] = []
    for item in content:
        if isinstance(item, Words):
            parts.append(f"*{item.text}*" if item.strong else item.text)
        elif isinstance(item, Value):
            parts.append(wiki_value(item))
        elif isinstance(item, Emoticon):
            parts.append(f"({item.name})")
        elif isinstance(item, LineBreak):
            parts.append("\n")
    return "".join(parts)
