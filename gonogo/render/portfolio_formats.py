"""The portfolio's output formats, one registry: text, json, csv, html.

The CLI's `--format` choices are this registry's keys, so a format cannot be offered without a
reporter behind it. Every reporter renders the same `Portfolio`; text and HTML go through
templates (wording lives there), JSON and CSV are data. This module imports nothing heavy at load
time because the CLI imports it for `--help`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gonogo import __version__
from gonogo.core.pipeline.verdict import WORST_FIRST, Verdict
from gonogo.redaction import redact, redact_data
from gonogo.render.portfolio_format_names import FORMAT_DESCRIPTIONS

if TYPE_CHECKING:
    from gonogo.core.pipeline.decisions import DecisionRecord
    from gonogo.core.portfolio.rows import Portfolio, Row
    from gonogo.render.renderer import Renderer

FORMAT_VERSION = 1
TEXT_TEMPLATE = "portfolio.txt.j2"
HTML_TEMPLATE = "portfolio.html.j2"
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_REASON_LABELS = {
    "blocker": "Show-stopper",
    "missing": "We need to know",
    "major": "Condition",
    "unchecked": "Not checked",
}
_VERDICTS = WORST_FIRST


@dataclass(frozen=True)
class ReportFormat:
    """One output format: its name on the command line, what it is for, and its reporter."""

    name: str
    description: str
    render: Callable[[Portfolio, Renderer, bool], str]  # (portfolio, renderer, colour) -> document


def render_text(portfolio: Portfolio, renderer: Renderer, color: bool) -> str:
    """The summary table for a terminal: totals, then one line per ticket, worst first."""
    return renderer.text_page(
        TEXT_TEMPLATE,
        p=portfolio,
        totals=portfolio.totals,
        verdicts=_VERDICTS,
        color=color,
        **_sections(portfolio),
    )


def _sections(portfolio: Portfolio) -> dict[str, Any]:
    """What the text and HTML templates show beyond the table, the same data JSON prints."""
    from gonogo.core.portfolio.sections import (
        changes_section,
        decisions_section,
        failures_section,
        outcomes_section,
        ticket_change,
    )

    return {
        "changes": [ticket_change(portfolio, row) for row in portfolio.rows],
        "failures": failures_section(portfolio),
        "since_changes": changes_section(portfolio),
        "outcomes": outcomes_section(portfolio),
        "labels": {v.value: v.label for v in _VERDICTS},
        "waivers": portfolio.waiver_section(),
        "decisions": decisions_section(portfolio),
    }


def portfolio_document(portfolio: Portfolio) -> dict[str, Any]:
    """The `--format json` document (gonogo/schemas/portfolio.schema.json describes it)."""
    from gonogo.core.portfolio.sections import (
        changes_section,
        decisions_section,
        failures_section,
        outcomes_section,
    )

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
        "failures": failures_section(portfolio),
        "since": portfolio.since.isoformat() if portfolio.since else None,
        "changes": changes_section(portfolio),
        "outcomes": outcomes_section(portfolio),
        "waivers": None if portfolio.outcomes is not None else _waivers(portfolio),
        "decisions": decisions_section(portfolio),
    }


def render_json(portfolio: Portfolio, renderer: Renderer, color: bool) -> str:
    # Redacted as data: JSON escapes quotes and backslashes, which would split a secret in the text.
    return json.dumps(redact_data(portfolio_document(portfolio)), indent=2, ensure_ascii=False) + "\n"


CSV_COLUMNS = (
    "key",
    "summary",
    "verdict",
    "score",
    "coverage",
    "reason_kind",
    "reason",
    "error",
    "comment",
    "url",
    "changed",
    "changed_on",
    "outcome",
    "decision",
    "decision_by",
    "decision_on",
    "decision_counts",
)


def render_csv(portfolio: Portfolio, renderer: Renderer, color: bool) -> str:
    """One line per ticket for a spreadsheet, worst first; no cell can start a formula."""
    return _tickets_csv(portfolio)


def render_jsonl(portfolio: Portfolio, renderer: Renderer, color: bool) -> str:
    """JSON Lines: one ticket per line, each an item of the JSON document's `tickets`."""
    return "".join(ticket_line(portfolio, row) for row in portfolio.rows)


