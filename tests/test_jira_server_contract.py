"""Contract tests for the loopback Jira test server (tests/jiraserver).

Each test drives the server through the real ``jira`` client (or plain
``requests`` where the client has no call), and every fixture-made server is
checked on teardown: each JSON body it answered must validate against the
schema Atlassian's OpenAPI document gives that operation and status
(``tests/jira-openapi``; REST v2 paths are checked against the v3 operation,
since Cloud's v2 differs only in rich text, which the schemas leave open).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from jira import JIRA, JIRAError
from jiraserver import BOT_USER, DIRECTOR_USER, JiraServer, JiraUser, running_server
from jiraserver.adf_schema import adf_schema_unavailable_reason
from jiraserver.contract import Contract, problems_in, published_contract
from realdeps import require_real_or_skip

BOT_TOKEN = "test-api-token"
PAT = "pat-0123456789abcdef"


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def contract() -> Contract:
    return published_contract()


def assert_honours_contract(contract: Contract, server: JiraServer) -> None:
    """Every emulated (not fault-injected) answer so far matches the published schemas."""
    assert server.internal_errors == []
    assert problems_in(contract, server.requests) == []


@pytest.fixture
def cloud(contract: Contract) -> Iterator[JiraServer]:
    with running_server(deployment="Cloud", search_page_cap=2) as server:
        _seed(server)
        yield server
        assert_honours_contract(contract, server)


@pytest.fixture
def data_center(contract: Contract) -> Iterator[JiraServer]:
    with running_server(deployment="Server", auth=("bearer", PAT)) as server:
        _seed(server)
        yield server
        assert_honours_contract(contract, server)


@pytest.fixture
def capped(contract: Contract) -> Iterator[JiraServer]:
    with running_server(deployment="Cloud", comment_page_cap=50) as server:
        _seed(server)
        yield server
        assert_honours_contract(contract, server)


def _seed(server: JiraServer) -> None:
    names = {
        "summary": "Summary",
        "description": "Description",
        "customfield_10010": "Bid deadline",
        "status": "Status",
    }
    done = {"name": "Done", "statusCategory": {"key": "done", "name": "Done"}}
    todo = {"name": "Open", "statusCategory": {"key": "new", "name": "To Do"}}
    server.add_issue(
        "BID-1",
        {
            "summary": "Harbour bridge",
            "description": "Scope\nBudget",
            "customfield_10010": "2025-03-01",
            "status": todo,
        },
        names=names,
        issue_id="10001",
    )
    server.add_issue("BID-2", {"summary": "Tunnel", "status": done}, names=names)
    server.add_issue("BID-3", {"summary": "Ferry", "status": todo}, names=names)
    server.add_issue("OPS-1", {"summary": "Unrelated", "status": todo}, names=names)


def basic_client(server: JiraServer) -> JIRA:
    return JIRA(server.url, basic_auth=server.basic_auth, get_server_info=True, max_retries=0, timeout=5)


def bearer_client(server: JiraServer) -> JIRA:
    return JIRA(server.url, token_auth=server.token, get_server_info=True, max_retries=0, timeout=5)


def raw(server: JiraServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    """A plain HTTP call with the accepted credentials, for calls the client lacks."""
    headers = {**server.auth_headers, **kwargs.pop("headers", {})}
    return requests.request(method, server.url + path, headers=headers, timeout=5, **kwargs)


# -- the validator itself ----------------------------------------------------------------


def test_contract_catches_drift(contract: Contract) -> None:
    assert contract.errors_for("IssueBean", {"id": "1", "key": "A-1", "fields": {}}) == []
    assert contract.errors_for("IssueBean", {"id": "1", "surprise": True}) != []
    assert contract.errors_for("ServerInformation", {"databaseBuildNumber": 1}) != []
    assert contract.errors_for("PageOfComments", {"total": "3"}) != []


# -- server info, identity, authentication -----------------------------------------------


def test_cloud_server_info_makes_the_client_use_cloud_paths(cloud: JiraServer) -> None:
    client = basic_client(cloud)

    assert client.deploymentType == "Cloud"
    assert client.server_info()["baseUrl"] == cloud.url
    assert client.myself()["accountId"] == cloud.user.account_id


def test_data_center_with_bearer_token(data_center: JiraServer) -> None:
    client = bearer_client(data_center)

    me = client.myself()

    assert client.deploymentType == "Server"
    assert me["name"] == data_center.user.name
    assert "accountId" not in me
    assert data_center.requests[-1].headers["Authorization"] == f"Bearer {PAT}"


def test_wrong_credentials_are_401(cloud: JiraServer, data_center: JiraServer) -> None:
    with pytest.raises(JIRAError) as basic_error:
        JIRA(cloud.url, basic_auth=(cloud.user.email, "wrong"), max_retries=0, timeout=5)
    with pytest.raises(JIRAError) as bearer_error:
        JIRA(data_center.url, token_auth="wrong", max_retries=0, timeout=5)

    assert basic_error.value.status_code == 401
    assert bearer_error.value.status_code == 401
    assert data_center.requests[-1].response_headers["X-Seraph-LoginReason"] == ("AUTHENTICATED_FAILED")


def test_missing_credentials_only_reach_server_info(cloud: JiraServer) -> None:
    anonymous_info = requests.get(cloud.url + "/rest/api/2/serverInfo", timeout=5)
    anonymous_issue = requests.get(cloud.url + "/rest/api/2/issue/BID-1", timeout=5)

    assert anonymous_info.status_code == 200
    assert anonymous_issue.status_code == 401
    assert anonymous_issue.json()["errorMessages"]


def test_secrets_travel_only_in_the_authorization_header(cloud: JiraServer) -> None:
    client = basic_client(cloud)
    client.issue("BID-1")
    client.add_comment("BID-1", "checked")

    for record in cloud.requests:
        assert record.has_authorization
        assert BOT_TOKEN not in record.path + record.raw_query
        assert BOT_TOKEN.encode() not in record.raw_body


# -- issues and fields -------------------------------------------------------------------


def test_issue_with_names_and_properties(cloud: JiraServer) -> None:
    cloud.set_issue_property("BID-1", "gonogo.verdict", {"comment_id": "10042"})
    cloud.add_comments("BID-1", 2)
    client = basic_client(cloud)

    issue = client.issue(
        "BID-1",
        fields="summary,customfield_10010,comment",
        expand="names",
        properties="gonogo.verdict,absent",
    )

    assert issue.raw["names"] == {
        "summary": "Summary",
        "customfield_10010": "Bid deadline",
        "comment": "Comment",
    }
    assert issue.raw["properties"] == {"gonogo.verdict": {"comment_id": "10042"}}
    assert issue.raw["fields"]["customfield_10010"] == "2025-03-01"
    assert issue.raw["fields"]["comment"]["total"] == 2
    assert issue.raw["self"] == f"{cloud.url}/rest/api/2/issue/10001"


def test_changelog_expansion_in_an_issue_and_a_search_is_newest_first_and_cut_short(
    contract: Contract,
) -> None:
    """`expand=changelog`: Atlassian's "recent updates ... starting from the most recent", with `total`."""
    with running_server(deployment="Cloud", changelog_cap=2) as server:
        server.add_issue("BID-1", {"summary": "A", "labels": []})
        for hour, labels in ((7, ["a"]), (8, ["a", "b"]), (9, ["a", "b", "c"])):
            server.change_issue("BID-1", {"labels": labels}, at=server.now.replace(hour=hour))
        issue = raw(server, "GET", "/rest/api/2/issue/BID-1", params={"expand": "changelog"}).json()
        found = raw(
            server,
            "GET",
            "/rest/api/2/search/jql",
            params={"jql": "project = BID", "fields": "labels", "expand": "changelog"},
        ).json()
        plain = raw(server, "GET", "/rest/api/2/search/jql", params={"jql": "project = BID"}).json()
        for changelog in (issue["changelog"], found["issues"][0]["changelog"]):
            assert changelog["total"] == 3
            added = [
                set(h["items"][0]["toString"].split()) - set(h["items"][0].get("fromString", "").split())
                for h in changelog["histories"]
            ]
            assert added == [{"c"}, {"b"}]  # the newest two of three
            assert changelog["histories"][0]["author"]["displayName"] == "Alex Reviewer"
        assert "changelog" not in plain["issues"][0]
        assert_honours_contract(contract, server)


