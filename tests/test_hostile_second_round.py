"""Issue 23: the eleven cases a hostile run of 52 still broke, each on the test Jira or a fault proxy.

Each test failed on the commit before the fixes (c98704d); the note of issue 23 says how that was
checked. The first round of hostile cases lives in test_hostile_input, test_planted_secrets and the
kill/restart tests of the webhook service. Two of the eleven moved to the file of their subject:
team templates that try to leave the sandbox (1) to test_template_sealing, non-finite numbers in
settings (8) to test_config.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import socket
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import requests
from hostile_corpus import TOKEN_SPELLINGS
from jiraserver import BOT_USER, JiraServer, running_server
from realdeps import require_real_or_skip
from site_helpers import jira_env, seed
from support import TODAY, Gonogo
from tcp_proxy import FaultyHttpProxy
from webhook_helpers import Metrics, Service, created_event, signed, wait_until
from wiki_oracle import oracle_unavailable_reason, plain_text, render_wiki_to_adf

from gonogo.core.errors import JiraError
from gonogo.flows.assessor import build_assessor
from gonogo.flows.portfolio_run import ReportRequest, run_report
from gonogo.jira.gateway import JiraGateway
from gonogo.sources.config import JiraSettings, load_settings
from gonogo.webhook.queue import Job
from gonogo.webhook.queue.local import LocalQueue
from gonogo.webhook.service import stuck_after_seconds
from gonogo.webhook.settings import QueueSettings, RetryPolicy
from gonogo.webhook.worker import Checked, Workers

# --- 2. secrets are blanked in the values, before any escaping ----------------------------------

FORMATS = ("text", "json")


def secret_site(deployment: str, token: str) -> AbstractContextManager[JiraServer]:
    auth = ("basic", BOT_USER.email, token) if deployment == "Cloud" else ("bearer", token)
    return running_server(deployment=deployment, auth=auth)


@pytest.mark.parametrize("token", TOKEN_SPELLINGS)
@pytest.mark.parametrize("deployment", ["Data Center", "Cloud"])
def test_a_token_in_a_ticket_field_is_blanked_in_every_output_whatever_its_characters(
    gonogo: Gonogo, deployment: str, token: str
) -> None:
    with secret_site(deployment, token) as jira:
        # Competitors and Incumbent: values gonogo cannot use are quoted in the comment.
        seed(
            jira, "doomed", "BID-1", summary=f"Bid {token}", customfield_10106=token, customfield_10115=token
        )
        env = jira_env(jira)
        assert env["JIRA_API_TOKEN"] == token
        outputs = [gonogo("check", "BID-1", "--today", TODAY, "--format", f, env=env) for f in FORMATS]
        (comment,) = jira.comments("BID-1")
    assert all(run.exit_code == 12 for run in outputs), outputs
    assert all(token not in run.stdout + run.stderr for run in outputs)
    assert "***" in outputs[0].stdout
    assert "***" in json.loads(outputs[1].stdout)["ticket"]["summary"]
    body = comment["body"]
    shown = json.dumps(body) if isinstance(body, dict) else body.replace("\\", "").replace("\u2060", "")
    assert token not in shown
    assert "***" in shown
    if isinstance(body, str):  # what Jira shows of the wiki markup, by Atlassian's own parser
        if reason := oracle_unavailable_reason():
            require_real_or_skip(reason)
        (adf,) = render_wiki_to_adf([body])
        assert token not in plain_text(adf)


@pytest.mark.parametrize("output_format", ["json", "jsonl", "csv"])
def test_a_token_with_quotes_and_backslashes_is_blanked_in_the_portfolio_json_and_csv(
    gonogo: Gonogo, output_format: str
) -> None:
    """Review of issue 23: JSON and CSV escape `"` and `\\`, so redacting the serialised text missed it."""
    token = 'api"token\\1'
    with secret_site("Data Center", token) as jira:
        seed(jira, "doomed", "BID-1", summary=f"Bid {token}", customfield_10106=token)
        run = gonogo(
            "report", "--project", "BID", "--today", TODAY, "--format", output_format, env=jira_env(jira)
        )
    assert run.exit_code == 0, run.stderr
    read: object
    if output_format == "json":
        read = json.loads(run.stdout)
    elif output_format == "jsonl":
        read = [json.loads(line) for line in run.stdout.splitlines()]
    else:
        read = list(csv.reader(io.StringIO(run.stdout)))
    texts = list(strings_in(read))  # as a reader of the document sees them, escaping undone
    assert not any(token in text for text in texts)
    assert "Bid ***" in texts


def strings_in(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


# --- the transport: a test Jira behind a proxy that breaks answers on the wire ---------------


@pytest.fixture
def jira() -> Iterator[JiraServer]:
    with running_server(deployment="Cloud") as server:
        seed(server, "doomed", "BID-1")
        yield server


@pytest.fixture
def proxy(jira: JiraServer) -> Iterator[FaultyHttpProxy]:
    with FaultyHttpProxy(int(jira.url.rsplit(":", 1)[1])) as faulty:
        yield faulty


def issue_id(jira: JiraServer, key: str) -> str:
    answer = requests.get(f"{jira.url}/rest/api/2/issue/{key}", headers=jira.auth_headers, timeout=5)
    return str(answer.json()["id"])


def via(proxy: FaultyHttpProxy, jira: JiraServer) -> dict[str, str]:
    return {**jira_env(jira), "JIRA_URL": proxy.url}


def one_line_failure(run: object, exit_code: int, message: str) -> None:
    assert run.exit_code == exit_code, run.stdout + run.stderr  # type: ignore[attr-defined]
    assert run.stderr.count("\n") == 1, run.stderr  # type: ignore[attr-defined]
    assert message in run.stderr, run.stderr  # type: ignore[attr-defined]


# --- 4. an answer cut short, or a reset, is retried like a timeout --------------------------


@pytest.mark.parametrize("fault", ["cut", "reset"])
def test_an_answer_broken_on_the_wire_is_retried_and_the_verdict_posted(
    gonogo: Gonogo, jira: JiraServer, proxy: FaultyHttpProxy, fault: str
) -> None:
    proxy.break_next("GET", r"/issue/BID-1$", fault)
    run = gonogo("check", "BID-1", "--today", TODAY, env=via(proxy, jira))
    assert run.exit_code == 12, run.stderr
    assert proxy.requests[:2] == ["GET /rest/api/2/issue/BID-1"] * 2
    assert len(jira.comments("BID-1")) == 1


def test_an_answer_cut_short_every_time_is_a_jira_error_in_one_line(
    gonogo: Gonogo, jira: JiraServer, proxy: FaultyHttpProxy, tmp_path: Path
) -> None:
    (tmp_path / "gonogo.toml").write_text("[jira]\nretries = 1\n")
    proxy.break_next("GET", r"/issue/BID-1$", "cut", times=2)
    run = gonogo("check", "BID-1", "--today", TODAY, env=via(proxy, jira))
    one_line_failure(run, 5, "the connection to Jira broke off in the middle of its answer when trying to")
    assert jira.comments("BID-1") == []


def test_the_service_retries_an_answer_cut_short_instead_of_dead_lettering_it(
    jira: JiraServer, proxy: FaultyHttpProxy, tmp_path: Path
) -> None:
    proxy.break_next("GET", r"/issue/[^/]+$", "cut")
    service = Service(tmp_path / "svc", jira, env={"JIRA_URL": proxy.url})
    service.start()
    try:
        body = created_event("BID-1", issue_id(jira, "BID-1"))
        assert service.post(body, signed(body, "cut-1")).json()["outcome"] == "queued"
        wait_until(lambda: len(jira.comments("BID-1")) == 1, timeout=20, what="the comment after a retry")
        wait_until(service.idle, timeout=20, what="the delivery to be settled")
    finally:
        service.stop()
    assert "broke off" in service.log_text()
    assert "dead letter" not in service.log_text().lower()


# --- 5. a trickling answer ends at the overall deadline ------------------------------------


def test_a_trickling_answer_ends_at_the_overall_deadline_measured_on_the_injected_clock(
    jira: JiraServer, proxy: FaultyHttpProxy
) -> None:
    proxy.break_next("GET", r"/issue/BID-1$", "trickle")
    settings = replace(load_settings(environ=via(proxy, jira)).jira, timeout_seconds=5.0, retries=0)
    ticks = itertools.count()  # every look at the clock is one second later
    gateway = JiraGateway(settings, sleep=lambda _: None, clock=lambda: float(next(ticks)))
    with pytest.raises(JiraError, match="did not answer within 5 s when trying to read BID-1") as raised:
        gateway.fetch_ticket("BID-1", fields=None)
    assert raised.value.retryable  # the service tries again later
    assert next(ticks) < 20  # gave up after a handful of reads of a body of thousands of bytes
    assert all(sent < total for sent, total in proxy.trickled)  # the answer was never finished


def test_a_trickling_answer_is_exit_5_in_the_cli(
    gonogo: Gonogo, jira: JiraServer, proxy: FaultyHttpProxy, tmp_path: Path
) -> None:
    (tmp_path / "gonogo.toml").write_text("[jira]\ntimeout_seconds = 0.5\nretries = 0\n")
    proxy.break_next("GET", r"/issue/BID-1$", "trickle")
    run = gonogo("check", "BID-1", "--today", TODAY, env=via(proxy, jira))
    one_line_failure(run, 5, "Jira did not answer within 0.5 s when trying to read BID-1")
    assert jira.comments("BID-1") == []


# --- 6. redirects stay on the Jira site ------------------------------------------------------


@pytest.fixture
def elsewhere() -> Iterator[socket.socket]:
    """A listener on another port: whatever gonogo sends there would be queued on it."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        yield listener


