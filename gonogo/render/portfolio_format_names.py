"""The names of `gonogo report`'s output formats and CSV sections: all `--help` needs of them.

Kept apart from `gonogo.render.portfolio_formats` (which renders them, with csv, json and the portfolio)
so that the command line can offer the choice without importing the renderers.
"""

FORMAT_DESCRIPTIONS: dict[str, str] = {
    "text": "a summary table for people",
    "json": "the documented JSON document",
    "csv": "one line per ticket, for a spreadsheet",
    "html": "one self-contained page with charts",
    "jsonl": "JSON Lines, one ticket per line",
}

# `--section` of `--format csv`: which of the report's tables to write.
CSV_SECTIONS = (
    "tickets",
    "rules",
    "missing",
    "changes",
    "outcomes",
    "bands",
    "rule-outcomes",
    "suggestions",
    "decisions",
    "decision-outcomes",
)
