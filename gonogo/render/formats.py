"""The `--format` choices of `gonogo check` and `gonogo report`: one registry each, of one shape.

`gonogo --help` imports this module for the choices, so what a format needs beyond the `Renderer` it
is given (jsonschema for the documents and sections, logging for redaction; csv and json, 4% of
`--help`) is imported when it renders (bench/startup.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from gonogo import __version__
from gonogo.core.pipeline.verdict import WORST_FIRST, Verdict

if TYPE_CHECKING:
    from gonogo.core.jira_shapes.comment_format import CommentBody, Publication
    from gonogo.core.pipeline.decisions import DecisionRecord
    from gonogo.core.pipeline.findings import Assessment
    from gonogo.core.portfolio.rows import Portfolio, Row
    from gonogo.render.renderer import Renderer

Rendered = TypeVar("Rendered")  # what a command's formats render: a CheckOutput or a Portfolio
FORMAT_VERSION = 1
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_REASON_LABELS = {
    "blocker": "Show-stopper",
    "missing": "We need to know",
    "major": "Condition",
    "unchecked": "Not checked",
}
CSV_COLUMNS = (
    *("key", "summary", "verdict", "score", "coverage", "reason_kind", "reason", "error", "comment"),
    *("url", "changed", "changed_on", "outcome", "decision", "decision_by", "decision_on"),
    "decision_counts",
)
_RATES = ("won", "lost", "withdrawn", "no-bid", "none", "total", "decided", "won_of_decided", "win_rate")
# `--section NAME`: where its items are in the report's sections, and its columns; a column takes the
# item's value of the same name (of `_ITEM_KEYS[column]` if there), a verdict by its label.
CSV_SECTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "tickets": ((), CSV_COLUMNS),
    "rules": (("failures", "rules"), ("rule", "problem", "severity", "count", "share", "keys")),
    "missing": (("failures", "missing"), ("property", "label", "count", "share", "keys")),
    "changes": (("since_changes",), ("key", "summary", "from", "to", "on", "days_ago")),
    "outcomes": (("outcomes", "by_verdict"), ("verdict", *_RATES)),
    "bands": (("outcomes", "by_band"), ("score_from", "score_to", *_RATES)),
    "rule-outcomes": (("outcomes", "by_rule"), ("rule", "problem", "severity", *_RATES)),
    "suggestions": (
        ("outcomes", "suggestions"),
        ("threshold", "current", "suggested", "property", "direction", "edge", "bids"),
    ),
    "decisions": (
        ("decisions", "by_verdict"),
        ("verdict", "bid", "no_bid", "not_counted", "undecided", "total"),
    ),
    "decision-outcomes": (("decisions", "outcomes", "by_verdict"), ("verdict", "decision", *_RATES)),
}
_ITEM_KEYS = {"score_from": "low", "score_to": "high", "won_of_decided": "won"}


class OutputFormat(NamedTuple, Generic[Rendered]):
    """One output format, under its `--format` name in a registry; a streamed one (`line`) writes a
    ticket at a time as tickets are checked, after its document for no tickets (its header)."""

    description: str
    render: Callable[[Rendered, Renderer, bool], str]  # (what, renderer, colour) -> document
    line: Callable[[Portfolio, Row], str] | None = None  # (portfolio without rows, row) -> line


class CheckOutput(NamedTuple):
    """What one check produced, as the formats need it."""

    assessment: Assessment
    publication: Publication | None  # what happened to the ticket's comment; None: nothing posted
    # The comment posted, or the one a dry run would post; None: a ticket file checked without --dry-run.
    comment: CommentBody | None
    jira_round_trips: int | None  # None: the ticket came from a file, not from Jira


def _json(document: dict[str, Any], *, indent: int | None = 2) -> str:
    """Redacted as data: JSON escapes quotes and backslashes, which would split a secret in the text."""
    import json  # noqa: PLC0415 - see the module docstring

    from gonogo.redaction import redact_data  # noqa: PLC0415

    return json.dumps(redact_data(document), indent=indent, ensure_ascii=False) + "\n"


# --- gonogo check -------------------------------------------------------------------------------


def _check_text(output: CheckOutput, renderer: Renderer, colour: bool) -> str:
    """The report for people, then what happened to the comment (or what a dry run would post)."""
    text = renderer.text_report(output.assessment, color=colour)
    if output.comment is None:
        return text
    from gonogo.render.renderer import Trusted  # noqa: PLC0415 - loaded with the renderer given

    publication = output.publication
    return text + renderer.text_page(
        "publication.txt.j2",
        action=publication.action.value if publication else None,
        comment_id=publication.comment_id if publication else None,
        deleted=publication.removed if publication else (),
        key=output.assessment.ticket_key,
        fetched=output.jira_round_trips is not None,
        # The comment as printed for its format: its own line breaks, values already made safe.
        shown=Trusted(output.comment.printable()),
    )


def _check_json(output: CheckOutput, renderer: Renderer, colour: bool) -> str:
    from gonogo.render.check_json import report_document  # noqa: PLC0415 - see the module docstring

    return _json(report_document(output, summary=renderer.headline(output.assessment)))


def _comment(comment_format: str, output: CheckOutput, renderer: Renderer, colour: bool) -> str:
    """The comment in one format (by its `--format` name, which `gonogo --help` reads without loading
    the comment's model): the one posted or a dry run's when it is in that format, else rendered for it."""
    if output.comment is not None and output.comment.format == comment_format:
        return output.comment.printable()
    return renderer.comment_body(output.assessment, comment_format).printable()


# --- gonogo report ------------------------------------------------------------------------------


def _report_text(portfolio: Portfolio, renderer: Renderer, color: bool) -> str:
    return renderer.text_page(
        "portfolio.txt.j2",
        p=portfolio,
        totals=portfolio.totals,
        verdicts=WORST_FIRST,
        color=color,
        **_sections(portfolio),
    )


def _sections(portfolio: Portfolio) -> dict[str, Any]:
    """What the text and HTML templates show beyond the table, the same data JSON prints."""
    from gonogo.core.portfolio import sections  # noqa: PLC0415 - see the module docstring

    return {
        "changes": [sections.ticket_change(portfolio, row) for row in portfolio.rows],
        "failures": sections.failures_section(portfolio),
        "since_changes": sections.changes_section(portfolio),
        "outcomes": portfolio.outcomes,
        "labels": {v.value: v.label for v in WORST_FIRST},
        "waivers": sections.waivers_section(portfolio),
        "decisions": sections.decisions_section(portfolio),
    }


def portfolio_document(portfolio: Portfolio) -> dict[str, Any]:
    """The `--format json` document (gonogo/schemas/portfolio.schema.json describes it)."""
    shown = _sections(portfolio)
    totals = portfolio.totals
    return {
        "format": FORMAT_VERSION,
        "gonogo": __version__,
        "query": portfolio.query,
        "today": portfolio.today.isoformat(),
        "site": portfolio.site,
        "posted": portfolio.posted,
        "totals": {
            "tickets": totals.tickets,
            **{verdict.value: count for verdict, count in totals.by_verdict.items()},
            "unchecked": totals.unchecked,
            "failed": totals.failed,
            "comments": dict(totals.comments),
        },
        "tickets": [_ticket(portfolio, row) for row in portfolio.rows],
        "failures": shown["failures"],
        "since": portfolio.since.isoformat() if portfolio.since else None,
        "changes": shown["since_changes"],
        "outcomes": shown["outcomes"],
        "waivers": None if portfolio.outcomes is not None else _waivers(shown["waivers"]),
        "decisions": shown["decisions"],
    }


def ticket_line(portfolio: Portfolio, row: Row) -> str:
    """A JSON Lines line: an item of the JSON document's `tickets`."""
    return _json(_ticket(portfolio, row), indent=None)


def _ticket(portfolio: Portfolio, row: Row) -> dict[str, Any]:
    from gonogo.core.portfolio.sections import ticket_change  # noqa: PLC0415 - see the module docstring

    coverage, reason, publication = row.coverage, row.reason, row.publication
    return {
        "change": ticket_change(portfolio, row),
        "history": [entry.as_json() for entry in row.history],
        "outcome": row.outcome,
        "key": row.key,
        "id": row.ticket_id,
        "summary": row.summary,
        "url": portfolio.browse_url(row),
        "verdict": row.verdict.value if row.verdict else None,
        "score": row.score,
        "coverage": {"assessed": coverage.assessed, "total": coverage.total} if coverage else None,
        "reason": {"kind": reason.kind.value, "text": reason.text, "ref": reason.ref} if reason else None,
        "error": row.error,
        "comment": (
            {"action": publication.action.value, "id": publication.comment_id} if publication else None
        ),
    }


def _waivers(section: dict[str, Any]) -> dict[str, Any]:
    """Counts by status, and every waiver: active ones soonest end first, then the ones not applied."""
    expiring = set(section["expiring"])
    ended = section["ended"]
    return {
        "active": len(section["active"]),
        "expiring_soon": len(expiring),
        **{status: len(entries) for status, entries in ended.items()},
        "items": [
            {
                "key": entry.key,
                "rule": entry.rule,
                "label": entry.label,
                "status": entry.status.value,
                "requested_by": entry.requested_by,
                "approved_by": entry.approved_by,
                "approved_on": entry.approved_on.isoformat() if entry.approved_on else None,
                "expires_on": entry.expires_on.isoformat() if entry.expires_on else None,
                "expiring_soon": entry in expiring,
            }
            for entry in [*section["active"], *(entry for entries in ended.values() for entry in entries)]
        ],
    }


def _ticket_cells(portfolio: Portfolio, row: Row) -> tuple[Any, ...]:
    from gonogo.core.portfolio.sections import ticket_change  # noqa: PLC0415 - see the module docstring

    coverage, reason, change = row.coverage, row.reason, ticket_change(portfolio, row)
    return (
        row.key,
        row.summary or "",
        row.verdict.label if row.verdict else "ERROR",
        "" if row.score is None else row.score,
        f"{coverage.assessed}/{coverage.total}" if coverage else "",
        reason.kind.value if reason else "",
        reason.text if reason else "",
        row.error or "",
        row.publication.action.value if row.publication else "",
        portfolio.browse_url(row) or "",
        f"{Verdict(change['from']).label} → {Verdict(change['to']).label}" if change else "",
        change["on"] if change else "",
        row.outcome or "",
        *_decision_cells(row.decision),
    )


def _decision_cells(record: DecisionRecord | None) -> tuple[str, str, str, str]:
    """The decision on record, per ticket: a spreadsheet filters the bids against a NO-GO with it."""
    if record is None:
        return "", "", "", ""
    on = record.on.isoformat() if record.on else ""
    return record.decision.label, record.by or "", on, "yes" if record.counts else "no"


def csv_section(portfolio: Portfolio, name: str) -> str:
    """One of the report's sections as its own CSV (`--section`); `tickets` is the usual table."""
    where, columns = CSV_SECTIONS[name]
    if not where:
        return _csv_lines([columns, *(_ticket_cells(portfolio, row) for row in portfolio.rows)])
    found: Any = _sections(portfolio)
    for key in where:
        found = found[key] if found else None
    items = ({**item.get("counts", {}), **item} for item in found or [])
    return _csv_lines([columns, *([_csv_value(column, item) for column in columns] for item in items)])


def _csv_value(column: str, item: dict[str, Any]) -> Any:
    value = item[_ITEM_KEYS.get(column, column)]
    if column in ("verdict", "from", "to"):
        return Verdict(value).label
    return " ".join(value) if column == "keys" else value


def _csv_lines(rows: Iterable[Sequence[Any]]) -> str:
    import csv  # noqa: PLC0415 - see the module docstring
    import io  # noqa: PLC0415

    from gonogo.redaction import redact  # noqa: PLC0415

    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(_cell(value, redact) for value in row)
    return out.getvalue()


def _cell(value: Any, redact: Callable[[str], str]) -> Any:
    """Secrets blanked before quoting can split them; a leading = + - @ gets a quote (OWASP)."""
    if not isinstance(value, str):
        return value
    value = redact(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def _report_html(portfolio: Portfolio, renderer: Renderer, color: bool) -> str:
    from gonogo.render import portfolio_charts as charts  # noqa: PLC0415 - see the module docstring

    shown = _sections(portfolio)
    return renderer.html_page(
        "portfolio.html.j2",
        p=portfolio,
        totals=portfolio.totals,
        verdict_chart=charts.verdict_chart(portfolio),
        score_chart=charts.score_chart(portfolio),
        urls=[portfolio.browse_url(row) for row in portfolio.rows],
        reason_labels=_REASON_LABELS,
        version=__version__,
        **shown,
        **charts.section_charts(shown),
    )


CHECK_FORMATS: dict[str, OutputFormat[CheckOutput]] = {
    "text": OutputFormat("a report for people", _check_text),
    "json": OutputFormat("the documented JSON document", _check_json),
    "jira": OutputFormat("the comment's wiki markup (Data Center, REST v2)", partial(_comment, "jira")),
    "adf": OutputFormat("the comment's Atlassian Document Format (Cloud, REST v3)", partial(_comment, "adf")),
}
REPORT_FORMATS: dict[str, OutputFormat[Portfolio]] = {
    "text": OutputFormat("a summary table for people", _report_text),
    "json": OutputFormat("the documented JSON document", lambda p, _r, _c: _json(portfolio_document(p))),
    "csv": OutputFormat(
        "one line per ticket, for a spreadsheet",
        lambda p, _r, _c: csv_section(p, "tickets"),
        line=lambda p, row: _csv_lines([_ticket_cells(p, row)]),
    ),
    "html": OutputFormat("one self-contained page with charts", _report_html),
    "jsonl": OutputFormat(
        "JSON Lines, one ticket per line",
        lambda p, _r, _c: "".join(ticket_line(p, row) for row in p.rows),
        line=ticket_line,
    ),
}
