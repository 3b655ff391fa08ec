"""The comment document as Jira wiki markup, what REST v2 takes (Data Center, or Cloud on request).

The template's own wording is written as it is: it is gonogo's (or the team's) markup. A value is
written as it is when it cannot form markup (`wikimarkup.is_inert`) or when gonogo formatted it
itself (a number, a date, the verdict); any other value is escaped with
`wikimarkup.escape_inline`, whose guarantee covers every inline place the document puts it. The
verdict panel is ADF's; in wiki markup its blocks are written without one.
"""

from __future__ import annotations

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
    Rule,
    Value,
    ValueKind,
    Words,
)


def to_wiki(document: Document) -> str:
    """The wiki markup of a comment document, one block after another, with one final newline.

    A blank line ends a list (wiki markup continues a list item on the next line, even with a
    heading or a rule), separates two paragraphs, and follows a heading before a paragraph (Jira
    makes the first line after a heading a paragraph of its own, so a line break there would be
    lost), and sets a heading off from the paragraph before it, for reading; other blocks are on
    consecutive lines.
    """
    written: list[str] = []
    previous: Block | None = None
    for block in _flat(document.blocks):
        if previous is not None:
            ended = (
                isinstance(previous, BulletList)
                or (isinstance(previous, (Paragraph, Heading)) and isinstance(block, Paragraph))
                or (isinstance(previous, Paragraph) and isinstance(block, Heading))
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
    run: list[Value] = []
    for item in content:
        if isinstance(item, Value):
            run.append(item)
            continue
        parts.append(_value_run(run))
        run = []
        if isinstance(item, Words):
            parts.append(f"*{item.text}*" if item.strong else item.text)
        elif isinstance(item, Emoticon):
            parts.append(f"({item.name})")
        elif isinstance(item, LineBreak):
            parts.append("\n")
    parts.append(_value_run(run))
    return "".join(parts)


def _value_run(run: list[Value]) -> str:
    """Adjacent values, as one text where nothing stands between them.

    A failed title is sealed in parts ("(margin ", -50, "%)"): each part alone may look unsafe
    (an unopened parenthesis) where the whole is plain text. The whole is judged, with gonogo's
    own numbers and dates (FIXED, always printed as they are) standing in as a plain digit.
    """
    if len(run) > 1:
        judged = "".join("0" if value.kind is ValueKind.FIXED else value.text for value in run)
        if wikimarkup.is_inert(judged):
            return "".join(value.text for value in run)
    return "".join(wiki_value(value) for value in run)
