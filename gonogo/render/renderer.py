"""Every text gonogo shows is rendered here, from templates, over the same Assessment.

Safety is structural: each environment's `finalize` seals (comment), strips (terminal) or escapes
(HTML) every printed value; only `Trusted` text, which gonogo produced itself, passes as it is.
Templates may be the team's, so every environment is Jinja's immutable sandbox offering only the
filters and globals named below (not `lipsum` or `cycler`, the classic ways out; docs/templates.md).
"""

from __future__ import annotations

import json
import re
import textwrap
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox

from gonogo import __version__
from gonogo.core.errors import ConfigurationError
from gonogo.core.jira_shapes.comment_format import CommentBody, CommentFormat
from gonogo.core.pipeline.findings import Assessment, Finding, FindingStatus, unrecorded_that_matter
from gonogo.core.pipeline.rules import Severity, fill_values
from gonogo.core.pipeline.ticket import ISSUE_KEY
from gonogo.core.text import display_value
from gonogo.redaction import redact
from gonogo.render import wikimarkup
from gonogo.render.codes import failed_title, question_text, refusal_text
from gonogo.render.document import (
    Document,
    ValueKind,
    compact_json,
    parse_document,
    seal,
    seal_unsealed,
    to_adf,
    to_wiki,
)
from gonogo.sources.resources import bundled_dir, bundled_vocabulary