def nobody_came(listener: socket.socket) -> bool:
    try:
        listener.accept()[0].close()
    except BlockingIOError:
        return True
    return False


@pytest.mark.parametrize(("method", "path"), [("GET", r"/issue/BID-1$"), ("POST", r"/comment$")])
def test_a_redirect_off_the_jira_site_is_refused_and_says_where_to(
    gonogo: Gonogo, jira: JiraServer, proxy: FaultyHttpProxy, elsewhere: socket.socket, method: str, path: str
) -> None:
    target = f"http://127.0.0.1:{elsewhere.getsockname()[1]}/collect"
    proxy.break_next(method, path, ("redirect", target), times=10)
    run = gonogo("check", "BID-1", "--today", TODAY, env=via(proxy, jira))
    one_line_failure(run, 5, f"Jira tried to send gonogo to {target}")
    assert nobody_came(elsewhere)
    assert jira.comments("BID-1") == []


def test_a_redirect_within_the_jira_site_is_followed(
    gonogo: Gonogo, jira: JiraServer, proxy: FaultyHttpProxy
) -> None:
    same_site = f"{proxy.url}/rest/api/2/issue/BID-1?expand=names"
    proxy.break_next("GET", r"/issue/BID-1$", ("redirect", same_site))
    run = gonogo("check", "BID-1", "--today", TODAY, env=via(proxy, jira))
    assert run.exit_code == 12, run.stderr
    assert len(jira.comments("BID-1")) == 1


