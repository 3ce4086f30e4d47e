"""The vendors' own client libraries (jira, PyGithub) work against the sandbox unchanged."""

from __future__ import annotations

import math

import pytest
from github import Auth, Github, GithubException
from jira import JIRA

from connector.sandbox import GITHUB_TOKEN, JIRA_EMAIL, JIRA_PAT, JIRA_TOKEN


def test_jira_library_enhanced_search_pages_through_everything(sandbox):
    client = JIRA(server=sandbox.jira_url, basic_auth=(JIRA_EMAIL, JIRA_TOKEN), max_retries=0)
    jql = 'project = CHK AND fixVersion = "Beta"'
    issues = client.enhanced_search_issues(jql, maxResults=0)
    expected = [i for i in sandbox.state.live_jira() if i.project == "CHK" and any(
        sandbox.state.versions[v]["name"] == "Beta" for v in i.fix_versions)]
    assert sorted(i.key for i in issues) == sorted(i.key for i in expected)
    assert {i.fields.fixVersions[0].name for i in issues} == {"Beta"}
    assert client.approximate_issue_count(jql) == len(expected)
    assert sandbox.count(endpoint="jira.search_jql") == math.ceil(len(expected) / 100) or len(expected) == 0


def test_jira_library_single_page_exposes_next_page_token(sandbox_factory):
    sb = sandbox_factory(scale=2000)
    client = JIRA(server=sb.jira_url, basic_auth=(JIRA_EMAIL, JIRA_TOKEN), max_retries=0)
    page = client.enhanced_search_issues("project = CHK", maxResults=10, fields="summary")
    assert len(page) == 10 and page.nextPageToken
    nxt = client.enhanced_search_issues("project = CHK", maxResults=10, fields="summary",
                                        nextPageToken=page.nextPageToken)
    assert not {i.key for i in page} & {i.key for i in nxt}


def test_jira_library_on_server_uses_start_at_search_with_a_pat(sandbox):
    client = JIRA(server=sandbox.jira_server_url, token_auth=JIRA_PAT, max_retries=0)
    assert client.server_info()["deploymentType"] == "Server"
    result = client.search_issues("project = PAY ORDER BY key ASC", maxResults=False)
    live = [i for i in sandbox.state.live_jira() if i.project == "PAY"]
    assert len(result) == len(live) == result.total
    assert sandbox.count(endpoint="jira.search_jql") == 0
    assert sandbox.count(endpoint="jira.search", flavour="server") >= 1


def test_jira_library_label_write_and_comments(sandbox):
    client = JIRA(server=sandbox.jira_url, basic_auth=(JIRA_EMAIL, JIRA_TOKEN), max_retries=0)
    issue = client.issue("CHK-3")
    issue.update(update={"labels": [{"add": "plan:at-risk"}]})
    assert "plan:at-risk" in sandbox.jira_issue("CHK-3").labels
    client.add_comment("CHK-3", "checked by plansync")
    assert [c.body for c in client.comments("CHK-3")][-1] == "checked by plansync"


def test_jira_library_rejects_wrong_credentials(sandbox):
    from jira import JIRAError

    with pytest.raises(JIRAError) as err:
        JIRA(server=sandbox.jira_url, basic_auth=(JIRA_EMAIL, "wrong"), max_retries=0)
    assert err.value.status_code == 401


def test_pygithub_lists_all_issues_with_link_pagination(sandbox):
    gh = Github(auth=Auth.Token(GITHUB_TOKEN), base_url=sandbox.github_url, retry=None)
    repo = gh.get_repo("acme/checkout-web")
    issues = list(repo.get_issues(state="all"))
    live = [i for i in sandbox.state.gh_issues["acme/checkout-web"].values()
            if not i.deleted and not i.transferred_to]
    assert sorted(i.number for i in issues) == sorted(i.number for i in live)
    assert sandbox.count(endpoint="github.issues_list") == math.ceil(len(live) / 30)
    assert any(i.milestone and i.milestone.title == "Beta" for i in issues)
    assert any(i.raw_data.get("pull_request") for i in issues)


def test_pygithub_labels_milestones_and_gone_issues(sandbox):
    gh = Github(auth=Auth.Token(GITHUB_TOKEN), base_url=sandbox.github_url, retry=None)
    repo = gh.get_repo("acme/checkout-web")
    assert [m.title for m in repo.get_milestones(state="all")] == ["Alpha", "Beta", "GA"]
    issue = repo.get_issue(3)
    issue.add_to_labels("plan:at-risk")
    issue.remove_from_labels("plan:at-risk")
    assert "plan:at-risk" not in sandbox.github_issue("acme/checkout-web", 3).labels
    gone = int(sandbox.org["github"]["deleted"][0].split("#")[1])
    with pytest.raises(GithubException) as err:
        repo.get_issue(gone)
    assert err.value.status == 410
    old, new = next(iter(sandbox.org["github"]["transferred"].items()))
    moved = repo.get_issue(int(old.split("#")[1]))  # requests follows the 301 to the new repository
    assert moved.number == int(new.split("#")[1])
    assert gh.get_rate_limit().resources.core.limit == 5000
