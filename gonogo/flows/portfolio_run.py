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
from contextlib import closing, suppress
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from typing import Any, Protocol

from gonogo.core.errors import GonogoError, InputError
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
from gonogo.flows.assessor import WAIVER_ORIGIN_FIELDS, Assessor
from gonogo.flows.check_ticket import post_verdict, posted_inputs
from gonogo.jira.comment_plan import standing_comment
from gonogo.jira.gateway import Deployment, JiraGateway
from gonogo.jira.rest import Page
from gonogo.jira.throttle import Throttle
from gonogo.sources.config import JiraSettings

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 8  # the fastest measured for writes at 50 ms a request (docs/portfolio.md)
DEFAULT_MAX_TICKETS = 100_000  # see docs/portfolio.md, "Options"
SEARCH_SWITCH_INTERVAL = 0.001  # seconds: see _fetched_ahead
CLOSED_FIELD = "resolutiondate"  # when the ticket was resolved: the verdict before it counts


class Progress(Protocol):
    """The CLI's progress line: after each search page (Cloud's has no total) and each ticket."""

    def searching(self, found: int, total: int | None) -> None: ...
    def checked(self) -> None: ...


@dataclass(frozen=True)
class ReportRequest:
    """What the user asked for, as plain data (the CLI only fills this in)."""

    jql: str
    today: date
    post: bool = False
    concurrency: int = DEFAULT_CONCURRENCY
    max_tickets: int = DEFAULT_MAX_TICKETS
    since: date | None = None  # list the tickets whose verdict changed from this day on
    outcomes: bool = False  # closed bids: the verdict before closing against the outcome


@dataclass(frozen=True)
class ReportRun:
    """The portfolio, and how many HTTP requests it took (for the log and the benchmark)."""

    portfolio: Portfolio
    jira_round_trips: int


def project_jql(project: str) -> str:
    """`--project KEY`: the project's open tickets. The key is checked, so it cannot inject JQL."""
    if not PROJECT_KEY.fullmatch(project):
        raise InputError(f"{clipped(project)!r} is not a project key: expected letters and digits, like BID")
    return f"project = {project.upper()} AND statusCategory != Done"


def run_report(
    request: ReportRequest,
    *,
    assessor: Assessor,
    jira: JiraSettings,
    connect: Callable[..., JiraGateway] = JiraGateway,
    throttle: Throttle | None = None,
    progress: Progress | None = None,
    on_row: Callable[[Row], object] | None = None,
) -> ReportRun:
    """Search, assess every ticket found, post if asked, and return the portfolio (only totals with
    `on_row`, which gets each row in the search's order). Raises GonogoError only for what stops the
    whole run (configuration, the search, too many tickets)."""
    shared = throttle or Throttle(max_hold_seconds=jira.max_retry_wait_seconds)
    gateways = _GatewayPerThread(partial(connect, jira, throttle=shared))
    run = _start(request, assessor, jira, gateways)
    rows = _Rows(progress, on_row)
    with closing(_fetched_ahead(run.search())) as pages:
        try:
            found = _check_pages(pages, run, rows)
        except BaseException:  # Ctrl-C, a failed search: nothing sent from now on, no ticket half-written
            shared.stop()
            if run.writer is not None:
                run.writer.shutdown(wait=False, cancel_futures=True)
            raise
    if run.writer is not None:
        run.writer.shutdown()
    log.info("the search found %d ticket(s) (%s search)", found, run.deployment.value)
    return ReportRun(_portfolio(run, rows), gateways.round_trips())


def search_fields(assessor: Assessor, names: Mapping[str, str], *, post: bool = True) -> list[str]:
    """Field ids to search for: the ones every check reads, and each mapped field resolved to its id.

    A read-only report leaves out the embedded comments: on a busy ticket they are most of the bytes.
    """
    require_known_fields(assessor.configured_field_refs(), names)  # a typo stops the run up front
    always = replace(assessor, field_map={}).fields_to_fetch() or []  # the assessor's own base list
    always = [fid for fid in always if fid not in WAIVER_ORIGIN_FIELDS and (post or fid != "comment")]
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


@dataclass
class _Rows:
    """Where settled rows go: counted, then handed on (`on_row`) or kept (a summary needs them)."""

    progress: Progress | None
    on_row: Callable[[Row], object] | None
    kept: list[Row] = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)

    def settle(self, row: Row) -> None:
        self.totals.add(row)
        if self.progress is not None:
            self.progress.checked()
        if self.on_row is None:
            self.kept.append(row)
        else:
            self.on_row(row)