def ticket_line(portfolio: Portfolio, row: Row) -> str:
    """One ticket as a line of JSON Lines."""
    return json.dumps(redact_data(_ticket(portfolio, row)), ensure_ascii=False) + "\n"


def csv_line(portfolio: Portfolio, row: Row) -> str:
    """One ticket as a line of the tickets CSV (its header is `CSV_HEADER`)."""
    return _csv_lines([_ticket_cells(portfolio, row)])


def _tickets_csv(portfolio: Portfolio) -> str:
    return _csv(CSV_COLUMNS, (_ticket_cells(portfolio, row) for row in portfolio.rows))


def _ticket_cells(portfolio: Portfolio, row: Row) -> tuple[Any, ...]:
    from gonogo.core.portfolio.sections import ticket_change

    return (
        row.key,
        row.summary or "",
        row.verdict.label if row.verdict else "ERROR",
        "" if row.score is None else row.score,
        f"{row.coverage.assessed}/{row.coverage.total}" if row.coverage else "",
        row.reason.kind.value if row.reason else "",
        row.reason.text if row.reason else "",
        row.error or "",
        row.publication.action.value if row.publication else "",
        portfolio.browse_url(row) or "",
        *_change_cells(ticket_change(portfolio, row)),
        row.outcome or "",
        *_decision_cells(row.decision),
    )


def _change_cells(change: dict[str, Any] | None) -> tuple[str, str]:
    if change is None:
        return "", ""
    return f"{_label(change['from'])} → {_label(change['to'])}", change["on"]


def _decision_cells(record: DecisionRecord | None) -> tuple[str, str, str, str]:
    """The decision on record, per ticket: a spreadsheet filters the bids against a NO-GO with it."""
    if record is None:
        return "", "", "", ""
    on = record.on.isoformat() if record.on else ""
    return record.decision.label, record.by or "", on, "yes" if record.counts else "no"


def _label(verdict: str) -> str:
    return Verdict(verdict).label


def _csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    return _csv_lines([columns]) + _csv_lines(rows)


