"""`gonogo report`: search → assess every ticket → (post) → one portfolio, with Jira at the edges.

The request budget is the design (docs/portfolio.md): a read-only report of N tickets costs about
2 + N/100 requests, and `--post` reads again (with edit screens) only tickets whose recorded inputs
digest changed. It streams (a thread fetches the next page while this one judges the last), writes
on `concurrency` threads sharing one Throttle, and a ticket that fails is an error row.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from typing import Any, Protocol

from gonogo.core.errors import GonogoError, InputError, one_line
from gonogo.core.jira_shapes.changelog import changelog_is_complete, labels_added, read_histories
from gonogo.core.jira_shapes.comment_format import CommentAction, CommentBody, Publication
from gonogo.core.jira_shapes.site_fields import require_known_fields
from gonogo.core.pipeline.decisions import decision_labels
from gonogo.core.pipeline.findings import Assessment
from gonogo.core.pipeline.proposal import Proposal, resolve_field_ref
from gonogo.core.pipeline.ticket import PROJECT_KEY, Ticket, ticket_from_rest
from gonogo.core.pipeline.verdict_history import read_history
from gonogo.core.pipeline.waivers import is_waiver_label
from gonogo.core.portfolio.rows import Portfolio, Row, Totals, build_portfolio, error_row, row_from_assessment
from gonogo.core.portfolio.sections import closed_bids, outcomes_section
from gonogo.core.text import clipped
from gonogo.flows.assessor import ALWAYS_FETCHED, WAIVER_ORIGIN_FIELDS, Assessor
from gonogo.flows.check_ticket import post_verdict
from gonogo.jira.comment_plan import standing_comment
from gonogo.jira.gateway import JiraGateway
from gonogo.jira.rest import Page
from gonogo.jira.throttle import Throttle

log = logging.getLogger(__name__)

SEARCH_SWITCH_INTERVAL = 0.001  # seconds: see _fetched_ahead
CLOSED_FIELD = "resolutiondate"  # when the ticket was resolved: the verdict before it counts


class Progress(Protocol):
    """The CLI's progress line: after each search page (Cloud's has no total) and each ticket."""

    def searching(self, found: int, total: int | None) -> None: ...
    def checked(self) -> None: ...


@dataclass(frozen=True)
class ReportRequest:
    jql: str
    today: date
    post: bool = False
    concurrency: int = 8  # the fastest measured for writes at 50 ms a request (docs/portfolio.md)
    max_tickets: int = 100_000  # see docs/portfolio.md, "Options"
    since: date | None = None  # list the tickets whose verdict changed from this day on
    outcomes: bool = False  # closed bids: the verdict before closing against the outcome


@dataclass(frozen=True)
class ReportRun:
    portfolio: Portfolio
    jira_round_trips: int  # HTTP requests, for the log and the benchmark


def project_jql(project: str) -> str:
    """`--project KEY`: the project's open tickets. The key is checked, so it cannot inject JQL."""
    if not PROJECT_KEY.fullmatch(project):
        raise InputError(f"{clipped(project)!r} is not a project key: expected letters and digits, like BID")
    return f"project = {project.upper()} AND statusCategory != Done"


def run_report(
    request: ReportRequest,
    *,
    assessor: Assessor,
    connect: Callable[..., JiraGateway] = JiraGateway,
    throttle: Throttle | None = None,
    progress: Progress | None = None,
    on_row: Callable[[Row], object] | None = None,
) -> ReportRun:
    """Search, assess every ticket found, post if asked, and return the portfolio (only totals with
    `on_row`, which gets each row in the search's order). Raises GonogoError only for what stops the
    whole run (configuration, the search, too many tickets)."""
    jira = assessor.settings.jira
    shared = throttle or Throttle(max_hold_seconds=jira.max_retry_wait_seconds)
    gateways: list[JiraGateway] = []
    run = _Run(request, assessor, _GatewayPerThread(partial(connect, jira, throttle=shared), gateways))
    kept: list[Row] = []
    totals = Totals()
    keep = on_row or kept.append  # a summary needs every row; streamed, they are only counted
    with closing(_fetched_ahead(run.search())) as pages:
        try:
            for row in _settled_rows(pages, run, progress):
                totals.add(row)
                if progress is not None:
                    progress.checked()
                keep(row)
        except BaseException:  # Ctrl-C, a failed search: nothing sent from now on, no ticket half-written
            shared.stop()
            run.writer.shutdown(wait=False, cancel_futures=True)
            raise
    run.writer.shutdown()
    log.info("the search found %d ticket(s) (%s search)", totals.tickets, run.deployment.value)
    portfolio = build_portfolio(
        kept,
        query=request.jql,
        today=request.today,
        site=jira.browse_url,
        posted=request.post,
        since=request.since,
    )
    if on_row is not None:
        portfolio = replace(portfolio, totals=totals)
    if request.outcomes:
        outcomes = outcomes_section(
            closed_bids(portfolio.rows), checklists=assessor.checklists, thresholds=assessor.thresholds
        )
        portfolio = replace(portfolio, outcomes=outcomes)
    return ReportRun(portfolio, sum(gateway.round_trips for gateway in gateways))