# --- 9. absurdly nested answers are a Jira error ---------------------------------------------


@pytest.mark.parametrize(
    ("status", "depth", "message"),
    [
        (200, 100_000, "nested deeper than 100 levels"),
        (200, 150, "nested deeper than 100 levels"),
        (400, 100_000, "Jira answered 400 when trying to read BID-1: no details given"),
    ],
)
def test_an_answer_nested_beyond_a_sane_depth_is_a_jira_error(
    gonogo: Gonogo, jira: JiraServer, proxy: FaultyHttpProxy, status: int, depth: int, message: str
) -> None:
    proxy.break_next("GET", r"/issue/BID-1$", ("answer", str(status), "[" * depth + "]" * depth), times=10)
    run = gonogo("check", "BID-1", "--today", TODAY, env=via(proxy, jira))
    one_line_failure(run, 5, message)


# --- 3. the verdict pointer is trusted only for gonogo's own comment ---------------------------

PROPERTY = "gonogo.verdict"


@pytest.mark.parametrize("permission", ["own", "all"])
@pytest.mark.parametrize("marked", [True, False])
def test_a_pointer_a_person_turned_to_their_own_comment_is_healed_and_their_comment_untouched(
    gonogo: Gonogo, permission: str, marked: bool
) -> None:
    with running_server(deployment="Cloud", comment_permission=permission) as jira:
        seed(jira, "doomed", "BID-1")
        env = jira_env(jira)
        assert gonogo("check", "BID-1", "--today", TODAY, env=env).exit_code == 12
        (ours,) = jira.comments("BID-1")
        words = "my own notes, please keep"
        theirs = jira.add_comment("BID-1", words, properties={PROPERTY: {"gonogo": True}} if marked else None)
        forged = {**jira.issue_properties("BID-1")[PROPERTY], "commentId": theirs["id"], "seal": "0" * 32}
        jira.set_issue_property("BID-1", PROPERTY, {**forged, "verdict": "go"})
        jira.clear_requests()
        run = gonogo("check", "BID-1", "--today", TODAY, env=env)
        assert run.exit_code == 12, run.stderr
        by_id = {c["id"]: c for c in jira.comments("BID-1")}
        assert by_id[theirs["id"]]["body"] == words
        assert set(by_id) == {ours["id"], theirs["id"]}
        assert jira.issue_properties("BID-1")[PROPERTY]["commentId"] == ours["id"]
        edits = [r for r in jira.requests if r.method in ("PUT", "DELETE")]
        assert not any(r.path.endswith(f"/comment/{theirs['id']}") for r in edits)
        assert theirs["id"] not in json.dumps([r.body for r in edits], default=str)
        jira.clear_requests()
        assert "unchanged" in gonogo("check", "BID-1", "--today", TODAY, env=env).stdout
        assert [r.method for r in jira.requests] == ["GET"]  # healed: sealed again, one GET