def test_issue_by_id_with_field_exclusion(cloud: JiraServer) -> None:
    client = basic_client(cloud)

    issue = client.issue("10001", fields="*all,-comment,-status")

    assert issue.key == "BID-1"
    assert set(issue.raw["fields"]) == {"summary", "description", "customfield_10010"}
    assert "names" not in issue.raw
    assert "properties" not in issue.raw


def test_unknown_issue_is_404(cloud: JiraServer) -> None:
    client = basic_client(cloud)

    with pytest.raises(JIRAError) as error:
        client.issue("BID-404")

    assert error.value.status_code == 404
    assert "Issue does not exist" in str(error.value.text)


def test_field_list_is_built_from_issue_names(cloud: JiraServer) -> None:
    fields = {field["id"]: field for field in basic_client(cloud).fields()}

    deadline = fields["customfield_10010"]
    assert deadline["name"] == "Bid deadline"
    assert deadline["custom"] is True
    assert deadline["clauseNames"] == ["cf[10010]", "Bid deadline"]
    assert fields["comment"]["navigable"] is False


def test_editmeta_lists_the_edit_screen_with_select_options(
    cloud: JiraServer, data_center: JiraServer
) -> None:
    for server, client in ((cloud, basic_client(cloud)), (data_center, bearer_client(data_center))):
        server.add_issue(
            "BID-9",
            {"summary": "Fit", "customfield_10200": {"value": "Full", "id": "1"}, "labels": []},
            names={"summary": "Summary", "customfield_10200": "Capability"},
        )
        server.set_field_options("customfield_10200", ["Full", "Partial", "None"])
        fields = client.editmeta("BID-9")["fields"]
        assert [v["value"] for v in fields["customfield_10200"]["allowedValues"]] == [
            "Full",
            "Partial",
            "None",
        ]
        assert fields["customfield_10200"]["schema"]["custom"].endswith(":select")
        assert fields["labels"]["operations"] == ["add", "set", "remove"]
        server.remove_from_edit_screen("labels")
        assert "labels" not in client.editmeta("BID-9")["fields"]
        refused = raw(server, "PUT", "/rest/api/2/issue/BID-9", json={"update": {"labels": [{"add": "x"}]}})
        assert refused.status_code == 400
        assert "labels" in refused.json()["errors"]


