"""Write every user-visible output of gonogo into OUTDIR, one file per case, so that
`diff -r before/ after/` shows whether a change altered behaviour (issue 27's safety net).

Usage (from the repo root, with the project's venv): python bench/snapshot_outputs.py OUTDIR

Each file holds the command line, the exit code, stdout and stderr of one case; the `stored-*` and
`service-*` files hold what the test Jira stored and what the webhook service answered. gonogo runs
as a user runs it: `python -m gonogo ...` in a subprocess, in a temp working directory, with a
clean environment (no JIRA_* or GONOGO_* of the caller) and `--today 2026-11-23`. The Jira cases run
against the test Jira (tests/jiraserver), Cloud and Data Center; the service cases against
`gonogo serve` on a free loopback port. What legitimately varies between runs (the temp folder,
ports, durations gonogo measures, timestamps of now) is replaced by placeholders in `Normaliser`;
nothing else is. The offline cases and the three sites run side by side (about a minute on 2 cores).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from jiraserver import DEFAULT_AUTH, JiraServer, JiraUser, running_server  # noqa: E402 (the test Jira lives in tests/)

TODAY = "2026-11-23"
EXAMPLES = sorted(p.stem for p in (REPO / "examples").glob("*.json"))
CHECKLISTS = sorted(p.stem for p in (REPO / "checklists").glob("*.json"))
CHECK_FORMATS = ("text", "json", "jira", "adf")
REPORT_FORMATS = ("text", "json", "csv", "html", "jsonl")
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
COMMANDS = (
    (),
    ("check",),
    ("checklists",),
    ("checklists", "list"),
    ("checklists", "show"),
    ("checklists", "lint"),
    ("checklists", "schema"),
    ("dead-letters",),
    ("doctor",),
    ("report",),
    ("serve",),
    ("setup",),
)
SECRET = "snapshot-webhook-secret-3b7d"
WAIT_SECONDS = 30.0
UNREACHABLE = {"JIRA_URL": "http://127.0.0.1:9", "JIRA_API_TOKEN": "x"}


# -- the normaliser ---------------------------------------------------------------------------

# A timestamp of now (the service's dead letters, logs): one on the real date, give or take a day.
# The pinned --today, the examples and the test Jira's clock are other dates, so they stay visible.
NOW = re.compile(r"\b(\d{4}-\d\d-\d\d)[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?")
REAL_DAYS = {str(date.today() + timedelta(days=shift)) for shift in (-1, 0, 1)}


class Normaliser:
    """Replaces what varies between runs with placeholders: exact strings (temp folder, URLs,
    ports) registered as they become known, and a few narrow patterns. Narrow on purpose: masking
    too much would hide a real change."""

    PATTERNS = (
        # a duration gonogo measured ("-> 200 in 3.1 ms", "in 0.42 s")
        (re.compile(r"\b\d+(\.\d+)? ?(ms|s)\b(?=[ ),.]|$)", re.M), "<DURATION>"),
        # a delivery id the service made up for a delivery without one
        (
            re.compile(r"\bgonogo-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
            "gonogo-<UUID>",
        ),
    )

    def __init__(self) -> None:
        self._exact: dict[str, str] = {}
        self._lock = threading.Lock()

    def add(self, text: str, placeholder: str) -> None:
        with self._lock:
            self._exact[text] = placeholder

    def __call__(self, text: str) -> str:
        with self._lock:
            exact = sorted(self._exact.items(), key=lambda item: len(item[0]), reverse=True)
        for value, placeholder in exact:  # longest first: a URL before the port inside it
            text = text.replace(value, placeholder)
        for pattern, placeholder in self.PATTERNS:
            text = pattern.sub(placeholder, text)
        return NOW.sub(lambda found: "<NOW>" if found[1] in REAL_DAYS else found[0], text)


# -- running gonogo and writing a case --------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One `gonogo ARGS` run; `env` is what this case adds to the clean environment."""

    name: str
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    module: bool = True  # False: `python ARGS` (for `python -m gonogo` itself)


