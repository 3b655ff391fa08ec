"""`gonogo report`: search → assess every ticket → (post) → one portfolio, with Jira at the edges.

The request budget is the design. The search asks for exactly the fields the checklists read,
gonogo's issue property (the pointer, with the digest of the comment last written) and the
changelog (who added a waiver label), and when posting each ticket's edit screen (the options a path
to GO may propose), so one search page (up to 100 tickets) carries everything an assessment and a
later post need: no per-ticket GET. Jira returns only the most recent changelog
entries; a ticket is read again on its own only when that list was cut short and a waiver label's
author is not in it. Field ids for display-name mappings come from one `GET field`; Cloud or Data
Center from configuration, the host, or one serverInfo request. So a read-only report of N tickets
costs about 2 + N/100 requests, and `--post` adds only what changed: nothing for a ticket whose
comment, pointer and label would be identical, one issue edit (comment, pointer and label together)
for one that changed, two writes for a new comment (create, then pointer and label).

The whole search finishes before anything is written: a search that fails half-way leaves no
ticket half-done, and the progress bar knows how long the run is (Cloud's search has no total).
Then tickets are checked by at most `concurrency` threads. Each has its own gateway (its own
connection and request count), and they share one `Throttle`, so a 429 slows everybody, not just
the thread that earned it. A ticket that cannot be read, assessed or posted becomes an error row
and the run goes on; the exit code says so (README, "Exit codes").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Protocol, TypedDict

from gonogo.core.changelog import changelog_is_complete, labels_added, read_histories
from gonogo.core.decisions import decision_labels
from gonogo.core.errors import GonogoError, InputError
from gonogo.core.history import HistoryEntry, read_history
from gonogo.core.outcomes import closed_bid, outcome_report
from gonogo.core.portfolio import Portfolio, Row, build_portfolio, error_row, row_from_assessment
from gonogo.core.proposal import Proposal, resolve_field_ref
from gonogo.core.site_fields import require_known_fields
from gonogo.core.ticket import PROJECT_KEY, Ticket, shorten, ticket_from_rest
from gonogo.core.waivers import is_waiver_label
from gonogo.flows.assessor import WAIVER_ORIGIN_FIELDS, Assessor
from gonogo.flows.check_ticket import post_verdict
from gonogo.jira.gateway import JiraGateway
from gonogo.jira.throttle import Throttle
from gonogo.sources.config import JiraSettings

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 4
DEFAULT_MAX_TICKETS = 5000
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
    """Where the run reports progress; the CLI draws a bar, tests and pipes see nothing."""

    def searching(self, found: int, total: int | None) -> None: ...
    def checking(self, total: int) -> None: ...
    def checked(self) -> None: ...


class _Silent:
    def searching(self, found: int, total: int | None) -> None:
        pass

    def checking(self, total: int) -> None:
        pass

    def checked(self) -> None:
        pass


def project_jql(project: str) -> str:
    """`--project KEY`: the project's open tickets. The key is checked, so it cannot inject JQL."""
    if not PROJECT_KEY.fullmatch(project):
        raise InputError(f"{shorten(project)!r} is not a project key: expected letters and digits, like BID")
    return f"project = {project.upper()} AND statusCategory != Done"