def test_gonogo_s_own_sealed_pointer_costs_no_extra_request_when_the_verdict_changes(
    gonogo: Gonogo, jira: JiraServer
) -> None:
    env = jira_env(jira)
    assert gonogo("check", "BID-1", "--today", TODAY, env=env).exit_code == 12
    assert jira.issue_properties("BID-1")[PROPERTY]["seal"]
    jira.clear_requests()
    assert gonogo("check", "BID-1", "--today", "2026-11-21", env=env).exit_code == 12
    assert [r.method for r in jira.requests] == ["GET", "PUT"]


# --- 10. what was written, deletions included, is what the output and the log line say ------


def test_an_unchanged_check_that_deleted_a_duplicate_says_so_in_its_output_and_json(
    gonogo: Gonogo, jira: JiraServer
) -> None:
    env = jira_env(jira)
    assert gonogo("check", "BID-1", "--today", TODAY, env=env).exit_code == 12
    duplicate = jira.add_comment(
        "BID-1", "a late duplicate", author=BOT_USER, properties={PROPERTY: {"gonogo": True}}
    )
    text = gonogo("check", "BID-1", "--today", TODAY, env=env)
    assert "nothing was written" not in text.stdout
    assert f"Deleted 1 duplicate gonogo comment: {duplicate['id']}." in text.stdout
    duplicate = jira.add_comment("BID-1", "another", author=BOT_USER, properties={PROPERTY: {"gonogo": True}})
    document = json.loads(gonogo("check", "BID-1", "--today", TODAY, "--format", "json", env=env).stdout)
    assert document["comment"]["action"] == "unchanged"
    assert document["comment"]["deleted"] == [duplicate["id"]]


def test_the_service_s_delivery_line_names_the_duplicate_it_deleted(jira: JiraServer, tmp_path: Path) -> None:
    service = Service(tmp_path / "svc", jira)
    service.start()
    try:
        body = created_event("BID-1", issue_id(jira, "BID-1"))
        assert service.post(body, signed(body, "first")).json()["outcome"] == "queued"
        wait_until(lambda: len(service.delivery_lines()) == 1, timeout=20, what="the first delivery")
        duplicate = jira.add_comment(
            "BID-1", "late", author=BOT_USER, properties={PROPERTY: {"gonogo": True}}
        )
        assert service.post(body, signed(body, "second")).json()["outcome"] == "queued"
        wait_until(lambda: len(service.delivery_lines()) == 2, timeout=20, what="the second delivery")
    finally:
        service.stop()
    line = service.delivery_lines()[1]
    assert (line["outcome"], line["action"], line["deleted"]) == ("posted", "unchanged", [duplicate["id"]])


# --- 11. the local queue gives its space back and forgets expired delivery ids ----------------


def queue_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir() if ".db" in path.name)


def test_the_local_queue_gives_its_space_back_once_a_burst_has_drained(tmp_path: Path) -> None:
    settings = QueueSettings(kind="local", path=tmp_path / "queue")
    queue = LocalQueue(settings)
    padding = "x" * 2000
    burst = [
        (Job(f"d-{n}-{padding}", f"BID-{n}", str(n), "jira:issue_created", 0.0), False) for n in range(1500)
    ]
    try:
        assert all(queue.submit(job, dedupe=dedupe) for job, dedupe in burst)
        peak = queue_bytes(settings.path)
        for _ in burst:
            claimed = queue.claim(5)
            assert claimed is not None
            queue.complete(claimed)
            peak = max(peak, queue_bytes(settings.path))
        assert queue.depth() == 0
        assert peak > 3_000_000  # the burst's 3 MB of jobs were on disk
        # The queue tidies up once it has run empty.
        wait_until(
            lambda: queue_bytes(settings.path) < peak / 10, timeout=20, what="the space to be given back"
        )
    finally:
        queue.close()


def remembered(folder: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(folder / "deliveries.db")) as db:
        return [row[0] for row in db.execute("SELECT delivery FROM seen ORDER BY delivery")]


