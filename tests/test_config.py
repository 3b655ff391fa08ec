"""Configuration: where settings come from, and errors that name what to set."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from support import EXAMPLES, TODAY, Gonogo

from gonogo.core.errors import ConfigurationError
from gonogo.sources.config import JiraSettings, load_settings
from gonogo.sources.resources import bundled_json


def test_cloud_basic_auth_and_data_center_bearer_are_told_apart() -> None:
    cloud = load_settings(
        environ={
            "JIRA_URL": "https://x.atlassian.net/",
            "JIRA_USER": "a@b.c",
            "JIRA_API_TOKEN": "t",
        }
    )
    assert (cloud.jira.url, cloud.jira.auth_style) == ("https://x.atlassian.net", "basic")
    dc = load_settings(environ={"JIRA_URL": "https://jira.example.com", "JIRA_API_TOKEN": "pat"})
    assert dc.jira.auth_style == "bearer"


def test_the_token_never_shows_in_repr() -> None:
    settings = load_settings(
        environ={"JIRA_URL": "https://x.atlassian.net", "JIRA_API_TOKEN": "s3cr3t-token"}
    )
    assert "s3cr3t-token" not in repr(settings)
    assert settings.jira.token is not None
    assert settings.jira.token.reveal() == "s3cr3t-token"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"JIRA_URL": "x.atlassian.net"}, "JIRA_URL must be the site's base URL"),
        ({"JIRA_URL": "https://me:pw@x.atlassian.net"}, "JIRA_URL must not contain credentials"),
    ],
)
def test_bad_environment_is_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_settings(environ=environ)


def test_connection_is_required_only_when_jira_is_needed() -> None:
    settings = load_settings(environ={"JIRA_URL": "https://x.atlassian.net"})
    with pytest.raises(ConfigurationError, match="JIRA_API_TOKEN is not set"):
        settings.jira.require_connection()
    with_user = load_settings(environ={"JIRA_URL": "https://x.atlassian.net", "JIRA_USER": "a@b.c"})
    with pytest.raises(
        ConfigurationError, match=r"JIRA_USER \(or \[jira\].user\) is a@b.c but JIRA_API_TOKEN"
    ):
        with_user.jira.require_connection()


def test_a_shared_user_in_the_file_does_not_stop_offline_checks(gonogo: Gonogo, tmp_path: Path) -> None:
    (tmp_path / "gonogo.toml").write_text('[jira]\nuser = "bid-bot@example.com"\n')
    assert gonogo("check", str(EXAMPLES / "healthy.json"), "--today", TODAY).exit_code == 0


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[jira]\ntoken = 'abc'\n", r"\[jira\].token must not be stored in a file"),
        (
            "[jira]\ntimeout_seconds = 'slow'\n",
            "jira.timeout_seconds: 'slow' is not of type 'number'",
        ),
        ("[feilds]\nbudget = 'x'\n", "'feilds' was unexpected"),
        ("[fields\n", "not valid TOML"),
    ],
)
def test_bad_config_file_is_named(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "gonogo.toml"
    path.write_text(toml)
    with pytest.raises(ConfigurationError, match=message):
        load_settings(path, environ={})


def test_config_file_is_found_in_the_current_directory(tmp_path: Path) -> None:
    (tmp_path / "gonogo.toml").write_text(
        '[fields]\nbudget = "Deal size"\n[thresholds]\nmin_win_probability = 20\n'
    )
    settings = load_settings(environ={})
    assert settings.fields == {"budget": "Deal size"}
    assert settings.thresholds == {"min_win_probability": 20.0}


def test_field_mapping_and_thresholds_change_the_verdict(gonogo: Gonogo, tmp_path: Path) -> None:
    config = tmp_path / "team.toml"
    config.write_text("[thresholds]\nmin_win_probability = 50\n")
    run = gonogo("--config", str(config), "check", str(EXAMPLES / "healthy.json"), "--today", TODAY)
    assert run.exit_code == 12
    assert "NO-GO: Win probability 45%, at or below the 50% floor." in run.stdout
    words = " ".join(run.stdout.split())  # the terminal wraps long lines
    assert "Needed for GO: Only if a re-estimate with evidence puts Win probability at 51 or more." in words


def test_missing_config_file_and_unknown_threshold_are_configuration_errors(
    gonogo: Gonogo, tmp_path: Path
) -> None:
    run = gonogo("--config", str(tmp_path / "nope.toml"), "check", str(EXAMPLES / "healthy.json"))
    assert run.exit_code == 3
    assert "nope.toml does not exist" in run.stderr
    (tmp_path / "gonogo.toml").write_text("[thresholds]\nmin_win_probabilty = 50\n")
    run = gonogo("check", str(EXAMPLES / "healthy.json"))
    assert run.exit_code == 3
    assert "unknown threshold(s) min_win_probabilty" in run.stderr


def test_an_absurd_waiver_limit_is_a_configuration_error_not_a_crash(gonogo: Gonogo, tmp_path: Path) -> None:
    """Review 1, finding 6: 3,000,000 days overflowed the expiry date of every waived ticket."""
    (tmp_path / "gonogo.toml").write_text("[waivers]\nmax_days = 3000000\n")
    run = gonogo("check", str(EXAMPLES / "waived.json"), "--today", TODAY)
    assert run.exit_code == 3
    assert "internal error" not in run.stderr
    assert "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert "waivers.max_days" in run.stderr
    assert "36500" in run.stderr


def test_broken_user_checklist_folder_stops_the_check(gonogo: Gonogo, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "x.json").write_text(
        '{"id": "x", "title": "Mine", "version": "1", "description": "Too short?", "rules": []}'
    )
    (tmp_path / "gonogo.toml").write_text('[checklists]\npaths = ["mine"]\n')
    run = gonogo("check", str(EXAMPLES / "healthy.json"))
    assert run.exit_code == 3
    assert "x.json: rules: [] should be non-empty" in run.stderr


def test_the_comment_format_is_read_from_the_configuration(tmp_path: Path) -> None:
    cloud = load_settings(environ={"JIRA_URL": "https://acme.atlassian.net"})
    assert cloud.jira.comment_format.value == "adf"
    data_center = load_settings(environ={"JIRA_URL": "https://jira.acme.example"})
    assert data_center.jira.comment_format.value == "jira"
    config = tmp_path / "gonogo.toml"
    config.write_text("[jira]\napi_version = 2\n")
    assert (
        load_settings(config, environ={"JIRA_URL": "https://acme.atlassian.net"}).jira.comment_format.value
        == "jira"
    )


def test_whole_numbers_written_with_a_decimal_point_stay_whole(tmp_path: Path) -> None:
    """TOML's 3.0 passes the schema's "integer"; it must not become "rest/api/3.0" in a request."""
    config = tmp_path / "gonogo.toml"
    config.write_text("[jira]\napi_version = 3.0\nretries = 2.0\n")
    jira = load_settings(config, environ={"JIRA_URL": "https://acme.atlassian.net"}).jira
    assert (str(jira.comment_format.api_version), str(jira.retries)) == ("3", "2")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            'deployment = "data-center"\napi_version = 3',
            'api_version = 3 needs Jira Cloud, but deployment is "data-center"',
        ),
        ("api_version = 1", "jira.api_version: 1 is not one of [2, 3]"),
        ('deployment = "server"', "jira.deployment: 'server' is not one of"),
    ],
)
def test_a_comment_format_jira_cannot_take_is_refused(
    gonogo: Gonogo, tmp_path: Path, table: str, message: str
) -> None:
    (tmp_path / "gonogo.toml").write_text(f"[jira]\n{table}\n")
    run = gonogo("check", str(EXAMPLES / "doomed.json"), "--today", TODAY)
    assert run.exit_code == 3
    assert message in run.stderr
    assert run.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("table", "setting"),
    [
        ("[jira]", "timeout_seconds = nan"),
        ("[jira]", "max_retry_wait_seconds = inf"),
        ("[thresholds]", "min_margin_percent = -inf"),
        ("[webhook]", "dedupe_hours = nan"),
        ("[webhook]", "lease_seconds = +nan"),
    ],
)
def test_a_non_finite_number_in_any_setting_is_a_configuration_error(
    gonogo: Gonogo, tmp_path: Path, table: str, setting: str
) -> None:
    (tmp_path / "gonogo.toml").write_text(f"{table}\n{setting}\n")
    with pytest.raises(ConfigurationError, match="not a usable number"):
        load_settings(tmp_path / "gonogo.toml", environ={})
    config = {"GONOGO_CONFIG": str(tmp_path / "gonogo.toml")}
    run = gonogo("check", str(EXAMPLES / "healthy.json"), env=config)
    assert run.exit_code == 3, run.stdout + run.stderr
    assert run.stderr.count("\n") == 1
    assert "not a usable number" in run.stderr


def test_every_jira_key_the_schema_admits_is_a_jira_setting() -> None:
    """`load_settings` hands the [jira] table to JiraSettings whole, as the schema checked it."""
    admitted = bundled_json("config.schema.json")["properties"]["jira"]["properties"]
    assert set(admitted) <= {f.name for f in fields(JiraSettings)}
