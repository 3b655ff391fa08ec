"""`gonogo report`'s output formats, one registry: its keys are the `--format` choices.

Every format renders the same `Portfolio`; text and HTML through templates (wording lives there),
JSON and CSV as data. `gonogo --help` imports this module for the choices, so the portfolio's
sections (which load jsonschema through the core's rules), the charts, redaction (which loads
logging) and the csv module are imported where they are used (bench/startup.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from gonogo import __version__
from gonogo.core.pipeline.verdict import WORST_FIRST, Verdict

if TYPE_CHECKING:
    from gonogo.core.pipeline.decisions import DecisionRecord
    from gonogo.core.portfolio.rows import Portfolio, Row
    from gonogo.render.renderer import Renderer

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
_OUTCOME_COLUMNS = (
    "won",
    "lost",
    "withdrawn",
    "no-bid",
    "none",
    "total",
    "decided",
    "won_of_decided",
    "win_rate",
)


class ReportFormat(NamedTuple):
    """One output format; `line` writes a ticket at a time as tickets are checked (flat memory)."""

    name: str
    description: str
    render: Callable[[Portfolio, Renderer, bool], str]  # (portfolio, renderer, colour) -> document
    header: str = ""
    line: Callable[[Portfolio, Row], str] | None = None  # (portfolio without rows, row) -> line


def render_text(portfolio: Portfolio, renderer: Renderer, color: bool) -> str:
    """The summary table for a terminal: totals, then one line per ticket, worst first."""
    return renderer.text_page(
        "portfolio.txt.j2", p=portfolio, totals=portfolio.totals, verdicts=WORST_FIRST, color=color,
        **_sections(portfolio),
    )  # fmt: skip


def _sections(portfolio: Portfolio) -> dict[str, Any]:
    """What the text and HTML templates show beyond the table, the same data JSON prints."""
    from gonogo.core.portfolio import sections  # noqa: PLC0415 - see the module docstring

    return {
        "changes": [sections.ticket_change(portfolio, row) for row in portfolio.rows],
        "failures": sections.failures_section(portfolio),
        "since_changes": sections.changes_section(portfolio),
        "outcomes": sections.outcomes_section(portfolio),
        "labels": {v.value: v.label for v in WORST_FIRST},
        "waivers": portfolio.waiver_section(),
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
        "tickets": [
            _ticket(portfolio, row, change)
            for row, change in zip(portfolio.rows, shown["changes"], strict=True)
        ],
        "failures": shown["failures"],
        "since": portfolio.since.isoformat() if portfolio.since else None,
        "changes": shown["since_changes"],
        "outcomes": shown["outcomes"],
        "waivers": None if portfolio.outcomes is not None else _waivers(portfolio),
        "decisions": shown["decisions"],
    }


def render_json(portfolio: Portfolio, renderer: Renderer, color: bool) -> str:
    from gonogo.redaction import redact_data  # noqa: PLC0415 - see the module docstring

    # Redacted as data: JSON escapes quotes and backslashes, which would split a secret in the text.
    return json.dumps(redact_data(portfolio_document(portfolio)), indent=2, ensure_ascii=False) + "\n"


def render_jsonl(portfolio: Portfolio, renderer: Renderer, color: bool) -> str:
    """JSON Lines: one ticket per line, each an item of the JSON document's `tickets`."""
    return "".join(ticket_line(portfolio, row) for row in portfolio.rows)


def ticket_line(portfolio: Portfolio, row: Row) -> str:
    from gonogo.redaction import redact_data  # noqa: PLC0415 - see the module docstring

    return (
        json.dumps(redact_data(_ticket(portfolio, row, _change(portfolio, row))), ensure_ascii=False) + "\n"
    )


def _change(portfolio: Portfolio, row: Row) -> dict[str, Any] | None:
    from gonogo.core.portfolio.sections import ticket_change  # noqa: PLC0415 - see the module docstring

    return ticket_change(portfolio, row)