def test_delivery_ids_are_pruned_once_the_dedupe_window_has_passed(tmp_path: Path) -> None:
    now = [1_000_000.0]
    settings = QueueSettings(kind="local", path=tmp_path / "queue", dedupe_seconds=3600)
    queue = LocalQueue(settings, clock=lambda: now[0])

    def store_and_finish(delivery: str) -> None:
        assert queue.submit(Job(delivery, "BID-1", "1", "jira:issue_created", now[0]), dedupe=True)
        claimed = queue.claim(5)
        assert claimed is not None
        queue.complete(claimed)  # the queue is empty again: it tidies up

    try:
        store_and_finish("first")
        wait_until(lambda: remembered(settings.path) == ["first"], timeout=10, what="first remembered")
        now[0] += 3601  # the dedupe window of "first" passes
        store_and_finish("second")
        wait_until(lambda: remembered(settings.path) == ["second"], timeout=10, what="first forgotten")
    finally:
        queue.close()


# --- 7. an interrupt on `report --post` stops every write at once -----------------------------


class InterruptWhileThreeWaitToRetry:
    """Progress that presses Ctrl-C when the first ticket is done and three others were told by
    Jira to try their comment again in 10 s; it notes how many requests Jira had seen by then."""

    def __init__(self, jira: JiraServer) -> None:
        self.jira = jira
        self.seen_at_interrupt = -1

    def searching(self, found: int, total: int | None) -> None:
        pass

    def checking(self, total: int) -> None:
        pass

    def checked(self) -> None:
        wait_until(lambda: len(posts(self.jira)) == 3, timeout=20, what="three comments refused for now")
        self.seen_at_interrupt = len(self.jira.requests)
        raise KeyboardInterrupt


def posts(jira: JiraServer) -> list[str]:
    return [r.path for r in jira.requests if r.method == "POST" and r.path.endswith("/comment")]


def test_an_interrupted_report_post_sends_nothing_after_the_interrupt(
    gonogo: Gonogo, jira: JiraServer
) -> None:
    for n in (2, 3, 4):
        seed(jira, "doomed", f"BID-{n}")
    assert gonogo("check", "BID-1", "--today", TODAY, env=jira_env(jira)).exit_code == 12  # no post later
    jira.clear_requests()
    settings = load_settings(environ=jira_env(jira))
    # Each comment is refused for 10 s, for its own ticket only: the three wait side by side.
    limited = {"Retry-After": "10", "RateLimit-Reason": "jira-per-issue-on-write"}
    jira.fail_next("POST", r"/comment$", 429, headers=limited, times=3)
    progress = InterruptWhileThreeWaitToRetry(jira)
    request = ReportRequest(jql="project = BID", today=date.fromisoformat(TODAY), post=True, concurrency=4)
    with pytest.raises(KeyboardInterrupt):
        run_report(request, assessor=build_assessor(settings), progress=progress)
    for worker in [t for t in threading.enumerate() if t.name.startswith("gonogo-report")]:
        worker.join(timeout=30)  # each ends at its next request, or cuts its wait short
        assert not worker.is_alive()
    # Without the stop, each of the three retried its comment after 10 s, then wrote its pointer.
    assert [f"{r.method} {r.path}" for r in jira.requests[progress.seen_at_interrupt :]] == []
    assert all(jira.comments(f"BID-{n}") == [] for n in (2, 3, 4))


# --- 5b. /healthz says so when a worker is stuck past every deadline -------------------------


def test_a_worker_stuck_on_one_check_past_its_deadlines_makes_healthz_say_so(tmp_path: Path) -> None:
    now = [0.0]
    started, release = threading.Event(), threading.Event()

    def hangs(job: Job) -> Checked:
        started.set()
        release.wait(30)  # what no deadline bounds: the check never ends by itself
        return Checked(verdict="go", action="created", comment_id="10000")

    queue = LocalQueue(QueueSettings(kind="local", path=tmp_path / "queue"))
    after = stuck_after_seconds(
        replace(JiraSettings(), timeout_seconds=5.0, retries=1, max_retry_wait_seconds=10)
    )
    workers = Workers(
        queue=queue,
        run_check=hangs,
        count=1,
        retry=RetryPolicy(),
        metrics=Metrics(),
        stuck_after=after,
        poll_seconds=0.05,
        clock=lambda: now[0],
    )
    try:
        workers.start()
        queue.submit(Job("d-1", "BID-1", "1", "jira:issue_created", 0.0), dedupe=True)
        assert started.wait(10), "the worker did not start the check"
        now[0] += after  # exactly at the limit: slow, not stuck
        assert workers.health() is None
        now[0] += 1.0
        assert workers.health() == "1 worker(s) stuck on one check for longer than its Jira deadlines allow"
        release.set()
        wait_until(lambda: workers.health() is None, timeout=10, what="the check to end")
    finally:
        release.set()
        workers.stop(5)
        queue.close()