COMMENT_TEMPLATE = "comment.jira.j2"
# Jira's default text field limit is 32,767 characters; leave room for what Jira adds. An ADF
# comment is held to it by its compact JSON, which is longer than its text: the safe reading.
COMMENT_CHAR_LIMIT = 32_000
_FIELD_TEXT_LIMIT = 1000  # a longer value is evidence, not a page to print: shortened
# The path to GO grouped by who acts: what to ask the customer, the team's calls, estimates, market facts.
_ACTOR_ORDER = {"customer": 0, "team": 1, "estimate": 2, "market": 3}
# Zero-width and bidirectional-override characters: ticket text must not reorder what people read.
_DIRECTION = r"\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_DIRECTION_CONTROLS = re.compile(f"[{_DIRECTION}]")
# Control characters (line breaks included: a value must not forge report lines) and the above.
_TERMINAL_UNSAFE = re.compile(rf"[\x00-\x1f\x7f-\x9f{_DIRECTION}]")
# The terminal's colours, in the order of their ANSI codes from 30.
_ANSI_COLOURS = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")
# Jinja's own filters a template may use besides gonogo's: plain data and text operations. Left
# out: those that make text live (`safe`, `urlize`, `xmlattr`, `tojson`), `attr`, `pprint`, `random`.
_JINJA_FILTERS = frozenset(
    (
        *("abs", "batch", "capitalize", "count", "d", "default", "dictsort", "first", "float", "format"),
        *("groupby", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min"),
        *("reject", "rejectattr", "replace", "reverse", "round", "select", "selectattr", "slice"),
        *("sort", "string", "sum", "title", "trim", "truncate", "unique", "upper", "wordcount"),
    )
)
# The sandbox's `range` is bounded; `namespace` is how a template keeps a value across a loop.
_GLOBALS = ("range", "namespace")
# What a template reads straight from the assessment, under the same name.
_ASSESSMENT_NAMES = ("coverage", "thresholds", "summary", "unmatched_waivers", "score", "approvers")


class Trusted(str):
    """Text produced by gonogo itself, printed as is; everything else is escaped for its target."""

    __slots__ = ()


def _shown(value: Any) -> str:
    """A value as text, secrets blanked before any escaping, shortening or sealing can split one
    (wiki escaping turns `api-token` into `api⁠\\-⁠token`, which no longer contains the token)."""
    return redact(display_value(value))


@dataclass(frozen=True)
class Renderer:
    """The template environments for one run (bundled templates, optionally overridden by a folder)."""

    document: jinja2.Environment
    text: jinja2.Environment
    html: jinja2.Environment

    def comment_body(self, assessment: Assessment, comment_format: str) -> CommentBody:
        """The Jira comment in one format (a `CommentFormat` or its name); long finding lists are
        shortened with a count, never cut."""
        as_adf = comment_format == CommentFormat.ADF
        fewer = reversed(range(len(_reportable(assessment))))
        for shown in (None, *fewer):  # all findings first
            document = self.comment_document(assessment, shown=shown)
            body = to_adf(document, verdict=assessment.verdict.value) if as_adf else to_wiki(document)
            if len(body if isinstance(body, str) else compact_json(body)) <= COMMENT_CHAR_LIMIT:
                return CommentBody(CommentFormat(comment_format), body)
        raise ConfigurationError(
            f"the verdict comment is longer than Jira allows ({COMMENT_CHAR_LIMIT} characters) even with "
            f"every finding left out: shorten {COMMENT_TEMPLATE} or the checklists' texts"
        )

    def comment_document(self, assessment: Assessment, *, shown: int | None = None) -> Document:
        """The comment's block structure, one for both formats, with every value sealed (see module)."""
        rendered = _render(self.document, COMMENT_TEMPLATE, self._context(assessment, shown))
        return parse_document(rendered, template=COMMENT_TEMPLATE)

    def headline(self, assessment: Assessment) -> str:
        """The one sentence under the verdict, also the portfolio's top reason and JSON `summary`."""
        return str(self._context(assessment, None)["headline"])

    def _context(self, assessment: Assessment, shown: int | None) -> dict[str, Any]:
        """What every assessment template may use (a team's copied template too: the names stay); a
        comment too long for Jira lists the first `shown` failed findings and counts the rest."""
        failed = _reportable(assessment)
        listed = failed[:shown]  # all of them when `shown` is None
        blockers, majors, minors = ([f for f in listed if f.rule.severity is s] for s in Severity)
        # Under a NO-GO, a major that looks only at what a failed blocker already condemned says the
        # same thing more weakly; listing it would bury the show-stoppers.
        condemned = {name for f in blockers for name in f.rule.uses}
        key = assessment.ticket_key
        context = {
            "a": assessment,
            **{name: getattr(assessment, name) for name in _ASSESSMENT_NAMES},
            # What a property's number counts, for sentences ("a first phase of at most 212 person-days").
            "units": {name: spec.unit for name, spec in bundled_vocabulary().properties.items() if spec.unit},
            "blockers": blockers,
            "majors": [f for f in majors if not set(f.rule.uses) <= condemned],
            "minors": minors,
            "left_out": len(failed) - len(listed),
            **_path_context(assessment, blockers),
            **{name: list(filter(keep, assessment.findings)) for name, keep in _FINDING_LISTS.items()},
            "deadline_passed": _deadline_passed(assessment),
            "unrecorded_names": _unrecorded_names(assessment),
            "verdict": assessment.verdict,
            # An issue key is Jira's identity for the ticket, not text anyone typed into it.
            "key": Trusted(key) if ISSUE_KEY.fullmatch(key) and key.isupper() else key,
            "missing": assessment.missing_information,
            "passed_blockers": _passed_blockers(assessment),
            "unusable": _unusable(assessment),
            "checklists": assessment.checklists,
            "version": __version__,
        }
        context["headline"] = " ".join(_render(self.text, "headline.txt.j2", context).split())
        return context

    def text_page(self, name: str, **context: Any) -> str:
        """Any other terminal text (checklist listings...), escaped like the report."""
        return _render(self.text, name, context)

    def html_page(self, name: str, **context: Any) -> str:
        """An HTML document; every value is HTML-escaped (attributes included) by autoescaping."""
        return _render(self.html, name, context)

    def text_report(self, assessment: Assessment, *, color: bool) -> str:
        return _render(self.text, "report.txt.j2", {**self._context(assessment, None), "color": color})


def make_renderer(template_dir: Path | None = None) -> Renderer:
    folders = [bundled_dir("templates")]
    if template_dir is not None:
        if not template_dir.is_dir():
            raise ConfigurationError(
                f"template folder {template_dir} does not exist: fix [templates].path in gonogo.toml"
            )
        folders.insert(0, template_dir)
    document = _environment(folders, _sealing, autoescape=False)
    # Every filter that returns Trusted must seal what it was given: `{{ value|escaped }}` in a
    # team's template must not turn ticket text into structure (a macro's sealed values are kept), and
    # `plural`'s count and noun may come from the ticket. Terminal and TOML filters have no business
    # in a comment and are left out (a template using one fails with a clear error).
    document.filters.update(
        failed_title=_sealed_failed_title,
        escaped=lambda text: Trusted(seal_unsealed(str(text))),
        plural=lambda count, singular, plural=None: Trusted(_sealing(str(_plural(count, singular, plural)))),
    )
    for terminal_only in ("wrap", "style", "toml"):
        del document.filters[terminal_only]
    return Renderer(
        document=document,
        text=_environment(folders, _for_terminal, autoescape=False),
        html=_environment(folders, _formatting_for_html, autoescape=True),
    )


def _for_terminal(value: Any) -> str:
    """The terminal's `finalize`: every printed value escaped, unless gonogo marked it Trusted."""
    return str(value) if isinstance(value, Trusted) else _escape_for_terminal(_shown(value))


def _sealing(value: Any) -> str:
    """The comment's `finalize`: every printed value shortened and sealed, unless it is Trusted;
    numbers, dates, yes/no and the verdict are gonogo's own formatting (FIXED), never escaped."""
    if isinstance(value, Trusted):
        return str(value)
    fixed = value is None or isinstance(value, (bool, int, float, date, Enum))
    text = wikimarkup.shorten(_shown(value), _FIELD_TEXT_LIMIT)
    return seal(text, ValueKind.FIXED if fixed else ValueKind.TEXT)


def _sealed_failed_title(finding: Any) -> Trusted:
    """The failed title for the comment, each value sealed on its own: sealed whole, "margin
    {margin_percent}%" would be one text value holding "-50", which wiki markup must escape. Falls
    back to the whole title when the evidence does not give back exactly the same text."""
    whole = failed_title(finding)
    values = {e.property: e.value for e in finding.evidence}
    title = finding.rule.failed_title or ""
    unknown: list[str] = []

    def shown(name: str, value: Any) -> str:
        if name not in values:
            unknown.append(name)
        return display_value(value)

    if fill_values(title, values, shown) != whole or unknown:
        return Trusted(_sealing(whole))
    return Trusted(seal_unsealed(fill_values(title, values, lambda _name, value: _sealing(value))))


def _formatting_for_html(value: Any) -> Any:
    """For HTML, autoescaping escapes; `finalize` formats values and neutralises text direction
    controls, as the terminal does: a ticket must not reorder the page's words."""
    if hasattr(value, "__html__"):  # markup the template itself made safe (markupsafe's protocol)
        return value
    return _DIRECTION_CONTROLS.sub(" ", _shown(value))


def _environment(
    folders: list[Path], finalize: Callable[[Any], Any], *, autoescape: bool
) -> jinja2.Environment:
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(folders),
        auto_reload=False,  # templates do not change during a run: no stat per render
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals = {name: env.globals[name] for name in _GLOBALS}
    env.filters = {name: env.filters[name] for name in _JINJA_FILTERS}
    # `escaped` marks a macro's output, whose values the macro escaped already: never twice.
    env.filters.update(style=_style, wrap=_wrap, plural=_plural, escaped=Trusted)
    # A TOML basic string (key or value) holding any text: JSON's escapes are TOML's, plus DEL.
    env.filters["toml"] = lambda v: Trusted(json.dumps(str(v), ensure_ascii=False).replace("\x7f", "\\u007f"))
    # The failed title as one value; `failed_title` is the comment's own, sealed in parts.
    env.filters.update(failed_title=failed_title, failed_title_text=failed_title)
    env.filters.update(refusal=refusal_text, asked=question_text)
    return env


def _escape_for_terminal(text: str) -> str:
    """Drop control characters so ticket text cannot move the cursor, recolour or retitle a
    terminal; shorten a long value as in the comment."""
    if len(text) > _FIELD_TEXT_LIMIT:
        text = text[:_FIELD_TEXT_LIMIT] + "…"
    return _TERMINAL_UNSAFE.sub(" ", text)


def _wrap(text: Any, width: int = 80, indent: int = 0) -> Trusted:
    """Wrap a value for the terminal: escaped first, so the only line breaks are gonogo's own."""
    lines = textwrap.wrap(_escape_for_terminal(_shown(text)), width, break_on_hyphens=False)
    return Trusted(("\n" + " " * indent).join(lines))


def _style(text: Any, color: bool, *, fg: str | None = None, bold: bool | None = None) -> str:
    """The ANSI codes click's `style` writes (bold False is explicitly not bold); the text is escaped."""
    safe = _escape_for_terminal(_shown(text))
    if not color:
        return safe
    if fg is not None and fg not in _ANSI_COLOURS:
        raise ValueError(f"unknown colour {fg!r}")
    codes = f"\x1b[{30 + _ANSI_COLOURS.index(fg)}m" if fg is not None else ""
    if bold is not None:
        codes += "\x1b[1m" if bold else "\x1b[22m"
    return Trusted(f"{codes}{safe}\x1b[0m")


def _plural(count: int, singular: str, plural: str | None = None) -> Trusted:
    return Trusted(f"{count} {singular if count == 1 else (plural or singular + 's')}")


def _reportable(assessment: Assessment) -> list[Any]:
    return [f for f in assessment.findings if f.outcome is FindingStatus.FAILED]


def _skipped(f: Finding) -> bool:
    """A check that did not run; one that could not ask for lack of data (`asks`) is no miss."""
    return f.outcome is FindingStatus.SKIPPED and not (f.unrecorded or f.on_hold or f.rule.asks)


# The findings a template may list under each name besides the failed ones, in the checklists' order.
_FINDING_LISTS: dict[str, Callable[[Finding], bool]] = {
    "judged_passed": lambda f: f.outcome is FindingStatus.PASSED and f.judges,
    "passed": lambda f: f.outcome is FindingStatus.PASSED,
    "waived": lambda f: f.outcome is FindingStatus.WAIVED,
    "waivers_not_applied": lambda f: f.waiver_not_applied,
    "on_hold": lambda f: f.on_hold is not None,
    "checked": lambda f: f.outcome not in (FindingStatus.SKIPPED, FindingStatus.WAIVED),
    "skipped": _skipped,
    "skipped_blockers": lambda f: _skipped(f) and f.rule.severity is Severity.BLOCKER,
    # Judging checks that could not run on this ticket's data (not those the site cannot record).
    "lacking_data": lambda f: _skipped(f) and f.judges,
}


def _passed_blockers(assessment: Assessment) -> list[Any]:
    """What makes a GO: show-stoppers that passed on values no waived risk looks at (a partial
    capability that only clears "none" is not a reason when its gap is waived)."""
    findings = assessment.findings
    waived_uses = {name for f in findings if f.outcome is FindingStatus.WAIVED for name in f.rule.uses}
    passed = (f for f in findings if f.outcome is FindingStatus.PASSED and not set(f.rule.uses) & waived_uses)
    return [f for f in passed if f.rule.severity is Severity.BLOCKER]


def _path_context(assessment: Assessment, blockers: list[Any]) -> dict[str, Any]:
    """The path to GO grouped by who acts; under a NO-GO, the changes that clear the show-stoppers
    come first and the rest is counted."""
    path = assessment.path
    steps = sorted(
        path.steps if path else (),
        key=lambda s: _ACTOR_ORDER.get(str(s.change.actor), 4) + 5 * (s.change.needed is None),
    )
    blocker_refs = {f.ref for f in blockers}
    main = [s for s in steps if not blocker_refs or blocker_refs & set(s.rules)]
    return {
        "path": path.steps if path else (),
        "path_by_actor": steps,
        "path_main": main,
        "path_rest": [s for s in steps if s not in main],
        "path_verified": bool(path and path.verified),
        "uncleared": path.uncleared if path else (),
    }


def _unrecorded_names(assessment: Assessment) -> list[str]:
    """What the site does not record that the verdict could have rested on, as a sentence names it:
    "liability", "payment terms" (the label without its unit, first letter lower case)."""
    names: dict[str, str] = {}
    matter = unrecorded_that_matter(assessment)
    for finding in sorted(matter, key=lambda f: f.rule.severity is not Severity.BLOCKER):
        for item in finding.evidence:
            if item.property in finding.unrecorded:
                label = re.sub(r"\s*\([^()]*\)$", "", item.label)
                names.setdefault(item.property, label[:1].lower() + label[1:])
    return list(names.values())


def _unusable(assessment: Assessment) -> list[Any]:
    """Evidence of skipped rules whose value the ticket has but gonogo could not use, once each;
    a value some question already asks about is said there."""
    asked = {m.property for m in assessment.missing_information}
    seen: dict[str, Any] = {}
    for finding in assessment.findings:
        if finding.outcome is FindingStatus.SKIPPED:
            for item in finding.evidence:
                if item.value is None and item.problem and item.property not in asked:
                    seen.setdefault(item.property, item)
    return list(seen.values())


def _deadline_passed(assessment: Assessment) -> bool:
    """A deadline in the past needs its own words: only the customer can reopen it."""
    days = (e.value for f in assessment.findings for e in f.evidence if e.property == "days_to_deadline")
    return any(isinstance(left, int) and left < 0 for left in days)


def _render(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateNotFound:
        raise ConfigurationError(f"template {name} not found in the template folders") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigurationError(f"{exc.filename or name}:{exc.lineno}: {exc.message}") from None
    except (jinja2.UndefinedError, jinja2.exceptions.SecurityError) as exc:
        # The template line that failed, from the traceback Jinja points at templates.
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else name
        raise ConfigurationError(f"template {where}: {exc.message}") from None
