"""`gonogo report`: search → assess every ticket → (post) → one portfolio, with Jira at the edges.

The request budget is the design. The search asks for exactly the fields the checklists read,
gonogo's issue property (the pointer, with the digests of the comment last written and of what it
was made from) and the changelog (who added a waiver label), and when posting each ticket's edit
screen (the options a path to GO may propose), so one search page (up to 100 tickets) carries
everything an assessment and a later post need: no per-ticket GET. Jira returns only the most
recent changelog entries; a ticket is read again on its own only when that list was cut short and a
waiver label's author is not in it. Field ids for display-name mappings come from one `GET field`;
Cloud or Data Center from configuration, the host, or one serverInfo request. So a read-only report
of N tickets costs about 2 + N/100 requests, and `--post` adds only what changed: nothing for a
ticket whose comment, pointer and label would be identical, one issue edit (comment, pointer and
label together) for one that changed, two writes for a new comment (create, then pointer and label).

It streams. One thread fetches the next search page while this one judges the page before, and
each row is handed on (`on_row`: written by a streamed format) or kept (a summary needs rows, never
tickets), so memory holds a page or two, not the search. With `--post`, a ticket whose pointer
records the same inputs (`gonogo.core.pipeline.inputs_digest`) and whose comment stands is neither searched
for its path to GO nor rendered: the path is computed only for a comment that will be written.
The writes themselves are what `concurrency` threads do: they only wait on Jira, while judging
stays on this thread (threads do not make Python's judging faster). Each thread has its own
gateway (its own connection and request count), and they share one `Throttle`, so a 429 slows
everybody. A ticket that cannot be read, assessed or posted becomes an error row and the run goes
on; the exit code says so (README, "Exit codes"). A failure that stops the run (the search itself)
leaves every ticket either done or untouched, never half-written.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Protocol, TypedDict

from gonogo.core.errors import GonogoError, InputError
from gonogo.core.jira_shapes.changelog import changelog_is_complete, labels_added, read_histories
from gonogo.core.jira_shapes.comment_format import CommentBody
from gonogo.core.jira_shapes.publication import CommentAction, Publication
from gonogo.core.jira_shapes.site_fields import require_known_fields
from gonogo.core.pipeline.decisions import decision_labels
from gonogo.core.pipeline.findings import Assessment
from gonogo.core.pipeline.proposal import Proposal, resolve_field_ref
from gonogo.core.pipeline.ticket import PROJECT_KEY, Ticket, ticket_from_rest
from gonogo.core.pipeline.verdict_history import HistoryEntry, read_history
from gonogo.core.pipeline.waivers import is_waiver_label
from gonogo.core.portfolio.outcomes import closed_bid, outcome_summary
from gonogo.core.portfolio.rows import Portfolio, Row, Tally, build_portfolio, error_row, row_from_assessment
from gonogo.core.text import clipped
from gonogo.flows.assessor import WAIVER_ORIGIN_FIELDS, Assessor
from gonogo.flows.check_ticket import post_verdict, posted_inputs
from gonogo.jira.comment_plan import standing_comment
from gonogo.jira.gateway import Deployment, JiraGateway, SearchPage
from gonogo.jira.throttle import Throttle
from gonogo.sources.config import JiraSettings

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 8  # the fastest measured for writes at 50 ms a request (docs/portfolio.md)
DEFAULT_MAX_TICKETS = 100_000  # see docs/portfolio.md, "Options"
CLOSED_FIELD = "resolutiondate"  # when the ticket was resolved: the verdict before it counts


class RowFacts(TypedDict):
    history: tuple[HistoryEntry, ...]
    outcome: str | None
    closed: date | None
    judged_as_closed: bool
    values: dict[str, float]


class Connect(Protocol):
    """How the run gets a gateway: `JiraGateway.connect`, or a test's with a recording sleep."""

    def __call__(self, settings: JiraSettings, *, throttle: Throttle | None = ...) -> JiraGateway: ...


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


class Progress(Protocol):
    """Where the run reports progress; the CLI draws a line, tests and pipes see nothing.

    `searching` after each search page (Cloud's search has no total: None), `checked` per ticket.
    """

    def searching(self, found: int, total: int | None) -> None: ...
    def checked(self) -> None: ...


