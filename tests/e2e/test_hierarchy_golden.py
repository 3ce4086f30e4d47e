"""Golden scenarios for hierarchy, dependencies and issue types, on the sandbox through the real CLI.

For each tracker: a parent scope whose descendants live in two repositories (Jira: at two levels), a type
filter, an item blocked by an open item of a later milestone (blocked, at-risk, a dependency-risk finding
naming the blocker), and the same item once its blocker closes (no longer blocked)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from connector.sandbox import Sandbox
from connector.sandbox.hierarchy import (
    add_blocked_by,
    add_sub_issue,
    link_jira_blocks,
    set_issue_type,
    set_jira_parent,
)
from tests.e2e.helpers import github_issues, jira_open, make_workspace
from tests.fixtures.sandbox import VALIDATE

pytestmark = pytest.mark.e2e


def _plan(today, k: dict) -> str:
    soon, later = today + timedelta(days=150), today + timedelta(days=300)
    return f'''
[plan]
name = "Hierarchy scenarios"
timezone = "UTC"
start = {today - timedelta(days=60)}

[[milestones]]
key = "epic"
title = "Everything under the Jira epic"
due = {later}
  [[milestones.scope]]
  tracker = "jira"
  parent = "{k['epic']}"

[[milestones]]
key = "jira-bugs"
title = "Bugs under the Jira epic"
due = {later}
  [[milestones.scope]]
  tracker = "jira"
  parent = "{k['epic']}"
  type = "Bug"

[[milestones]]
key = "tree"
title = "Sub-issues of the GitHub parent"
due = {later}
  [[milestones.scope]]
  tracker = "github"
  parent = "{k['gh_parent']}"

[[milestones]]
key = "gh-bugs"
title = "Bugs among them"
due = {later}
  [[milestones.scope]]
  tracker = "github"
  parent = "{k['gh_parent']}"
  type = "Bug"

[[milestones]]
key = "early"
title = "Blocked by later work"
due = {soon}
  [[milestones.scope]]
  tracker = "jira"
  items = ["{k['jira_blocked']}"]
  [[milestones.scope]]
  tracker = "github"
  repo = "acme/checkout-web"
  items = ["{k['gh_blocked']}"]

[[milestones]]
key = "late"
title = "The blockers <img src=x onerror=alert(1)>"
due = {later}
  [[milestones.scope]]
  tracker = "jira"
  items = ["{k['jira_blocker']}"]
  [[milestones.scope]]
  tracker = "github"
  repo = "acme/payments-api"
  items = ["{k['gh_blocker']}"]
'''


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    with Sandbox(seed=11, scale=300, validate=VALIDATE) as sb:  # every exchange checked (fixtures/sandbox.py)
        today = sb.clock.now().date()
        chk, pay = jira_open(sb, "CHK"), jira_open(sb, "PAY")
        epic = sb.create_jira_issue("CHK", "Checkout epic", issuetype="Epic")
        story, bug, sub, blocked, blocker = chk[0], pay[0], chk[1], chk[2], chk[3]
        sb.update_jira_issue(story.key, summary='<script>alert("story")</script> | *a parent* too')  # hostile
        set_jira_parent(sb, story.key, epic.key)
        set_jira_parent(sb, bug.key, epic.key)  # a child in another project
        set_jira_parent(sb, sub.key, story.key)  # a grandchild
        bug.issuetype = "Bug"
        link_jira_blocks(sb, blocker.key, blocked.key)

        web, payments, infra = (github_issues(sb, r, "open") for r in ("acme/checkout-web", "acme/payments-api",
                                                                       "acme/infra"))
        parent, child_web, gh_blocked = web[0], web[1], web[2]
        child_pay, gh_blocker, grandchild = payments[0], payments[1], infra[0]
        ref = lambda i: f"{i.repo}#{i.number}"  # noqa: E731
        add_sub_issue(sb, ref(parent), ref(child_web))
        add_sub_issue(sb, ref(parent), ref(child_pay))  # a child in another repository
        add_sub_issue(sb, ref(child_pay), ref(grandchild))  # and one a level further down, in a third
        set_issue_type(sb, ref(child_pay), "Bug")
        add_blocked_by(sb, ref(gh_blocked), ref(gh_blocker))

        keys = {"epic": epic.key, "story": story.key, "bug": bug.key, "sub": sub.key, "jira_blocked": blocked.key,
                "jira_blocker": blocker.key, "gh_parent": ref(parent), "child_web": ref(child_web),
                "child_pay": ref(child_pay), "grandchild": ref(grandchild), "gh_blocked": ref(gh_blocked),
                "gh_blocker": ref(gh_blocker)}
        ws = make_workspace(tmp_path_factory.mktemp("hierarchy"), sb, _plan(today, keys))
        proc = ws.cli("run")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        yield {"sb": sb, "ws": ws, "keys": keys, "report": ws.report_json()}



def milestone(report: dict, key: str) -> dict:
    return next(m for m in report["milestones"] if m["key"] == key)


def owned(sb, key: str) -> set[str]:
    if "#" in key:
        repo, _, number = key.partition("#")
        labels = sb.github_issue(repo, int(number)).labels
    else:
        labels = sb.jira_issue(key).labels
    return {x for x in labels if x.startswith("plan:")}


def test_a_jira_parent_scope_holds_every_descendant_across_projects_and_levels(scenario):
    sb, k = scenario["sb"], scenario["keys"]
    assert milestone(scenario["report"], "epic")["progress"]["total"] == 3
    for key in (k["story"], k["bug"], k["sub"]):  # CHK child, PAY child, CHK grandchild
        assert owned(sb, key), key
    assert not owned(sb, k["epic"])  # the parent itself is not in its scope


def test_a_github_parent_scope_holds_sub_issues_in_other_repositories(scenario):
    sb, k = scenario["sb"], scenario["keys"]
    assert milestone(scenario["report"], "tree")["progress"]["total"] == 3
    for key in (k["child_web"], k["child_pay"], k["grandchild"]):  # checkout-web, payments-api, infra
        assert owned(sb, key), key
    assert not owned(sb, k["gh_parent"])


def test_a_type_filter_narrows_a_scope_on_both_trackers(scenario):
    assert milestone(scenario["report"], "jira-bugs")["progress"]["total"] == 1
    assert milestone(scenario["report"], "gh-bugs")["progress"]["total"] == 1


def test_an_item_blocked_by_open_work_of_a_later_milestone_is_blocked_with_a_dependency_risk(scenario):
    k = scenario["keys"]
    early = milestone(scenario["report"], "early")
    assert early["health"] == "at-risk"
    assert early["progress"]["blocked"] == 2
    notes = {row["key"]: row["note"] for row in early["at_risk"]}
    assert {row["key"]: row["status"] for row in early["at_risk"]} == {k["jira_blocked"]: "blocked",
                                                                      k["gh_blocked"]: "blocked"}
    assert f"blocked by {k['jira_blocker']} of milestone late, due later" in notes[k["jira_blocked"]]
    assert f"blocked by {k['gh_blocker']} of milestone late, due later" in notes[k["gh_blocked"]]
    assert milestone(scenario["report"], "late")["progress"]["blocked"] == 0


def test_the_report_rolls_items_up_under_their_parents_and_draws_the_dependencies(scenario):
    ws, k = scenario["ws"], scenario["keys"]
    proc = ws.cli("report", "--format", "md,html,json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((ws.folder / "reports" / "latest.json").read_text())
    rollup = {row["key"]: row for row in milestone(report, "epic")["hierarchy"]}
    assert rollup[k["epic"]]["children"] == 2 and rollup[k["story"]]["children"] == 1  # two levels
    assert {row["key"] for row in milestone(report, "tree")["hierarchy"]} == {k["gh_parent"], k["child_pay"]}
    edges = {(e["milestone"], e["blocker_milestone"]): e for e in report["dependencies"]}
    assert edges[("early", "late")]["later"] is True
    assert set(edges[("early", "late")]["blockers"]) == {k["jira_blocker"], k["gh_blocker"]}
    html = (ws.folder / "reports" / "latest.html").read_text()
    markdown = (ws.folder / "reports" / "latest.md").read_text()
    assert "Dependencies between milestones" in html and "Under their parents" in markdown
    assert "<script>alert" not in html and "<img src=x" not in html  # hostile titles escaped
    assert "&lt;script&gt;alert" in html
    svgs = list((ws.folder / "reports").rglob("*dependencies*.svg"))
    assert svgs, "the dependency picture is written beside the Markdown"
    for svg in svgs:
        text = svg.read_text()
        assert "<script" not in text and "onerror=" not in text.replace("onerror=alert", "") or "&lt;img" in text
        assert "<img" not in text


# runs last: it closes the blockers of the shared scenario
def test_a_closed_blocker_no_longer_blocks(scenario):
    sb, ws, k = scenario["sb"], scenario["ws"], scenario["keys"]
    sb.update_jira_issue(k["jira_blocker"], status="Done")
    repo, _, number = k["gh_blocker"].partition("#")
    sb.update_github_issue(repo, int(number), state="closed", state_reason="completed")
    proc = ws.cli("run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    early = milestone(ws.report_json(), "early")
    assert early["progress"]["blocked"] == 0
    assert not any("blocked by" in row["note"] for row in early["at_risk"])


@pytest.mark.parametrize("scope, named", [
    ('tracker = "jira"\n  parent = "CHK-99999"', "parent CHK-99999"),
    ('tracker = "github"\n  parent = "acme/checkout-web#99999"', "acme/checkout-web#99999"),
])
def test_a_parent_that_does_not_exist_fails_the_pull_naming_the_scope(scenario, tmp_path, scope, named):
    today = scenario["sb"].clock.now().date()
    plan = f'''
[plan]
name = "Missing parent"
timezone = "UTC"

[[milestones]]
key = "m"
title = "M"
due = {today + timedelta(days=30)}
  [[milestones.scope]]
  {scope}
'''
    ws = make_workspace(tmp_path, scenario["sb"], plan)
    proc = ws.cli("sync")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    assert named in out and "Traceback" not in out
