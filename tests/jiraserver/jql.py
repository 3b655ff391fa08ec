"""The tiny JQL subset the test server understands.

Supported: clauses joined by ``AND``; ``project``, ``key``/``issuekey``/``id``,
``status``, ``statusCategory`` and plain field ids with ``=``, ``!=``, ``in``
and ``not in``; an optional trailing ``ORDER BY key|id|created|updated
[ASC|DESC]``. Anything else is rejected with Jira's 400 so that a test notices
a query the fake would silently misread.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .model import StoredIssue

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|=|\(|\)|,)
      | (?P<word>[^\s=!(),"']+)
    )""",
    re.VERBOSE,
)
_ORDER_BY = re.compile(r"\s+order\s+by\s+(?P<spec>.*)$", re.IGNORECASE | re.DOTALL)
_ID_ORDERED = {"key", "issuekey", "id", "created", "updated"}


class JqlError(ValueError):
    """The query is outside the supported subset; the message is Jira's wording."""


@dataclass(frozen=True)
class Clause:
    """``field op values``; ``negate`` covers ``!=`` and ``not in``."""

    field: str
    values: tuple[str, ...]
    negate: bool


@dataclass(frozen=True)
class Query:
    """A parsed query: all clauses must hold; ``descending`` orders by id."""

    clauses: tuple[Clause, ...]
    descending: bool

    @property
    def unbounded(self) -> bool:
        """True for a query with no restriction, which Cloud's /search/jql refuses."""
        return not self.clauses


def parse(jql: str) -> Query:
    """Parse ``jql`` or raise ``JqlError``."""
    text, descending = _split_order_by(jql.strip())
    tokens = _tokenize(text)
    clauses: list[Clause] = []
    position = 0
    while position < len(tokens):
        clause, position = _parse_clause(tokens, position)
        clauses.append(clause)
        if position < len(tokens):
            if tokens[position].lower() != "and":
                raise JqlError(f"Error in the JQL Query: Expecting 'AND' but got '{tokens[position]}'.")
            position += 1
            if position == len(tokens):
                raise JqlError("Error in the JQL Query: Expecting a field name at the end.")
    return Query(clauses=tuple(clauses), descending=descending)


def _split_order_by(jql: str) -> tuple[str, bool]:
    match = _ORDER_BY.search(" " + jql)
    if match is None:
        return jql, False
    spec = match.group("spec").split()
    field = spec[0].lower() if spec else ""
    direction = spec[1].lower() if len(spec) > 1 else "asc"
    head = (" " + jql)[: match.start()].strip()
    return head, field in _ID_ORDERED and direction == "desc"


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise JqlError(f"Error in the JQL Query: unexpected character at {position}.")
        tokens.append(match.group(match.lastgroup or "word"))
        position = match.end()
    return tokens


def _parse_clause(tokens: list[str], position: int) -> tuple[Clause, int]:
    if position + 1 >= len(tokens):
        raise JqlError("Error in the JQL Query: the query is incomplete.")
    field = tokens[position].lower()
    operator = tokens[position + 1].lower()
    position += 2
    negate = False
    if operator == "not":
        if position >= len(tokens) or tokens[position].lower() != "in":
            raise JqlError("Error in the JQL Query: Expecting 'in' after 'not'.")
        operator, negate, position = "in", True, position + 1
    if operator in ("=", "!="):
        if position >= len(tokens):
            raise JqlError("Error in the JQL Query: Expecting a value.")
        return Clause(field, (_unquote(tokens[position]),), operator == "!="), position + 1
    if operator == "in":
        values, position = _parse_list(tokens, position)
        return Clause(field, values, negate), position
    raise JqlError(f"Error in the JQL Query: unsupported operator '{operator}'.")


def _parse_list(tokens: list[str], position: int) -> tuple[tuple[str, ...], int]:
    if position >= len(tokens) or tokens[position] != "(":
        raise JqlError("Error in the JQL Query: Expecting '(' after 'in'.")
    values: list[str] = []
    position += 1
    while position < len(tokens) and tokens[position] != ")":
        if tokens[position] != ",":
            values.append(_unquote(tokens[position]))
        position += 1
    if position >= len(tokens):
        raise JqlError("Error in the JQL Query: Expecting ')' to close the list.")
    return tuple(values), position + 1


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token


def _issue_values(issue: StoredIssue, field: str) -> set[str]:
    """The lower-cased values ``field`` has on ``issue`` (empty when it has none)."""
    extractor = _EXTRACTORS.get(field)
    values = extractor(issue) if extractor is not None else _plain_values(issue.fields.get(field))
    return {value.lower() for value in values}


def _plain_values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [text for item in value for text in _plain_values(item)]
    if isinstance(value, dict):
        return [str(value[name]) for name in ("value", "name", "key", "id") if name in value]
    return [str(value)]


def _status_category(issue: StoredIssue) -> list[str]:
    status = issue.fields.get("status")
    category = status.get("statusCategory") if isinstance(status, dict) else None
    if not isinstance(category, dict):
        return ["To Do", "new"]
    return [str(category[name]) for name in ("name", "key") if name in category]


_EXTRACTORS: dict[str, Callable[[StoredIssue], list[str]]] = {
    "project": lambda issue: [issue.project_key],
    "key": lambda issue: [issue.key, issue.id],
    "issuekey": lambda issue: [issue.key, issue.id],
    "id": lambda issue: [issue.key, issue.id],
    "status": lambda issue: _plain_values(issue.fields.get("status")),
    "statuscategory": _status_category,
}


def matches(query: Query, issue: StoredIssue) -> bool:
    """Whether ``issue`` satisfies every clause."""
    for clause in query.clauses:
        values = _issue_values(issue, clause.field)
        hit = any(wanted.lower() in values for wanted in clause.values)
        if hit == clause.negate:
            return False
    return True


def search(query: Query, issues: list[StoredIssue]) -> list[StoredIssue]:
    """Issues matching ``query`` in creation order (reversed for a DESC ordering).

    A field no issue has and JQL does not know is Jira's 400, not an empty result.
    """
    for clause in query.clauses:
        known = clause.field in _EXTRACTORS or clause.field.startswith("customfield_")
        if not known and not any(clause.field in issue.fields for issue in issues):
            raise JqlError(f"Field '{clause.field}' does not exist or you do not have permission to view it.")
    found = [issue for issue in issues if matches(query, issue)]
    return list(reversed(found)) if query.descending else found