class _Silent:
    def searching(self, found: int, total: int | None) -> None:
        pass

    def checked(self) -> None:
        pass


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
    connect: Connect | None = None,
    throttle: Throttle | None = None,
    progress: Progress | None = None,
    on_row: Callable[[Row], None] | None = None,
) -> ReportRun:
    """Search, assess every ticket found, post if asked, and return the portfolio.

    `on_row` takes each row as soon as it is done, in the search's order, and the portfolio then
    holds the totals but no rows; without it the rows are kept and sorted worst first. `connect`
    builds a gateway (tests inject a recording sleep); `throttle` is shared by every gateway of the
    run (tests inject a virtual clock). Raises GonogoError only for what stops the whole run:
    configuration, the search itself, or a query that finds too many tickets.
    """
    if connect is None:
        connect = JiraGateway.connect
    progress = progress or _Silent()
    shared = throttle or Throttle(max_hold_seconds=jira.max_retry_wait_seconds)
    gateways = _GatewayPerThread(lambda: connect(jira, throttle=shared))
    main = gateways.get()
    deployment = main.deployment()
    names = main.field_names()
    fields = search_fields(assessor, names, post=request.post)
    if request.outcomes:
        fields.append(CLOSED_FIELD)
    field_names = {fid: names[fid] for fid in fields if fid in names}
    assessor = replace(assessor, field_map={**assessor.field_map, **field_ids(assessor, names)})
    kept: list[Row] = []
    tally = Tally()

    def settle(row: Row) -> None:
        tally.add(row)
        progress.checked()
        if on_row is None:
            kept.append(row)
        else:
            on_row(row)

    pages = _FetchedAhead(
        lambda: _within_limit(
            gateways.get().search(
                request.jql,
                fields=fields,
                properties=[jira.comment_property],
                expand=["changelog"],
                deployment=deployment,
            ),
            request,
        )
    )
    writer = (
        ThreadPoolExecutor(request.concurrency, thread_name_prefix="gonogo-report") if request.post else None
    )
    checker = _Checker(request, assessor, jira, (fields, field_names, deployment), gateways, writer)
    in_order = _InOrder(settle, ahead=2 * request.concurrency)
    try:
        found = _check_pages(pages, request, field_names, checker, in_order, progress)
    except BaseException:  # Ctrl-C or a failed search: no request is sent from now on, no ticket started
        shared.stop()
        pages.close()
        if writer is not None:
            writer.shutdown(wait=False, cancel_futures=True)
        raise
    if writer is not None:
        writer.shutdown()
    log.info("the search found %d ticket(s) (%s search)", found, deployment.value)
    portfolio = build_portfolio(
        kept,
        query=request.jql,
        today=request.today,
        site=jira.browse_url,
        posted=request.post,
        since=request.since,
    )
    if on_row is not None:
        portfolio = replace(portfolio, totals=tally.totals())
    if request.outcomes:
        bids = [bid for bid in map(closed_bid, portfolio.rows) if bid is not None]
        report = outcome_summary(bids, checklists=assessor.checklists, thresholds=assessor.thresholds)
        portfolio = replace(portfolio, outcomes=report)
    return ReportRun(portfolio, gateways.round_trips())


def _check_pages(
    pages: Iterable[SearchPage],
    request: ReportRequest,
    field_names: Mapping[str, str],
    checker: _Checker,
    in_order: _InOrder,
    progress: Progress,
) -> int:
    """Check every ticket of every page as the page arrives; how many tickets the search found.

    With `--post`, the tickets of a page whose comment may change are read again in one search
    with their edit screens (the options a path to GO may propose): an unchanged ticket needs none,
    and edit screens are most of a page's bytes.
    """
    found = 0
    seen: set[str] = set()
    for page in pages:
        items = [_ticket_or_error(raw, field_names) for raw in page.issues]
        fresh = [item for item in items if _first_time(item, seen)]
        found += len(fresh)
        if found > request.max_tickets:
            raise _too_many(request)
        progress.searching(found, page.total)
        judged = [item if isinstance(item, Row) else checker.check(item) for item in fresh]
        changed = [item.ticket for item in judged if isinstance(item, _Changed)]
        screens = checker.edit_screens(changed) if changed else {}
        done = [  # every write of the page under way before the first row is settled
            checker.post(item, screens.get(item.ticket.id or "", item.ticket))
            if isinstance(item, _Changed)
            else item
            for item in judged
        ]
        for item in done:
            in_order.add(item)
    in_order.finish()
    return found


