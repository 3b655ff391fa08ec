"""`gonogo setup` and `gonogo doctor` on a site whose fields and options are its own, not gonogo's.

The Done-when of the site set-up: on a site with options Full / Partial / None and field names
unlike the defaults, `setup --from KEY` writes a gonogo.toml with which `doctor` exits 0 and
`check` gives the same verdicts as a hand-written mapping with aliases.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jiraserver import DIRECTOR_USER, JiraServer, running_server
from site_helpers import jira_env as env
from support import EXAMPLES, TODAY, Gonogo

from gonogo.core.pipeline.proposal import canonical_option

# The site's own names for the fields the examples carry under gonogo's default names.
SITE_NAMES = {
    "Customer": "Client",
    "Contract value": "Deal size (EUR)",
    "Submission deadline": "Bid due date",
    "Decision maker": "Economic buyer",
    "Win probability": "PWin %",
    "Effort (person-days)": "Estimated effort (days)",
    "Competitors": "Known bidders",
    "Contract type": "Commercial model",
    "Capability fit": "Capability",
    "Liability": "Liability cap",
    "Payment terms (days)": "Payment days",
    "Team available": "Team availability",
    "Delivery duration (months)": "Project duration",
    "Decision maker access": "Access to decision maker",
    "Incumbent": "Current supplier",
    "Strategic fit": "Strategic alignment",
    "Waiver reason": "Waiver justification",
}
SITE_OPTIONS = {
    "Capability": {"strong": "Full", "partial": "Partial", "none": "None"},
    "Liability cap": {"capped": "Limited", "unlimited": "Unlimited"},
}
HAND_WRITTEN = "\n".join(
    [
        "[fields]",
        *(f'{prop} = "{name}"' for prop, name in [
            ("customer", "Client"), ("budget", "deal size (eur)"), ("deadline", "Bid due date"),
            ("decision_maker", "Economic buyer"), ("win_probability", "PWin %"),
            ("effort_days", "Estimated effort (days)"), ("competitors", "Known bidders"),
            ("contract_type", "Commercial model"), ("capability_fit", "Capability"),
            ("liability", "Liability cap"), ("payment_terms_days", "Payment days"),
            ("team_available", "Team availability"), ("delivery_months", "Project duration"),
            ("decision_maker_access", "Access to decision maker"), ("incumbent", "Current supplier"),
            ("strategic_fit", "Strategic alignment"), ("waiver_reason", "Waiver justification"),
        ]),
        "[values.capability_fit]",
        '"FULL" = "strong"',
        "[values.liability]",
        '"limited" = "capped"',
    ]
)  # fmt: skip
TICKETS = {"BID-1": "healthy", "BID-2": "doomed", "BID-3": "conditions", "BID-4": "needs-info"}


def site_ticket(example: str) -> tuple[dict[str, Any], dict[str, str]]:
    """An example ticket as this site holds it: its names and its option texts."""
    data = json.loads((EXAMPLES / f"{example}.json").read_text())
    names = {fid: SITE_NAMES.get(name, name) for fid, name in data["names"].items() if fid != "comment"}
    fields = {fid: value for fid, value in data["fields"].items() if fid != "comment"}
    # No "Outcome" field: this site does not record how bids end (only report --outcomes reads it).
    for fid, name in names.items():
        value = fields.get(fid)
        if name in SITE_OPTIONS and isinstance(value, dict):
            fields[fid] = {**value, "value": SITE_OPTIONS[name][canonical_option(value["value"])]}
    return fields, names


@pytest.fixture(params=["Cloud", "Server"])
def site(request: pytest.FixtureRequest) -> Iterator[JiraServer]:
    auth: Any = (
        ("basic", "bot@example.com", "s3cr3t-t0ken") if request.param == "Cloud" else ("bearer", "s3cr3t-pat")
    )
    with running_server(deployment=request.param, auth=auth) as server:
        for key, example in TICKETS.items():
            fields, names = site_ticket(example)
            server.add_issue(key, fields, names=names)
        by_name = {name: fid for fid, name in names.items()}
        for name, options in SITE_OPTIONS.items():
            server.set_field_options(by_name[name], list(options.values()))
        yield server
        assert server.internal_errors == []


def verdicts(gonogo: Gonogo, server: JiraServer, config: Path) -> dict[str, str]:
    found = {}
    for key in TICKETS:
        run = gonogo(
            "--config",
            str(config),
            "check",
            key,
            "--today",
            TODAY,
            "--dry-run",
            "--format",
            "json",
            env=env(server),
        )
        assert run.exit_code in (0, 10, 11, 12), run.stderr
        found[key] = json.loads(run.stdout)["verdict"]
    return found


def test_setup_writes_a_config_that_doctor_passes_and_check_agrees_with_a_hand_written_one(
    gonogo: Gonogo, site: JiraServer, tmp_path: Path
) -> None:
    written = tmp_path / "gonogo.toml"
    run = gonogo("setup", "--from", "BID-1", "--write", str(written), env=env(site))
    assert run.exit_code == 0, run.stderr
    assert run.stdout == f"Wrote {written}: 17 of 20 properties matched, 2 option aliases, 0 TODO lines.\n"
    assert "outcome" not in tomllib.loads(written.read_text())["fields"]
    assert "# outcome (Outcome) is optional (only gonogo report --outcomes reads it)" in written.read_text()
    assert [f"{r.method} {r.path}" for r in site.requests] == [
        "GET /rest/api/2/serverInfo",
        "GET /rest/api/2/field",
        "GET /rest/api/2/issue/BID-1/editmeta",
    ]
    config = tomllib.loads(written.read_text())
    assert config["fields"]["capability_fit"] == next(
        fid
        for fid, name in site.requests[1].response_json
        and {f["id"]: f["name"] for f in site.requests[1].response_json}.items()
        if name == "Capability"
    )
    assert config["values"] == {"capability_fit": {"Full": "strong"}, "liability": {"Limited": "capped"}}
    secret = env(site)["JIRA_API_TOKEN"]
    assert secret not in written.read_text()

    doctor = gonogo("--config", str(written), "doctor", "--from", "BID-1", env=env(site))
    assert doctor.exit_code == 0, doctor.stdout
    assert "FAIL" not in doctor.stdout
    assert doctor.stdout.splitlines()[-1] == "0 problems, 3 checks skipped."  # outcome, decision, its reason
    assert (
        'skip field outcome: this site has no field "Outcome"; it is optional: only gonogo report '
        "--outcomes reads it (fix: to use it, add the field or set outcome in [fields])"
    ) in doctor.stdout.splitlines()
    assert secret not in doctor.stdout + doctor.stderr

    hand = tmp_path / "hand.toml"
    hand.write_text(HAND_WRITTEN + "\n")
    from_setup = verdicts(gonogo, site, written)
    assert from_setup == verdicts(gonogo, site, hand)
    assert from_setup == {
        "BID-1": "go",
        "BID-2": "no-go",
        "BID-3": "go-with-conditions",
        "BID-4": "needs-info",
    }


@pytest.fixture
def cloud() -> Iterator[JiraServer]:
    with running_server(deployment="Cloud") as server:
        fields, names = site_ticket("healthy")
        server.add_issue("BID-1", fields, names=names)
        yield server
        assert server.internal_errors == []


def test_unclear_fields_and_options_become_todo_lines_with_candidates(
    gonogo: Gonogo, cloud: JiraServer
) -> None:
    fields, names = site_ticket("conditions")
    by_name = {name: fid for fid, name in names.items()}
    names[by_name["Deal size (EUR)"]] = "Value"
    names[by_name["Client"]] = 'Buyer "ok"\n[jira]\nurl = "http://evil"'
    cloud.add_issue("BID-2", fields, names=names)
    cloud.set_field_options(by_name["Capability"], ["Full", "Maybe", 'So-so"\n[x]'])
    run = gonogo("setup", "--from", "BID-2", env=env(cloud))
    assert run.exit_code == 0, run.stderr
    config = tomllib.loads(run.stdout)  # site text cannot break out of strings or comments
    assert config["jira"] == {"url": cloud.url, "deployment": "cloud"}  # from serverInfo
    assert config["fields"]["budget"] is False  # not recorded, until a person picks a candidate
    assert "# TODO budget (Contract value): no field is clearly named for it; candidates:" in run.stdout
    assert config["values"]["capability_fit"] == {"Full": "strong"}
    assert '# TODO "Maybe" = "…"  # one of none, partial, strong' in run.stdout
    assert '# TODO "So-so\\"\\n[x]" = "…"' in run.stdout
    assert "# TODO customer (Customer): no field is clearly named for it; candidates:" in run.stdout
    assert 'customfield_10109 "Buyer "ok" [jira] url = "http://evil""' in run.stdout
    assert "gonogo setup: 15 of 20 properties matched" in run.stderr  # and no Outcome field


def test_write_never_replaces_a_file_without_force(gonogo: Gonogo, cloud: JiraServer, tmp_path: Path) -> None:
    target = tmp_path / "mine.toml"
    target.write_text("# mine\n")
    refused = gonogo("setup", "--write", str(target), env=env(cloud))
    assert refused.exit_code == 4
    assert (
        refused.stderr
        == f"gonogo: error: {target} exists: choose another file, or add --force to replace it\n"
    )
    assert target.read_text() == "# mine\n"
    assert cloud.requests == []
    assert gonogo("setup", "--write", str(target), "--force", env=env(cloud)).exit_code == 0
    assert "run `gonogo setup --from KEY`" in target.read_text()


def test_doctor_names_each_problem_with_its_fix_and_exits_3(
    gonogo: Gonogo, cloud: JiraServer, tmp_path: Path
) -> None:
    cloud.deny_permission("EDIT_OWN_COMMENTS")
    cloud.remove_from_edit_screen("labels")
    config = tmp_path / "gonogo.toml"
    config.write_text(
        '[fields]\nbudget = "Deal size (EUR)"\ndeadline = "PWin %"\ncustomer = "Clients"\n'
        'capability_fit = "Capability"\noutcome = "Bid result"\n'
    )
    run = gonogo("doctor", "--from", "BID-1", "--service", env=env(cloud))
    assert run.exit_code == 3
    lines = run.stdout.splitlines()
    assert lines[0] == f"ok   site: {cloud.url} answers: Jira Cloud 1001.0.0-SNAPSHOT"
    assert lines[1].startswith("ok   credentials: signed in as gonogo bot (712020:")
    assert lines[2] == (
        "FAIL permissions: on BID-1 this account lacks: Edit Own Comments "
        "(fix: grant them to the account in the project's permission scheme)"
    )
    assert 'ok   field budget: "Deal size (EUR)" (customfield_10101, number)' in lines
    problems = "\n".join(line for line in lines if line.startswith("FAIL"))
    assert (
        'field deadline: "PWin %" (customfield_10104, number) is a number field; deadline needs a date'
        in problems
    )
    assert (
        'field customer: "Clients" is not a field of this site (closest: "Client" (customfield_10109)'
        in problems
    )
    assert 'field win_probability: "Win probability" is not a field of this site' in problems
    assert 'field outcome: "Bid result" is not a field of this site' in problems  # mapped, so needed
    assert 'options capability_fit: "Full" of "Capability"' in problems
    assert 'add it to [values.capability_fit], e.g. "Full" = "none"' in problems  # one option: it
    assert "labels: the Labels field is not on the edit screen of BID-1" in problems
    assert "webhook secret: neither GONOGO_WEBHOOK_SECRET nor GONOGO_WEBHOOK_TOKEN is set" in problems
    assert "ok   checklists: " in run.stdout
    assert "ok   queue: the local queue folder" in run.stdout
    assert env(cloud)["JIRA_API_TOKEN"] not in run.stdout + run.stderr


def test_doctor_stops_asking_jira_after_the_credentials_fail(gonogo: Gonogo, cloud: JiraServer) -> None:
    wrong = {**env(cloud), "JIRA_API_TOKEN": "wrong-token"}
    run = gonogo("doctor", "--from", "BID-1", env=wrong)
    assert run.exit_code == 3
    # the Jira line, what the credentials are, then checklists, waivers and the count
    line, kind = run.stdout.splitlines()[:-3]
    assert line == (
        "FAIL jira: Jira rejected the credentials (401) when trying to read the site's server information: "
        "check JIRA_USER (your Atlassian email) and JIRA_API_TOKEN; Atlassian API tokens expire (within "
        "a year at most): create a new one if it has. A scoped API token (a service account's) works only "
        "through Atlassian's API gateway: set [jira] cloud_id "
        "(fix: fix the problem above, then run gonogo doctor again)"
    )
    assert kind == "ok   credentials kind: a user name and API token or password, sent to the site"
    assert [r.path for r in cloud.requests] == ["/rest/api/2/serverInfo"]
    assert "wrong-token" not in run.stdout + run.stderr


def test_doctor_says_who_may_waive_and_proves_each_approver_group(
    gonogo: Gonogo, cloud: JiraServer, tmp_path: Path
) -> None:
    anyone = gonogo("doctor", env=env(cloud))
    assert (
        "ok   waivers: [waivers].approvers is empty, so anyone who can edit a ticket's labels can "
        "waive a rule; waivers end 30 days after approval" in anyone.stdout
    )
    cloud.add_group("bid-board", [DIRECTOR_USER])
    (tmp_path / "gonogo.toml").write_text(
        '[waivers]\napprovers = ["dana.director", "group:bid-board", "group:bid-bored"]\nmax_days = 0\n'
    )
    run = gonogo("doctor", env=env(cloud))
    assert run.exit_code == 3
    assert "ok   waivers: 3 approvers may waive a rule; waivers never end" in run.stdout
    assert "ok   approver group bid-board: 1 member id" in run.stdout.splitlines()
    assert "ok   checklists: 6 checklist files lint clean" in run.stdout.splitlines()
    assert "(s)" not in run.stdout  # counts worded by the template, not "file(s)" (review 1, finding 13)
    assert (
        "FAIL approver group bid-bored: [waivers].approvers names group:bid-bored, but Jira has no group"
        in (run.stdout)
    )


def test_doctor_with_a_secret_and_redis_reports_the_service_ready_without_showing_the_secret(
    gonogo: Gonogo, cloud: JiraServer, tmp_path: Path
) -> None:
    (tmp_path / "gonogo.toml").write_text('[webhook]\nqueue = "redis"\n')
    service_env = {
        **env(cloud),
        "GONOGO_WEBHOOK_SECRET": "hush-hush-secret",
        "GONOGO_REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    run = gonogo("doctor", "--service", env=service_env)
    assert "ok   webhook secret: a webhook secret or token is set" in run.stdout
    assert "hush-hush-secret" not in run.stdout + run.stderr
    queue_line = next(line for line in run.stdout.splitlines() if " queue: " in line)
    assert queue_line in ("ok   queue: Redis at 127.0.0.1:6379 answers",) or queue_line.startswith(
        "FAIL queue: cannot use Redis"
    )


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            "",
            "ok   comments: posted as wiki markup on REST v2; for native Cloud comments "
            '(ADF on REST v3) set [jira] deployment = "cloud"',
        ),
        (
            '[jira]\ndeployment = "cloud"\n',
            "ok   comments: posted as Atlassian Document Format on REST v3 (Jira Cloud)",
        ),
        (
            '[jira]\ndeployment = "cloud"\napi_version = 2\n',
            "ok   comments: posted as wiki markup on REST v2;",
        ),
    ],
)
def test_doctor_says_which_comment_format_a_cloud_site_gets(
    gonogo: Gonogo, cloud: JiraServer, tmp_path: Path, config: str, expected: str
) -> None:
    (tmp_path / "gonogo.toml").write_text(config)
    run = gonogo("doctor", env=env(cloud))
    assert any(line.startswith(expected) for line in run.stdout.splitlines()), run.stdout


def test_doctor_refuses_adf_for_a_data_center_site(gonogo: Gonogo, tmp_path: Path) -> None:
    (tmp_path / "gonogo.toml").write_text("[jira]\napi_version = 3\n")
    with running_server(deployment="Server", auth=("bearer", "pat")) as server:
        run = gonogo("doctor", env=env(server))
    assert run.exit_code == 3
    assert (
        "FAIL comments: configured for ADF on REST v3, but this site is Jira Data Center, "
        "which has REST v2 only "
        '(fix: set [jira] deployment = "data-center" (or "auto") and remove api_version in gonogo.toml)'
    ) in run.stdout.splitlines()
