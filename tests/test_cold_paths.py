"""Commands that need neither Jira nor the web server must not pay for importing them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("jira", "requests", "uvicorn", "starlette", "persistqueue", "redis", "tenacity")
PROBE = """
import json, sys
from gonogo.cli import main
try:
    main({args!r}, prog_name="gonogo")
except SystemExit:
    pass
print(json.dumps(sorted(name for name in {heavy!r} if name in sys.modules)), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["checklists", "list"], ["checklists", "lint"]])
def test_command_does_not_import_the_jira_client_or_the_web_server(args: list[str]) -> None:
    probe = PROBE.format(args=args, heavy=HEAVY)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    imported = json.loads(result.stderr.strip().splitlines()[-1])
    assert imported == []


REFERENCE = """
import json, sys, click

@click.group()
@click.version_option("1", "--version")
@click.option("--flag")
def cli(flag):
    pass

@cli.command()
@click.argument("x")
def check(x):
    '''Check X, a long first sentence that click has to shorten for a completion or a help list.

    More.
    '''

try:
    cli({args!r}, prog_name="gonogo")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
LOADED = """
import json, sys
from gonogo.cli import run
try:
    sys.argv = ["gonogo", *{args!r}]
    run()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
COMPLETION = {"_GONOGO_COMPLETE": "bash_complete", "COMP_WORDS": "gonogo ch", "COMP_CWORD": "1"}


def loaded(probe: str, args: list[str], env: dict[str, str] | None = None) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", probe.format(args=args)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize(("args", "env"), [(["--help"], None), (["--version"], None), ([], COMPLETION)])
def test_help_version_and_completion_load_click_and_the_command_table_only(
    args: list[str], env: dict[str, str] | None
) -> None:
    """Whatever a bare click program loads to do the same is allowed; beyond it, gonogo's CLI only."""
    extra = loaded(LOADED, args, env) - loaded(REFERENCE, args, env)
    beyond_the_command_table = {
        name for name in extra if not name.startswith("gonogo.cli") and not name.startswith("encodings.")
    }
    assert beyond_the_command_table <= {
        "atexit",  # built into the interpreter: objects are frozen at exit (gonogo.cli.run)
        "gc",
        "gonogo",
        "gonogo.core",
        "gonogo.core.errors",
        "gonogo.render",
        "gonogo.render.portfolio_format_names",
    }


def test_checking_a_ticket_file_loads_no_jira_client_no_yaml_and_no_config_parser(tmp_path: Path) -> None:
    ticket = Path(__file__).parent.parent / "examples" / "healthy.json"
    args = ["check", str(ticket), "--dry-run", "--today", "2026-11-23"]
    modules = loaded(LOADED, args, {"GONOGO_CONFIG": "", "PWD": str(tmp_path)})
    assert "gonogo.core.pipeline.findings" in modules  # it did check the ticket
    unwanted = {
        "jira",
        "requests",
        "yaml",
        "tomllib",
        "_strptime",
        "uvicorn",
        "redis",
    }
    assert modules & unwanted == set()
    # The Jira client is left for a ticket from Jira: measured, it adds 0.1 s CPU to a 0.25 s file check.
    assert not {"gonogo.jira.gateway", "gonogo.jira.http"} & modules


FILE_CHECK = """
import json, sys
from gonogo.cli import run
try:
    sys.argv = ["gonogo", *{args!r}]
    run()
except SystemExit:
    pass
print(json.dumps(sorted(
    name for name, module in list(sys.modules.items())
    if name.startswith("gonogo.") and not hasattr(module, "__path__")
)), file=sys.stderr)
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
LIBRARIES = """
import json, sys
import click, jinja2, jinja2.sandbox, jsonschema  # templates render sandboxed (issue 23)
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
# The modules (packages aside) a file check loads: checking,
# rendering the terminal report and the would-be comment, and the command table. Adding one to
# this path costs every `gonogo check FILE`; measure it (bench/run.py) before adding it here.
FILE_CHECK_MODULES = {
    "gonogo.cli.check", "gonogo.cli.checklists", "gonogo.cli.common", "gonogo.cli.exits", "gonogo.cli.fast",
    "gonogo.cli.group", "gonogo.cli.report", "gonogo.cli.serve", "gonogo.cli.site", "gonogo.core.errors",
    "gonogo.core.jira_shapes.changelog", "gonogo.core.jira_shapes.comment_format",
    "gonogo.core.jira_shapes.option_aliases", "gonogo.core.jira_shapes.publication",
    "gonogo.core.jira_shapes.site_fields", "gonogo.core.pipeline.inputs_digest", "gonogo.jira.accounts",
    "gonogo.jira.sticky_comment",
    "gonogo.core.jira_shapes.verdict_labels", "gonogo.core.pipeline.authority",
    "gonogo.core.pipeline.decisions", "gonogo.core.pipeline.findings", "gonogo.core.pipeline.path_to_go",
    "gonogo.core.pipeline.proposal", "gonogo.core.pipeline.rules", "gonogo.core.pipeline.signals",
    "gonogo.core.pipeline.site_words", "gonogo.core.pipeline.ticket", "gonogo.core.pipeline.verdict",
    "gonogo.core.pipeline.verdict_history", "gonogo.core.pipeline.waivers", "gonogo.core.text",
    "gonogo.core.vocabulary", "gonogo.flows.assessor", "gonogo.flows.check_ticket", "gonogo.log_routing",
    "gonogo.redaction", "gonogo.render.adf", "gonogo.render.ansi", "gonogo.render.document",
    "gonogo.render.portfolio_format_names", "gonogo.render.renderer", "gonogo.render.template_cache",
    "gonogo.render.wiki_document", "gonogo.render.wikimarkup", "gonogo.sources.checklists",
    "gonogo.sources.config", "gonogo.sources.known_valid", "gonogo.sources.resources",
    "gonogo.sources.tickets",
}  # fmt: skip


def test_a_file_check_loads_exactly_its_own_modules_and_three_libraries(tmp_path: Path) -> None:
    """The cold import set of `gonogo check FILE --dry-run`, pinned.

    Third-party code is only what click, jinja2 and jsonschema load themselves (jsonschema's
    format checkers bring whatever optional packages are installed; gonogo cannot avoid them).
    """
    ticket = Path(__file__).parent.parent / "examples" / "healthy.json"
    args = ["check", str(ticket), "--dry-run", "--today", "2026-11-23"]
    env = {**os.environ, "GONOGO_CONFIG": "", "PWD": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", FILE_CHECK.format(args=args)],
        check=False,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr  # GO: the check ran to the end
    own, modules = (json.loads(line) for line in result.stderr.strip().splitlines()[-2:])
    assert set(own) == FILE_CHECK_MODULES
    libraries = loaded(LIBRARIES, [])
    outside = {name.partition(".")[0] for name in set(modules) - libraries} - set(sys.stdlib_module_names)
    assert outside == {"gonogo"}
