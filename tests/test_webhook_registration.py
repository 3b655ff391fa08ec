"""`gonogo setup --webhook URL` registers the admin webhook; `doctor --service` checks it; serve takes it.

The test Jira serves the admin webhook REST API (`/rest/webhooks/1.0/webhook`) as Atlassian
documents it: register, list, update, delete; never a secret in an answer; Administer Jira needed.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from jiraserver import JiraServer, running_server
from jiraserver.contract import SPEC_PATH
from site_helpers import jira_env, seed
from support import Gonogo
from test_cloud_gateway import CLOUD_ID, SITE, gateway_env
from webhook_helpers import Service, created_event, signed, wait_until
from webhook_helpers import seed as seed_for_service

from gonogo.flows.doctor import GROUP_MEMBERS_SCOPE, SCOPES

URL = "https://gonogo.example.com/webhook"
CONFIG = f"""[jira]
retries = 0

[webhook]
projects = ["BID"]
issue_types = ["Proposal", "Bid \\"big\\""]
secret_file = "webhook-secret"
public_url = "{URL}"
queue_path = "queue"
"""


@pytest.fixture
def jira() -> Iterator[JiraServer]:
    with running_server(deployment="Cloud") as server:
        seed(server, "healthy", "BID-1")
        yield server
        assert server.internal_errors == []


def test_setup_twice_leaves_one_webhook_with_the_filter_events_and_a_private_secret(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    (tmp_path / "gonogo.toml").write_text(CONFIG)
    first = gonogo("setup", "--webhook", URL, env=jira_env(jira))
    assert first.exit_code == 0, first.stderr
    secret_file = tmp_path / "webhook-secret"
    secret = secret_file.read_text().strip()
    assert len(secret) >= 40
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert secret not in first.stdout + first.stderr
    assert f"secret: a new one, written to {secret_file}, where gonogo serve reads it" in first.stdout
    assert first.stdout.startswith(f'Registered the Jira webhook "gonogo" (id 1): {URL}')

    second = gonogo("setup", "--webhook", URL, env=jira_env(jira))
    assert second.exit_code == 0, second.stderr
    assert second.stdout.startswith(f'Updated the Jira webhook "gonogo" (id 1): {URL}')
    assert secret_file.read_text().strip() == secret  # kept, not rotated behind the service's back

    (webhook,) = jira.webhooks()
    assert webhook["url"] == URL
    assert webhook["secret"] == secret
    assert webhook["events"] == ["jira:issue_created", "jira:issue_updated"]  # verdict labels count
    assert webhook["jql"] == 'project in (BID) AND issuetype in ("Proposal", "Bid \\"big\\"")'
    assert (webhook["enabled"], webhook["excludeBody"]) == (True, False)
    answers = [r.response_body for r in jira.requests if "/rest/webhooks/" in r.path]
    assert all(secret.encode() not in (body or b"") for body in answers)  # Jira never echoes it
    assert [r.method for r in jira.requests if "/rest/webhooks/" in r.path] == ["GET", "POST", "GET", "PUT"]


def test_no_part_of_a_secret_from_the_environment_is_printed_or_logged(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    (tmp_path / "gonogo.toml").write_text(CONFIG)
    short = "Zq7x"  # a short secret: any shown prefix would be all of it
    run = gonogo("-vv", "setup", "--webhook", URL, env={**jira_env(jira), "GONOGO_WEBHOOK_SECRET": short})
    assert run.exit_code == 0, run.stderr
    assert short not in run.stdout + run.stderr
    assert "secret: the one in GONOGO_WEBHOOK_SECRET, where gonogo serve reads it" in run.stdout
    assert jira.webhooks()[0]["secret"] == short
    assert not (tmp_path / "webhook-secret").exists()


def test_an_existing_webhook_is_repaired_not_duplicated_and_doctor_says_what_was_wrong(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    (tmp_path / "gonogo.toml").write_text(CONFIG)
    assert gonogo("setup", "--webhook", URL, env=jira_env(jira)).exit_code == 0
    jira.change_webhook(1, enabled=False, events=["jira:issue_updated"], excludeBody=True)  # in Jira's UI
    doctor = gonogo("doctor", "--service", env=jira_env(jira))
    assert doctor.exit_code == 3
    assert (
        f"FAIL jira webhook: the webhook to {URL} will not do: it is disabled; it does not send "
        "jira:issue_created; it leaves out the body, which the service reads (fix: run gonogo setup "
        "--webhook URL with an administrator's credentials)"
    ) in doctor.stdout
    assert gonogo("setup", "--webhook", URL, env=jira_env(jira)).exit_code == 0
    (webhook,) = jira.webhooks()
    assert (webhook["enabled"], webhook["excludeBody"]) == (True, False)
    assert gonogo("doctor", "--service", env=jira_env(jira)).exit_code == 0


def test_doctor_service_passes_once_registered_and_fails_before(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    (tmp_path / "gonogo.toml").write_text(CONFIG)
    (tmp_path / "webhook-secret").write_text("an-existing-secret-of-the-service\n")
    before = gonogo("doctor", "--service", env=jira_env(jira))
    assert before.exit_code == 3
    assert f"FAIL jira webhook: Jira has no webhook posting to {URL}" in before.stdout

    assert gonogo("setup", "--webhook", URL, env=jira_env(jira)).exit_code == 0
    assert jira.webhooks()[0]["secret"] == "an-existing-secret-of-the-service"
    after = gonogo("doctor", "--service", env=jira_env(jira))
    assert after.exit_code == 0, after.stdout
    assert (
        f"ok   jira webhook: {URL} gets jira:issue_created, jira:issue_updated for project in (BID)"
        in after.stdout
    )


@pytest.mark.parametrize(
    ("config", "url", "says", "code"),
    [
        (CONFIG.replace('secret_file = "webhook-secret"\n', ""), URL, "[webhook].secret_file is not set", 3),
        (CONFIG, "https://gonogo.example.com/hooks", "gonogo serve listens on /webhook", 4),
        (CONFIG, "gonogo.example.com/webhook", "give the service's public URL", 4),
    ],
)
def test_setup_webhook_refuses_what_would_not_work_before_asking_jira(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path, config: str, url: str, says: str, code: int
) -> None:
    (tmp_path / "gonogo.toml").write_text(config)
    run = gonogo("setup", "--webhook", url, env=jira_env(jira))
    assert (run.exit_code, says in run.stderr) == (code, True), run.stderr
    assert jira.requests == []
    assert not (tmp_path / "webhook-secret").exists()


def test_without_administer_jira_the_refusal_names_the_permission(gonogo: Gonogo, tmp_path: Path) -> None:
    (tmp_path / "gonogo.toml").write_text(CONFIG)
    with running_server(deployment="Cloud", administer=False) as server:
        run = gonogo("setup", "--webhook", URL, env=jira_env(server))
    assert run.exit_code == 3
    assert "Administer Jira" in run.stderr
    assert not (tmp_path / "webhook-secret").exists()  # no secret Jira does not have


def test_doctor_service_skips_the_webhook_check_for_an_account_without_administer_jira(
    gonogo: Gonogo, tmp_path: Path
) -> None:
    """The service's account needs no admin rights, so doctor does not fail it for lacking them."""
    (tmp_path / "gonogo.toml").write_text(CONFIG)
    (tmp_path / "webhook-secret").write_text("an-existing-secret-of-the-service\n")
    with running_server(deployment="Cloud", administer=False) as server:
        seed(server, "healthy", "BID-1")
        run = gonogo("doctor", "--service", env=jira_env(server))
    assert run.exit_code == 0, run.stdout
    assert (
        "skip jira webhook: not checked: this account may not list Jira's admin webhooks (that needs "
        "Administer Jira, which gonogo serve itself does not) (fix: to check it, run gonogo doctor "
        "--service once with an administrator's credentials)"
    ) in run.stdout