class _GatewayPerThread:
    """One gateway per thread: its own connection pool and its own request count."""

    def __init__(self, connect: Callable[[], JiraGateway]) -> None:
        self._connect = connect
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[JiraGateway] = []

    def get(self) -> JiraGateway:
        gateway: JiraGateway | None = getattr(self._local, "gateway", None)
        if gateway is None:
            gateway = self._local.gateway = self._connect()
            with self._lock:
                self._all.append(gateway)
        return gateway

    def round_trips(self) -> int:
        with self._lock:
            return sum(gateway.round_trips for gateway in self._all)


@dataclass(frozen=True)
class _Changed:
    """A ticket whose pointer does not record its inputs (digested without the edit screen, as an
    unchanged re-run, which never asks, finds it): its comment is made (and maybe written)."""

    ticket: Ticket
    inputs: str


@dataclass(frozen=True)
class _Run:
    """One report's parts, resolved once: what to search for, how to judge, where to write."""

    request: ReportRequest
    assessor: Assessor  # with the run's field ids
    jira: JiraSettings
    gateways: _GatewayPerThread
    fields: list[str]
    field_names: Mapping[str, str]
    deployment: Deployment
    writer: ThreadPoolExecutor | None  # None: read-only

    def search(self, jql: str | None = None, *, expand: tuple[str, ...] = ("changelog",)) -> Iterator[Page]:
        """Search pages on the calling thread's gateway, refused once a total says there are too many."""
        for page in self.gateways.get().search(
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
            return error_row(label, ticket_id=str(issue_id) if issue_id else None, error=_line(exc))

    def judge_page(self, items: list[Ticket | Row]) -> list[Row | Future[Row]]:
        """Every ticket judged, and every write of the page under way before the first row settles."""
        judged = [item if isinstance(item, Row) else self.judge(item) for item in items]
        changed = [item.ticket for item in judged if isinstance(item, _Changed)]
        screens = self.edit_screens(changed) if changed else {}
        return [
            self.post(item, screens.get(item.ticket.id or "", item.ticket))
            if isinstance(item, _Changed)
            else item
            for item in judged
        ]

    def judge(self, ticket: Ticket) -> Row | _Changed:
        """The ticket's row; with `--post`, `_Changed` when its comment may have to be written."""
        closed = closed_on(ticket) if self.request.outcomes else None
        try:
            if _needs_history(ticket, self.assessor.settings.jira.label_prefix):
                ticket = self.gateways.get().fetch_ticket(
                    ticket.key, fields=[*self.fields, *WAIVER_ORIGIN_FIELDS]
                )
            assessment, proposal = self.assessor.assess_with_proposal(
                ticket,
                today=closed or self.request.today,  # a closed bid is judged as it stood
                group_members=self.gateways.get().group_members,
                with_path=False,
            )
        except Exception as exc:
            return _unchecked(ticket, exc)
        row = self.row(assessment, ticket, proposal, closed)
        if self.writer is None:
            return row
        try:
            inputs = self.assessor.inputs_digest(assessment, proposal)
            standing = standing_comment(
                ticket,
                property_key=self.jira.comment_property,
                inputs=posted_inputs(inputs, self.jira),
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
        try:
            for page in (
                self.search(f"id in ({', '.join(ids)})", expand=("changelog", "editmeta")) if ids else ()
            ):
                items = map(self.read, page.items)
                found.update((item.id, item) for item in items if isinstance(item, Ticket) and item.id)
        except GonogoError as exc:  # the path then proposes any option: worse, but no reason to stop
            log.warning("the edit screens could not be read (%s)", _line(exc))
        return found

    def post(self, changed: _Changed, ticket: Ticket) -> Row | Future[Row]:
        """Judge `ticket` with its path to GO, render its comment here, and hand it to a writer thread."""
        try:
            assessment, proposal = self.assessor.assess_with_proposal(
                ticket, today=self.request.today, group_members=self.gateways.get().group_members
            )
        except Exception as exc:
            return _unchecked(ticket, exc)
        row = self.row(assessment, ticket, proposal)
        try:
            body = self.assessor.renderer.comment_body(assessment, self.jira.comment_format)
        except Exception as exc:
            return _not_posted(row, exc)
        assert self.writer is not None  # only --post has changed tickets
        return self.writer.submit(self.write, assessment, body, ticket, changed.inputs, row)

    def write(self, assessment: Assessment, body: CommentBody, ticket: Ticket, inputs: str, row: Row) -> Row:
        """On a writer thread: post the rendered comment (waiting on Jira is all it does)."""
        try:
            publication = post_verdict(
                assessment,
                body,
                ticket,
                self.gateways.get(),
                jira=self.jira,
                today=self.request.today,
                inputs=inputs,
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


def _start(
    request: ReportRequest, assessor: Assessor, jira: JiraSettings, gateways: _GatewayPerThread
) -> _Run:
    """The run's parts from the site: its deployment (how to page) and its field ids (what to search)."""
    main = gateways.get()
    deployment = main.deployment()
    names = main.field_names()
    fields = search_fields(assessor, names, post=request.post) + ([CLOSED_FIELD] if request.outcomes else [])
    return _Run(
        request,
        replace(assessor, field_map={**assessor.field_map, **field_ids(assessor, names)}),
        jira,
        gateways,
        fields,
        {fid: names[fid] for fid in fields if fid in names},
        deployment,
        ThreadPoolExecutor(request.concurrency, thread_name_prefix="gonogo-report") if request.post else None,
    )


def _check_pages(pages: Iterable[Page], run: _Run, rows: _Rows) -> int:
    """Judge every page as it arrives and settle rows in the search's order; how many were found.
    At most twice `concurrency` tickets wait on their writes before the oldest is waited for."""
    found = 0
    seen: set[str] = set()
    waiting: deque[Row | Future[Row]] = deque()
    for page in pages:
        fresh = [item for item in map(run.read, page.items) if _first_time(item, seen)]
        found += len(fresh)
        if found > run.request.max_tickets:  # Cloud's search has no total: the count so far decides
            raise _too_many(run.request)
        if rows.progress is not None:
            rows.progress.searching(found, page.total)
        waiting.extend(run.judge_page(fresh))
        while waiting and (len(waiting) > 2 * run.request.concurrency or _ready(waiting[0])):
            rows.settle(_result(waiting.popleft()))
    while waiting:
        rows.settle(_result(waiting.popleft()))
    return found


def _portfolio(run: _Run, rows: _Rows) -> Portfolio:
    request = run.request
    portfolio = build_portfolio(
        rows.kept,
        query=request.jql,
        today=request.today,
        site=run.jira.browse_url,
        posted=request.post,
        since=request.since,
    )
    if rows.on_row is not None:
        portfolio = replace(portfolio, totals=rows.totals)
    if request.outcomes:
        found, assessor = closed_bids(portfolio.rows), run.assessor
        report = outcomes_section(found, checklists=assessor.checklists, thresholds=assessor.thresholds)
        portfolio = replace(portfolio, outcomes=report)
    return portfolio


def _fetched_ahead(pages: Iterator[Page]) -> Generator[Page]:
    """The pages, fetched one ahead by a thread of their own, so memory holds two at most; a failed
    search is raised here. Closing does not join the thread: it may be waiting on Jira (Ctrl-C during
    a slow page); as a daemon it ends with its request."""
    ahead: queue.Queue[Page | BaseException | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def fetch() -> None:
        last: BaseException | None = None
        try:
            for page in pages:
                if stop.is_set():
                    return
                ahead.put(page)
        except BaseException as exc:  # handed to the reader, who raises it
            last = exc
        if not stop.is_set():  # nobody reads after a stop: a put would wait for ever
            ahead.put(last)

    # The judging holds the GIL, and every read of the next page waits for it: at the default 5 ms
    # switch interval the search thread fell behind on pages with comments (a --post re-run waited
    # 0.8 s for 2,000 tickets); at 1 ms it keeps ahead. Restored when the pages are done.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, SEARCH_SWITCH_INTERVAL))
    threading.Thread(target=fetch, name="gonogo-search", daemon=True).start()
    try:
        while (item := ahead.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        sys.setswitchinterval(interval)
        stop.set()
        with suppress(queue.Empty):  # a put in progress finds room, and nothing is put after it
            ahead.get_nowait()


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


def _ready(item: Row | Future[Row]) -> bool:
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
        return _line(exc)
    log.debug("internal error on %s", key, exc_info=True)
    return f"internal error ({exc.__class__.__name__}); please report it"


def _line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _too_many(request: ReportRequest) -> InputError:
    return InputError(
        f"the query finds more than {request.max_tickets} tickets: narrow the JQL, or raise --max-tickets"
    )