def test_mypermissions_answers_per_key_and_cloud_requires_the_keys(
    cloud: JiraServer, data_center: JiraServer
) -> None:
    keys = "BROWSE_PROJECTS,ADD_COMMENTS,EDIT_OWN_COMMENTS,EDIT_ISSUES"
    cloud.deny_permission("EDIT_ISSUES")
    answer: dict[str, Any] = basic_client(cloud).my_permissions(issueKey="BID-1", permissions=keys)[
        "permissions"
    ]
    assert {key: value["havePermission"] for key, value in answer.items()} == {
        "BROWSE_PROJECTS": True,
        "ADD_COMMENTS": True,
        "EDIT_OWN_COMMENTS": True,
        "EDIT_ISSUES": False,
    }
    assert raw(cloud, "GET", "/rest/api/3/mypermissions").status_code == 400
    assert (
        raw(
            cloud, "GET", "/rest/api/2/mypermissions", params={"issueKey": "BID-99", "permissions": keys}
        ).status_code
        == 404
    )
    everything = bearer_client(data_center).my_permissions(issueKey="BID-1")["permissions"]
    assert all(value["havePermission"] for value in everything.values())
    assert raw(data_center, "GET", "/rest/api/2/myself").json()["name"] == data_center.user.name


def test_v3_speaks_adf_for_rich_text(cloud: JiraServer) -> None:
    issue = raw(cloud, "GET", "/rest/api/3/issue/BID-1", params={"fields": "description"})
    adf = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Go"}]}],
    }
    posted = raw(cloud, "POST", "/rest/api/3/issue/BID-1/comment", json={"body": adf})
    wiki_on_v3 = raw(cloud, "POST", "/rest/api/3/issue/BID-1/comment", json={"body": "Go"})

    assert issue.json()["fields"]["description"]["content"][1]["content"][0]["text"] == "Budget"
    assert posted.status_code == 201
    assert posted.json()["body"] == adf
    assert cloud.comments("BID-1")[-1]["body"] == "Go"
    assert wiki_on_v3.status_code == 400


