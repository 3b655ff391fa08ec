"""Issue 13, case 3: secrets planted in every shape of Jira answer never leave gonogo.

The API token, its base64 forms (alone, and as HTTP basic auth sends it with the user), the webhook
secret and the Redis password are written into HTML pages, truncated JSON, error collections of
every status, and ticket fields. gonogo runs for real (subprocesses, so the `jira` library's root
logging behaves as it does for a user), at its most verbose; nothing it prints, logs, stores as a
dead letter or posts to Jira may contain any of them. A token of any spelling is blanked in the
values, before any escaping, so no output format lets it through.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from hostile_corpus import PLANTED_REDIS_PASSWORD, PLANTED_TOKEN, PLANTED_WEBHOOK_SECRET, TOKEN_SPELLINGS
from jiraserver import BOT_USER, JiraServer, running_server
from realdeps import require_real_or_skip
from site_helpers import jira_env, seed
from support import TODAY, Gonogo
from webhook_helpers import Service, created_event, example_fields, signed, wait_until
from wiki_oracle import oracle_unavailable_reason, plain_text, render_wiki_to_adf

from gonogo.webhook.queue import Job, open_queue
from gonogo.webhook.settings import QueueSettings


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


FORMS = {
    "token": PLANTED_TOKEN,
    "token, base64": b64(PLANTED_TOKEN),
    "basic auth value": b64(f"{BOT_USER.email}:{PLANTED_TOKEN}"),
    "webhook secret": PLANTED_WEBHOOK_SECRET,
    "redis password": PLANTED_REDIS_PASSWORD,
}
PLANTED = " | ".join(FORMS.values())
ISSUE = r"/issue/[^/]+$"

# Every shape a Jira (or whatever answers in its place) may give: (method, path, status, body, headers).
ANSWERS: dict[str, tuple[str, str, int, Any, dict[str, str]]] = {
    "200 html page": (
        "GET",
        ISSUE,
        200,
        f"<html><body>Login {PLANTED}</body></html>",
        {"Content-Type": "text/html"},
    ),
    "200 truncated json": ("GET", ISSUE, 200, f'{{"errorMessages": ["{PLANTED}', {}),
    "400 error collection": (
        "GET",
        ISSUE,
        400,
        {"errorMessages": [f"bad request {PLANTED}"], "errors": {"summary": PLANTED}},
        {},
    ),
    **{
        f"{status} error collection": ("GET", ISSUE, status, {"errorMessages": [PLANTED], "errors": {}}, {})
        for status in (401, 403, 404, 429, 500, 503)
    },
    "post 400": ("POST", r"/comment$", 400, {"errorMessages": [PLANTED], "errors": {"body": PLANTED}}, {}),
    "post 201 garbled": ("POST", r"/comment$", 201, f'{{"id": "{PLANTED}', {}),
    "pointer put 500": (
        "PUT",
        r"/properties/",
        500,
        f"<html>{PLANTED}</html>",
        {"Content-Type": "text/html"},
    ),
}


def environment(server: JiraServer) -> dict[str, str]:
    return {
        **os.environ,
        "JIRA_URL": server.url,
        "JIRA_USER": BOT_USER.email,
        "JIRA_API_TOKEN": PLANTED_TOKEN,
        "GONOGO_WEBHOOK_SECRET": PLANTED_WEBHOOK_SECRET,
        "GONOGO_REDIS_URL": f"redis://:{PLANTED_REDIS_PASSWORD}@127.0.0.1:6379/0",
        "GONOGO_TODAY": TODAY,
    }


def leaks(text: str) -> list[str]:
    return [name for name, form in FORMS.items() if form in text]


@pytest.fixture
def jira() -> Iterator[JiraServer]:
    with running_server(deployment="Cloud", auth=("basic", BOT_USER.email, PLANTED_TOKEN)) as server:
        data = json.loads((Path(__file__).parent.parent / "examples" / "doomed.json").read_text())
        fields = {**example_fields("doomed"), "summary": f"Bid {PLANTED}", "customfield_10109": PLANTED}
        server.add_issue("BID-1", fields, names=data["names"])
        yield server


def gonogo_run(server: JiraServer, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (folder / "gonogo.toml").write_text("[jira]\nretries = 0\n")
    return subprocess.run(
        [sys.executable, "-m", "gonogo", "-vv", *args],
        env=environment(server),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("shape", list(ANSWERS))
def test_no_planted_secret_leaves_a_check_whatever_jira_answers(
    jira: JiraServer, tmp_path: Path, shape: str
) -> None:
    method, path, status, body, headers = ANSWERS[shape]
    jira.fail_next(method, path, status, body=body, headers=headers)
    for output in ("text", "json"):
        run = gonogo_run(jira, tmp_path, "check", "BID-1", "--format", output)
        assert run.returncode in (5, 12), run.stderr
        assert leaks(run.stdout + run.stderr) == [], (shape, output, run.stdout + run.stderr)
        assert "ERROR:root" not in run.stderr
        jira.fail_next(method, path, status, body=body, headers=headers)
    assert leaks(json.dumps(jira.comments("BID-1"), default=str)) == []


def test_no_planted_secret_leaves_a_report(jira: JiraServer, tmp_path: Path) -> None:
    jira.fail_next(
        "GET", r"/search/jql$", 200, body=f"<html>{PLANTED}</html>", headers={"Content-Type": "text/html"}
    )
    broken = gonogo_run(jira, tmp_path, "report", "--project", "BID")
    jira.fail_next("GET", r"/search/jql$", 400, body={"errorMessages": [PLANTED], "errors": {}})
    refused = gonogo_run(jira, tmp_path, "report", "--project", "BID")
    jira.fail_next("POST", r"/comment$", 400, body={"errorMessages": [PLANTED], "errors": {}})
    posted = gonogo_run(jira, tmp_path, "report", "--project", "BID", "--post", "--format", "json")
    html = gonogo_run(jira, tmp_path, "report", "--project", "BID", "--format", "html")
    assert (broken.returncode, refused.returncode, posted.returncode, html.returncode) == (5, 4, 6, 0)
    for run in (broken, refused, posted, html):
        assert leaks(run.stdout + run.stderr) == [], run.stdout + run.stderr
    assert leaks(json.dumps(jira.comments("BID-1"), default=str)) == []


def test_no_planted_secret_leaves_the_service_its_log_or_its_dead_letters(
    jira: JiraServer, tmp_path: Path
) -> None:
    data = json.loads((Path(__file__).parent.parent / "examples" / "doomed.json").read_text())
    fields = {**example_fields("doomed"), "summary": f"Bid {PLANTED}"}
    keys = {f"BID-{n}": jira.add_issue(f"BID-{n}", fields, names=data["names"])["id"] for n in range(2, 6)}
    service = Service(tmp_path / "svc", jira, webhook="max_attempts = 2\n")
    service.env = environment(jira)
    service.env["GONOGO_CONFIG"] = str(service.config)
    jira.fail_next("GET", rf"/issue/{keys['BID-2']}$", 404, body={"errorMessages": [PLANTED], "errors": {}})
    jira.fail_next("GET", rf"/issue/{keys['BID-3']}$", 400, body={"errorMessages": [PLANTED], "errors": {}})
    jira.fail_next(
        "GET",
        rf"/issue/{keys['BID-4']}$",
        200,
        body=f"<html>{PLANTED}</html>",
        times=2,
        headers={"Content-Type": "text/html"},
    )
    service.start()
    try:
        for key, issue_id in keys.items():
            body = created_event(key, issue_id)
            reply = service.post(body, signed(body, f"planted-{key}", secret=PLANTED_WEBHOOK_SECRET))
            assert reply.json()["outcome"] == "queued"
        wait_until(lambda: len(jira.comments("BID-5")) == 1, timeout=20, what="BID-5's comment")
        wait_until(service.idle, timeout=20, what="every delivery to be settled")
        runs = [service.run("dead-letters", *extra) for extra in ([], ["--format", "json"])]
        assert [run.returncode for run in runs] == [0, 0], [run.stderr for run in runs]
        listings = [run.stdout for run in runs]
    finally:
        service.stop()
    assert len(json.loads(listings[1])) == 3  # BID-2 (404), BID-3 (400) at once; BID-4 after 2 tries
    assert leaks("\n".join(listings)) == []
    log = service.log_text()
    assert leaks(log) == []
    assert all(line.startswith("{") for line in log.splitlines() if line.strip())  # JSON lines only
    assert leaks(json.dumps([jira.comments(key) for key in keys], default=str)) == []


def test_dead_letters_as_json_blank_a_secret_that_json_escaping_would_split(
    gonogo: Gonogo, tmp_path: Path
) -> None:
    secret = 'webhook "secret" \\ 1'  # JSON writes it as: webhook \"secret\" \\ 1
    queue = open_queue(QueueSettings(kind="local", path=tmp_path / "queue"))
    queue.submit(Job("delivery-1", "BID-1", "10001", "jira:issue_created", 0.0), dedupe=True)
    claimed = queue.claim(1)
    assert claimed is not None
    queue.dead_letter(claimed, reason=f"Jira said {secret}", attempts=1)  # as if stored unredacted
    queue.close()
    config = tmp_path / "gonogo.toml"
    config.write_text('[webhook]\nqueue_path = "queue"\n', encoding="utf-8")
    env = {"GONOGO_WEBHOOK_SECRET": secret}
    run = gonogo("--config", str(config), "dead-letters", "--format", "json", env=env)
    assert run.exit_code == 0, run.stderr
    assert json.dumps(secret)[1:-1] not in run.stdout
    assert json.loads(run.stdout)[0]["reason"] == "Jira said ***"


# --- secrets are blanked in the values, before any escaping ------------------------------------

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
    """JSON and CSV escape `"` and `\\`, so redacting the serialised text missed it."""
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