def search_fields(assessor: Assessor, names: Mapping[str, str], *, post: bool = True) -> list[str]:
    """Field ids to search for: the ones every check reads, and each mapped field resolved to its id.
    A read-only report leaves out the embedded comments: on a busy ticket they are most of the bytes."""
    require_known_fields(assessor.configured_field_refs(), names)  # a typo stops the run up front
    always = [fid for fid in ALWAYS_FETCHED if post or fid != "comment"]
    return list(dict.fromkeys([*always, *field_ids(assessor, names).values()]))


def field_ids(assessor: Assessor, names: Mapping[str, str]) -> dict[str, str]:
    """Property → its field id on this site, once for the run; a name the site lacks is left out."""
    refs = assessor.field_map.items()
    return {p: fid for p, ref in refs if (fid := resolve_field_ref(ref, names=names, ids=names)) is not None}


def closed_on(ticket: Ticket) -> date | None:
    """The day Jira resolved the ticket (`resolutiondate`), or None when it says nothing usable."""
    raw = ticket.fields.get(CLOSED_FIELD)
    try:
        return date.fromisoformat(raw[:10]) if isinstance(raw, str) else None
    except ValueError:
        return None


class _GatewayPerThread(threading.local):
    """One gateway per thread, made on its first use there: its own connection pool and its own
    request count (every gateway made is also kept in `made`, for the run's total)."""

    def __init__(self, connect: Callable[[], JiraGateway], made: list[JiraGateway]) -> None:
        self.gateway = connect()
        made.append(self.gateway)


@dataclass(frozen=True)
class _Changed:
    """A ticket whose pointer does not record its inputs (digested without the edit screen, as an
    unchanged re-run, which never asks, finds it): its comment is made (and maybe written)."""

    ticket: Ticket
    inputs: str