def search_fields(assessor: Assessor, names: Mapping[str, str], *, post: bool = True) -> list[str]:
    """Field ids to search for: the ones every check reads, and each mapped field resolved to its id.

    A display name is resolved with Jira's field list the way a check resolves it against one
    ticket (case-insensitive), so report and check see the same fields; a name that two fields
    share is refused up front instead of failing every ticket the same way. The embedded comments
    only tell posting whether a ticket has none (no scan for an old gonogo comment needed), so a
    read-only report leaves them out: on a busy ticket they are most of the search's bytes.
    """
    require_known_fields(assessor.configured_field_refs(), names)  # a typo in [fields] stops the run
    always = replace(assessor, field_map={}).fields_to_fetch() or []  # the assessor's own base list
    always = [field_id for field_id in always if field_id not in WAIVER_ORIGIN_FIELDS]
    if not post:
        always = [field_id for field_id in always if field_id != "comment"]
    return list(dict.fromkeys([*always, *field_ids(assessor, names).values()]))


def field_ids(assessor: Assessor, names: Mapping[str, str]) -> dict[str, str]:
    """Property → the id of its field on this site, for every mapped field the site has.

    A name the site lacks (a default) is left out: every ticket will say so as missing
    information. The run judges with these ids, resolved once rather than on every ticket.
    """
    resolved = {
        prop: resolve_field_ref(ref, names=names, ids=names) for prop, ref in assessor.field_map.items()
    }
    return {prop: field_id for prop, field_id in resolved.items() if field_id is not None}


class _Checker:
    """One ticket at a time, never raising: a failure becomes the row's error and the run goes on."""

    def __init__(
        self,
        request: ReportRequest,
        assessor: Assessor,
        jira: JiraSettings,
        search: tuple[list[str], Mapping[str, str], Deployment],  # the run's fields, their names, paging
        gateways: _GatewayPerThread,
        writer: ThreadPoolExecutor | None,
    ) -> None:
        self.request = request
        self.assessor = assessor
        self.jira = jira
        self.fields, self.field_names, self.deployment = search
        self.gateways = gateways
        self.writer = writer  # None: read-only

    def edit_screens(self, tickets: list[Ticket]) -> dict[str, Ticket]:
        """The tickets read again with their edit screens, by id: one search (ids are Jira's digits)."""
        ids = [ticket.id for ticket in tickets if ticket.id and ticket.id.isdigit()]
        found: dict[str, Ticket] = {}
        pages = self.gateways.get().search(
            f"id in ({', '.join(ids)})",
            fields=self.fields,
            properties=[self.jira.comment_property],
            expand=["changelog", "editmeta"],
            deployment=self.deployment,
        )
        try:
            for page in pages if ids else ():
                items = (_ticket_or_error(raw, self.field_names) for raw in page.issues)
                found.update((item.id, item) for item in items if isinstance(item, Ticket) and item.id)
        except GonogoError as exc:  # the path then proposes any option: worse, but no reason to stop
            log.warning("the edit screens could not be read (%s)", _line(exc))
        return found

    def check(self, ticket: Ticket) -> Row | _Changed:
        """The ticket's row; with `--post`, `_Changed` when its comment may have to be written."""
        closed = closed_on(ticket) if self.request.outcomes else None
        today = closed or self.request.today  # a closed bid is judged as it stood, not by deadlines long past
        try:
            if _needs_history(ticket, self.assessor.label_prefix):
                ticket = self.gateways.get().fetch_ticket(
                    ticket.key, fields=[*self.fields, *WAIVER_ORIGIN_FIELDS]
                )
            assessment, proposal = self.assessor.assess_with_proposal(
                ticket, today=today, group_members=self.gateways.get().group_members, with_path=False
            )
        except Exception as exc:
            return _unchecked(ticket, exc)
        facts = _row_facts(ticket, proposal, self.jira, closed, outcomes=self.request.outcomes)
        if self.writer is None:
            return row_from_assessment(assessment, **facts)
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
            return _not_posted(assessment, exc, ticket, facts)
        if standing is not None:  # made from these very inputs: nothing to judge further or write
            return row_from_assessment(
                assessment, publication=Publication(CommentAction.UNCHANGED, standing), **facts
            )
        return _Changed(ticket, inputs)

    def post(self, changed: _Changed, ticket: Ticket) -> Row | Future[Row]:
        """Judge `ticket` (the changed one, read again with its edit screen) with its path to GO,
        render its comment, and hand it to a writer; the row once it is written."""
        try:
            assessment, proposal = self.assessor.assess_with_proposal(
                ticket, today=self.request.today, group_members=self.gateways.get().group_members
            )
        except Exception as exc:
            return _unchecked(ticket, exc)
        facts = _row_facts(ticket, proposal, self.jira, None, outcomes=False)
        try:
            body = self.assessor.renderer.comment_body(assessment, self.jira.comment_format)
        except Exception as exc:
            return _not_posted(assessment, exc, ticket, facts)
        assert self.writer is not None  # only --post has changed tickets
        return self.writer.submit(self._post, assessment, body, ticket, changed.inputs, facts)

    def _post(
        self, assessment: Assessment, body: CommentBody, ticket: Ticket, inputs: str, facts: RowFacts
    ) -> Row:
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
            return _not_posted(assessment, exc, ticket, facts)
        return row_from_assessment(assessment, publication=publication, **facts)


