"""A site that records some things and not others (tests/partial_site.py): set up, pass doctor, stay quiet.

The Done-when of issue 21: `setup --from KEY --write` then `doctor` exits 0 (and `doctor --service`
with a secret and a queue); `check` agrees with a hand-written mapping; short comments that never
blame the ticket for the site's choice; a show-stopper the site records but a ticket leaves empty
is never a plain GO.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from jiraserver import JiraServer
from partial_site import HAND_WRITTEN, TICKETS, VERDICTS, eight_field_site
from site_helpers import jira_env as env
from support import REPO, TODAY, Gonogo, comment_words, example_with

from gonogo.core.jira_shapes.site_fields import SiteField, type_problem
from gonogo.sources.resources import bundled_vocabulary

WEBHOOK_URL = "https://gonogo.example.com/webhook"
SERVICE = f"""
[webhook]
projects = ["BID"]
secret_file = "webhook-secret"
public_url = "{WEBHOOK_URL}"
queue_path = "queue"
"""
GO_CAVEAT = (
    "this site does not record liability, team available, delivery duration, payment terms, decision "
    "maker access or incumbent, so those checks were not run"
)


@pytest.fixture(params=["Cloud", "Server"])
def site(request: pytest.FixtureRequest) -> Iterator[JiraServer]:
    with eight_field_site(request.param) as server:
        yield server


@pytest.fixture
def cloud() -> Iterator[JiraServer]:
    with eight_field_site() as server:
        yield server


def set_up(gonogo: Gonogo, server: JiraServer, folder: Path) -> Path:
    written = folder / "gonogo.toml"
    run = gonogo("setup", "--from", "BID-1", "--write", str(written), env=env(server))
    assert run.exit_code == 0, run.stderr
    return written


def check(gonogo: Gonogo, server: JiraServer, key: str, *options: str) -> tuple[int, str]:
    run = gonogo("check", key, "--today", TODAY, "--dry-run", *options, env=env(server))
    assert run.exit_code in (0, 10, 11, 12), run.stderr
    return run.exit_code, run.stdout


def test_setup_then_doctor_passes_and_check_agrees_with_a_hand_written_mapping(
    gonogo: Gonogo, site: JiraServer, tmp_path: Path
) -> None:
    written = tmp_path / "gonogo.toml"
    run = gonogo("setup", "--from", "BID-1", "--write", str(written), env=env(site))
    assert run.stdout == (
        f"Wrote {written}: 8 of 20 properties matched, 9 not recorded, 2 option aliases, 0 TODO lines.\n"
    )
    config = tomllib.loads(written.read_text())
    assert config["jira"]["deployment"] == ("cloud" if site.deployment == "Cloud" else "data-center")
    assert config["fields"]["competitors"] == "customfield_20006"  # a labels field, counted
    assert config["fields"]["deadline"] == "customfield_20002"  # a date-time field
    unrecorded = {prop for prop, ref in config["fields"].items() if ref is False}
    assert unrecorded == {
        "customer", "liability", "payment_terms_days", "team_available", "delivery_months",
        "decision_maker_access", "incumbent", "strategic_fit", "waiver_reason",
    }  # fmt: skip
    assert (
        'liability = false  # not recorded here; to record it, add a select field "Liability" with '
        "options capped, unlimited and map it"
    ) in written.read_text()

    doctor = gonogo("doctor", "--from", "BID-1", env=env(site))
    assert doctor.exit_code == 0, doctor.stdout
    assert "FAIL" not in doctor.stdout
    assert (
        "skip field liability: not recorded on this site ([fields] liability = false), so the checks "
        "that need it do not run (fix: to record it, add a select field and set liability to it in [fields])"
    ) in doctor.stdout.splitlines()
    assert 'ok   field competitors: "Competing bidders" (customfield_20006, array)' in doctor.stdout

    written.write_text(written.read_text() + SERVICE)
    (tmp_path / "webhook-secret").write_text("a-long-enough-webhook-secret\n")
    assert gonogo("setup", "--webhook", WEBHOOK_URL, env=env(site)).exit_code == 0
    service = gonogo("doctor", "--service", env=env(site))
    assert service.exit_code == 0, service.stdout
    assert "ok   webhook secret: a webhook secret or token is set" in service.stdout
    assert "ok   queue: the local queue folder" in service.stdout
    assert "a-long-enough-webhook-secret" not in service.stdout

    by_setup = {
        key: json.loads(check(gonogo, site, key, "--format", "json")[1])["verdict"] for key in VERDICTS
    }
    (tmp_path / "hand.toml").write_text(HAND_WRITTEN)
    by_hand = {
        key: json.loads(check(gonogo, site, key, "--format", "json", "--config", "hand.toml")[1])["verdict"]
        for key in VERDICTS
    }
    assert by_setup == by_hand == VERDICTS


def test_comments_on_the_site_are_short_and_never_blame_the_ticket(
    gonogo: Gonogo, cloud: JiraServer, tmp_path: Path
) -> None:
    set_up(gonogo, cloud, tmp_path)
    comments = {key: check(gonogo, cloud, key, "--format", "jira")[1] for key in TICKETS}
    go, no_go, conditions = comments["BID-1"], comments["BID-2"], comments["BID-3"]
    assert comment_words(go) <= 150, go
    assert comment_words(no_go) <= 200, no_go
    # The GO says in its first line which show-stoppers and conditions it rests without.
    assert go.splitlines()[2] == f"GO: 16 of 25 checks passed; {GO_CAVEAT}."
    assert "(x) Show-stoppers" in no_go
    assert "does not record" not in no_go  # the unchecked could not have made it better
    # GO WITH CONDITIONS: unchecked show-stoppers could have made it a NO-GO; said once, in one line.
    assert conditions.count("does not record") == 1
    assert (
        "This site does not record liability or team available, so those checks were not run." in conditions
    )
    for comment in comments.values():
        assert "has no field" not in comment
        assert "Values that could not be used" not in comment
        assert "Not checked for lack of data" not in comment  # nothing the tickets could have said
        assert not re.search(r"[;,] *$", comment, re.MULTILINE), comment


def test_a_show_stopper_the_site_records_but_the_ticket_leaves_empty_is_asked_for(
    gonogo: Gonogo, tmp_path: Path
) -> None:
    ticket = example_with(tmp_path, "healthy", customfield_10110=None)  # Liability left empty
    run = gonogo("check", str(ticket), "--today", TODAY, "--format", "json")
    document = json.loads(run.stdout)
    assert document["verdict"] == "needs-info"
    assert [m["property"] for m in document["missing_information"]] == ["liability"]

    (tmp_path / "gonogo.toml").write_text("[fields]\nliability = false\n")  # a site without the field
    recorded_nowhere = gonogo("check", str(ticket), "--today", TODAY, "--format", "json")
    assert json.loads(recorded_nowhere.stdout)["verdict"] == "go"
    assert (
        "this site does not record liability, so that check was not run"
        in json.loads(recorded_nowhere.stdout)["summary"]
    )


def test_the_partial_site_ticket_with_an_empty_deadline_is_asked_for_it(
    gonogo: Gonogo, cloud: JiraServer, tmp_path: Path
) -> None:
    set_up(gonogo, cloud, tmp_path)
    code, comment = check(gonogo, cloud, "BID-5", "--format", "jira")
    assert code == 11
    assert "* Proposal due date: When exactly is the proposal due?" in comment


def test_a_go_resting_on_fewer_checks_carries_its_caveat_in_every_portfolio_format(
    gonogo: Gonogo, cloud: JiraServer, tmp_path: Path
) -> None:
    set_up(gonogo, cloud, tmp_path)
    report = ("report", "--project", "BID", "--today", TODAY)
    text = gonogo(*report, env=env(cloud)).stdout
    go_row = next(line for line in text.splitlines() if line.startswith("BID-1 "))
    assert f"~ GO: 16 of 25 checks passed; {GO_CAVEAT}." in go_row
    rows = list(csv.DictReader(io.StringIO(gonogo(*report, "--format", "csv", env=env(cloud)).stdout)))
    go = next(r for r in rows if r["key"] == "BID-1")
    assert (go["reason_kind"], go["reason"]) == ("unchecked", f"GO: 16 of 25 checks passed; {GO_CAVEAT}.")
    document = json.loads(gonogo(*report, "--format", "json", env=env(cloud)).stdout)
    (row,) = [r for r in document["tickets"] if r["key"] == "BID-1"]
    assert row["reason"]["kind"] == "unchecked"
    assert GO_CAVEAT in row["reason"]["text"]
    html = gonogo(*report, "--format", "html", env=env(cloud)).stdout
    assert f'<span class="kind">Not checked</span>GO: 16 of 25 checks passed; {GO_CAVEAT}.' in html


def test_setup_lists_the_site_fields_with_the_property_mapped_to_each(
    gonogo: Gonogo, cloud: JiraServer, tmp_path: Path
) -> None:
    set_up(gonogo, cloud, tmp_path)
    run = gonogo("setup", "--list-fields", env=env(cloud))
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert "customfield_20006  Competing bidders (array of string) → competitors" in lines
    assert "customfield_20002  Proposal due date (datetime) → deadline" in lines
    assert any(line.startswith("labels             Labels (array of string)") for line in lines)
    (tmp_path / "gonogo.toml").write_text('[fields]\nliability = "Exposure limit"\n')
    doctor = gonogo("doctor", env=env(cloud))
    assert doctor.exit_code == 3
    assert (
        'FAIL field liability: "Exposure limit" is not a field of this site (gonogo setup --list-fields '
        "lists them all) (fix: set liability in [fields] to one of the site's fields, or to false if "
        "the site does not record it)"
    ) in doctor.stdout.splitlines()


def test_a_waiver_hint_only_where_a_waiver_can_apply(
    gonogo: Gonogo, cloud: JiraServer, tmp_path: Path
) -> None:
    config = set_up(gonogo, cloud, tmp_path)
    _, comment = check(gonogo, cloud, "BID-3", "--format", "jira")
    assert "gonogo-waive" not in comment  # a waiver needs a reason, and the site has no reason field
    doctor = gonogo("doctor", env=env(cloud))
    assert (
        "skip waivers: a waiver needs a reason from the waiver_reason field, which this site does not "
        "record, so no waiver can apply (fix: to use waivers, map waiver_reason to a text field in "
        "[fields], or set [waivers] require_reason = false)"
    ) in doctor.stdout.splitlines()
    config.write_text(config.read_text() + "\n[waivers]\nrequire_reason = false\n")
    _, comment = check(gonogo, cloud, "BID-3", "--format", "jira")
    assert "add the label gonogo-waive-fixed-price-size" in comment


def test_a_check_before_any_setup_says_to_run_setup(gonogo: Gonogo, cloud: JiraServer) -> None:
    run = gonogo("check", "BID-1", "--today", TODAY, "--dry-run", env=env(cloud))
    assert run.exit_code == 3
    assert run.stderr.startswith("gonogo: error: none of the fields gonogo reads (")
    assert "run gonogo setup --from BID-1 --write gonogo.toml" in run.stderr


def test_config_after_the_command_and_errors_name_the_file_read(gonogo: Gonogo, tmp_path: Path) -> None:
    (tmp_path / "team.toml").write_text('[checklists]\npaths = ["missing-folder"]\n')
    ticket = example_with(tmp_path, "healthy")
    run = gonogo("check", str(ticket), "--config", "team.toml")
    assert run.exit_code == 3
    assert run.stderr == (
        "gonogo: error: checklist folder missing-folder does not exist: fix [checklists].paths in team.toml\n"
    )
    (tmp_path / "team.toml").write_text("[fields]\nliability = true\n")
    run = gonogo("checklists", "lint", "--config", "team.toml")
    assert "team.toml: fields.liability: give the Jira field as text" in run.stderr


def test_every_list_kind_maps_to_a_counted_property() -> None:
    competitors = bundled_vocabulary().properties["competitors"]
    for items in ("string", "option", "user"):  # labels, multi-select or checkboxes, multi-user
        assert type_problem(competitors, SiteField("customfield_1", "Rivals", "array", items)) is None
    problem = type_problem(competitors, SiteField("customfield_1", "Rivals", "date"))
    assert (
        problem
        == '"Rivals" (customfield_1, date) is a date field; competitors needs a number, text or list field'
    )


def with_when_missing(
    folder: Path, when_missing: str, checklist: str = "doomed", rule_id: str = "liability-capped"
) -> Path:
    """A copy of a bundled checklist, in `folder`/checklists, whose rule says what its empty data means."""
    data = json.loads((REPO / "checklists" / f"{checklist}.json").read_text())
    (rule,) = [rule for rule in data["rules"] if rule["id"] == rule_id]
    rule["when_missing"] = when_missing
    (folder / "checklists").mkdir(exist_ok=True)
    written = folder / "checklists" / f"{checklist}.json"
    written.write_text(json.dumps(data))
    return written


def test_a_checklist_can_make_a_show_stopper_left_empty_a_condition(gonogo: Gonogo, tmp_path: Path) -> None:
    with_when_missing(tmp_path, "condition")
    config = '[checklists]\npaths = ["checklists"]\n\n[waivers]\nallow_blockers = true\n'
    (tmp_path / "gonogo.toml").write_text(config)
    ticket = example_with(
        tmp_path,
        "healthy",
        customfield_10110=None,  # Liability left empty
        labels=["gonogo-waive-liability-capped"],
        customfield_10117="Legal will read the contract later.",
    )
    document = json.loads(gonogo("check", str(ticket), "--today", TODAY, "--format", "json").stdout)
    assert document["verdict"] == "go-with-conditions"
    assert document["missing_information"] == []
    (finding,) = [f for f in document["findings"] if f["rule"] == "liability-capped"]
    assert finding["problem"] == "Not yet confirmed: Our liability is capped (Liability left empty)"
    assert finding["waiver"]["refused"] == "missing information cannot be waived: answer the question instead"
    assert document["coverage"]["assessed"] == document["coverage"]["total"] - 1  # it did not run
    comment = gonogo("check", str(ticket), "--today", TODAY, "--format", "jira").stdout
    assert "h5. Not yet confirmed: Our liability is capped (Liability left empty)" in comment
    assert "add the label gonogo-waive-liability-capped" not in comment  # no hint that cannot work

    (tmp_path / "gonogo.toml").write_text(config + "\n[fields]\nliability = false\n")  # not recorded at all
    document = json.loads(gonogo("check", str(ticket), "--today", TODAY, "--format", "json").stdout)
    assert document["verdict"] == "go"
    (finding,) = [f for f in document["findings"] if f["rule"] == "liability-capped"]
    assert (finding["outcome"], finding["not_recorded"]) == ("skipped", ["liability"])


def test_json_tells_a_check_the_site_cannot_run_from_one_this_ticket_left_empty(
    gonogo: Gonogo, tmp_path: Path
) -> None:
    (tmp_path / "gonogo.toml").write_text("[fields]\nliability = false\n")
    ticket = example_with(tmp_path, "healthy", customfield_10111=None)  # payment terms: when_missing skip
    document = json.loads(gonogo("check", str(ticket), "--today", TODAY, "--format", "json").stdout)
    skipped = {f["rule"]: f["not_recorded"] for f in document["findings"] if f["outcome"] == "skipped"}
    assert skipped == {"liability-capped": ["liability"], "payment-terms": []}


@pytest.mark.parametrize(
    ("checklist", "rule_id", "when_missing", "refusal"),
    [
        (
            "doomed",
            "liability-capped",
            "skip",
            "a show-stopper cannot be skipped when a ticket leaves its data empty",
        ),
        (
            "strategic",
            "strategy-aligned",
            "condition",
            "a note cannot become a condition when its data is empty",
        ),
    ],
)
def test_lint_refuses_what_empty_data_cannot_mean(
    gonogo: Gonogo, tmp_path: Path, checklist: str, rule_id: str, when_missing: str, refusal: str
) -> None:
    written = with_when_missing(tmp_path, when_missing, checklist, rule_id)
    run = gonogo("checklists", "lint", str(written))
    assert run.exit_code == 3
    assert refusal in run.stdout + run.stderr