# -- comments ----------------------------------------------------------------------------


def test_comment_page_with_properties(cloud: JiraServer) -> None:
    cloud.add_comment("BID-1", "first")
    cloud.add_comment("BID-1", "verdict", properties={"gonogo": {"version": 1}}, author=cloud.user)
    client = basic_client(cloud)

    comments = client.comments("BID-1", expand="properties")

    assert [comment.raw["properties"] for comment in comments] == [
        [],
        [{"key": "gonogo", "value": {"version": 1}}],
    ]
    assert comments[1].raw["author"]["accountId"] == cloud.user.account_id


def test_comment_paging_is_capped(capped: JiraServer) -> None:
    capped.add_comments("BID-1", 120)
    client = basic_client(capped)

    first = client.comments("BID-1", max_results=100)
    page = raw(
        capped, "GET", "/rest/api/2/issue/BID-1/comment", params={"startAt": 100, "maxResults": 100}
    ).json()
    newest = client.comments("BID-1", max_results=1, order_by="-created")

    assert len(first) == 50
    assert (page["startAt"], page["maxResults"], page["total"]) == (100, 50, 120)
    assert len(page["comments"]) == 20
    assert newest[0].body == "Comment 120"


def test_add_and_update_comment(cloud: JiraServer) -> None:
    client = basic_client(cloud)

    comment = client.add_comment("BID-1", "*Verdict:* GO")
    cloud.now = cloud.now.replace(hour=10)
    comment.update(body="*Verdict:* NO-GO")

    stored = cloud.comments("BID-1")[-1]
    assert stored["body"] == "*Verdict:* NO-GO"
    assert stored["author"] == cloud.user.account_id
    assert comment.raw["updated"] == "2025-01-15T10:30:00.000+0000"
    assert comment.raw["created"] == "2025-01-15T09:30:00.000+0000"


def test_v3_comments_take_only_valid_adf_and_answer_with_it(cloud: JiraServer) -> None:
    if reason := adf_schema_unavailable_reason():
        require_real_or_skip(reason)
    document = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [{"type": "text", "text": "NO-GO", "marks": [{"type": "strong"}]}],
            }
        ],
    }
    invalid = [
        "h3. wiki markup",
        {
            "type": "doc",
            "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": ""}]}],
        },
        {"type": "doc", "version": 1, "content": [{"type": "text", "text": "text outside a paragraph"}]},
        {
            "type": "doc",
            "version": 1,
            "content": [{"type": "panel", "attrs": {"panelType": "red"}, "content": []}],
        },
        {"type": "doc", "content": [{"type": "paragraph"}]},
    ]
    for body in invalid:
        refused = raw(cloud, "POST", "/rest/api/3/issue/BID-1/comment", json={"body": body})
        assert refused.status_code == 400, body
        assert refused.json()["errors"] == {"comment": "Comment body is not valid!"}
    created = raw(cloud, "POST", "/rest/api/3/issue/BID-1/comment", json={"body": document})
    assert created.status_code == 201
    comment_id = created.json()["id"]
    assert created.json()["body"] == document
    assert cloud.comments("BID-1")[-1]["adf"] == document
    refused_edit = raw(
        cloud, "PUT", f"/rest/api/3/issue/BID-1/comment/{comment_id}", json={"body": invalid[1]}
    )
    assert refused_edit.status_code == 400
    refused_issue_edit = raw(
        cloud,
        "PUT",
        "/rest/api/3/issue/BID-1",
        json={"update": {"comment": [{"edit": {"id": comment_id, "body": invalid[2]}}]}},
    )
    assert refused_issue_edit.status_code == 400
    assert cloud.comments("BID-1")[-1]["adf"] == document
    assert raw(cloud, "GET", f"/rest/api/2/issue/BID-1/comment/{comment_id}").json()["body"] == "NO-GO"


