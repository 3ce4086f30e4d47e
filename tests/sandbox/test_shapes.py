"""Sandbox payloads have the key sets and value types of real recorded responses (refdata)."""

from __future__ import annotations

import csv
import json

import pytest

GH_ISSUE_FILE = "github-replay/pygithub/ReplayData/Issue.setUp.txt"
GH_MILESTONES_FILE = "github-replay/pygithub/ReplayData/Repository.testGetMilestones.txt"
JIRA_ISSUES_CSV = "jira-recorded/devlake-raw-tables/_raw_jira_api_issues.csv"


def replay_bodies(path, url_suffix: str) -> list:
    """Response bodies of a PyGithub ReplayData file whose request URL ends with url_suffix."""
    lines = path.read_text().split("\n")
    out, i = [], 0
    while i + 9 < len(lines):
        if lines[i].strip() in ("http", "https"):
            url, status, body = lines[i + 4], lines[i + 7], lines[i + 9]
            if url.split("?")[0].endswith(url_suffix) and status.strip() == "200" and body.strip():
                out.append(json.loads(body))
            i += 11
        else:
            i += 1
    return out


def shape_diff(ours, theirs, path="", skip=frozenset()) -> list[str]:
    """Keys the recording has and we lack, and values whose JSON types differ (null matches anything)."""
    problems = []
    if isinstance(theirs, dict) and isinstance(ours, dict):
        for k, v in theirs.items():
            where = f"{path}.{k}"
            if where in skip:
                continue
            if k not in ours:
                problems.append(f"missing {where}")
            else:
                problems += shape_diff(ours[k], v, where, skip)
    elif isinstance(theirs, list) and isinstance(ours, list):
        if theirs and ours:
            problems += shape_diff(ours[0], theirs[0], path + "[]", skip)
    elif theirs is not None and ours is not None and type(theirs) is not type(ours):
        problems.append(f"type {path}: ours {type(ours).__name__}, recorded {type(theirs).__name__}")
    return problems


def test_github_issue_matches_the_recorded_issue(refdata, sandbox, gh):
    recorded = replay_bodies(refdata / GH_ISSUE_FILE, "/issues/28")[0]
    number = next(i.number for i in sandbox.state.gh_issues["acme/checkout-web"].values()
                  if i.milestone and i.labels and i.assignees and not i.is_pr and not i.deleted
                  and not i.transferred_to)
    ours = gh.get(sandbox.github_url + f"/repos/acme/checkout-web/issues/{number}").json()
    assert shape_diff(ours, recorded) == []


def test_github_milestones_match_the_recorded_list(refdata, sandbox, gh):
    recorded = replay_bodies(refdata / GH_MILESTONES_FILE, "/milestones")[0]
    ours = gh.get(sandbox.github_url + "/repos/acme/checkout-web/milestones", params={"state": "all"}).json()
    assert shape_diff(ours, recorded) == []


def jira_rows(path):
    csv.field_size_limit(1 << 30)
    with path.open() as f:
        return [json.loads(r["data"]) for r in csv.DictReader(f)]


def test_jira_issue_matches_recorded_cloud_issues(refdata, sandbox, jira):
    rows = jira_rows(refdata / JIRA_ISSUES_CSV)
    recorded = next(r for r in rows if r["fields"].get("fixVersions") and r["fields"].get("assignee")
                    and r["fields"].get("customfield_10020"))
    # The recording's sprint is closed (it has completeDate; open sprints have none), so compare with one.
    key = next(i.key for i in sandbox.state.live_jira() if i.fix_versions and i.assignee and i.resolution
               and i.history and i.sprints and sandbox.state.sprints[i.sprints[0]]["state"] == "closed")
    ours = jira.get(sandbox.jira_url + f"/rest/api/2/issue/{key}", params={"expand": "changelog"}).json()
    ours_fields = ours["fields"]
    # Only fields both render are compared: the recording (agile board API) also has sprint, closedSprints,
    # epic, flagged, time tracking, votes, watches, worklog ... which the sandbox does not serve.
    shared = set(ours_fields) & set(recorded["fields"])
    assert {"summary", "status", "issuetype", "project", "assignee", "reporter", "created", "updated",
            "resolution", "resolutiondate", "labels", "fixVersions", "duedate", "customfield_10020"} <= shared
    problems = []
    for name in sorted(shared):
        problems += shape_diff(ours_fields[name], recorded["fields"][name], f"fields.{name}",
                               skip=frozenset({"fields.status.statusCategory.colorName"}))
    assert problems == [], problems
    # Changelog histories and items carry the recorded keys.
    ours_h, rec_h = ours["changelog"]["histories"][0], recorded["changelog"]["histories"][0]
    assert shape_diff(ours_h, rec_h, "history", skip=frozenset({"history.items[].fieldId"})) == []
    assert set(ours["changelog"]) >= {"startAt", "maxResults", "total", "histories"}


@pytest.mark.parametrize("field", ["status", "fixVersions", "customfield_10020", "assignee", "issuetype"])
def test_jira_nested_objects_have_the_recorded_keys(refdata, sandbox, jira, field):
    rows = jira_rows(refdata / JIRA_ISSUES_CSV)
    recorded = next(r["fields"][field] for r in rows if r["fields"].get(field))
    key = next(i.key for i in sandbox.state.live_jira() if i.fix_versions and i.assignee and i.sprints
               and sandbox.state.sprints[i.sprints[0]]["state"] == "closed")
    ours = jira.get(sandbox.jira_url + f"/rest/api/2/issue/{key}").json()["fields"][field]
    rec_keys = set((recorded[0] if isinstance(recorded, list) else recorded).keys())
    our_keys = set((ours[0] if isinstance(ours, list) else ours).keys())
    assert rec_keys - our_keys == set()