@dataclass(frozen=True)
class _Changed:
    """A ticket whose pointer does not record its inputs: its comment is made (and maybe written).

    `inputs` is the digest of the ticket as the search brought it, without its edit screen, so
    that an unchanged re-run, which never asks for edit screens, finds the same digest.
    """

    ticket: Ticket
    inputs: str


def _unchecked(ticket: Ticket, exc: Exception) -> Row:
    """The error row of a ticket that could not be read or assessed."""
    if isinstance(exc, GonogoError):
        return error_row(ticket.key, ticket_id=ticket.id, summary=_summary(ticket), error=_line(exc))
    # a bug on one ticket must not cost the other thousand their report
    log.debug("internal error on %s", ticket.key, exc_info=True)
    return error_row(
        ticket.key,
        ticket_id=ticket.id,
        summary=_summary(ticket),
        error=f"internal error ({exc.__class__.__name__}); please report it",
    )


def _not_posted(assessment: Assessment, exc: Exception, ticket: Ticket, facts: RowFacts) -> Row:
    """The row of an assessed ticket whose comment could not be rendered or posted, saying why."""
    if isinstance(exc, GonogoError):
        return row_from_assessment(assessment, error=f"comment not posted: {_line(exc)}", **facts)
    # as for assessing: one ticket's bug is its row's error, not the run's end
    log.debug("internal error posting %s", ticket.key, exc_info=True)
    return row_from_assessment(
        assessment,
        error=f"comment not posted: internal error ({exc.__class__.__name__}); please report it",
        **facts,
    )


def _row_facts(
    ticket: Ticket, proposal: Proposal, jira: JiraSettings, closed: date | None, *, outcomes: bool
) -> RowFacts:
    """What a row carries besides the assessment: history, outcome, close date, the proposal's numbers."""
    outcome = proposal.values.get("outcome")
    return {
        "history": read_history(ticket.properties.get(jira.comment_property)),
        "outcome": outcome if isinstance(outcome, str) else None,
        "closed": closed,
        "judged_as_closed": closed is not None,
        "values": {  # what an outcomes report compares with thresholds; other reports need none
            name: float(value)
            for name, value in proposal.values.items()
            if outcomes and isinstance(value, int | float) and not isinstance(value, bool)
        },
    }


def closed_on(ticket: Ticket) -> date | None:
    """The day Jira resolved the ticket (`resolutiondate`), or None when it says nothing usable."""
    raw = ticket.fields.get(CLOSED_FIELD)
    if not isinstance(raw, str):
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        return None


def _needs_history(ticket: Ticket, label_prefix: str) -> bool:
    """Whether a waiver's or a decision label's author must be read with a GET of its own: only when
    the changelog the search brought was cut short (Jira sends the most recent entries) and does not
    name them."""
    labels = ticket.fields.get("labels")
    decisions = decision_labels(label_prefix)
    waivers = (
        [label for label in labels if is_waiver_label(label) or str(label).casefold() in decisions]
        if isinstance(labels, list)
        else []
    )
    if not waivers or changelog_is_complete(ticket.changelog):
        return False
    added = labels_added(read_histories(ticket.changelog))
    return any(label.casefold() not in added for label in waivers)