def _ticket(portfolio: Portfolio, row: Row, change: dict[str, Any] | None) -> dict[str, Any]:
    coverage, reason, publication = row.coverage, row.reason, row.publication
    return {
        "change": change,
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


# --- CSV --------------------------------------------------------------------------------------


def render_csv(portfolio: Portfolio, renderer: Renderer, color: bool) -> str:
    """One line per ticket for a spreadsheet, worst first; no cell can start a formula."""
    return _tickets_csv(portfolio)


def _tickets_csv(portfolio: Portfolio) -> str:
    return _csv(CSV_COLUMNS, (_ticket_cells(portfolio, row) for row in portfolio.rows))


def csv_line(portfolio: Portfolio, row: Row) -> str:
    return _csv_lines([_ticket_cells(portfolio, row)])


def _ticket_cells(portfolio: Portfolio, row: Row) -> tuple[Any, ...]:
    coverage, reason = row.coverage, row.reason
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
        *_change_cells(_change(portfolio, row)),
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


def _picked(items: Iterable[dict[str, Any]], names: Sequence[str]) -> str:
    """A CSV of `names` taken from each item; a list of keys is one cell, space separated."""
    rows = ([" ".join(item[n]) if n == "keys" else item[n] for n in names] for item in items)
    return _csv(names, rows)


def _rates(items: Iterable[dict[str, Any]], keys: Sequence[str], headers: Sequence[str] = ()) -> str:
    """A win-rate table: the `keys` columns (a verdict by its label), then the counts and the rate."""

    def cells(item: dict[str, Any]) -> list[Any]:
        rate = item["win_rate"]
        leading = [_label(item[n]) if n == "verdict" else item[n] for n in keys]
        counts = [*item["counts"].values(), item["total"], item["decided"], item["won"]]
        return [*leading, *counts, "" if rate is None else rate]

    return _csv([*(headers or keys), *_OUTCOME_COLUMNS], (cells(item) for item in items))


def csv_section(portfolio: Portfolio, name: str) -> str:
    """One of the report's sections as its own CSV (`--section`); `tickets` is the usual table."""
    from gonogo.core.portfolio import sections  # noqa: PLC0415 - see the module docstring

    if name == "tickets":
        return _tickets_csv(portfolio)
    if name in ("rules", "missing"):
        failures = sections.failures_section(portfolio)
        if name == "rules":
            return _picked(failures["rules"], ["rule", "problem", "severity", "count", "share", "keys"])
        return _picked(failures["missing"], ["property", "label", "count", "share", "keys"])
    if name == "changes":
        rows = (
            [c["key"], c["summary"] or "", _label(c["from"]), _label(c["to"]), c["on"], c["days_ago"]]
            for c in sections.changes_section(portfolio) or []
        )
        return _csv(["key", "summary", "from", "to", "on", "days_ago"], rows)
    if name.startswith("decision"):
        return _decisions_csv(sections.decisions_section(portfolio), outcomes=name == "decision-outcomes")
    return _outcomes_csv(sections.outcomes_section(portfolio), name)


def _decisions_csv(decisions: dict[str, Any], *, outcomes: bool) -> str:
    """Decisions by verdict, or (with --outcomes) how each verdict's decisions ended."""
    if outcomes:
        rows = decisions["outcomes"]["by_verdict"] if decisions["outcomes"] else []
        return _rates(rows, ["verdict", "decision"])
    names = ["verdict", "bid", "no_bid", "not_counted", "undecided", "total"]
    return _csv(names, ([_label(v["verdict"]), *(v[n] for n in names[1:])] for v in decisions["by_verdict"]))


def _outcomes_csv(outcomes: dict[str, Any] | None, name: str) -> str:
    """The sections of `--outcomes`: win rates by verdict, score band and rule, threshold suggestions."""
    found = outcomes or {"by_verdict": [], "by_band": [], "by_rule": [], "suggestions": []}
    if name == "outcomes":
        return _rates(found["by_verdict"], ["verdict"])
    if name == "bands":
        return _rates(found["by_band"], ["low", "high"], ["score_from", "score_to"])
    if name == "rule-outcomes":
        return _rates(found["by_rule"], ["rule", "problem", "severity"])
    names = ["threshold", "current", "suggested", "property", "direction", "edge", "bids"]
    return _picked(found["suggestions"], names)


CSV_SECTIONS = (
    *("tickets", "rules", "missing", "changes", "outcomes", "bands", "rule-outcomes", "suggestions"),
    *("decisions", "decision-outcomes"),
)


# --- HTML -------------------------------------------------------------------------------------


def render_html(portfolio: Portfolio, renderer: Renderer, color: bool) -> str:
    """One self-contained page: totals, the charts, the teaching sections and a row per ticket."""
    from gonogo.render.portfolio_charts import section_charts  # noqa: PLC0415 - see the module docstring

    return renderer.html_page(
        "portfolio.html.j2",
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
    counts = [(v.value, v.label, totals.by_verdict.get(v, 0)) for v in WORST_FIRST]
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
        y, stacked, segments = base, 0, []
        for verdict in WORST_FIRST:
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
        x = left + gap + index * (bar_width + gap)
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
        ReportFormat("text", "a summary table for people", render_text),
        ReportFormat("json", "the documented JSON document", render_json),
        ReportFormat(
            "csv",
            "one line per ticket, for a spreadsheet",
            render_csv,
            ",".join(CSV_COLUMNS) + "\r\n",
            csv_line,
        ),
        ReportFormat("html", "one self-contained page with charts", render_html),
        ReportFormat("jsonl", "JSON Lines, one ticket per line", render_jsonl, "", ticket_line),
    )
}
