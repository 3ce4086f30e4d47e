"""Jira Cloud and Server wire behaviour: paging, defaults, caps, auth, moved/deleted issues, label writes."""

from __future__ import annotations

import requests

from connector.sandbox import JIRA_EMAIL, JIRA_PAT

SEARCH = "/rest/api/3/search/jql"


def test_cloud_paging_has_no_total_and_the_last_page_omits_the_token(sandbox, jira):
    expected = sum(1 for i in sandbox.state.live_jira() if i.project == "CHK")
    seen, token, pages = [], None, 0
    while True:
        params = {"jql": "project = CHK", "maxResults": 25, "fields": "summary"}
        if token:
            params["nextPageToken"] = token
        body = jira.get(sandbox.jira_url + SEARCH, params=params).json()
        pages += 1
        assert "total" not in body and "startAt" not in body
        seen += [i["key"] for i in body["issues"]]
        if body["isLast"]:
            assert "nextPageToken" not in body
            break
        token = body["nextPageToken"]
    assert len(seen) == len(set(seen)) == expected and pages == -(-expected // 25)


def test_cloud_defaults_to_ids_only_and_caps_page_sizes(sandbox_factory, jira_for):
    sb = sandbox_factory(scale=1500)
    s = jira_for(sb)
    body = s.get(sb.jira_url + SEARCH, params={"jql": "project in (CHK, PAY)"}).json()
    assert len(body["issues"]) == 50 and set(body["issues"][0]) == {"id"}
    body = s.get(sb.jira_url + SEARCH, params={"jql": "project in (CHK, PAY)", "maxResults": 5000,
                                               "fields": "id"}).json()
    assert len(body["issues"]) > 100 and body["isLast"]
    body = s.get(sb.jira_url + SEARCH, params={"jql": "project in (CHK, PAY)", "maxResults": 5000,
                                               "fields": "summary,status"}).json()
    assert len(body["issues"]) == 100 and set(body["issues"][0]["fields"]) == {"summary", "status"}
    body = s.post(sb.jira_url + SEARCH, json={"jql": "project = CHK", "fields": ["*all"], "maxResults": 1,
                                              "expand": "changelog"}).json()
    issue = body["issues"][0]
    assert issue["fields"]["description"]["type"] == "doc"  # ADF on Cloud v3
    assert "customfield_10014" not in issue["fields"] and "parent" in issue["fields"]
    assert issue["changelog"]["histories"] is not None


def test_unbounded_and_bad_tokens_are_400(sandbox, jira):
    resp = jira.get(sandbox.jira_url + SEARCH, params={"jql": ""})
    assert resp.status_code == 400 and "Unbounded" in resp.json()["errorMessages"][0]
    resp = jira.get(sandbox.jira_url + SEARCH, params={"jql": "project = CHK", "nextPageToken": "garbage"})
    assert resp.status_code == 400 and resp.json()["errors"] == {}


def test_page_tokens_expire_after_seven_days(sandbox, jira):
    body = jira.get(sandbox.jira_url + SEARCH, params={"jql": "project = CHK", "maxResults": 5}).json()
    sandbox.clock.advance(days=8)
    resp = jira.get(sandbox.jira_url + SEARCH, params={"jql": "project = CHK", "nextPageToken": body["nextPageToken"]})
    assert resp.status_code == 400


def test_server_flavour_search_with_start_at_and_total(sandbox, jira):
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {JIRA_PAT}"
    url = sandbox.jira_server_url + "/rest/api/2/search"
    first = s.get(url, params={"jql": "project = OPS", "maxResults": 10}).json()
    assert first["startAt"] == 0 and first["total"] > 10 and len(first["issues"]) == 10
    assert isinstance(first["issues"][0]["fields"]["description"], str)  # plain text on Server
    assert "parent" not in first["issues"][0]["fields"]
    second = s.post(url, json={"jql": "project = OPS", "startAt": 10, "maxResults": 10}).json()
    assert {i["key"] for i in first["issues"]}.isdisjoint(i["key"] for i in second["issues"])
    assert s.get(sandbox.jira_server_url + SEARCH.replace("/3/", "/2/"), params={"jql": "x=1"}).status_code == 404
    assert s.get(sandbox.jira_server_url + "/rest/api/2/serverInfo").json()["deploymentType"] == "Server"
    names = {f["name"] for f in s.get(sandbox.jira_server_url + "/rest/api/2/field").json()}
    assert {"Sprint", "Story Points", "Epic Link"} <= names
    # A bearer PAT is a Server thing; Cloud refuses it.
    assert s.get(sandbox.jira_url + "/rest/api/2/serverInfo").status_code == 401


def test_wrong_credentials_get_401(sandbox):
    resp = requests.get(sandbox.jira_url + "/rest/api/3/myself", auth=(JIRA_EMAIL, "nope"))
    assert resp.status_code == 401 and "must be authenticated" in resp.text
    assert requests.get(sandbox.jira_server_url + "/rest/api/2/myself").status_code == 401


def test_moved_issue_answers_under_its_old_key_and_deleted_is_404(sandbox, jira):
    issue = sandbox.jira_issue("CHK-4")
    moved = sandbox.move_jira_issue("CHK-4", "OPS")
    body = jira.get(sandbox.jira_url + "/rest/api/3/issue/CHK-4").json()
    assert body["key"] == moved.key and body["id"] == str(issue.id)
    sandbox.delete_jira_issue(moved.key)
    resp = jira.get(sandbox.jira_url + f"/rest/api/3/issue/{issue.id}")
    assert resp.status_code == 404
    assert resp.json()["errorMessages"] == ["Issue does not exist or you do not have permission to see it."]


def test_label_update_ops_and_field_replace(sandbox, jira):
    url = sandbox.jira_url + "/rest/api/3/issue/CHK-5"
    before = sandbox.jira_issue("CHK-5").updated
    sandbox.clock.advance(hours=1)
    resp = jira.put(url, json={"update": {"labels": [{"add": "plan:at-risk"}, {"remove": "nope"}]}})
    assert resp.status_code == 204 and resp.content == b""
    issue = sandbox.jira_issue("CHK-5")
    assert "plan:at-risk" in issue.labels and issue.updated > before
    assert issue.history[-1][2][0][0] == "labels"
    jira.put(url, json={"fields": {"labels": ["only"]}})
    assert sandbox.jira_issue("CHK-5").labels == ["only"]


def test_versions_agile_and_myself(sandbox, jira):
    versions = jira.get(sandbox.jira_url + "/rest/api/3/project/CHK/versions").json()
    assert [v["name"] for v in versions] == ["Alpha", "Beta", "GA", "2026.12"]
    assert versions[0]["released"] and not versions[1]["released"]
    paged = jira.get(sandbox.jira_url + "/rest/api/3/project/CHK/version", params={"maxResults": 3}).json()
    assert paged["isLast"] is False and len(paged["values"]) == 3
    sprints = jira.get(sandbox.jira_url + "/rest/agile/1.0/board/1/sprint", params={"state": "active"}).json()
    assert [s["state"] for s in sprints["values"]] == ["active"]
    fields = jira.get(sandbox.jira_url + "/rest/api/3/field").json()
    sprint = next(f for f in fields if f["name"] == "Sprint")
    assert sprint["schema"]["custom"] == "com.pyxis.greenhopper.jira:gh-sprint"
    assert any(f["name"] == "Story point estimate" for f in fields)
    assert jira.get(sandbox.jira_url + "/rest/api/3/myself").json()["timeZone"] == "UTC"


def test_times_are_rendered_in_the_users_zone_with_a_numeric_offset(sandbox_factory, jira_for):
    from datetime import datetime

    sb = sandbox_factory(jira_timezone="America/Los_Angeles", now="2026-11-23T09:00:00Z")
    issue = jira_for(sb).get(sb.jira_url + "/rest/api/3/issue/CHK-2", params={"fields": "updated,created"}).json()
    updated = issue["fields"]["updated"]
    assert updated.endswith("-0800")
    parsed = datetime.strptime(updated, "%Y-%m-%dT%H:%M:%S.%f%z")
    assert abs(parsed.timestamp() - sb.jira_issue("CHK-2").updated) < 0.001


def test_server_issues_use_epic_link_and_cloud_issues_use_parent(sandbox, jira):
    child = next(i for i in sandbox.state.live_jira() if i.parent is not None)
    epic = sandbox.state.jira_issues[child.parent].key
    server = jira.get(sandbox.jira_server_url + f"/rest/api/2/issue/{child.key}").json()["fields"]
    cloud = jira.get(sandbox.jira_url + f"/rest/api/3/issue/{child.key}").json()["fields"]
    assert server["customfield_10014"] == epic and "parent" not in server
    assert cloud["parent"]["key"] == epic and "customfield_10014" not in cloud
    assert isinstance(server["description"], str) and cloud["description"]["type"] == "doc"


def test_request_log_records_in_process(sandbox, jira):
    jira.get(sandbox.jira_url + "/rest/api/3/issue/CHK-1")
    jira.get(sandbox.jira_url + "/rest/api/3/issue/NOPE-1")
    first, second = sandbox.log[-2:]
    assert (first.method, first.path, first.status, first.flavour, first.endpoint_name) == (
        "GET", "/jira/rest/api/3/issue/CHK-1", 200, "cloud", "jira.issue_get")
    assert second.status == 404 and first.at == sandbox.clock.ts()
    assert sandbox.count(endpoint="jira.issue_get", status=404) == 1