def test_comment_created_with_properties_in_one_post(cloud: JiraServer) -> None:
    created = raw(
        cloud,
        "POST",
        "/rest/api/2/issue/BID-1/comment",
        params={"expand": "properties"},
        json={"body": "GO", "properties": [{"key": "gonogo", "value": {"v": 1}}]},
    )
    comment_id = created.json()["id"]
    prop = raw(cloud, "GET", f"/rest/api/2/comment/{comment_id}/properties/gonogo")
    keys = raw(cloud, "GET", f"/rest/api/2/comment/{comment_id}/properties")
    listed = raw(cloud, "POST", "/rest/api/2/comment/list", json={"ids": [int(comment_id)]})

    assert created.status_code == 201
    assert created.json()["properties"] == [{"key": "gonogo", "value": {"v": 1}}]
    assert prop.json() == {"key": "gonogo", "value": {"v": 1}}
    assert [key["key"] for key in keys.json()["keys"]] == ["gonogo"]
    assert listed.json()["values"][0]["id"] == comment_id


def test_deleted_comment_is_404(cloud: JiraServer) -> None:
    comment_id = cloud.add_comment("BID-1", "old", author=BOT_USER)["id"]  # Delete Own Comments
    path = f"/rest/api/2/issue/BID-1/comment/{comment_id}"

    deleted = raw(cloud, "DELETE", path)
    again = raw(cloud, "GET", path)

    assert deleted.status_code == 204
    assert again.status_code == 404
    assert cloud.comments("BID-1") == []


def test_comment_body_limits(cloud: JiraServer) -> None:
    empty = raw(cloud, "POST", "/rest/api/2/issue/BID-1/comment", json={"body": "  "})
    too_long = raw(cloud, "POST", "/rest/api/2/issue/BID-1/comment", json={"body": "x" * 32768})

    assert empty.status_code == too_long.status_code == 400
    assert "too long" in too_long.json()["errors"]["comment"]


# -- properties and combined edits -------------------------------------------------------


def test_issue_property_put_get_delete(cloud: JiraServer) -> None:
    client = basic_client(cloud)

    created = client.add_issue_property("BID-1", "gonogo.verdict", {"comment_id": "1"})
    replaced = client.add_issue_property("BID-1", "gonogo.verdict", {"comment_id": "2"})
    fetched = client.issue_property("BID-1", "gonogo.verdict")
    keys = [prop.key for prop in client.issue_properties("BID-1")]
    removed = raw(cloud, "DELETE", "/rest/api/2/issue/BID-1/properties/gonogo.verdict")
    missing = raw(cloud, "GET", "/rest/api/2/issue/BID-1/properties/gonogo.verdict")

    assert (created.status_code, replaced.status_code) == (201, 200)
    assert fetched.raw["value"] == {"comment_id": "2"}
    assert keys == ["gonogo.verdict"]
    assert (removed.status_code, missing.status_code) == (204, 404)
    assert cloud.issue_properties("BID-1") == {}