def run_report(
    request: ReportRequest,
    *,
    assessor: Assessor,
    jira: JiraSettings,
    connect: Connect | None = None,
    throttle: Throttle | None = None,
    progress: Progress | None = None,
) -> ReportRun:
    """Search, assess every ticket found, post if asked, and return the portfolio.

    `connect` builds a gateway (tests inject a recording sleep); `throttle` is shared by every
    gateway of the run (tests inject a virtual clock). Raises GonogoError only for what stops the
    whole run: configuration, the search itself, or a query that finds too many tickets.
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
    found: list[Ticket | Row] = []
    seen: set[str] = set()
    for page in main.search(
        request.jql,
        fields=fields,
        properties=[jira.comment_property],
        # posting shows a path to GO: the edit screens say which options it may propose (no request more)
        expand=["changelog", "editmeta"] if request.post else ["changelog"],
        deployment=deployment,
    ):
        if page.total is not None and page.total > request.max_tickets:
            raise _too_many(request)
        for raw in page.issues:
            item = _ticket_or_error(raw, field_names)
            if isinstance(item, Ticket):
                identity = item.id or item.key
                if identity in seen:  # offset paging can repeat an issue when the result set shifts
                    continue
                seen.add(identity)
            found.append(item)
        if len(found) > request.max_tickets:
            raise _too_many(request)
        progress.searching(len(found), page.total)
    log.info("the search found %d ticket(s) (%s search)", len(found), deployment.value)

    def check(item: Ticket | Row) -> Row:
        row = item if isinstance(item, Row) else _check_one(item, request, assessor, jira, fields, gateways)
        progress.checked()
        return row

    progress.checking(len(found))
    pool = ThreadPoolExecutor(max_workers=request.concurrency, thread_name_prefix="gonogo-report")
    try:
        rows = list(pool.map(check, _draining(found)))
    except BaseException:  # Ctrl-C: no request is sent from now on, and no ticket is started
        shared.stop()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    portfolio = build_portfolio(
        rows,
        query=request.jql,
        today=request.today,
        site=jira.browse_url,
        posted=request.post,
        since=request.since,
    )
    if request.outcomes:
        bids = [bid for bid in map(closed_bid, portfolio.rows) if bid is not None]
        report = outcome_report(bids, checklists=assessor.checklists, thresholds=assessor.thresholds)
        portfolio = replace(portfolio, outcomes=report)
    return ReportRun(portfolio, gateways.round_trips())


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
    resolved = (resolve_field_ref(ref, names=names, ids=names) for ref in assessor.field_map.values())
    # None: a default name this site lacks; every ticket will say so as missing information
    return list(dict.fromkeys([*always, *(field_id for field_id in resolved if field_id is not None)]))


def _check_one(
    ticket: Ticket,
    request: ReportRequest,
    assessor: Assessor,
    jira: JiraSettings,
    fields: list[str],
    gateways: _GatewayPerThread,
) -> Row:
    """One ticket, never raising: a failure becomes the row's error and the run goes on."""
    closed = closed_on(ticket) if request.outcomes else None
    try:
        if _needs_history(ticket, assessor.label_prefix):
            ticket = gateways.get().fetch_ticket(ticket.key, fields=[*fields, *WAIVER_ORIGIN_FIELDS])
        # a closed bid is judged as it stood when it closed, not by deadlines long past
        assessment, proposal = assessor.assess_with_proposal(
            ticket,
            today=closed or request.today,
            group_members=gateways.get().group_members,
            with_path=request.post,
        )
    except GonogoError as exc:
        return error_row(ticket.key, ticket_id=ticket.id, summary=_summary(ticket), error=_line(exc))
    except Exception as exc:  # a bug on one ticket must not cost the other thousand their report
        log.debug("internal error on %s", ticket.key, exc_info=True)
        return error_row(
            ticket.key,
            ticket_id=ticket.id,
            summary=_summary(ticket),
            error=f"internal error ({exc.__class__.__name__}); please report it",
        )
    facts = _row_facts(ticket, proposal, jira, closed)
    if not request.post:
        return row_from_assessment(assessment, **facts)
    try:
        body = assessor.renderer.comment_body(assessment, jira.comment_format)
        publication = post_verdict(assessment, body, ticket, gateways.get(), jira=jira, today=request.today)
    except GonogoError as exc:
        return row_from_assessment(assessment, error=f"comment not posted: {_line(exc)}", **facts)
    except Exception as exc:  # as above: one ticket's bug is its row's error, not the run's end
        log.debug("internal error posting %s", ticket.key, exc_info=True)
        return row_from_assessment(
            assessment,
            error=f"comment not posted: internal error ({exc.__class__.__name__}); please report it",
            **facts,
        )
    return row_from_assessment(assessment, publication=publication, **facts)


def _row_facts(ticket: Ticket, proposal: Proposal, jira: JiraSettings, closed: date | None) -> RowFacts:
    """What a row carries besides the assessment: history, outcome, close date, the proposal's numbers."""
    outcome = proposal.values.get("outcome")
    return {
        "history": read_history(ticket.properties.get(jira.comment_property)),
        "outcome": outcome if isinstance(outcome, str) else None,
        "closed": closed,
        "judged_as_closed": closed is not None,
        "values": {
            name: float(value)
            for name, value in proposal.values.items()
            if isinstance(value, int | float) and not isinstance(value, bool)
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


def _draining(items: list[Ticket | Row]) -> Iterator[Ticket | Row]:
    """Hand items out and forget them, so a ticket's fields are freed once its row exists."""
    items.reverse()
    while items:
        yield items.pop()


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