class Snapshot:
    """Runs cases and writes one file per case into `out`."""

    def __init__(self, out: Path, work: Path) -> None:
        self.out = out
        self.work = work
        self.normalise = Normaliser()
        self.normalise.add(str(work), "<TMP>")
        self.normalise.add(str(REPO), "<REPO>")
        self.normalise.add(sys.executable, "<PYTHON>")
        self._names: set[str] = set()
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        return len(self._names)

    def clean_env(self, extra: dict[str, str]) -> dict[str, str]:
        """No JIRA_* or GONOGO_* of the caller; gonogo imported from this repo."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.work / "home"),
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "PYTHONPATH": str(REPO),
            **extra,
        }

    def run(self, case: Case, *, site: dict[str, str] | None = None, cwd: str = "cwd") -> None:
        """Run `case` (with the `site` environment, not shown) and write its file."""
        command = (
            [sys.executable, "-m", "gonogo", *case.args] if case.module else [sys.executable, *case.args]
        )
        folder = self.work / cwd
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            command,
            env=self.clean_env({**(site or {}), **case.env}),
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        shown = shlex.join(["gonogo" if case.module else "python", *case.args])
        assignments = "".join(f"{k}={shlex.quote(v)} " for k, v in sorted(case.env.items()))
        self.write(case.name, f"$ {assignments}{shown}\nexit: {done.returncode}\n", done.stdout, done.stderr)

    def record(self, name: str, what: str, value: Any) -> None:
        """Record something read from the test Jira or the service (not a gonogo process)."""
        text = value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True, default=str)
        self.write(name, f"# {what}\n", text)

    def write(self, name: str, head: str, stdout: str, stderr: str = "") -> None:
        with self._lock:
            if name in self._names:
                raise SystemExit(f"two cases are named {name}")
            self._names.add(name)
        text = f"{head}--- stdout\n{stdout}\n--- stderr\n{stderr}\n"
        (self.out / f"{name}.txt").write_text(self.normalise(text), encoding="utf-8")


# -- offline cases: help, examples, checklists, bad inputs (a table) ---------------------------


def write_inputs(folder: Path) -> dict[str, str]:
    """Broken files for the bad-input cases; returns name -> path."""
    files = {
        "invalid.json": "{not json",
        "empty.json": "",
        "list.json": "[1, 2, 3]",
        "no-fields.json": '{"key": "BID-1"}',
        "fields-not-object.json": '{"key": "BID-1", "fields": "x"}',
        "binary.json": "\x00\x01\x02",
        "bad-checklist.json": '{"id": "bad", "rules": [{"id": 3}]}',
        "bad.toml": "[jira\nurl = ",
        "unknown-key.toml": "[jira]\nno_such_key = 1\n",
        "unknown-table.toml": "[nonsense]\nx = 1\n",
        "wrong-type.toml": '[jira]\nretries = "many"\n',
        "url-in-toml.toml": '[jira]\nurl = "https://example.atlassian.net"\n',
    }
    folder.mkdir(parents=True, exist_ok=True)
    for filename, text in files.items():
        (folder / filename).write_text(text, encoding="utf-8")
    return {filename: str(folder / filename) for filename in files} | {"missing": str(folder / "missing")}


def offline_cases(inputs: dict[str, str]) -> list[Case]:
    healthy = str(REPO / "examples" / "healthy.json")
    today = ("--today", TODAY)
    cases = []
    for command in COMMANDS:
        cases.append(Case("-".join(("help", *command)), (*command, "--help")))
        cases.append(Case("-".join(("h", *command)), (*command, "-h")))
    cases += [
        Case("version", ("--version",)),
        Case("no-args", ()),
        Case("python-m-gonogo", ("-m", "gonogo"), module=False),
        Case("unknown-command", ("frobnicate",)),
        Case("unknown-option", ("--frobnicate",)),
        Case("check-unknown-option", ("check", "--frobnicate", healthy)),
        Case("check-no-ticket", ("check",)),
        Case("check-bad-format", ("check", "--format", "yaml", healthy)),
        Case("checklists-unknown-subcommand", ("checklists", "frobnicate")),
        Case("report-bad-section", ("report", "--format", "csv", "--section", "nope", "--project", "BID")),
        Case("report-bad-concurrency", ("report", "--post", "--concurrency", "0", "--project", "BID")),
        Case("serve-bad-port", ("serve", "--port", "70000")),
    ]
    for example in EXAMPLES:
        path = str(REPO / "examples" / f"{example}.json")
        cases += [
            Case(f"example-{example}-{fmt}", ("check", path, "--format", fmt, *today))
            for fmt in CHECK_FORMATS
        ]
    cases += [
        Case("example-default-format", ("check", healthy, *today)),
        Case("example-dry-run", ("check", healthy, "--dry-run", *today)),
        Case("example-today-from-env", ("check", healthy), {"GONOGO_TODAY": TODAY}),
        Case("example-verbose", ("-v", "check", healthy, *today)),
        Case("checklists-list", ("checklists", "list")),
        *(Case(f"checklists-show-{c}", ("checklists", "show", c)) for c in CHECKLISTS),
        Case("checklists-show-unknown", ("checklists", "show", "no-such-checklist")),
        Case("checklists-lint", ("checklists", "lint")),
        Case(
            "checklists-lint-bundled-files",
            ("checklists", "lint", *(str(REPO / "checklists" / f"{c}.json") for c in CHECKLISTS)),
        ),
        Case("checklists-lint-bad-file", ("checklists", "lint", inputs["bad-checklist.json"])),
        Case("checklists-lint-broken-json", ("checklists", "lint", inputs["invalid.json"])),
        Case("checklists-lint-missing-file", ("checklists", "lint", inputs["missing"])),
        Case("checklists-schema", ("checklists", "schema")),
    ]
    for ticket in ("invalid", "empty", "list", "no-fields", "fields-not-object", "binary", "missing"):
        cases.append(
            Case(f"bad-ticket-{ticket}", ("check", inputs.get(f"{ticket}.json", inputs["missing"]), *today))
        )
    cases += [
        Case("bad-ticket-folder", ("check", str(Path(inputs["missing"]).parent), *today)),
        Case("bad-today-month", ("check", healthy, "--today", "2026-13-01")),
        Case("bad-today-word", ("check", healthy, "--today", "yesterday")),
        Case("bad-today-empty", ("check", healthy, "--today", "")),
        Case("bad-today-env", ("check", healthy), {"GONOGO_TODAY": "someday"}),
    ]
    for config in ("bad", "unknown-key", "unknown-table", "wrong-type", "url-in-toml", "missing"):
        path = inputs.get(f"{config}.toml", inputs["missing"])
        cases.append(Case(f"bad-config-{config}", ("--config", path, "check", healthy, *today)))
    cases += [
        Case("bad-config-env", ("check", healthy, *today), {"GONOGO_CONFIG": inputs["bad.toml"]}),
        Case("bad-config-check-option", ("check", healthy, *today, "--config", inputs["unknown-key.toml"])),
        Case("no-jira-url-check", ("check", "BID-1", *today)),
        Case("no-jira-url-report", ("report", "--project", "BID", *today)),
        Case("no-jira-url-setup", ("setup",)),
        Case("no-jira-url-doctor", ("doctor",)),
        Case("no-jira-url-serve", ("serve", "--port", "0")),
        Case("bad-key", ("check", "not a key!", *today), UNREACHABLE),
        Case("bad-jira-url", ("check", "BID-1", *today), {**UNREACHABLE, "JIRA_URL": "not-a-url"}),
        Case("jira-unreachable", ("check", "BID-1", "--dry-run", *today), UNREACHABLE),
        Case("report-no-query", ("report", *today), UNREACHABLE),
        Case("report-bad-since", ("report", "--project", "BID", "--since", "soon", *today), UNREACHABLE),
    ]
    return cases


# -- against the test Jira --------------------------------------------------------------------


def issue_id(key: str) -> str:
    return str(20000 + int(key.rsplit("-", 1)[1]))


def seed_examples(server: JiraServer) -> dict[str, str]:
    """Every bundled example as BID-1, BID-2, … (alphabetical), labels added as its changelog says;
    returns example -> key.

    Like tests/portfolio_helpers.py, but written out here: this script must run unchanged on the
    code before and after a refactor, and the test helpers (and the gonogo modules they import)
    are what a refactor renames. For the same reason nothing here imports gonogo.
    """
    keys = {}
    for number, example in enumerate(EXAMPLES, start=1):
        data = json.loads((REPO / "examples" / f"{example}.json").read_text(encoding="utf-8"))
        fields = {k: v for k, v in data["fields"].items() if k not in ("comment", "labels")}
        fields["project"] = {**fields.get("project", {}), "key": "BID"}
        key = f"BID-{number}"
        server.add_issue(key, {**fields, "labels": []}, names=data["names"], issue_id=issue_id(key))
        labels = data["fields"].get("labels", [])
        for history in data.get("changelog", {}).get("histories", []):
            author = history["author"]
            person = JiraUser(
                account_id=author["accountId"],
                display_name=author["displayName"],
                email=f"{author['accountId']}@example.com",
                name=author["displayName"].lower().replace(" ", "."),
            )
            when = datetime.strptime(history["created"], "%Y-%m-%dT%H:%M:%S.%f%z")
            server.change_issue(key, {"labels": labels}, author=person, at=when)
        if server.issue_fields(key)["labels"] != labels:
            server.change_issue(key, {"labels": labels})
        keys[example] = key
    return keys


@contextmanager
def jira_site(snap: Snapshot, deployment: str) -> Iterator[tuple[JiraServer, dict[str, str], dict[str, str]]]:
    """A seeded test Jira; yields it, example -> key, and the environment that reaches it."""
    auth = DEFAULT_AUTH if deployment == "Cloud" else ("bearer", "pat-snapshot")
    with running_server(deployment=deployment, auth=auth, validate=False) as server:
        keys = seed_examples(server)
        snap.normalise.add(server.url, "<JIRA>")
        snap.normalise.add(":" + server.url.rsplit(":", 1)[1], ":<JIRA-PORT>")
        if deployment == "Cloud":
            email, token = server.basic_auth
            env = {"JIRA_URL": server.url, "JIRA_USER": email, "JIRA_API_TOKEN": token}
        else:
            env = {"JIRA_URL": server.url, "JIRA_API_TOKEN": server.token}
        yield server, keys, env


def stored(server: JiraServer, key: str) -> dict[str, Any]:
    """What the test Jira holds for `key`: its labels and comments (body, ADF, properties, …)."""
    return {"labels": server.issue_fields(key).get("labels"), "comments": server.comments(key)}


@dataclass
class Site:
    """One seeded test Jira, and the snapshot its cases are written to (names prefixed by `tag`)."""

    snap: Snapshot
    server: JiraServer
    keys: dict[str, str]  # example -> key
    env: dict[str, str]
    tag: str

    def run(self, name: str, *args: str, **env: str) -> None:
        self.snap.run(Case(f"{self.tag}-{name}", args, env), site=self.env, cwd=f"cwd-{self.tag}")

    def run_failing(self, name: str, status: int, path: str, *args: str) -> None:
        """Run with every request to `path` answered `status` (0: garbled JSON)."""
        if status:
            self.server.fail_next("*", path, status, times=50)
        else:
            self.server.garble_next("GET", path, times=50)
        self.run(name, *args)
        self.server.clear_faults()

    def record_stored(self, name: str, *keys: str) -> None:
        stored_now = {key: stored(self.server, key) for key in keys}
        self.snap.record(f"{self.tag}-stored-{name}", f"stored on {', '.join(keys)}", stored_now)

    def file(self, name: str) -> Path:
        return self.snap.work / f"cwd-{self.tag}" / name


TODAY_ARGS = ("--today", TODAY)


def jira_cases(snap: Snapshot, deployment: str) -> None:
    """check, report, setup, doctor and their errors against one site, in order (they write)."""
    tag = "cloud" if deployment == "Cloud" else "dc"
    with jira_site(snap, deployment) as (server, keys, env):
        site = Site(snap, server, keys, env, tag)
        for section in (check_cases, report_cases, setup_cases, error_cases):
            section(site, keys["conditions"])


def check_cases(site: Site, key: str) -> None:
    for fmt in CHECK_FORMATS:
        site.run(f"check-dry-run-{fmt}", "check", key, "--dry-run", "--format", fmt, *TODAY_ARGS)
    site.run("check-browse-url-dry-run", "check", f"{site.server.url}/browse/{key}", "--dry-run", *TODAY_ARGS)
    site.run("check-verbose", "-vv", "check", key, "--dry-run", *TODAY_ARGS)
    for example, example_key in site.keys.items():
        site.run(f"check-post-{example}", "check", example_key, *TODAY_ARGS)
        site.record_stored(f"after-check-{example}", example_key)
    site.run("recheck", "check", key, *TODAY_ARGS)
    site.record_stored("after-recheck", key)
    site.run("recheck-later", "check", key, "--today", "2026-12-20")
    site.record_stored("after-recheck-later", key)


def report_cases(site: Site, key: str) -> None:
    project = ("report", "--project", "BID", *TODAY_ARGS)
    for fmt in REPORT_FORMATS:
        site.run(f"report-{fmt}", *project, "--format", fmt)
    for section in CSV_SECTIONS:
        site.run(f"report-csv-{section}", *project, "--format", "csv", "--section", section)
    site.run("report-jql", "report", "--jql", "project = BID ORDER BY key", *TODAY_ARGS)
    site.run("report-since", *project, "--since", "2026-01-01")
    site.run("report-outcomes", *project, "--outcomes")
    site.run("report-outcomes-json", *project, "--outcomes", "--format", "json")
    site.run("report-max-tickets", *project, "--max-tickets", "3")
    output = site.file("report.json")
    site.run("report-output-file", *project, "--format", "json", "-o", str(output))
    site.snap.record(f"{site.tag}-report-output-file-content", "the file report -o wrote", read(output))
    site.run(
        "report-post", "report", "--project", "BID", "--post", "--concurrency", "1", "--today", "2027-01-04"
    )
    site.record_stored("after-report-post", *sorted(site.keys.values(), key=lambda k: int(k.split("-")[1])))
    site.run("report-bad-jql", "report", "--jql", "project = = BID ((", *TODAY_ARGS)


def setup_cases(site: Site, key: str) -> None:
    site.run("setup", "setup")
    site.run("setup-from", "setup", "--from", key)
    site.run("setup-list-fields", "setup", "--list-fields")
    written = site.file("written.toml")
    site.run("setup-write", "setup", "--write", str(written))
    site.snap.record(f"{site.tag}-setup-write-content", "the file setup --write wrote", read(written))
    site.run("setup-write-exists", "setup", "--write", str(written))
    site.run("doctor", "doctor")
    site.run("doctor-from", "doctor", "--from", key)
    site.run("doctor-service", "doctor", "--service")


def error_cases(site: Site, key: str) -> None:
    dry_run = ("check", key, "--dry-run", *TODAY_ARGS)
    site.run("error-404-ticket", "check", "BID-999", "--dry-run", *TODAY_ARGS)
    site.run("error-404-post", "check", "BID-999", *TODAY_ARGS)
    site.run("error-401", *dry_run, JIRA_API_TOKEN="wrong-token")
    site.run("error-401-report", "report", "--project", "BID", *TODAY_ARGS, JIRA_API_TOKEN="wrong-token")
    site.run("error-401-doctor", "doctor", JIRA_API_TOKEN="wrong-token")
    site.run_failing("error-500", 500, r"/issue/", *dry_run)
    site.run_failing("error-503-post", 503, r"/issue/", "check", key, *TODAY_ARGS)
    site.run_failing("error-500-report", 500, r"/search", "report", "--project", "BID", *TODAY_ARGS)
    site.run_failing("error-403", 403, r"/issue/", *dry_run)
    site.run_failing("error-garbled", 0, r"/issue/", *dry_run)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else "(no file)"


# -- the webhook service ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll `condition` until it holds; give up (the snapshot then shows what was there) after
    WAIT_SECONDS, saying so on stderr."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            print(f"snapshot: timed out waiting for {what}", file=sys.stderr)
            return
        time.sleep(0.05)


def http(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """One request: its status, content type and body (an error status is an answer too)."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, content_type, data = answer.status, answer.headers.get("Content-Type"), answer.read()
    except urllib.error.HTTPError as error:
        status, content_type, data = error.code, error.headers.get("Content-Type"), error.read()
    return {"status": status, "content-type": content_type, "body": data.decode("utf-8", "replace")}