def _ticket_or_error(raw: Any, names: Mapping[str, str]) -> Ticket | Row:
    """A Ticket from one search result (with the field names the search did not repeat), or its error row."""
    key = raw.get("key") if isinstance(raw, dict) else None
    label = key if isinstance(key, str) else "(unknown key)"
    try:
        issue = {**raw, "names": dict(names)} if isinstance(raw, dict) else raw
        return ticket_from_rest(issue, origin=f"Jira's search result for {label}")
    except GonogoError as exc:
        issue_id = raw.get("id") if isinstance(raw, dict) else None
        return error_row(label, ticket_id=str(issue_id) if issue_id else None, error=_line(exc))


def _within_limit(pages: Iterator[SearchPage], request: ReportRequest) -> Iterator[SearchPage]:
    """The pages, refused as soon as a total says the query finds too many (before the next page).

    Cloud's search has no total: there the tickets counted so far decide (`_check_pages`).
    """
    for page in pages:
        if page.total is not None and page.total > request.max_tickets:
            raise _too_many(request)
        yield page


def _first_time(item: Ticket | Row, seen: set[str]) -> bool:
    """False for an issue met before: offset paging can repeat one when the result set shifts."""
    if isinstance(item, Row):
        return True
    identity = item.id or item.key
    if identity in seen:
        return False
    seen.add(identity)
    return True


class _InOrder:
    """Rows settled in the search's order, with at most `ahead` tickets waiting on their writes."""

    def __init__(self, settle: Callable[[Row], None], *, ahead: int) -> None:
        self._settle = settle
        self._ahead = ahead
        self._waiting: deque[Row | Future[Row]] = deque()

    def add(self, item: Row | Future[Row]) -> None:
        self._waiting.append(item)
        while self._waiting and (
            len(self._waiting) > self._ahead or isinstance(self._waiting[0], Row) or self._waiting[0].done()
        ):
            self._settle(_result(self._waiting.popleft()))

    def finish(self) -> None:
        while self._waiting:
            self._settle(_result(self._waiting.popleft()))


def _result(item: Row | Future[Row]) -> Row:
    return item if isinstance(item, Row) else item.result()


_END = object()


class _FetchedAhead:
    """Search pages fetched by a thread of their own, one page ahead of the caller that judges them.

    At most one page waits while another is judged, so memory holds two pages whatever the search
    finds. A failed search is raised where the pages are read; `close` stops the fetching.
    """

    def __init__(self, pages: Callable[[], Iterator[SearchPage]]) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._fetch, args=(pages,), name="gonogo-search", daemon=True)
        self._thread.start()

    def _fetch(self, pages: Callable[[], Iterator[SearchPage]]) -> None:
        try:
            for page in pages():
                if self._stop.is_set():
                    return
                self._queue.put(page)
        except BaseException as exc:  # handed to the reader, who raises it
            if not self._stop.is_set():
                self._queue.put(exc)
            return
        if not self._stop.is_set():
            self._queue.put(_END)

    def __iter__(self) -> Iterator[SearchPage]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, SearchPage)
            yield item

    def close(self) -> None:
        """Stop fetching: a put in progress finds room, and nothing is put after it.

        Not joined: the thread may be waiting on Jira (Ctrl-C during a slow page), and it is a
        daemon, so it ends with its request or with the process.
        """
        self._stop.set()
        with suppress(queue.Empty):
            while True:
                self._queue.get_nowait()


def _summary(ticket: Ticket) -> str | None:
    summary = ticket.fields.get("summary")
    return summary if isinstance(summary, str) else None


def _line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _too_many(request: ReportRequest) -> InputError:
    return InputError(
        f"the query finds more than {request.max_tickets} tickets: narrow the JQL, or raise --max-tickets"
    )


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
            gateway = self._connect()
            self._local.gateway = gateway
            with self._lock:
                self._all.append(gateway)
        return gateway

    def round_trips(self) -> int:
        with self._lock:
            return sum(gateway.round_trips for gateway in self._all)
