"""The verdict comment as a small block structure, before it becomes ADF (Cloud) or wiki markup.

One wording serves both formats, and ticket text must never become structure in either: the comment
environment prints every `{{ value }}` as an opaque token (its text in base64 between two NULs), so
`parse_document` reads structure from the template's own wording only. The syntax is line-based,
like wiki markup (docs/templates.md): `h1.`..`h6.`, `* ` items, `----`, a `::: verdict` ... `:::`
panel, paragraphs, inline `*strong*` and `(x) (?) (!) (/) (i)`. A value inside `*strong*` is an error.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from enum import StrEnum
from itertools import groupby
from operator import itemgetter

from gonogo.core.errors import ConfigurationError

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


@dataclass(frozen=True)
class LineBreak:  # inside a paragraph (consecutive template lines)
    pass


Inline = Words | Value | Emoticon | LineBreak


@dataclass(frozen=True)
class Heading:
    level: int
    content: tuple[Inline, ...]


@dataclass(frozen=True)
class Paragraph:
    content: tuple[Inline, ...]


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
    """`text` with every stretch outside a token sealed as TEXT, the tokens left as they are.

    For a filter that hands back what it was given: whatever reaches it unsealed may be ticket
    text (a value the template passed straight in), so none of it may count as template wording.
    """
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
    """The blocks between two panel markers. Consecutive `* ` lines are one list, blank lines
    between them allowed; consecutive other lines one paragraph, which a blank line ends."""
    keyed: list[tuple[tuple[str, int], int, str]] = []  # ((kind, group), number, line)
    blank_lines = 0
    for number, line in lines:
        if not line.strip():
            blank_lines += 1
        elif _HEADING.fullmatch(line) or line.strip() == "----":
            keyed.append((("alone", number), number, line))
        elif line.startswith("* "):
            keyed.append((("item", 0), number, line[2:]))
        else:
            keyed.append((("text", blank_lines), number, line))
    blocks: list[Block] = []
    for (kind, _), group in groupby(keyed, key=itemgetter(0)):
        rows = [(number, line) for _, number, line in group]
        if kind == "item":
            blocks.append(BulletList(tuple(_inline(line, template, number) for number, line in rows)))
        elif kind == "text":
            paragraph: list[Inline] = []
            for number, line in rows:  # a line that printed only empty values makes no line break
                if content := _inline(line, template, number):
                    paragraph.extend((LineBreak(), *content) if paragraph else content)
            if paragraph:
                blocks.append(Paragraph(tuple(paragraph)))
        elif heading := _HEADING.fullmatch(rows[0][1]):
            blocks.append(Heading(int(heading[1]), _inline(heading[2], template, rows[0][0])))
        else:
            blocks.append(Rule())
    return blocks


def _inline(line: str, template: str, number: int) -> tuple[Inline, ...]:
    """The template's own words (strong spans, emoticons) and the values between them."""
    content: list[Inline] = []
    strong = False
    for index, piece in enumerate(_INLINE.split(line)):
        if index % 2 == 0:
            if "\x00" in piece:
                raise _error(template, number, "the template's text holds a NUL character")
            _append_words(content, piece, strong)
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


def _append_words(content: list[Inline], text: str, strong: bool) -> None:
    if not text:
        return
    last = content[-1] if content else None
    if isinstance(last, Words) and last.strong == strong:
        content[-1] = Words(last.text + text, strong)
    else:
        content.append(Words(text, strong))
