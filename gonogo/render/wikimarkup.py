r"""Untrusted text inside a Jira wiki-markup comment, kept plain text.

REST v2 takes wiki markup, and ticket text could mention people, add links, images or macros:
`escape_inline` is the one place such text is made inert, and `is_inert` says when a value needs
none of it; both are proved against Atlassian's own parser (tests/test_wikimarkup.py).

The method: characters Jira lets a backslash escape get one, wrapped in word joiners (U+2060,
invisible: the backslash works where the parser applies escapes, the joiners where it does not);
`|`, `[` and `]`, which no escape makes safe everywhere, become look-alikes; `!` gets two joiners
each side; a backslash is followed by a joiner (two would be a line break); `:`, `;`, `&` and the
dot of `www.` by one (no URL scheme, emoticon or HTML entity); the whole value is wrapped in
joiners (no line keyword, no emoticon fused with the template's characters). The result is plain
text anywhere inline (paragraph, list item, table cell, heading, panel), not in link labels or code.
"""

from __future__ import annotations

import re
import unicodedata

WORD_JOINER = "\u2060"  # invisible, zero-width, no line-break opportunity: splits tokens
ELLIPSIS = "\u2026"  # ends a shortened value
# Characters no escape makes inert everywhere: DIVIDES and the full-width brackets instead.
LOOKALIKES = {"|": "\u2223", "[": "\uff3b", "]": "\uff3d"}

# The per-character rules of the module docstring; backslashed: Atlassian's escapable set but [ ] | !.
_ESCAPES = str.maketrans(
    {
        **{char: f"{WORD_JOINER}\\{char}{WORD_JOINER}" for char in "-#*_+?^~%(){}@"},
        **LOOKALIKES,
        "!": 2 * WORD_JOINER + "!" + 2 * WORD_JOINER,
        "\\": "\\" + WORD_JOINER,
        **{char: char + WORD_JOINER for char in ":;&"},
    }
)
_DOT_AFTER_WWW = re.compile(r"(?<=www)\.", re.IGNORECASE)
# Embeddings, overrides and isolates: one left open in a value reorders the rest of the line, gonogo's
# own words included. Every output format shows a space instead (`inline_plain`).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Unicode's control (Cc), line and paragraph separator characters, and the bidi controls above.
_INLINE_SPACE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029" + "".join(sorted(BIDI_CONTROLS)) + "]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_EXTENDING_CATEGORIES = frozenset({"Mn", "Mc", "Me"})
_ZERO_WIDTH_JOINER = "\u200d"


def escape_inline(text: str) -> str:
    """``text`` as inert wiki markup for one line; escaped once, after `shorten` (no escape is split)."""
    plain = inline_plain(text)
    if not plain:
        return ""
    return WORD_JOINER + _DOT_AFTER_WWW.sub(WORD_JOINER + ".", plain.translate(_ESCAPES)) + WORD_JOINER


def inline_plain(text: str) -> str:
    """A value as one line of plain text, for wiki markup and ADF alike: line breaks, control
    characters and bidi controls (one left open would reorder gonogo's words after it) become
    spaces; a lone surrogate, which cannot be sent as JSON, becomes U+FFFD."""
    return _SURROGATE.sub("\ufffd", _INLINE_SPACE.sub(" ", text))


def shorten(plain: str, max_length: int) -> str:
    """Cut to ``max_length - 1`` characters plus an ellipsis, not inside a character cluster."""
    if len(plain) <= max_length:
        return plain
    cut = max_length - 1
    while cut > 0 and _continues_cluster(plain, cut):
        cut -= 1
    return plain[:cut].rstrip() + ELLIPSIS


def _continues_cluster(plain: str, index: int) -> bool:
    """Whether the character at `index` belongs to the one before it (a combining mark, a joiner, a
    variation selector): cutting there would split what a reader sees as one character."""
    char = plain[index]
    return (
        unicodedata.category(char) in _EXTENDING_CATEGORIES
        or _ZERO_WIDTH_JOINER in (char, plain[index - 1])
        or "\ufe00" <= char <= "\ufe0f"
    )


# --- values that need no escaping ---------------------------------------------------------------

# ASCII characters that are plain text wherever they stand; "-", "(", ")", ":" and ";" are plain
# only where the rules of `is_inert` say; every other ASCII punctuation character can form markup.
_PLAIN_ASCII = frozenset(" \"$%',./=")
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Broader than the issue-key grammar on purpose: anything Jira's renderer might link as a key.
_AUTOLINK_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*-[0-9]")
_EMOTICON_WORD = r"(?:y|n|i|x|on|off|flag|flagoff|/)"
_EMOTICON_IN_PARENS = re.compile(rf"\({_EMOTICON_WORD}\)", re.IGNORECASE)
_WHOLE_EMOTICON_WORD = re.compile(rf"\s*{_EMOTICON_WORD}\s*", re.IGNORECASE)
# A keyword ending the value counts too: a template's own "." after it would complete it ("<<v>>. x").
_LINE_KEYWORD = re.compile(r"(?<![A-Za-z0-9])(?:h[1-6]|bq|fn[0-9]*)(?:\.|$)", re.IGNORECASE)


def is_inert(text: str) -> bool:
    """Tell whether ``text`` is plain text as it stands, wherever a template puts it inline.

    Why: escaping adds invisible characters that a search or a copied number trips on, and most
    values hold nothing that can form markup. Conservative, proved like the escaping: plain
    characters (`_plain_character`), no emoticon word, no issue-key shape (Jira auto-links it), no
    `www.`, no line keyword (`h1.`, `bq.`), and balanced parentheses.
    """
    if _WHOLE_EMOTICON_WORD.fullmatch(text) or _EMOTICON_IN_PARENS.search(text):
        return False
    if _AUTOLINK_KEY.search(text) or _DOT_AFTER_WWW.search(text) or _LINE_KEYWORD.search(text):
        return False
    depth = 0
    for index, char in enumerate(text):
        if char in "()":
            depth += 1 if char == "(" else -1
            if depth < 0:
                return False
        elif not _plain_character(text, index):
            return False
    return depth == 0


def _plain_character(text: str, index: int) -> bool:
    """Letters, digits, marks, spaces, symbols, non-ASCII punctuation and `" $ % ' , . / =` are
    plain; `-` only between letters or digits (no effect, dash or rule), `:` and `;` only before a
    space (no URL scheme, no emoticon), `?` not doubled, first, or inside `(?)`."""
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
