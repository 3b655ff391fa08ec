"""Hostile input in one place: what a ticket, a field name, a person's name, a team template or a
setting may carry, for every test that proves gonogo keeps it inert.

Ticket text is untrusted: it must never become a mention, link, image, macro or heading in a comment,
never run as a template, never carry a secret out. The tests that prove it import their strings from
here, so a trick added once is tried by each of them.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import strategies as st

# --- Jira wiki markup that would be live in a comment -------------------------------------------

# The pieces a value is made of when it tries to become live (hypothesis strings them together).
MARKUP_PIECES = [
    "[~accountid:557058:abc]",
    "[~admin]",
    "[x|http://evil.example]",
    "http://evil.example/a",
    "www.evil.example",
    "!http://evil.example/i.png!",
    "{code}",
    "{noformat}",
    "{panel:title=x}",
    "{color:red}",
    "{quote}",
    "{adf}",
    "h1. ",
    "\n* ",
    "\n# ",
    "||",
    "|",
    "----",
    "\\\\",
    "\\",
    "*",
    "_",
    "+",
    "^",
    "~",
    "??",
    "{{",
    "}}",
    ":)",
    "(/)",
    "<script>",
    "&#64;",
    "@here",
    "\u202e",
    "\x1b[2J",
    "\r\n",
    "\t",
]

# A ticket whose every text field tries something: what a team checklist quotes into the comment.
TICKET_TEXT = {
    "summary": (
        "[~accountid:5b10ac8d82e05b22cc7d4ef5] http://evil.example/a !http://evil.example/i.png! <b>x</b>"
    ),
    "description": (
        "{code}rm -rf /{code}\n{panel:title=Pwned}owned{panel}\nh1. Heading\n"
        "[click|https://evil.example] {color:red}red{color} ||a||b|| * bold * \\\\[~admin] "
        "<script>alert(1)</script> &#64;here {noformat}x{noformat} ---- :) (/) www.evil.example"
    ),
    "budget": "[~admin] 100 {quote}q{quote}",
    "capability": "!image.png|thumbnail! [x|mailto:a@evil.example]",
    "label": "Contract value h1. [~accountid:123] http://evil.example",
}

# Values a template may put at the start of a line, mid-line or in a list item: each would turn
# into its own construct (mention and link and image, heading, list item, marks, rule, quote).
LINE_STARTERS = [
    "[~accountid:5b10ac8d82e05b] see [x|https://evil.example] !https://evil.example/a.png!",
    "h1. Take over",
    "* injected item",
    "*bold* and {color:red}red{color}",
    "---- ",
    "bq. quoted",
]

# Names the site or a person chose, shown in a comment's prose: a person, a field, an option.
PERSON_NAME = "[~accountid:5b10ac8d82e05b22cc7d4ef5] http://evil.example !http://evil.example/i.png!"
FIELD_NAME = "[~accountid:5b10ac8d] http://evil.example/a !http://evil.example/i.png! {panel}p{panel} :)"
FIELD_NAME_WITH_MACRO = "Win {panel}probability{panel} [x|https://evil.example]"
OPTION_VALUE = "[~admin] www.evil.example [x|mailto:a@evil.example]"

# A quote short enough to be kept whole (under 160 characters) that tries every inline construct.
QUOTED_SENTENCE = (
    "[~accountid:5b10a2844c20165700ede21g] says unlimited liability, see https://evil.example/x "
    "[click|https://evil.example] {color:red}*bold*{color} _it_ !x.png!"
)

# A summary that is a formula to a spreadsheet, markup to a browser and a command to a terminal.
SPREADSHEET_FORMULA = (
    '=HYPERLINK("http://evil.example","x") <script>alert(1)</script> "quoted" \x1b[31mred\x1b[0m'
)


# --- the file corpus of markup tricks, and huge and deeply nested strings ------------------------

MARKUP_FILE = Path(__file__).resolve().parent / "markup" / "hostile.txt"
_CORPUS_ESCAPE = re.compile(r"\\(?:([nrte])|u\{([0-9A-Fa-f]{1,6})\})")
_CORPUS_CHARS = {"n": "\n", "r": "\r", "t": "\t", "e": ""}


def decode_corpus_line(line: str) -> str:
    r"""Decode the corpus notation: \n \r \t, \u{HEX}, \e (nothing); other backslashes stay."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return _CORPUS_CHARS[match.group(1)]
        return chr(int(match.group(2), 16))

    return _CORPUS_ESCAPE.sub(replace, line)


def load_markup_file(path: Path = MARKUP_FILE) -> list[str]:
    """One hostile string per non-blank, non-comment (``%% ``) line, decoded."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [decode_corpus_line(line) for line in lines if line.strip() and not line.startswith("%% ")]


# Huge and nested: where an escaper that recurses, backtracks or truncates badly would show it.
HUGE_AND_NESTED = [
    "[~admin]" * 400,
    "*" * 5000,
    "{panel}" * 300 + "x",
    "\\" * 1001 + "[~admin]",
    "!" * 999 + "evil.png!",
    "[" * 200 + "~admin" + "]" * 200,
    "|" * 300,
    "http://evil.example/" + "a" * 3000,
    "a" * 10_000,
]

WIKI_STRINGS = load_markup_file() + HUGE_AND_NESTED


# --- generated: any text, huge strings, any JSON where a scalar belongs ---------------------------

markup_text = st.one_of(
    st.text(min_size=1, max_size=60),
    st.lists(st.one_of(st.sampled_from(MARKUP_PIECES), st.text(max_size=6)), min_size=1, max_size=12).map(
        "".join
    ),
)
hostile_text = st.one_of(
    markup_text, st.text(min_size=5000, max_size=12000, alphabet=st.characters(codec="utf-8"))
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
field_values = st.one_of(
    json_values,
    st.fixed_dictionaries({"value": json_values}),
    st.fixed_dictionaries({"displayName": hostile_text}),
)


# --- team templates that try to leave the sandbox ---------------------------------------------------

TEMPLATE_ESCAPES = [
    "{{ lipsum.__globals__['os'].popen('touch PWNED').read() }}",
    "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}",
    "{{ joiner.__init__.__globals__.os.popen('touch PWNED').read() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ verdict.__class__.__init__.__globals__ }}",
    "{{ summary|attr('__class__') }}",
    "{% set _ = blockers.append(1) %}{{ blockers }}",
]


# --- secrets that must never reach output or logs ---------------------------------------------------

PLANTED_TOKEN = "planted-jira-token-Q7xv2"
PLANTED_WEBHOOK_SECRET = "planted-webhook-secret-Zk3m"
PLANTED_REDIS_PASSWORD = "planted-redis-password-Hh8p"
# A token spelled with each separator a redactor could split on or an encoder could change.
TOKEN_SPELLINGS = ["api-token-1", "api_token_1", "api.token.1", "api+token+1", "api/token/1", "apitoken1=="]
