"""Issue 23: the eleven cases a hostile run of 52 still broke, each on the test Jira or a fault proxy.

Each test failed on the commit before the fixes (c98704d); the note of issue 23 says how that was
checked. The first round of hostile cases lives in test_hostile_input, test_planted_secrets and the
kill/restart tests of the webhook service.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from jiraserver import BOT_USER, JiraServer, running_server
from realdeps import require_real_or_skip
from site_helpers import jira_env, seed
from support import EXAMPLES, TODAY, Gonogo
from wiki_oracle import oracle_unavailable_reason, plain_text, render_wiki_to_adf

from gonogo.core.assessment import Assessment
from gonogo.core.errors import ConfigurationError
from gonogo.flows.assessor import Assessor, build_assessor
from gonogo.sources.config import Settings, load_settings
from gonogo.sources.tickets import load_ticket_file

# --- 1. team templates run sandboxed --------------------------------------------------------


def team_engine(tmp_path: Path, name: str, template: str) -> Assessor:
    folder = tmp_path / "team-templates"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(template)
    return build_assessor(Settings(template_dir=folder))


def assess(engine: Assessor, **fields: object) -> Assessment:
    ticket = load_ticket_file(EXAMPLES / "healthy.json")
    ticket = replace(ticket, fields={**ticket.fields, **fields})
    return engine.assess(ticket, today=date.fromisoformat(TODAY))


ESCAPES = [
    "{{ lipsum.__globals__['os'].popen('touch PWNED').read() }}",
    "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}",
    "{{ joiner.__init__.__globals__.os.popen('touch PWNED').read() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ verdict.__class__.__init__.__globals__ }}",
    "{{ summary|attr('__class__') }}",
    "{% set _ = blockers.append(1) %}{{ blockers }}",
]


@pytest.mark.parametrize("escape", ESCAPES)
def test_an_escape_from_a_team_comment_template_is_a_configuration_error_and_never_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, escape: str
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = team_engine(tmp_path, "comment.jira.j2", f"h3. gonogo verdict: {{{{ verdict }}}}\n{escape}\n")
    with pytest.raises(ConfigurationError, match=r"comment\.jira\.j2:2: "):
        engine.renderer.comment(assess(engine))
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("name", ["report.txt.j2", "headline.txt.j2"])
def test_the_terminal_templates_are_sandboxed_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = team_engine(tmp_path, name, "line one\n" + ESCAPES[0] + "\n")
    with pytest.raises(ConfigurationError, match=rf"{name.replace('.', '[.]')}:2: "):
        engine.renderer.text_report(assess(engine), color=False)
        engine.renderer.headline(assess(engine))
    assert not (tmp_path / "PWNED").exists()


def test_the_filters_and_globals_gonogo_offers_still_work_in_a_team_template(tmp_path: Path) -> None:
    template = (
        "h3. gonogo verdict: {{ verdict }}\n"
        "{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}{% endfor %}"
        "{{ ns.n }} {{ summary|upper|truncate(40) }} {{ blockers|length|plural('blocker') }}\n"
    )
    engine = team_engine(tmp_path, "comment.jira.j2", template)
    assert "3 HEALTHY" in engine.renderer.comment(assess(engine, summary="healthy bid"))


# --- 8. non-finite numbers in settings ---------------------------------------------------------


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
    run = gonogo("check", str(EXAMPLES / "healthy.json"), env={"GONOGO_CONFIG": str(tmp_path / "gonogo.toml")})
    assert run.exit_code == 3, run.stdout + run.stderr
    assert run.stderr.count("\n") == 1 and "not a usable number" in run.stderr


# --- 2. secrets are blanked in the values, before any escaping ----------------------------------

TOKENS = ["api-token-123", "api_token_123", "api.token.123", "api+token+123", "api/token/123", "apitoken123=="]


def secret_site(deployment: str, token: str) -> JiraServer:
    auth = ("basic", BOT_USER.email, token) if deployment == "Cloud" else ("bearer", token)
    return running_server(deployment=deployment, auth=auth)  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("deployment", ["Data Center", "Cloud"])
def test_a_token_in_a_ticket_field_is_blanked_in_every_output_whatever_its_characters(
    gonogo: Gonogo, deployment: str, token: str
) -> None:
    with secret_site(deployment, token) as jira:
        seed(jira, "doomed", "BID-1", summary=f"Bid {token} here", customfield_10106=token, customfield_10115=token)
        env = jira_env(jira)
        assert env["JIRA_API_TOKEN"] == token
        outputs = [gonogo("check", "BID-1", "--today", TODAY, "--format", f, env=env) for f in ("text", "json")]
        (comment,) = jira.comments("BID-1")
    assert all(run.exit_code == 12 for run in outputs), outputs
    assert all(token not in run.stdout + run.stderr for run in outputs)
    assert "***" in outputs[0].stdout and "***" in json.loads(outputs[1].stdout)["ticket"]["summary"]
    body = comment["body"]
    shown = json.dumps(body) if isinstance(body, dict) else body.replace("\\", "").replace("\u2060", "")
    assert token not in shown and "***" in shown
    if isinstance(body, str):  # what Jira shows of the wiki markup, by Atlassian's own parser
        if reason := oracle_unavailable_reason():
            require_real_or_skip(reason)
        (adf,) = render_wiki_to_adf([body])
        assert token not in plain_text(adf)
