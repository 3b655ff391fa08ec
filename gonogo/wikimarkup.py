r"""Quote untrusted text inside a Jira wiki-markup comment so that it stays plain text.

Why this exists: gonogo posts its verdict through REST v2, which takes wiki markup, and the
verdict quotes ticket text (summary, field values, user names) that anyone able to edit the
ticket controls. Unescaped, that text could mention people (``[~accountid:...]``), add links
or images, open macros (``{panel}``, ``{adf}``...), start headings, lists or tables, or break
the comment's own layout. :func:`escape_inline` is the one place where such text is made
inert; templates call it for every untrusted value.

The method (proved against Atlassian's own parser, ``@atlaskit/editor-wikimarkup-transformer``,
by ``tests/test_wikimarkup.py`` with a corpus of hostile strings in many contexts):

* Characters Jira lets a backslash escape (``- # * _ + ? ^ ~ % { } ( ) @``) get a backslash,
  and the pair is wrapped in word joiners (U+2060). The backslash keeps the character plain
  where the parser applies escapes; the joiners keep it plain where it does not. Two such
  places: the table, list and text-effect scanners look for ``{panel``, ``{code``... in the
  raw text, so ``\{panel}`` alone can swallow the rest of a table row or join list items;
  and a text effect (``*...*``, ``_..._``...) strips one level of escapes from its content
  before parsing it again, so ``*\[~admin\]*`` is a live mention. Effects only open after,
  and close before, a character that is ASCII and not alphanumeric; a joiner is neither.
* ``|`` cannot be escaped inside a table cell (the parser ends the cell at any ``|``), and a
  backslash-escaped ``[`` still pairs with a ``]`` further on in the raw text (in the next
  cell, or in another quoted value) and swallows the cells between them, or becomes a link
  inside a text effect. These become look-alikes: U+2223 DIVIDES, and the full-width
  brackets U+FF3B and U+FF3D.
* ``!`` (images) is wrapped in two word joiners on each side and not escaped: in a table
  row, ``\!`` can still open an image that a later ``!`` in the row (the ``(!)`` emoticon)
  closes, swallowing a cell. The joiners stop ``!`` from opening or closing anything.
* A backslash cannot escape itself (two backslashes are a forced line break), so it is
  followed by a word joiner and renders as a lone backslash.
* ``:`` ``;`` and ``&`` are followed by a word joiner, which breaks every URL scheme
  (``http://``, ``mailto:``, ``file:``), emoticons (``:)`` ``:D`` ``;)``) and HTML entities
  (``&#64;``); ``www.`` gets one before its dot. Issue keys such as ``ABC-123`` are no longer
  auto-linked because their ``-`` is escaped.
* The whole value is wrapped in word joiners, so it never starts a line with a keyword
  (``h1.``, ``bq.``, ``*``/``#``/``-`` lists, ``|`` tables, ``----`` rules) and never fuses
  with the template's own characters into an emoticon such as ``(`` + ``y`` + ``)``.
* Newlines, tabs, other control characters, Unicode line/paragraph separators and bidi
  embedding/override/isolate controls become one space each: the value is inline, and a
  bidi override could make the quoted text read differently from what it says. Lone
  surrogates become U+FFFD.

Word joiners are invisible and change no line breaking, so a reader sees exactly what the
ticket said, except that ``|``, ``[`` and ``]`` are look-alikes (copying the text copies the
joiners and look-alikes too).

Guarantee: the result, placed anywhere in the text of a paragraph, list item, table cell,
heading or ``bq.`` line of a wiki comment, also inside a text effect (``*...*``, ``_..._``,
``+...+``, ``-...-``, ``^...^``, ``~...~``, ``??...??``, ``{{...}}``) or in the body of a
``{panel}``, ``{quote}`` or ``{color}`` macro, renders as plain text and adds, removes or
merges no construct of the surrounding markup. It is not meant for link labels (a ``!`` there
breaks the link), nor for ``{code}``/``{noformat}`` bodies, which would show the backslashes.

The oracle is Atlassian's published wiki-markup-to-ADF parser. Data Center renders wiki
markup with its older Java renderer, which documents the same backslash escapes; a few rules
are there for it and cannot be proved by the oracle: the second joiner on each side of ``!``
(its image pattern accepts one invisible character at each end of the name), the joiners
after ``;`` and ``&`` and in ``www.``, and the backslashes themselves where a joiner alone
already satisfies the oracle (a joiner after ``{`` would leave an "unknown macro" box there).
"""

