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

import re
import unicodedata

__all__ = [
    "ELLIPSIS",
    "LOOKALIKES",
    "WORD_JOINER",
    "escape_inline",
    "is_inert",
    "shorten",
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
# Embeddings, overrides and isolates: one left open in a value reorders the rest of the line, gonogo's
# own words included. Every output format shows a space instead (`inline_plain`).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
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
    plain = inline_plain(text)
    if max_length is not None and len(plain) > max_length:
        plain = shorten(plain, max_length)
    if not plain:
        return ""
    return WORD_JOINER + _escape_characters(plain) + WORD_JOINER


def inline_plain(text: str) -> str:
    """A value as one line of plain text, for wiki markup and ADF alike.

    Line breaks and control characters become spaces (a value sits inside a sentence), and so do
    bidi controls (one left open would reorder gonogo's own words after it); a lone surrogate,
    which cannot be sent as JSON, becomes U+FFFD. Nothing else changes.
    """
    out: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if category in _SPACE_CATEGORIES or char in BIDI_CONTROLS:
            out.append(" ")
        elif category == "Cs":
            out.append("\ufffd")
        else:
            out.append(char)
    return "".join(out)


def shorten(plain: str, max_length: int) -> str:
    """Cut to ``max_length - 1`` characters plus an ellipsis, not inside a character cluster."""
    if len(plain) <= max_length:
        return plain
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


# --- values that need no escaping ---------------------------------------------------------------

# ASCII characters that are plain text wherever they stand; "-", "(", ")", ":" and ";" are plain
# only where the rules of `is_inert` say; every other ASCII punctuation character can form markup.
_PLAIN_ASCII = frozenset(" \"$%',./=")
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Not the issue-key grammar (`gonogo.core.pipeline.ticket.ISSUE_KEY`): anything Jira's renderer might link as
# a key, unbounded and from any digit, so the text around it is escaped; broader on purpose.
_AUTOLINK_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*-[0-9]")
_EMOTICON_WORD = r"(?:y|n|i|x|on|off|flag|flagoff|/)"
_EMOTICON_IN_PARENS = re.compile(rf"\({_EMOTICON_WORD}\)", re.IGNORECASE)
_WHOLE_EMOTICON_WORD = re.compile(rf"\s*{_EMOTICON_WORD}\s*", re.IGNORECASE)
# A keyword ending the value counts too: a template's own "." after it would complete it ("<<v>>. x").
_LINE_KEYWORD = re.compile(r"(?<![A-Za-z0-9])(?:h[1-6]|bq|fn[0-9]*)(?:\.|$)", re.IGNORECASE)
_WWW_DOT = re.compile(r"www\.", re.IGNORECASE)


def is_inert(text: str) -> bool:
    """Tell whether ``text`` is plain text as it stands, wherever a template puts it inline.

    Why: escaping costs invisible characters a reader never sees but a search, a regular
    expression or a copied number does. Most values (names, dates, sentences) hold nothing that
    can form markup, so gonogo prints them as they are and escapes (:func:`escape_inline`) only a
    value that holds a character that could. The rules are conservative, and proved, like the
    escaping, against Atlassian's parser with the hostile corpus:

    * letters, digits, combining marks, spaces, currency and other symbols (but not the ASCII
      ``+ < > | ~ ^ `` ` ``), non-ASCII punctuation, and ``" $ % ' , . / =`` are plain;
    * ``?`` only after a character that is not ``?`` or ``(`` and before one that is not ``?`` or
      ``)`` (no ``??`` citation, no ``(?)`` emoticon), never first in the value;
    * ``-`` only between two letters or digits (``NO-GO``, ``2026-11-26``, ``person-days``),
      never in something shaped like an issue key (``ABC-1``, auto-linked by Jira), so it can
      neither open nor close a text effect, nor make ``--``/``---`` dashes or a ``----`` rule;
    * ``:`` and ``;`` only when a space follows in the value, which rules out URL schemes
      (``http:``), emoticons (``:)``) and fusing with the template's next character;
    * ``(`` and ``)`` only in balanced pairs that do not enclose an emoticon word (``(y)``,
      ``(on)``, ``(/)``...), and a value that is such a word alone is escaped, since a template's
      own parentheses around it would make the emoticon;
    * no ``www.`` (auto-linked) and no line keyword such as ``h1.`` or ``bq.``, nor one ending the
      value (``h1``), which a template's own ``.`` could complete;
    * no control, format (invisible, bidi), private-use or unassigned character, no line or
      paragraph separator.
    """
    if _WHOLE_EMOTICON_WORD.fullmatch(text) or _EMOTICON_IN_PARENS.search(text):
        return False
    if _AUTOLINK_KEY.search(text) or _WWW_DOT.search(text) or _LINE_KEYWORD.search(text):
        return False
    depth = 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return False
        elif not _plain_character(text, index):
            return False
    return depth == 0


def _plain_character(text: str, index: int) -> bool:
    char = text[index]
    if char.isascii():
        if char.isalnum() or char in _PLAIN_ASCII:
            return True
        before = text[index - 1] if index > 0 else ""
        after = text[index + 1] if index + 1 < len(text) else ""
        if char == "-":
            return before.isalnum() and after.isalnum()
        if char in ":;":
            return after == " "
        if char == "?":
            return before not in ("", "?", "(") and after not in ("?", ")")
        return False
    return unicodedata.category(char) not in _UNSAFE_CATEGORIES