class _Run:
    """One report's parts, resolved once from the site: its deployment (how to page), its field ids
    (what to search for, and how the assessor reads them) and the writers (started by the first write)."""

    def __init__(self, request: ReportRequest, assessor: Assessor, gateways: _GatewayPerThread) -> None:
        self.request = request
        self.jira = assessor.settings.jira
        self.gateways = gateways
        self.deployment = gateways.gateway.deployment()
        names = gateways.gateway.field_names()
        closed = [CLOSED_FIELD] if request.outcomes else []
        self.fields = search_fields(assessor, names, post=request.post) + closed
        self.field_names = {fid: names[fid] for fid in self.fields if fid in names}
        self.assessor = replace(assessor, field_map={**assessor.field_map, **field_ids(assessor, names)})
        self.writer = ThreadPoolExecutor(request.concurrency, thread_name_prefix="gonogo-report")

    def search(self, jql: str | None = None, *, expand: tuple[str, ...] = ("changelog",)) -> Iterator[Page]:
        """Search pages on the calling thread's gateway, refused once a total says there are too many."""
        for page in self.gateways.gateway.search(
            jql or self.request.jql,
            fields=self.fields,
            properties=[self.jira.comment_property],
            expand=list(expand),
            deployment=self.deployment,
        ):
            if page.total is not None and page.total > self.request.max_tickets:
                raise _too_many(self.request)
            yield page

    def read(self, raw: Any) -> Ticket | Row:
        """A Ticket from one search result (with the names the search did not repeat), or its error row."""
        key = raw.get("key") if isinstance(raw, dict) else None
        label = key if isinstance(key, str) else "(unknown key)"
        try:
            issue = {**raw, "names": dict(self.field_names)} if isinstance(raw, dict) else raw
            return ticket_from_rest(issue, origin=f"Jira's search result for {label}")
        except GonogoError as exc:
            issue_id = raw.get("id") if isinstance(raw, dict) else None
            return error_row(label, ticket_id=str(issue_id) if issue_id else None, error=one_line(exc))

    def judge_page(self, items: list[Ticket | Row]) -> list[Row | Future[Row]]:
        """Every ticket judged, and every write of the page under way before the first row settles."""
        judged = [item if isinstance(item, Row) else self.judge(item) for item in items]
        changed = [item.ticket for item in judged if isinstance(item, _Changed)]
        screens = self.edit_screens(changed) if changed else {}
        return [self.post(item, screens) if isinstance(item, _Changed) else item for item in judged]

    def judge(self, ticket: Ticket) -> Row | _Changed:
        """The ticket's row; with `--post`, `_Changed` when its comment may have to be written."""
        closed = closed_on(ticket) if self.request.outcomes else None
        try:
            if _needs_history(ticket, self.jira.label_prefix):
                ticket = self.gateways.gateway.fetch_ticket(
                    ticket.key, fields=[*self.fields, *WAIVER_ORIGIN_FIELDS]
                )
            today = closed or self.request.today  # a closed bid is judged as it stood
            assessment, proposal = self.assessor.assess_with_proposal(
                ticket, today=today, group_members=self.gateways.gateway.group_members, with_path=False
            )
        except Exception as exc:
            return _unchecked(ticket, exc)
        row = self.row(assessment, ticket, proposal, closed)
        if not self.request.post:
            return row
        try:
            inputs = self.assessor.inputs_digest(assessment, proposal)
            standing = standing_comment(
                ticket,
                property_key=self.jira.comment_property,
                inputs=inputs,
                verdict=assessment.verdict.value,
                label_prefix=self.jira.label_prefix,
            )
        except Exception as exc:
            return _not_posted(row, exc)
        if standing is None:
            return _Changed(ticket, inputs)
        return replace(row, publication=Publication(CommentAction.UNCHANGED, standing))

    def edit_screens(self, tickets: list[Ticket]) -> dict[str, Ticket]:
        """The tickets read again with their edit screens, by id: one search (ids are Jira's digits)."""
        ids = [ticket.id for ticket in tickets if ticket.id and ticket.id.isdigit()]
        found: dict[str, Ticket] = {}
        jql = f"id in ({', '.join(ids)})"
        try:
            for page in self.search(jql, expand=("changelog", "editmeta")) if ids else ():
                items = map(self.read, page.items)
                found.update((item.id, item) for item in items if isinstance(item, Ticket) and item.id)
        except GonogoError as exc:  # the path then proposes any option: worse, but no reason to stop
            log.warning("the edit screens could not be read (%s)", one_line(exc))
        return found

    def post(self, changed: _Changed, screens: Mapping[str, Ticket]) -> Row | Future[Row]:
        """Judge the ticket as `screens` has it, with its path to GO; a writer thread posts its comment."""
        ticket = screens.get(changed.ticket.id or "", changed.ticket)
        try:
            assessment, proposal = self.assessor.assess_with_proposal(
                ticket, today=self.request.today, group_members=self.gateways.gateway.group_members
            )
        except Exception as exc:
            return _unchecked(ticket, exc)
        row = self.row(assessment, ticket, proposal)
        try:
            body = self.assessor.renderer.comment_body(assessment, self.jira.comment_format)
        except Exception as exc:
            return _not_posted(row, exc)
        return self.writer.submit(self.write, assessment, body, ticket, changed.inputs, row)

    def write(self, assessment: Assessment, body: CommentBody, ticket: Ticket, inputs: str, row: Row) -> Row:
        """On a writer thread: post the rendered comment (waiting on Jira is all it does)."""
        try:
            gateway, today = self.gateways.gateway, self.request.today
            publication = post_verdict(
                assessment, body, ticket, gateway, jira=self.jira, today=today, inputs=inputs
            )
        except Exception as exc:
            return _not_posted(row, exc)
        return replace(row, publication=publication)

    def row(
        self, assessment: Assessment, ticket: Ticket, proposal: Proposal, closed: date | None = None
    ) -> Row:
        """The row with the pointer's history, the outcome, and the numbers an outcomes report compares."""
        outcome = proposal.values.get("outcome")
        return row_from_assessment(
            assessment,
            headline=self.assessor.renderer.headline(assessment),
            history=read_history(ticket.properties.get(self.jira.comment_property)),
            outcome=outcome if isinstance(outcome, str) else None,
            closed=closed,
            values={
                name: float(value)
                for name, value in proposal.values.items()
                if self.request.outcomes and isinstance(value, int | float) and not isinstance(value, bool)
            },
        )


