"""The sandbox's hierarchy and dependency answers validate against the vendors' descriptions: GitHub
sub-issues, parent, blocked_by / blocking and the issue summaries and type; Jira issuelinks, parent and
the 400 for a parent that does not exist."""

from __future__ import annotations

from connector.sandbox.hierarchy import (
    add_blocked_by,
    add_sub_issue,
    link_jira_blocks,
    set_issue_type,
    set_jira_parent,
)
from tests.sandbox.test_openapi import GITHUB_SERVER, JIRA_SERVER, validate

WEB = "/repos/acme/checkout-web"


def _relate(sandbox):
    add_sub_issue(sandbox, "acme/checkout-web#3", "acme/payments-api#4")
    add_blocked_by(sandbox, "acme/checkout-web#5", "acme/checkout-web#3")
    set_issue_type(sandbox, "acme/checkout-web#3", "Bug")


def test_github_hierarchy_endpoints_and_summaries_match_the_description(github_spec, sandbox, gh):
    _relate(sandbox)
    answers = {}
    for path in (f"{WEB}/issues/3/sub_issues?per_page=100", "/repos/acme/payments-api/issues/4/parent",
                 f"{WEB}/issues/5/dependencies/blocked_by", f"{WEB}/issues/3/dependencies/blocking",
                 f"{WEB}/issues/3", f"{WEB}/issues?state=all&per_page=100", f"{WEB}/issues/7/parent"):
        resp = gh.get(sandbox.github_url + path)
        validate(github_spec, GITHUB_SERVER, resp, "/github")
        answers[path] = resp
    [child] = answers[f"{WEB}/issues/3/sub_issues?per_page=100"].json()
    assert child["number"] == 4 and child["parent_issue_url"].endswith(f"{WEB}/issues/3")
    assert answers["/repos/acme/payments-api/issues/4/parent"].json()["number"] == 3
    assert [i["number"] for i in answers[f"{WEB}/issues/5/dependencies/blocked_by"].json()] == [3]
    parent = answers[f"{WEB}/issues/3"].json()
    assert parent["type"]["name"] == "Bug"
    assert parent["sub_issues_summary"]["total"] == 1
    assert parent["issue_dependencies_summary"]["blocking"] == 1
    assert answers[f"{WEB}/issues/7/parent"].status_code == 404


def test_jira_issuelinks_parent_and_a_missing_parent_match_the_description(jira_platform_spec, sandbox, jira):
    set_jira_parent(sandbox, "CHK-4", "CHK-3")
    link_jira_blocks(sandbox, "CHK-5", "CHK-4")
    resp = jira.get(sandbox.jira_url + "/rest/api/3/search/jql",
                    params={"jql": 'parent in ("CHK-3")', "fields": "issuelinks,parent,issuetype,status"})
    validate(jira_platform_spec, JIRA_SERVER, resp, "/jira")
    [issue] = [i for i in resp.json()["issues"] if i["key"] == "CHK-4"]
    [link] = issue["fields"]["issuelinks"]
    assert link["type"]["name"] == "Blocks" and link["inwardIssue"]["key"] == "CHK-5"
    assert issue["fields"]["parent"]["key"] == "CHK-3"
    missing = jira.get(sandbox.jira_url + "/rest/api/3/search/jql", params={"jql": 'parent = "CHK-999999"'})
    assert missing.status_code == 400
    assert "CHK-999999" in missing.json()["errorMessages"][0]
    validate(jira_platform_spec, JIRA_SERVER, missing, "/jira")