def signed(body: bytes, secret: str = SECRET, **headers: str) -> dict[str, str]:
    mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature": f"sha256={mac}", **headers}


def created_event(key: str) -> bytes:
    """A `jira:issue_created` delivery as Jira Cloud sends it (the parts gonogo reads)."""
    event = {
        "timestamp": 1763630043412,
        "webhookEvent": "jira:issue_created",
        "issue_event_type_name": "issue_created",
        "user": {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Dana Reyes"},
        "issue": {
            "id": issue_id(key),
            "key": key,
            "fields": {
                "summary": "Field-service scheduling replacement for Northwater",
                "issuetype": {"id": "10050", "name": "Proposal", "subtask": False},
                "project": {"id": "10000", "key": key.split("-", maxsplit=1)[0], "name": "Bids"},
            },
        },
    }
    return json.dumps(event).encode()


@contextmanager
def serving(snap: Snapshot, site: dict[str, str], config: Path) -> Iterator[str]:
    """`gonogo serve` on a free loopback port with `config`; yields its URL, stops it (SIGTERM)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    snap.normalise.add(url, "<SERVICE>")
    env = snap.clean_env({**site, "GONOGO_CONFIG": str(config), "GONOGO_TODAY": TODAY})
    log_path = config.parent / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gonogo", "serve", "--port", str(port)],
            env=env,
            cwd=config.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: process.poll() is not None or answers(url + "/healthz"), "gonogo serve to start")
            if process.poll() is not None:
                raise SystemExit(f"gonogo serve did not start:\n{log_path.read_text()}")
            yield url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def answers(url: str) -> bool:
    try:
        return bool(http(url)["status"] == 200)
    except OSError:
        return False


def checks_done(url: str) -> float:
    """How many checks the service has finished, whatever their outcome (from /metrics)."""
    lines = http(url + "/metrics")["body"].splitlines()
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith("gonogo_webhook_checks_total{")
    )


def stored_by_service(server: JiraServer, key: str) -> dict[str, Any]:
    """`stored`, with each comment id as a placeholder numbered in the ticket's comment order. The
    service checks its deliveries concurrently, so which ticket's comment the test Jira numbers
    first changes from run to run; the count, order and content of the comments still show."""
    found = stored(server, key)
    for number, comment in enumerate(found["comments"], start=1):
        comment["id"] = f"<COMMENT-{number}>"
    return found


def service_cases(snap: Snapshot) -> None:
    """The service's answers to good and bad requests, the comment it posts, its dead letters."""
    folder = snap.work / "service"
    folder.mkdir(parents=True)
    (folder / "webhook-secret").write_text(SECRET + "\n", encoding="utf-8")
    config = folder / "gonogo.toml"
    config.write_text(
        '[jira]\nretries = 0\ntimeout_seconds = 5\n\n[webhook]\nqueue_path = "queue"\n'
        'secret_file = "webhook-secret"\nmax_body_bytes = 4096\nmax_attempts = 1\n'
        "retry_initial_seconds = 0.05\nretry_max_seconds = 0.2\nwaiver_recheck_hours = 0\n",
        encoding="utf-8",
    )
    with_config = ("--config", str(config))

    def run(name: str, *args: str) -> None:
        snap.run(Case(f"service-{name}", args), site=site, cwd="cwd-service")

    def dead_letter_of(key: str) -> Callable[[], bool]:
        command = [sys.executable, "-m", "gonogo", "dead-letters", "--format", "json", *with_config]
        env = snap.clean_env(site)
        return lambda: (
            key in subprocess.run(command, env=env, capture_output=True, text=True, check=False).stdout
        )

    with jira_site(snap, "Cloud") as (server, keys, site), serving(snap, site, config) as url:
        key = keys["conditions"]
        good = created_event(key)
        other = created_event(keys["healthy"])
        oversized = b" " * 8192 + good
        requests = {
            "healthz": (url + "/healthz", "GET", None, {}),
            "unknown-path": (url + "/nope", "GET", None, {}),
            "webhook-get": (url + "/webhook", "GET", None, {}),
            "healthz-post": (url + "/healthz", "POST", b"{}", signed(b"{}")),
            "bad-signature": (url + "/webhook", "POST", good, signed(good, "wrong-secret")),
            "no-signature": (url + "/webhook", "POST", good, {"Content-Type": "application/json"}),
            "wrong-content-type": (
                url + "/webhook",
                "POST",
                other,
                {**signed(other), "Content-Type": "text/plain"},
            ),
            "oversized": (url + "/webhook", "POST", oversized, signed(oversized)),
            "malformed-json": (url + "/webhook", "POST", b"{not json", signed(b"{not json")),
            "unknown-shape": (url + "/webhook", "POST", b'{"hello": 1}', signed(b'{"hello": 1}')),
            "issue-created": (
                url + "/webhook",
                "POST",
                good,
                signed(good, **{"X-Atlassian-Webhook-Identifier": "snap-1"}),
            ),
            "duplicate": (
                url + "/webhook",
                "POST",
                good,
                signed(good, **{"X-Atlassian-Webhook-Identifier": "snap-1"}),
            ),
        }
        for name, (address, method, body, headers) in requests.items():
            snap.record(
                f"service-{name}",
                f"the service's answer: {method} {address}",
                http(address, method, body, headers),
            )
        wait_for(lambda: checks_done(url) >= 2, "the service's checks of the two deliveries it queued")
        for example in ("conditions", "healthy"):
            snap.record(
                f"service-stored-{example}", "stored by the service", stored_by_service(server, keys[example])
            )

        failing = created_event("BID-999")
        server.fail_next("*", r"/issue/(BID-999|20999)\b", 500, times=50)
        answer = http(
            url + "/webhook", "POST", failing, signed(failing, **{"X-Atlassian-Webhook-Identifier": "snap-2"})
        )
        snap.record("service-delivery-that-fails", "the answer to a delivery whose check fails", answer)
        wait_for(dead_letter_of("BID-999"), "the dead letter of BID-999")
        server.clear_faults()

        metrics = http(url + "/metrics")
        names = {
            line.split("{")[0].split(" ")[0]
            for line in metrics["body"].splitlines()
            if line[:1] not in ("", "#")
        }
        metrics["body"] = sorted(names)  # their values vary from run to run
        snap.record("service-metrics-names", "GET /metrics: status, content type and metric names", metrics)
        run("dead-letters-text", "dead-letters", *with_config)
        run("dead-letters-json", "dead-letters", "--format", "json", *with_config)
        run("doctor-service", "doctor", "--service", *with_config)
    run("dead-letters-after-stop", "dead-letters", *with_config)
    empty = folder / "empty.toml"
    empty.write_text('[webhook]\nqueue_path = "empty-queue"\n', encoding="utf-8")
    run("dead-letters-empty", "dead-letters", "--config", str(empty))
    run(
        "serve-public-host-without-secret",
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "0",
        "--config",
        str(empty),
    )


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: python bench/snapshot_outputs.py OUTDIR")
    out = Path(sys.argv[1])
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gonogo-snapshot-") as temp:
        snap = Snapshot(out, Path(temp).resolve())
        cases = offline_cases(write_inputs(snap.work / "inputs"))
        with ThreadPoolExecutor(max_workers=4) as pool:
            # The three sites each run in order (their cases write to Jira); the offline cases fill in.
            sites = [pool.submit(jira_cases, snap, "Cloud"), pool.submit(jira_cases, snap, "Server")]
            sites.append(pool.submit(service_cases, snap))
            offline = [pool.submit(snap.run, case) for case in cases]
            for future in [*sites, *offline]:
                future.result()
    print(f"{snap.count} cases in {time.monotonic() - started:.0f} s -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