from __future__ import annotations

import unicodedata

__all__ = [
    "ELLIPSIS",
    "LOOKALIKES",
    "WORD_JOINER",
    "escape_inline",
]

WORD_JOINER = "\u2060"
"""Invisible, zero-width, no line-break opportunity: splits tokens without changing the text."""

ELLIPSIS = "\u2026"
"""Ends a value that ``max_length`` shortened."""

LOOKALIKES: dict[str, str] = {
    "|": "\u2223",  # DIVIDES
    "[": "\uff3b",  # FULLWIDTH LEFT SQUARE BRACKET
    "]": "\uff3d",  # FULLWIDTH RIGHT SQUARE BRACKET
}
"""Characters that cannot be made inert in every context, and what is shown instead."""

# Atlassian's escapable set minus "[", "]", "|" and "!", which are handled differently.
_BACKSLASH_ESCAPED = frozenset("-#*_+?^~%(){}@")
_JOINER_AFTER = frozenset(":;&")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SPACE_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
_EXTENDING_CATEGORIES = frozenset({"Mn", "Mc", "Me"})
_ZERO_WIDTH_JOINER = "\u200d"


def escape_inline(text: str, *, max_length: int | None = None) -> str:
    """Return ``text`` as inert wiki markup for use inside one line of a Jira comment.

    ``max_length`` limits the *visible* length (in characters of the input, ellipsis
    included): a longer value is cut on the input, before escaping, so no escape is ever
    split, and ends with ``…``. The result is deterministic; escaping twice is not a no-op
    (the second pass would show the first pass's backslashes), so escape exactly once.
    """
    if max_length is not None and max_length < 1:
        raise ValueError(f"max_length must be at least 1, got {max_length}")
    plain = _inline_plain(text)
    if max_length is not None and len(plain) > max_length:
        plain = _shorten(plain, max_length)
    if not plain:
        return ""
    return WORD_JOINER + _escape_characters(plain) + WORD_JOINER


def _inline_plain(text: str) -> str:
    """Replace every character that would break the line or reorder text with a space."""
    out: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if category in _SPACE_CATEGORIES or char in _BIDI_CONTROLS:
            out.append(" ")
        elif category == "Cs":
            out.append("\ufffd")
        else:
            out.append(char)
    return "".join(out)


def _shorten(plain: str, max_length: int) -> str:
    """Cut to ``max_length - 1`` characters plus an ellipsis, not inside a character cluster."""
    cut = max_length - 1
    while cut > 0 and _continues_cluster(plain, cut):
        cut -= 1
    return plain[:cut].rstrip() + ELLIPSIS


def _continues_cluster(plain: str, index: int) -> bool:
    """Tell whether the character at ``index`` belongs to the one before it (accent, ZWJ...)."""
    char = plain[index]
    return (
        unicodedata.category(char) in _EXTENDING_CATEGORIES
        or char == _ZERO_WIDTH_JOINER
        or plain[index - 1] == _ZERO_WIDTH_JOINER
        or "\ufe00" <= char <= "\ufe0f"
    )


def _escape_characters(plain: str) -> str:
    """Apply the per-character rules of the module docstring (input already inline-only)."""
    out: list[str] = []
    for index, char in enumerate(plain):
        if char in _BACKSLASH_ESCAPED:
            out.append(WORD_JOINER + "\\" + char + WORD_JOINER)
        elif char in LOOKALIKES:
            out.append(LOOKALIKES[char])
        elif char == "!":
            out.append(2 * WORD_JOINER + "!" + 2 * WORD_JOINER)
        elif char == "\\":
            out.append("\\" + WORD_JOINER)
        elif char in _JOINER_AFTER:
            out.append(char + WORD_JOINER)
        elif char == "." and plain[max(0, index - 3) : index].lower() == "www":
            out.append(WORD_JOINER + ".")
        else:
            out.append(char)
    return "".join(out)