def test_one_put_sets_properties_and_adds_then_edits_a_comment(cloud: JiraServer) -> None:
    added = raw(
        cloud,
        "PUT",
        "/rest/api/2/issue/BID-1",
        json={
            "properties": [{"key": "gonogo.verdict", "value": {"result": "GO"}}],
            "update": {"comment": [{"add": {"body": "GO"}}]},
        },
    )
    comment_id = cloud.comments("BID-1")[0]["id"]
    edited = raw(
        cloud,
        "PUT",
        "/rest/api/2/issue/BID-1",
        params={"returnIssue": "true"},
        json={
            "update": {"comment": [{"edit": {"id": comment_id, "body": "NO-GO"}}]},
        },
    )
    unknown_field = raw(cloud, "PUT", "/rest/api/2/issue/BID-1", json={"fields": {"nope": 1}})

    assert added.status_code == 204
    assert cloud.issue_properties("BID-1") == {"gonogo.verdict": {"result": "GO"}}
    assert edited.status_code == 200
    assert edited.json()["fields"]["comment"]["comments"][0]["body"] == "NO-GO"
    assert unknown_field.status_code == 400
    assert [c["body"] for c in cloud.comments("BID-1")] == ["NO-GO"]


# -- search ------------------------------------------------------------------------------


def test_cloud_search_pages_by_token(cloud: JiraServer) -> None:
    cloud.set_issue_property("BID-3", "gonogo.verdict", "GO")
    client = basic_client(cloud)

    issues = client.enhanced_search_issues(
        "project = BID", maxResults=0, fields="summary", properties="gonogo.verdict"
    )

    pages = [r for r in cloud.requests if r.path.endswith("/search/jql")]
    assert [issue.key for issue in issues] == ["BID-1", "BID-2", "BID-3"]
    assert issues[2].raw["properties"] == {"gonogo.verdict": "GO"}
    assert len(pages) == 2
    assert "nextPageToken" in pages[1].query
    assert pages[0].response_json["isLast"] is False
    assert pages[1].response_json == {**pages[1].response_json, "isLast": True}
    assert "nextPageToken" not in pages[1].response_json
    assert "total" not in pages[0].response_json


def test_cloud_search_jql_subset(cloud: JiraServer) -> None:
    client = basic_client(cloud)

    picked = client.enhanced_search_issues('key in (BID-1, "OPS-1") ORDER BY key DESC', fields="summary")
    open_bids = client.enhanced_search_issues("project = BID AND statusCategory != Done", use_post=True)
    unbounded = raw(cloud, "GET", "/rest/api/3/search/jql", params={"jql": ""})
    bad = raw(cloud, "GET", "/rest/api/3/search/jql", params={"jql": "project ~ BID"})

    assert [issue.key for issue in picked] == ["OPS-1", "BID-1"]
    assert [issue.key for issue in open_bids] == ["BID-1", "BID-3"]
    assert (unbounded.status_code, bad.status_code) == (400, 400)
    assert "Unbounded" in unbounded.json()["errorMessages"][0]


def test_data_center_search_pages_by_offset(data_center: JiraServer) -> None:
    client = bearer_client(data_center)

    page = client.search_issues("project = BID", maxResults=2, fields="summary", expand="names")
    everything = client.search_issues("project = BID AND statusCategory != Done", maxResults=False)

    assert [issue.key for issue in page] == ["BID-1", "BID-2"]
    assert page.total == 3
    assert [issue.key for issue in everything] == ["BID-1", "BID-3"]
    searches = [r for r in data_center.requests if r.path == "/rest/api/2/search"]
    assert searches[0].response_json["names"] == {"summary": "Summary"}


def test_each_deployment_lacks_the_other_search(cloud: JiraServer, data_center: JiraServer) -> None:
    gone = raw(cloud, "GET", "/rest/api/2/search", params={"jql": "project = BID"})
    absent = raw(data_center, "GET", "/rest/api/2/search/jql", params={"jql": "project = BID"})

    assert gone.status_code == 410
    assert "/rest/api/3/search/jql" in gone.json()["errorMessages"][0]
    assert absent.status_code == 404


