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


@dataclass(frozen=True)
class Document:
    blocks: tuple[Block, ...]


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
    parser = _Parser(template)
    for number, line in enumerate(rendered.splitlines(), start=1):
        parser.line(line.rstrip(), number)
    return parser.finish()


class _Parser:
    def __init__(self, template: str) -> None:
        self._template = template
        self._outer: list[Block] = []
        self._panel: list[Block] | None = None
        self._paragraph: list[tuple[Inline, ...]] = []
        self._items: list[tuple[Inline, ...]] = []

    @property
    def _blocks(self) -> list[Block]:
        return self._outer if self._panel is None else self._panel

    def line(self, line: str, number: int) -> None:
        panel = _PANEL.fullmatch(line)
        if panel:
            self._close()
            self._toggle_panel(panel.group(1), number)
            return
        if not line.strip():
            self._close_paragraph()
            return
        heading = _HEADING.fullmatch(line)
        if heading:
            self._close()
            self._blocks.append(Heading(int(heading.group(1)), self._inline(heading.group(2), number)))
        elif line.startswith("* "):
            self._close_paragraph()
            self._items.append(self._inline(line[2:], number))
        elif line.strip() == "----":
            self._close()
            self._blocks.append(Rule())
        else:
            self._close_list()
            self._paragraph.append(self._inline(line, number))

    def finish(self) -> Document:
        self._close()
        if self._panel is not None:
            raise self._error(0, "the verdict panel (::: verdict) is not closed with :::")
        return Document(tuple(self._outer))

    def _toggle_panel(self, name: str | None, number: int) -> None:
        if self._panel is None:
            if name != "verdict":
                raise self._error(number, "a panel opens with '::: verdict' (the only panel there is)")
            self._panel = []
            return
        if name is not None:
            raise self._error(number, "panels do not nest: close the verdict panel with ::: first")
        self._outer.append(Panel(tuple(self._panel)))
        self._panel = None

    def _close(self) -> None:
        self._close_paragraph()
        self._close_list()

    def _close_paragraph(self) -> None:
        content: list[Inline] = []
        for line in filter(None, self._paragraph):  # a line that printed only empty values: no break
            content.extend((LineBreak(), *line) if content else line)
        if content:
            self._blocks.append(Paragraph(tuple(content)))
        self._paragraph = []

    def _close_list(self) -> None:
        if self._items:
            self._blocks.append(BulletList(tuple(self._items)))
            self._items = []

    def _inline(self, line: str, number: int) -> tuple[Inline, ...]:
        """The template's own words (strong spans, emoticons) and the values between them."""
        content: list[Inline] = []
        strong = False
        for index, piece in enumerate(_INLINE.split(line)):
            if index % 2 == 0:
                if "\x00" in piece:
                    raise self._error(number, "the template's text holds a NUL character")
                _append_words(content, piece, strong)
            elif piece == "*":
                strong = not strong
            elif not piece.startswith("\x00"):
                content.append(Emoticon(piece[1:-1]))
            elif strong:
                raise self._error(number, "a {{ value }} inside *strong* text: keep values outside the stars")
            elif text := base64.b64decode(piece[2:-1]).decode("utf-8", "surrogatepass"):
                content.append(Value(text, ValueKind(piece[1])))
        if strong:
            raise self._error(number, "a *strong* text is not closed on its line")
        return tuple(content)

    def _error(self, number: int, problem: str) -> ConfigurationError:
        where = f"{self._template}:{number}" if number else self._template
        return ConfigurationError(f"{where}: {problem}")


def _append_words(content: list[Inline], text: str, strong: bool) -> None:
    if not text:
        return
    last = content[-1] if content else None
    if isinstance(last, Words) and last.strong == strong:
        content[-1] = Words(last.text + text, strong)
    else:
        content.append(Words(text, strong))
