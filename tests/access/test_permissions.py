"""The permission lines doctor prints, and which projects a Jira plan's scopes name."""

from __future__ import annotations

from connector.permissions import Permission
from connector.trackers.github.access import _classic_checks
from connector.trackers.jira.access import projects_of
from connector.trackers.jira.scopes import JiraScope


def test_projects_of_the_scopes_and_the_publish_issue():
    scopes = (JiraScope(tracker="j", jql='project = CHK AND statusCategory != Done'),
              JiraScope(tracker="j", jql='project in (PAY, "OPS") ORDER BY created'),
              JiraScope(tracker="j", items=("WEB-12",)), JiraScope(tracker="j", jql="labels = x"))
    assert projects_of(scopes, "REP-1") == ["CHK", "PAY", "OPS", "WEB", "REP"]
    assert projects_of(()) == []


def test_a_line_says_status_detail_and_fix_only_when_not_granted():
    assert Permission("write labels", "granted", "CHK", "grant it").line() == "write labels           granted (CHK)"
    missing = Permission("write labels", "missing", "not on CHK", "grant Edit Issues")
    assert missing.line().endswith("missing (not on CHK); fix: grant Edit Issues") and missing.fails
    assert not Permission("bulk edit", "missing", required=False).fails
    assert not Permission("write labels", "unknown").fails


def test_classic_scopes():
    assert {p.need: p.status for p in _classic_checks("repo, read:org", ["a/b"], "a/b#1", ["a"])} == {
        "read issues": "granted", "write labels": "granted", "comment on a/b#1": "granted", "read projects": "missing"}
    assert _classic_checks("repo, read:project", ["a/b"], None, ["a"])[-1].status == "granted"
    public = _classic_checks("public_repo", ["a/b"], None, [])
    assert public[1].status == "granted" and "public repositories only" in public[1].detail
    assert {p.status for p in _classic_checks("", ["a/b"], None, [])} == {"missing"}