# -- change history and groups -----------------------------------------------------------

DIRECTOR = DIRECTOR_USER


def test_changes_are_recorded_with_author_and_time_and_served_with_the_issue(
    cloud: JiraServer, data_center: JiraServer
) -> None:
    when = datetime(2025, 1, 10, 8, 0, tzinfo=UTC)
    for server in (cloud, data_center):
        server.change_issue("BID-1", {"labels": ["gonogo-waive-x"]}, author=DIRECTOR, at=when)
        server.change_issue("BID-1", {"customfield_10010": "2025-04-01"})  # HUMAN_USER, at now
    cloud_issue = basic_client(cloud).issue("BID-1", expand="changelog")
    dc_issue = bearer_client(data_center).issue("BID-1", expand="changelog")

    histories = cloud_issue.raw["changelog"]["histories"]
    assert [h["created"] for h in histories] == [
        "2025-01-15T09:30:00.000+0000",
        "2025-01-10T08:00:00.000+0000",
    ]
    assert histories[1]["author"]["accountId"] == DIRECTOR.account_id
    assert histories[1]["items"] == [
        {"field": "labels", "fieldtype": "jira", "fieldId": "labels", "toString": "gonogo-waive-x"}
    ]
    assert histories[0]["items"][0]["field"] == "Bid deadline"  # a custom field by its display name
    assert histories[0]["items"][0]["fromString"] == "2025-03-01"
    dc_author = dc_issue.raw["changelog"]["histories"][1]["author"]
    assert (dc_author["name"], "accountId" in dc_author) == ("dana.director", False)
    assert "fieldId" not in dc_issue.raw["changelog"]["histories"][1]["items"][0]
    assert "changelog" not in basic_client(cloud).issue("BID-1").raw  # only when expanded


def test_search_pages_carry_the_changelog_when_asked(cloud: JiraServer, data_center: JiraServer) -> None:
    for server in (cloud, data_center):
        server.change_issue("BID-3", {"labels": ["urgent"]}, author=DIRECTOR)
    found = basic_client(cloud).enhanced_search_issues(
        "project = BID", maxResults=0, fields="labels", expand="changelog"
    )
    paged = bearer_client(data_center).search_issues("project = BID", fields="labels", expand="changelog")

    for issues in (found, paged):
        by_key = {issue.key: issue.raw["changelog"] for issue in issues}
        assert by_key["BID-2"]["total"] == 0
        assert by_key["BID-3"]["histories"][0]["items"][0]["toString"] == "urgent"


def test_an_edit_through_the_api_is_in_the_changelog_as_the_caller(cloud: JiraServer) -> None:
    basic_client(cloud).issue("BID-2").update(fields={"labels": ["a", "b"]})

    assert cloud.history("BID-2") == [
        {"author": cloud.user.account_id, "created": cloud.now, "fields": ["labels"]}
    ]
    assert cloud.issue_fields("BID-2")["labels"] == ["a", "b"]


def test_group_members_page_by_offset(cloud: JiraServer, data_center: JiraServer) -> None:
    people = [
        JiraUser(account_id=f"712020:{n:036d}", display_name=f"P {n}", email=f"p{n}@x.test", name=f"p{n:02d}")
        for n in range(60)
    ]
    asleep = JiraUser(account_id="712020:zz", display_name="Gone", email="g@x.test", name="zz", active=False)
    for server in (cloud, data_center):
        server.add_group("bid-directors", [*people, asleep])
    first = raw(cloud, "GET", "/rest/api/2/group/member", params={"groupname": "bid-directors"})
    second = raw(
        cloud, "GET", "/rest/api/3/group/member", params={"groupname": "bid-directors", "startAt": 50}
    )
    everyone = raw(
        data_center,
        "GET",
        "/rest/api/2/group/member",
        params={"groupname": "bid-directors", "includeInactiveUsers": "true", "startAt": 50},
    )
    unknown = raw(cloud, "GET", "/rest/api/2/group/member", params={"groupname": "nobody"})
    unnamed = raw(cloud, "GET", "/rest/api/2/group/member")

    assert (first.json()["total"], first.json()["isLast"], len(first.json()["values"])) == (60, False, 50)
    assert first.json()["values"][0]["accountId"] == people[0].account_id
    assert (second.json()["isLast"], len(second.json()["values"])) == (True, 10)
    assert everyone.json()["values"][-1]["name"] == "zz"
    assert (unknown.status_code, unnamed.status_code) == (404, 400)


