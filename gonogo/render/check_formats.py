"""`gonogo check`'s output formats, one registry: its keys are the `--format` choices.

Like check-jsonschema's reporters: a format cannot be offered without a renderer behind it.
`gonogo --help` imports this module, so what rendering needs beyond the `Renderer` it is given
(the JSON document, redaction, which loads logging) is imported when a format renders
(bench/startup.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from gonogo.core.jira_shapes.comment_format import CommentBody, CommentFormat, Publication
    from gonogo.core.pipeline.findings import Assessment
    from gonogo.render.renderer import Renderer


class CheckOutput(NamedTuple):
    """What one check produced, as the formats need it."""

    assessment: Assessment
    publication: Publication | None  # what happened to the ticket's comment; None: nothing posted
    comment: CommentBody | None  # the comment posted, or built for a dry run
    dry_run: bool
    fetched: bool  # the ticket came from Jira, not from a file
    site_format: CommentFormat  # the comment format the configured site takes


class CheckFormat(NamedTuple):
    name: str
    description: str
    render: Callable[[CheckOutput, Renderer, bool], str]  # (output, renderer, colour) -> text
    coloured: bool = False  # may colour a terminal


def _shown_comment(output: CheckOutput, renderer: Renderer) -> CommentBody | None:
    """The comment posted, or on a dry run the one the configured site would get."""
    if output.comment is None and output.dry_run:
        return renderer.comment_body(output.assessment, output.site_format)
    return output.comment


def render_text(output: CheckOutput, renderer: Renderer, colour: bool) -> str:
    """The report for people, then what happened to the comment (or what a dry run would post)."""
    text = renderer.text_report(output.assessment, color=colour)
    if output.publication is None and not output.dry_run:
        return text
    from gonogo.render.renderer import Trusted  # noqa: PLC0415 - loaded with the renderer given

    publication, comment = output.publication, _shown_comment(output, renderer)
    return text + renderer.text_page(
        "publication.txt.j2",
        action=publication.action.value if publication else None,
        comment_id=publication.comment_id if publication else None,
        deleted=publication.removed if publication else (),
        key=output.assessment.ticket_key,
        fetched=output.fetched,
        # The comment as printed for its format: its own line breaks, values already made safe.
        shown=Trusted(comment.printable() if comment else ""),
    )


def render_json(output: CheckOutput, renderer: Renderer, colour: bool) -> str:
    from gonogo.redaction import redact_data  # noqa: PLC0415 - see the module docstring
    from gonogo.render.check_json import report_document  # noqa: PLC0415 - as above

    comment = _shown_comment(output, renderer) if output.dry_run else None
    summary = renderer.headline(output.assessment)
    document = report_document(
        output.assessment, summary=summary, publication=output.publication, comment=comment
    )
    # Redacted as data: JSON escapes quotes and backslashes, which would split a secret in the text.
    return json.dumps(redact_data(document), indent=2, ensure_ascii=False) + "\n"


def comment_in(comment_format: str) -> Callable[[CheckOutput, Renderer, bool], str]:
    """The comment in one format (a `CommentFormat` value): the one posted when it is in that
    format, else rendered for it."""

    def render(output: CheckOutput, renderer: Renderer, colour: bool) -> str:
        if output.comment is not None and output.comment.format == comment_format:
            return output.comment.printable()
        return renderer.comment_text(output.assessment, comment_format)

    return render


CHECK_FORMATS: dict[str, CheckFormat] = {
    f.name: f
    for f in (
        CheckFormat("text", "a report for people", render_text, coloured=True),
        CheckFormat("json", "the documented JSON document", render_json),
        CheckFormat("jira", "the comment's wiki markup (Data Center, REST v2)", comment_in("jira")),
        CheckFormat(
            "adf",
            "the comment's Atlassian Document Format (Cloud, REST v3)",
            comment_in("adf"),
        ),
    )
}
