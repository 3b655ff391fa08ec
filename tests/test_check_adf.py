"""Cloud gets ADF on REST v3, Data Center wiki markup on REST v2, from the same templates, end to end.

`gonogo check` runs against the loopback test Jira through the real client. Its v3 comment
endpoints refuse any body that is not valid against Atlassian's ADF schema, so an accepted post
is a valid document. The hostile corpus goes through a Cloud check: every string is stored
verbatim inside text nodes and nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile_corpus import WIKI_STRINGS
from jiraserver import JiraServer, running_server
from jiraserver.adf_schema import adf_schema_unavailable_reason
from realdeps import require_real_or_skip
from site_helpers import jira_env, seed
from support import EXAMPLES, TODAY, Gonogo

from gonogo.render.wikimarkup import BIDI_CONTROLS, WORD_JOINER, inline_plain, shorten
from gonogo.sources.resources import bundled_vocabulary

PROPERTY = "gonogo.verdict"
ALLOWED_NODES = {
    "doc",
    "panel",
    "heading",
    "paragraph",
    "bulletList",
    "listItem",
    "text",
    "hardBreak",
    "rule",
    "emoji",
}


@pytest.fixture(autouse=True)
def adf_schema() -> None:
    if reason := adf_schema_unavailable_reason():
        require_real_or_skip(reason)


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[JiraServer]:
    (tmp_path / "gonogo.toml").write_text('[jira]\ndeployment = "cloud"\n')
    with running_server(deployment="Cloud") as server:
        yield server
        assert server.internal_errors == []


def check(gonogo: Gonogo, server: JiraServer, key: str, *args: str) -> Any:
    return gonogo("check", key, "--today", TODAY, *args, env=jira_env(server))


def calls(server: JiraServer) -> list[str]:
    return [f"{r.method} {r.path}" for r in server.requests]


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for child in node.get("content", ()):
            yield from walk(child)


def texts(adf: dict[str, Any]) -> list[str]:
    return [node["text"] for node in walk(adf) if node["type"] == "text"]


def test_cloud_posts_and_updates_adf_on_rest_v3_without_asking_server_info(
    gonogo: Gonogo, cloud: JiraServer
) -> None:
    seed(cloud, "doomed", "BID-1")
    first = check(gonogo, cloud, "BID-1")
    assert first.exit_code == 12, first.stderr
    (comment,) = cloud.comments("BID-1")
    issue_id = cloud.requests[0].response_json["id"]
    assert calls(cloud) == [
        "GET /rest/api/2/issue/BID-1",
        f"POST /rest/api/3/issue/{issue_id}/comment",
        f"PUT /rest/api/2/issue/{issue_id}",
    ]
    posted = cloud.requests[1].body["body"]
    assert posted == comment["adf"]
    assert posted["type"] == "doc"
    assert posted["content"][0]["attrs"] == {"panelType": "error"}
    assert "gonogo verdict: NO-GO" in texts(posted)
    assert WORD_JOINER not in json.dumps(posted, ensure_ascii=False)
    assert PROPERTY in cloud.comment_properties(comment["id"])
    assert cloud.issue_properties("BID-1")[PROPERTY]["commentId"] == comment["id"]

    cloud.clear_requests()
    assert check(gonogo, cloud, "BID-1").exit_code == 12
    assert calls(cloud) == ["GET /rest/api/2/issue/BID-1"]  # the same ADF comment: nothing written

    cloud.change_issue("BID-1", {"customfield_10105": 950})  # more effort: the same verdict, new words
    cloud.clear_requests()
    assert check(gonogo, cloud, "BID-1").exit_code == 12
    assert calls(cloud) == ["GET /rest/api/2/issue/BID-1", f"PUT /rest/api/3/issue/{issue_id}"]
    (operation,) = cloud.requests[1].body["update"]["comment"]
    assert operation["edit"]["id"] == comment["id"]
    assert operation["edit"]["body"] != posted
    assert "950" in " ".join(texts(operation["edit"]["body"]))
    assert cloud.comments("BID-1")[0]["adf"] == operation["edit"]["body"]


def test_a_changed_verdict_edits_the_adf_comment_in_the_same_issue_edit(
    gonogo: Gonogo, cloud: JiraServer
) -> None:
    seed(cloud, "healthy", "BID-2")
    assert check(gonogo, cloud, "BID-2").exit_code == 0
    (before,) = cloud.comments("BID-2")
    cloud.change_issue("BID-2", {"customfield_10101": None, "customfield_10103": None})
    cloud.clear_requests()
    assert check(gonogo, cloud, "BID-2").exit_code == 11
    issue_id = cloud.requests[0].response_json["id"]
    assert calls(cloud) == ["GET /rest/api/2/issue/BID-2", f"PUT /rest/api/3/issue/{issue_id}"]
    edit = cloud.requests[1].body
    (operation,) = edit["update"]["comment"]
    assert operation["edit"]["id"] == before["id"]
    assert operation["edit"]["body"]["content"][0]["attrs"] == {"panelType": "info"}
    assert edit["update"]["labels"] == [{"add": "gonogo-needs-info"}, {"remove": "gonogo-go"}]
    (after,) = cloud.comments("BID-2")
    assert after["id"] == before["id"]
    assert after["adf"] == operation["edit"]["body"]
    assert "gonogo verdict: NEEDS INFO" in texts(after["adf"])
    assert cloud.issue_fields("BID-2")["labels"] == ["gonogo-needs-info"]


def test_data_center_gets_wiki_markup_on_rest_v2(gonogo: Gonogo) -> None:
    with running_server(deployment="Server", auth=("bearer", "pat-123")) as server:
        seed(server, "doomed", "BID-3")
        assert check(gonogo, server, "BID-3").exit_code == 12
        issue_id = server.requests[0].response_json["id"]
        assert f"POST /rest/api/2/issue/{issue_id}/comment" in calls(server)
        (comment,) = server.comments("BID-3")
        assert comment["adf"] is None
        assert comment["body"].startswith("h3. gonogo verdict: NO-GO\n")
        assert WORD_JOINER not in comment["body"]
        assert not any(r.path.endswith("/serverInfo") for r in server.requests)


def test_api_version_2_keeps_a_cloud_site_on_wiki_markup(gonogo: Gonogo, tmp_path: Path) -> None:
    (tmp_path / "gonogo.toml").write_text('[jira]\ndeployment = "cloud"\napi_version = 2\n')
    with running_server(deployment="Cloud") as server:
        seed(server, "doomed", "BID-4")
        assert check(gonogo, server, "BID-4").exit_code == 12
        assert [r.path for r in server.requests if r.method == "POST"] == [
            f"/rest/api/2/issue/{server.requests[0].response_json['id']}/comment"
        ]
        assert server.comments("BID-4")[0]["body"].startswith("h3. gonogo verdict: NO-GO")


@pytest.mark.parametrize("pointer", [True, False], ids=["pointer kept", "pointer lost"])
def test_an_older_wiki_comment_is_updated_in_place_as_adf(
    gonogo: Gonogo, tmp_path: Path, pointer: bool
) -> None:
    with running_server(deployment="Cloud") as server:
        seed(server, "doomed", "BID-5")
        server.add_comment("BID-5", "A colleague's remark")
        assert check(gonogo, server, "BID-5").exit_code == 12  # auto on a loopback host: wiki, v2
        ours = next(c for c in server.comments("BID-5") if PROPERTY in c["properties"])
        assert ours["adf"] is None
        if not pointer:
            server.set_issue_property("BID-5", PROPERTY, {})
        (tmp_path / "gonogo.toml").write_text('[jira]\ndeployment = "cloud"\n')
        server.clear_requests()
        run = check(gonogo, server, "BID-5")
        assert run.exit_code == 12, run.stderr
        assert "Updated the verdict comment" in run.stdout
        comments = server.comments("BID-5")
        assert len(comments) == 2
        adopted = next(c for c in comments if c["id"] == ours["id"])
        assert "gonogo verdict: NO-GO" in texts(adopted["adf"])
        issue_id = server.requests[0].response_json["id"]
        written = calls(server)[1:]
        if pointer:  # the pointer names it: one issue edit carries the ADF body (v3)
            assert written == [f"PUT /rest/api/3/issue/{issue_id}"]
            assert server.requests[1].body["update"]["comment"][0]["edit"]["id"] == ours["id"]
        else:  # found by its property: updated as ADF (v3), then the pointer is written
            assert written[-2:] == [
                f"PUT /rest/api/3/issue/{issue_id}/comment/{ours['id']}",
                f"PUT /rest/api/2/issue/{issue_id}",
            ]
        assert server.issue_properties("BID-5")[PROPERTY]["commentId"] == ours["id"]


def test_format_adf_prints_the_document_and_a_dry_run_shows_the_sites_format(
    gonogo: Gonogo, cloud: JiraServer
) -> None:
    seed(cloud, "doomed", "BID-6")
    printed = check(gonogo, cloud, "BID-6", "--format", "adf", "--dry-run")
    assert printed.exit_code == 12
    document = json.loads(printed.stdout)
    assert "gonogo verdict: NO-GO" in texts(document)
    dry = json.loads(check(gonogo, cloud, "BID-6", "--format", "json", "--dry-run").stdout)
    assert dry["comment"]["format"] == "adf"
    assert dry["comment"]["body"] == document
    wiki = check(gonogo, cloud, "BID-6", "--format", "jira", "--dry-run")
    assert wiki.stdout.startswith("h3. gonogo verdict: NO-GO\n")
    assert cloud.comments("BID-6") == []


# --- the hostile corpus, end to end on v3 -----------------------------------------------------------

QUOTED = [f"customfield_{20000 + n}" for n in range(10)]
QUOTING_CHECKLIST = {
    "id": "quoting",
    "title": "Quoting",
    "version": "1.0",
    "description": "Quotes ten ticket fields as evidence.",
    "rules": [
        {
            "id": "quoted",
            "title": "Every quoted field is as written",
            "failed_title": "Quoted {quoted_1} and ({quoted_2})",
            "severity": "major",
            "condition": {
                "required": [f"quoted_{n}" for n in range(10)],
                "properties": {"quoted_0": {"const": "never"}},
            },
            "why": "This rule quotes the fields to test how values reach the comment.",
            "fix": "Nothing to fix; it is a test rule.",
        }
    ],
}


def expected(value: str) -> str:
    """A value as a text node holds it: shortened like every value, control characters as spaces.

    Nothing else changes: no escape, no invisible character, no look-alike.
    """
    return inline_plain(shorten(value, 1000))


def write_quoting_config(folder: Path) -> None:
    """A Cloud configuration whose team checklist quotes every field in `QUOTED` in its findings."""
    team = folder / "team"
    team.mkdir()
    (team / "quoting.json").write_text(json.dumps(QUOTING_CHECKLIST))
    fields = "\n".join(f'quoted_{n} = "{field}"' for n, field in enumerate(QUOTED))
    (folder / "gonogo.toml").write_text(
        f'[jira]\ndeployment = "cloud"\n[checklists]\npaths = ["team"]\n[fields]\n{fields}\n'
    )


def test_the_hostile_corpus_is_stored_verbatim_in_text_nodes_only(
    gonogo: Gonogo, cloud: JiraServer, tmp_path: Path
) -> None:
    write_quoting_config(tmp_path)
    # A value that only says "not known yet" ("----") is asked about, not quoted as evidence.
    corpus = [
        value for value in WIKI_STRINGS if value.strip() and not bundled_vocabulary().placeholder(value)
    ]
    batch = len(QUOTED) // 2
    placed: list[tuple[str, str]] = []
    for start in range(0, len(corpus), batch):
        key = f"BID-{100 + start // batch}"
        chunk = corpus[start : start + batch]
        values = {field: chunk[index % len(chunk)] for index, field in enumerate(QUOTED)}
        names = {field: chunk[(index + 1) % len(chunk)] for index, field in enumerate(QUOTED)}
        example = json.loads((EXAMPLES / "healthy.json").read_text())
        stored = {k: v for k, v in example["fields"].items() if k != "comment"}
        cloud.add_issue(key, {**stored, **values}, names={**example["names"], **names})
        placed.extend((key, value) for value in chunk)
    for key in dict.fromkeys(key for key, _ in placed):
        run = check(gonogo, cloud, key)
        assert run.exit_code == 10, run.stderr
    problems: list[str] = []
    for key, value in placed:
        (comment,) = cloud.comments(key)
        adf = comment["adf"]
        nodes = list(walk(adf))
        wanted = expected(value.strip())  # a field value's surrounding whitespace is not part of it
        if not any(wanted in node["text"] for node in nodes if node["type"] == "text"):
            problems.append(f"{key}: {value!r} is not in a text node")
        for node in nodes:
            if node["type"] not in ALLOWED_NODES:
                problems.append(f"{key}: a {node['type']} node")
            outside = json.dumps(
                {k: v for k, v in node.items() if k not in ("content", "text")}, ensure_ascii=False
            )
            if len(value.strip()) >= 3 and wanted in outside:
                problems.append(f"{key}: {value!r} outside a text node: {outside[:200]}")
            if "marks" in node and (
                node["marks"] != [{"type": "strong"}] or (len(value.strip()) >= 3 and wanted in node["text"])
            ):
                problems.append(f"{key}: a mark on {node['text'][:80]!r}")
    assert problems == []


def test_a_secret_quoted_from_a_ticket_is_redacted_in_every_adf_text_node(
    gonogo: Gonogo, tmp_path: Path
) -> None:
    token = "planted-adf-token-V9qw3"
    write_quoting_config(tmp_path)
    with running_server(deployment="Cloud", auth=("basic", "bot@example.com", token)) as server:
        example = json.loads((EXAMPLES / "healthy.json").read_text())
        stored = {k: v for k, v in example["fields"].items() if k != "comment"}
        values = {field: f"value {n} holds {token} inside" for n, field in enumerate(QUOTED)}
        server.add_issue("BID-9", {**stored, **values}, names=example["names"])
        env = {"JIRA_URL": server.url, "JIRA_USER": "bot@example.com", "JIRA_API_TOKEN": token}
        run = gonogo("check", "BID-9", "--today", TODAY, env=env)
        assert run.exit_code == 10, run.stderr
        (comment,) = server.comments("BID-9")
    shown = texts(comment["adf"])
    assert any("value 1 holds *** inside" in text for text in shown)
    assert token not in json.dumps(comment, default=str)


def test_bidi_controls_from_the_ticket_become_spaces_in_adf_as_in_wiki(
    gonogo: Gonogo, tmp_path: Path
) -> None:
    """Review 2, finding 5: an unterminated U+202E reversed gonogo's own words after the value."""
    example = json.loads((EXAMPLES / "healthy.json").read_text())
    example["fields"]["customfield_10104"] = "\u202eabc"
    example["fields"]["customfield_10108"] = "\u202estrong? partial\u2066"
    ticket = tmp_path / "bidi.json"
    ticket.write_text(json.dumps(example))
    run = gonogo("check", str(ticket), "--format", "adf", "--today", TODAY)
    document = json.loads(run.stdout)
    shown = " ".join(texts(document))
    assert " abc" in shown
    assert [hex(ord(char)) for char in shown if char in BIDI_CONTROLS] == []
    wiki = gonogo("check", str(ticket), "--format", "jira", "--today", TODAY).stdout
    assert [hex(ord(char)) for char in wiki if char in BIDI_CONTROLS] == []