# -- fault injection ---------------------------------------------------------------------


def test_fail_next_injects_statuses_and_headers(cloud: JiraServer) -> None:
    client = basic_client(cloud)
    cloud.fail_next("GET", r"/issue/BID-1$", 429, headers={"Retry-After": "30"})
    cloud.fail_next("*", r"/comment$", 503, times=2)

    with pytest.raises(JIRAError) as limited:
        client.issue("BID-1")
    recovered = client.issue("BID-1")
    outcomes = [_status_of(lambda: client.comments("BID-1")) for _ in range(3)]

    assert limited.value.status_code == 429
    assert limited.value.response is not None
    assert limited.value.response.headers["Retry-After"] == "30"
    assert recovered.key == "BID-1"
    assert outcomes == [503, 503, 200]
    assert [r.injected for r in cloud.requests[-3:]] == [True, True, False]


def _status_of(call: Any) -> int:
    try:
        call()
    except JIRAError as error:
        return int(error.status_code or 0)
    return 200


def test_garbled_json_reaches_the_client(cloud: JiraServer) -> None:
    client = basic_client(cloud)
    cloud.garble_next("GET", r"/myself$")

    with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
        client.myself()


def test_hang_next_holds_until_released(cloud: JiraServer) -> None:
    client = basic_client(cloud)
    impatient = JIRA(
        cloud.url, basic_auth=cloud.basic_auth, get_server_info=False, max_retries=0, timeout=0.2
    )
    cloud.hang_next("GET", r"/issue/BID-1$")

    with pytest.raises(requests.exceptions.ReadTimeout):
        impatient.issue("BID-1")
    assert cloud.held_requests == 1
    cloud.release()

    assert client.issue("BID-1").key == "BID-1"


def test_stop_answers_held_requests() -> None:
    with running_server() as server:
        impatient = JIRA(
            server.url,
            basic_auth=server.basic_auth,
            get_server_info=False,
            max_retries=0,
            timeout=0.2,
        )
        server.hang_next("GET", r"/myself$")
        with pytest.raises(requests.exceptions.ReadTimeout):
            impatient.myself()

    assert server.held_requests == 0
    assert server.requests[-1].status == 503


def test_every_server_a_test_starts_checks_its_answers_against_the_published_shapes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`running_server` validates by default: an answer outside Atlassian's schemas fails the test."""
    from jiraserver import endpoints  # noqa: PLC0415
    from jiraserver.calls import Call, Reply  # noqa: PLC0415

    def wrong_shape(call: Call) -> Reply:
        return Reply(200, {"version": 10, "deploymentType": ["Cloud"]})  # strings in the schema

    monkeypatch.setattr(endpoints, "get_server_info", wrong_shape)
    shapes = "outside Atlassian's published shapes"
    with pytest.raises(AssertionError, match=shapes) as failed, running_server(deployment="Cloud") as server:
        assert requests.get(f"{server.url}/rest/api/2/serverInfo", timeout=10).status_code == 200
    assert "GET /rest/api/2/serverInfo -> 200" in str(failed.value)
    with running_server(deployment="Cloud", validate=False) as server:  # opting out is explicit
        assert requests.get(f"{server.url}/rest/api/2/serverInfo", timeout=10).json()["version"] == 10