def _csv_lines(rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(_cell(value) for value in row)
    return out.getvalue()


def _rate_cells(item: dict[str, Any]) -> list[Any]:
    counts = item["counts"]
    rate = item["win_rate"]
    return [
        *(counts[name] for name in counts),
        item["total"],
        item["decided"],
        item["won"],
        "" if rate is None else rate,
    ]


def _outcome_columns(first: Sequence[str]) -> list[str]:
    return [
        *first,
        "won",
        "lost",
        "withdrawn",
        "no-bid",
        "none",
        "total",
        "decided",
        "won_of_decided",
        "win_rate",
    ]


def csv_section(portfolio: Portfolio, section: str) -> str:
    """One of the report's sections as its own CSV (`--section`); `tickets` is the usual table."""
    from gonogo.core.portfolio.sections import changes_section, failures_section, outcomes_section

    if section == "tickets":
        return _tickets_csv(portfolio)
    if section in ("decisions", "decision-outcomes"):
        return _decisions_csv(portfolio, outcomes=section == "decision-outcomes")
    if section in ("rules", "missing"):
        failures = failures_section(portfolio)
        if section == "rules":
            return _csv(
                ["rule", "problem", "severity", "count", "share", "keys"],
                (
                    [r["rule"], r["problem"], r["severity"], r["count"], r["share"], " ".join(r["keys"])]
                    for r in failures["rules"]
                ),
            )
        return _csv(
            ["property", "label", "count", "share", "keys"],
            (
                [m["property"], m["label"], m["count"], m["share"], " ".join(m["keys"])]
                for m in failures["missing"]
            ),
        )
    if section == "changes":
        changes = changes_section(portfolio) or []
        return _csv(
            ["key", "summary", "from", "to", "on", "days_ago"],
            (
                [c["key"], c["summary"] or "", _label(c["from"]), _label(c["to"]), c["on"], c["days_ago"]]
                for c in changes
            ),
        )
    outcomes = outcomes_section(portfolio) or {
        "by_verdict": [],
        "by_band": [],
        "by_rule": [],
        "suggestions": [],
    }
    if section == "outcomes":
        return _csv(
            _outcome_columns(["verdict"]),
            ([_label(v["verdict"]), *_rate_cells(v)] for v in outcomes["by_verdict"]),
        )
    if section == "bands":
        return _csv(
            _outcome_columns(["score_from", "score_to"]),
            ([b["low"], b["high"], *_rate_cells(b)] for b in outcomes["by_band"]),
        )
    if section == "rule-outcomes":
        return _csv(
            _outcome_columns(["rule", "problem", "severity"]),
            ([r["rule"], r["problem"], r["severity"], *_rate_cells(r)] for r in outcomes["by_rule"]),
        )
    return _csv(
        ["threshold", "current", "suggested", "property", "direction", "edge", "bids"],
        (
            [
                s["threshold"],
                s["current"],
                s["suggested"],
                s["property"],
                s["direction"],
                s["edge"],
                s["bids"],
            ]
            for s in outcomes["suggestions"]
        ),
    )


def _decisions_csv(portfolio: Portfolio, *, outcomes: bool) -> str:
    """Decisions by verdict, or (with --outcomes) how each verdict's decisions ended."""
    from gonogo.core.portfolio.sections import decisions_section

    section = decisions_section(portfolio)
    if not outcomes:
        return _csv(
            ["verdict", "bid", "no_bid", "not_counted", "undecided", "total"],
            (
                [_label(v["verdict"]), v["bid"], v["no_bid"], v["not_counted"], v["undecided"], v["total"]]
                for v in section["by_verdict"]
            ),
        )
    rows = section["outcomes"]["by_verdict"] if section["outcomes"] else []
    return _csv(
        _outcome_columns(["verdict", "decision"]),
        ([_label(r["verdict"]), r["decision"], *_rate_cells(r)] for r in rows),
    )


def render_html(portfolio: Portfolio, renderer: Renderer, color: bool) -> str:
    """One self-contained page: totals, the charts, the teaching sections and a row per ticket."""
    from gonogo.render.portfolio_charts import section_charts

    return renderer.html_page(
        HTML_TEMPLATE,
        p=portfolio,
        totals=portfolio.totals,
        verdict_chart=verdict_chart(portfolio),
        score_chart=score_chart(portfolio),
        urls=[portfolio.browse_url(row) for row in portfolio.rows],
        reason_labels=_REASON_LABELS,
        version=__version__,
        **_sections(portfolio),
        **section_charts(portfolio),
    )


def verdict_chart(portfolio: Portfolio, *, bar_span: int = 300) -> dict[str, Any]:
    """Horizontal bars, one per verdict (and one for unchecked tickets when there are any)."""
    totals = portfolio.totals
    counts = [(v.value, v.label, totals.by_verdict.get(v, 0)) for v in _VERDICTS]
    if totals.unchecked:
        counts.append(("error", "Could not check", totals.unchecked))
    biggest = max((count for _, _, count in counts), default=0) or 1
    label_width, row_height = 150, 28
    bars = [
        {
            "kind": kind,
            "label": label,
            "count": count,
            "percent": round(100 * count / totals.tickets) if totals.tickets else 0,
            "y": index * row_height,
            "width": round(bar_span * count / biggest),
        }
        for index, (kind, label, count) in enumerate(counts)
    ]
    return {
        "bars": bars,
        "label_width": label_width,
        "width": label_width + bar_span + 90,
        "height": row_height * len(bars),
    }


def score_chart(portfolio: Portfolio, *, plot_height: int = 170) -> dict[str, Any]:
    """A histogram of bid scores in 10-point buckets, each bar stacked by verdict (worst at the bottom)."""
    buckets = portfolio.score_histogram()
    tallest = max((bucket.count for bucket in buckets), default=0)
    left, top, bar_width, gap = 28, 18, 34, 8
    base = top + plot_height
    columns = []
    for index, bucket in enumerate(buckets):
        x = left + gap + index * (bar_width + gap)
        y, stacked = base, 0
        segments = []
        for verdict in _VERDICTS:
            count = bucket.by_verdict.get(verdict, 0)
            if not count:
                continue
            # whole pixels, from cumulative counts: segments meet without a blended seam or a gap
            stacked += count
            top_y = base - round(plot_height * stacked / (tallest or 1))
            segments.append(
                {
                    "kind": verdict.value,
                    "label": verdict.label,
                    "count": count,
                    "y": top_y,
                    "height": y - top_y,
                }
            )
            y = top_y
        columns.append(
            {
                "low": bucket.low,
                "high": bucket.high,
                "count": bucket.count,
                "x": x,
                "top": y,
                "segments": segments,
            }
        )
    return {
        "columns": columns,
        "tallest": tallest,
        "left": left,
        "top": top,
        "base": base,
        "bar_width": bar_width,
        "width": left + gap + len(buckets) * (bar_width + gap),
        "height": base + 20,
    }


REPORT_FORMATS: dict[str, ReportFormat] = {
    f.name: f
    for f in (
        ReportFormat("text", FORMAT_DESCRIPTIONS["text"], render_text),
        ReportFormat("json", FORMAT_DESCRIPTIONS["json"], render_json),
        ReportFormat("csv", FORMAT_DESCRIPTIONS["csv"], render_csv),
        ReportFormat("html", FORMAT_DESCRIPTIONS["html"], render_html),
        ReportFormat("jsonl", FORMAT_DESCRIPTIONS["jsonl"], render_jsonl),
    )
}


@dataclass(frozen=True)
class StreamedFormat:
    """A format written a ticket at a time as tickets are checked, in the search's order.

    Its memory is flat in the number of tickets: nothing is kept once its line is written.
    """

    header: str
    line: Callable[[Portfolio, Row], str]  # (portfolio without rows: site and day; row) -> line


def _ticket(portfolio: Portfolio, row: Row) -> dict[str, Any]:
    from gonogo.core.portfolio.sections import ticket_change

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
        "coverage": (
            {"assessed": row.coverage.assessed, "total": row.coverage.total} if row.coverage else None
        ),
        "reason": (
            {"kind": row.reason.kind.value, "text": row.reason.text, "ref": row.reason.ref}
            if row.reason
            else None
        ),
        "error": row.error,
        "comment": (
            {"action": row.publication.action.value, "id": row.publication.comment_id}
            if row.publication
            else None
        ),
    }


def _waivers(portfolio: Portfolio) -> dict[str, Any]:
    """Counts by status, and every waiver: active ones soonest end first, then the ones not applied."""
    section = portfolio.waiver_section()
    expiring = set(section.expiring)
    listed = [*section.active, *(entry for entries in section.ended.values() for entry in entries)]
    return {
        "active": len(section.active),
        "expiring_soon": len(section.expiring),
        **{status.value: len(entries) for status, entries in section.ended.items()},
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
            for entry in listed
        ],
    }


def _cell(value: Any) -> Any:
    """Secrets blanked before quoting can split them; spreadsheet formulas in ticket text defused:
    a leading = + - @ gets a quote in front (OWASP)."""
    if not isinstance(value, str):
        return value
    value = redact(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


STREAMED_FORMATS: dict[str, StreamedFormat] = {
    "jsonl": StreamedFormat("", ticket_line),
    "csv": StreamedFormat(_csv_lines([CSV_COLUMNS]), csv_line),
}