def _settled_rows(pages: Iterable[Page], run: _Run, progress: Progress | None) -> Iterator[Row]:
    """Every page judged as it arrives, its rows settled in the search's order. At most twice
    `concurrency` tickets wait on their writes before the oldest is waited for."""
    found = 0
    seen: set[str] = set()
    waiting: deque[Row | Future[Row]] = deque()
    for page in pages:
        fresh = [item for item in map(run.read, page.items) if _first_time(item, seen)]
        found += len(fresh)
        if found > run.request.max_tickets:  # Cloud's search has no total: the count so far decides
            raise _too_many(run.request)
        if progress is not None:
            progress.searching(found, page.total)
        waiting.extend(run.judge_page(fresh))
        while waiting and (len(waiting) > 2 * run.request.concurrency or _settled(waiting[0])):
            yield _result(waiting.popleft())
    while waiting:
        yield _result(waiting.popleft())


def _fetched_ahead(pages: Iterator[Page]) -> Generator[Page]:
    """The pages, each fetched on a thread of its own while the one before is judged, so memory holds
    two at most; a failed search is raised here. Closing joins no thread: one may be waiting on Jira
    (Ctrl-C during a slow page); as a daemon it ends with its request."""
    # The judging holds the GIL, and every read of the next page waits for it: at the default 5 ms
    # switch interval the search thread fell behind on pages with comments (a --post re-run waited
    # 0.8 s for 2,000 tickets); at 1 ms it keeps ahead. Restored when the pages are done.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, SEARCH_SWITCH_INTERVAL))
    arrival: queue.SimpleQueue[Page | BaseException | None] = queue.SimpleQueue()  # None after the last

    def fetch() -> None:
        try:
            arrival.put(next(pages, None))
        except BaseException as exc:  # handed to the reader, who raises it
            arrival.put(exc)

    def fetch_next_page() -> None:
        threading.Thread(target=fetch, name="gonogo-search", daemon=True).start()

    try:
        fetch_next_page()
        while (page := arrival.get()) is not None:
            if isinstance(page, BaseException):
                raise page
            fetch_next_page()
            yield page
    finally:
        sys.setswitchinterval(interval)


def _needs_history(ticket: Ticket, label_prefix: str) -> bool:
    """Whether a waiver's or decision label's author needs a GET of its own: only when the search's
    changelog was cut short (Jira sends the most recent entries) and does not name them."""
    labels, decisions = ticket.fields.get("labels"), decision_labels(label_prefix)
    labels = labels if isinstance(labels, list) else []
    authored = [label for label in labels if is_waiver_label(label) or str(label).casefold() in decisions]
    if not authored or changelog_is_complete(ticket.changelog):
        return False
    added = labels_added(read_histories(ticket.changelog))
    return any(label.casefold() not in added for label in authored)


def _first_time(item: Ticket | Row, seen: set[str]) -> bool:
    """False for an issue met before: offset paging can repeat one when the result set shifts."""
    if isinstance(item, Row):
        return True
    identity = item.id or item.key
    if identity in seen:
        return False
    seen.add(identity)
    return True


def _settled(item: Row | Future[Row]) -> bool:
    """A row with nothing to write, or one whose write has finished: it can be yielded without waiting."""
    return isinstance(item, Row) or item.done()


def _result(item: Row | Future[Row]) -> Row:
    return item if isinstance(item, Row) else item.result()


def _unchecked(ticket: Ticket, exc: Exception) -> Row:
    """The error row of a ticket that could not be read or assessed."""
    summary = ticket.fields.get("summary")
    return error_row(
        ticket.key,
        ticket_id=ticket.id,
        summary=summary if isinstance(summary, str) else None,
        error=_why(exc, ticket.key),
    )


def _not_posted(row: Row, exc: Exception) -> Row:
    return replace(row, error=f"comment not posted: {_why(exc, row.key)}")


def _why(exc: Exception, key: str) -> str:
    """A GonogoError's own words; anything else is a bug, which must not cost the other tickets their row."""
    if isinstance(exc, GonogoError):
        return one_line(exc)
    log.debug("internal error on %s", key, exc_info=True)
    return f"internal error ({exc.__class__.__name__}); please report it"


def _too_many(request: ReportRequest) -> InputError:
    return InputError(
        f"the query finds more than {request.max_tickets} tickets: narrow the JQL, or raise --max-tickets"
    )