def test_a_delivery_signed_with_the_written_secret_is_accepted(
    gonogo: Gonogo, jira: JiraServer, tmp_path: Path
) -> None:
    folder = tmp_path / "svc"
    service = Service(
        folder,
        jira,
        webhook='projects = ["BID"]\nsecret_file = "webhook-secret"\n',
        env={"GONOGO_WEBHOOK_SECRET": ""},  # the service reads the file setup wrote
    )
    registered = gonogo("--config", str(service.config), "setup", "--webhook", URL, env=jira_env(jira))
    assert registered.exit_code == 0, registered.stderr
    secret = (folder / "webhook-secret").read_text().strip()
    service.start()
    try:
        issue_id = seed_for_service(jira, "BID-5")
        body = created_event("BID-5", issue_id)
        forged = service.post(body, signed(body, "d-0", secret="not-the-secret"))
        assert forged.status_code == 401
        accepted = service.post(body, signed(body, "d-1", secret=secret))
        assert (accepted.status_code, accepted.json()["outcome"]) == (200, "queued")
        wait_until(lambda: len(jira.comments("BID-5")) == 1, timeout=15, what="the verdict comment")
    finally:
        service.stop()
    assert secret not in service.log_text()


def test_doctor_through_the_gateway_names_the_token_kind_and_the_scopes(
    gonogo: Gonogo, tmp_path: Path
) -> None:
    (tmp_path / "gonogo.toml").write_text(
        f'[jira]\nsite_url = "{SITE}"\n\n[waivers]\napprovers = ["group:board"]\n'
    )
    with running_server(deployment="Cloud", cloud_id=CLOUD_ID) as server:
        seed(server, "healthy", "BID-1")
        server.add_group("board", [])
        run = gonogo("doctor", "--from", f"{SITE}/browse/BID-1", env=gateway_env(server))
    assert run.exit_code == 0, run.stdout
    assert (
        f"ok   credentials kind: an API token sent to Atlassian's API gateway for cloud id {CLOUD_ID}"
        in run.stdout
    )
    scopes = next(line for line in run.stdout.splitlines() if line.startswith("ok   scopes:"))
    assert "this token needs read:jira-work (" in scopes
    assert "write:jira-work (" in scopes
    assert "read:jira-user (" in scopes
    assert "manage:jira-configuration (list the members of approver and owner groups)" in scopes
    assert "ok   comments: posted as Atlassian Document Format on REST v3" in run.stdout


def test_the_scopes_doctor_names_are_those_atlassian_documents_for_the_operations_gonogo_uses() -> None:
    """Each operation's classic scope, from the `security` of Atlassian's OpenAPI document."""
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    documented = {
        scope
        for path, operations in spec["paths"].items()
        if path != "/rest/api/3/webhook"  # dynamic (app) webhooks: gonogo registers an admin webhook
        for operation in operations.values()
        for requirement in operation.get("security", [])
        for scope in requirement.get("OAuth2", [])
    }
    assert documented == {*SCOPES, GROUP_MEMBERS_SCOPE}
