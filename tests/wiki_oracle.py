"""Python side of the wiki-markup oracle: render wiki markup to ADF with Atlassian's parser.

Why: whether a string is inert in a Jira comment is decided by Jira's parser, not by our
reading of its rules. ``tests/oracle/render.mjs`` runs Atlassian's published
``@atlaskit/editor-wikimarkup-transformer`` under Node; these helpers feed it strings, and
inspect the resulting Atlassian Document Format (ADF) for anything that is not plain text.

Install once with ``npm ci --prefix tests/oracle`` (needs Node 20+ and the npm registry).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from gonogo.render.wikimarkup import LOOKALIKES, WORD_JOINER

ORACLE_DIR = Path(__file__).resolve().parent / "oracle"
RENDER_SCRIPT = ORACLE_DIR / "render.mjs"
_PARSER_PACKAGE = ORACLE_DIR / "node_modules" / "@atlaskit" / "editor-wikimarkup-transformer"
INSTALL_HINT = "npm ci --prefix tests/oracle"
RENDER_TIMEOUT_SECONDS = 120

Adf = dict[str, Any]

PLAIN_NODE_TYPES = frozenset({"doc", "paragraph", "text"})
"""Node types that plain text inside a paragraph consists of; every other node is a construct."""


class OracleUnavailableError(RuntimeError):
    """Node or the oracle's node_modules are missing; the message says how to install them."""


class OracleError(RuntimeError):
    """The oracle ran but failed (crashed, or the parser threw on an input)."""


def oracle_unavailable_reason() -> str | None:
    """Say why the oracle cannot run here, or return None when it can."""
    if shutil.which("node") is None:
        return "node is not on PATH (install Node.js 20+ to run the wiki-markup oracle)"
    if not _PARSER_PACKAGE.is_dir():
        return f"the wiki-markup oracle is not installed (run `{INSTALL_HINT}`)"
    return None


def render_wiki_to_adf(texts: Sequence[str]) -> list[Adf]:
    """Parse each wiki-markup string into an ADF document, in one Node process.

    Raises :class:`OracleUnavailableError` if node or node_modules are missing, and
    :class:`OracleError` if the process fails or the parser throws on an input.
    """
    reason = oracle_unavailable_reason()
    if reason is not None:
        raise OracleUnavailableError(reason)
    node = shutil.which("node")
    assert node is not None  # checked by oracle_unavailable_reason
    completed = subprocess.run(
        [node, str(RENDER_SCRIPT)],
        input=json.dumps(list(texts)),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=RENDER_TIMEOUT_SECONDS,
        cwd=ORACLE_DIR,
        check=False,
    )
    if completed.returncode != 0:
        raise OracleError(
            f"render.mjs exited with {completed.returncode}: {completed.stderr.strip()[-2000:]}"
        )
    documents = json.loads(completed.stdout)
    if not isinstance(documents, list) or len(documents) != len(texts):
        raise OracleError("render.mjs answered with a different number of documents")
    for text, document in zip(texts, documents, strict=True):
        if "error" in document:
            raise OracleError(f"the parser threw on {text!r}: {document['error']}")
    return documents


def _walk(node: Adf) -> Iterator[Adf]:
    yield node
    for child in node.get("content", ()):
        yield from _walk(child)


def live_constructs(adf: Adf) -> list[str]:
    """List every construct in the document that is not plain text in a paragraph.

    Nodes appear under their ADF type (``mention``, ``mediaSingle``, ``inlineCard``,
    ``panel``, ``codeBlock``, ``heading``, ``table``, ``tableCell``, ``bulletList``,
    ``listItem``, ``rule``, ``emoji``, ``hardBreak``, ``status``, ``expand``...), marks as
    ``mark:<type>`` (``mark:link``, ``mark:strong``, ``mark:code``...), once per occurrence
    and in document order, so two renderings can be compared as multisets. Node types are
    listed by exclusion (everything but doc/paragraph/text), so a construct unknown today
    is still reported.
    """
    found: list[str] = []
    for node in _walk(adf):
        node_type = str(node.get("type"))
        if node_type not in PLAIN_NODE_TYPES:
            found.append(node_type)
        found.extend(f"mark:{mark.get('type')}" for mark in node.get("marks", ()))
    return found


def plain_text(adf: Adf) -> str:
    """The text a reader sees: text nodes, with blocks and hard breaks as newlines.

    Inline nodes that show text of their own (mentions, emoji, cards) contribute it, so
    that a construct never hides what it displays.
    """
    parts: list[str] = []
    _collect_text(adf, parts)
    return "".join(parts).strip("\n")


def text_as_typed(adf: Adf) -> str:
    """`plain_text` with gonogo's word joiners dropped and each documented lookalike (a stand-in for
    a character wiki markup cannot escape) read back as the character it stands for."""
    seen = plain_text(adf).replace(WORD_JOINER, "")
    for original, lookalike in LOOKALIKES.items():
        seen = seen.replace(lookalike, original)
    return seen


def _collect_text(node: Adf, parts: list[str]) -> None:
    node_type = node.get("type")
    attrs: dict[str, Any] = node.get("attrs") or {}
    if node_type == "text":
        parts.append(str(node.get("text", "")))
    elif node_type == "hardBreak":
        parts.append("\n")
    elif node_type in {"mention", "emoji"}:
        parts.append(str(attrs.get("text") or attrs.get("shortName") or attrs.get("id", "")))
    elif node_type in {"inlineCard", "blockCard"}:
        parts.append(str(attrs.get("url", "")))
    for child in node.get("content", ()):
        _collect_text(child, parts)
    if node_type not in {"text", "hardBreak", "doc"} and node.get("content") is not None:
        parts.append("\n")
