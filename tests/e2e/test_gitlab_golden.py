"""Golden scenarios for the GitLab kind on the sandbox, through the real CLI, as for Jira and GitHub:
off-track, done (a stale owned label removed), blocked, unplanned (a human's label kept), closed as
duplicate or labelled wontfix dropped, and a second apply that writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connector.sandbox import Sandbox
from connector.sandbox.demo import write_config
from tests.e2e.helpers import Workspace

pytestmark = pytest.mark.e2e
CHECKOUT, MOBILE = "acme/platform/checkout", "acme/platform/mobile"


def _open(sb, project: str) -> list:
    return sorted((i for i in sb.gitlab.issues.values() if i.project == project and not i.deleted
                   and i.state == "opened" and not {"blocked", "in progress"} & set(i.labels)),
                  key=lambda i: i.iid)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    with Sandbox(seed=11, scale=300) as sb:
        yield _build(sb, tmp_path_factory)


def _build(sb, tmp_path_factory):
    gl, now = sb.gitlab, sb.clock.ts()
    today = sb.clock.now().date()
    blocked, spare, late, dup, wontfix, done = _open(sb, CHECKOUT)[:6]
    unplanned = _open(sb, MOBILE)[0]
    gl.update(CHECKOUT, blocked.iid, now, labels=[*blocked.labels, "blocked"])
    gl.update(CHECKOUT, dup.iid, now, state="closed", duplicate_of=spare.id)
    gl.update(CHECKOUT, wontfix.iid, now, state="closed", labels=["wontfix"])
    # done, and still carrying a label plansync wrote when it was at risk: the run must take it off
    gl.update(CHECKOUT, done.iid, now, state="closed", labels=["plan:at-risk", "feature"])
    gl.update(MOBILE, unplanned.iid, now, milestone=None, labels=["needs-design"])  # a human's label
    far = today + timedelta(days=200)

    def items(*issues):
        return "[" + ", ".join(f'"{i.project}#{i.iid}"' for i in issues) + "]"
    plan = f'''
[plan]
name = "GitLab golden scenarios"
timezone = "UTC"
start = {today - timedelta(days=60)}

[[milestones]]
key = "blocked-ms"
title = "Has a blocked item"
due = {far}
  [[milestones.scope]]
  tracker = "gitlab"
  project = "{CHECKOUT}"
  items = {items(blocked, spare)}

[[milestones]]
key = "done-ms"
title = "Everything done"
due = {today - timedelta(days=5)}
  [[milestones.scope]]
  tracker = "gitlab"
  project = "{CHECKOUT}"
  items = {items(done)}

[[milestones]]
key = "late-ms"
title = "Due date passed with open work"
due = {today - timedelta(days=2)}
  [[milestones.scope]]
  tracker = "gitlab"
  project = "{CHECKOUT}"
  items = {items(late)}

[[milestones]]
key = "dropped-ms"
title = "Closed as duplicate or won't do"
due = {far}
  [[milestones.scope]]
  tracker = "gitlab"
  project = "{CHECKOUT}"
  items = {items(dup, wontfix)}

[[milestones]]
key = "mobile-beta"
title = "Mobile beta"
due = {far}
  [[milestones.scope]]
  tracker = "gitlab"
  project = "{MOBILE}"
  milestone = "Beta"

[[watch]]
tracker = "gitlab"
project = "{MOBILE}"
'''
    folder = tmp_path_factory.mktemp("gitlab-golden")
    config = write_config(folder, sb, gitlab=True)
    (folder / "plan.toml").write_text(plan)
    ws = Workspace(folder, sb, config, folder / "plan.toml")
    proc = ws.cli("run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"sb": sb, "ws": ws, "report": ws.report_json(), "blocked": blocked, "spare": spare, "late": late,
            "done": done, "unplanned": unplanned}


def milestone(report: dict, key: str) -> dict:
    return next(m for m in report["milestones"] if m["key"] == key)


def labels(sb, issue) -> set[str]:
    return set(sb.gitlab.issue(issue.project, issue.iid).labels)


def test_a_milestone_past_due_with_open_items_is_off_track(scenario):
    assert milestone(scenario["report"], "late-ms")["health"] == "off-track"
    assert {"plan:off-track", "plan:overdue"} <= labels(scenario["sb"], scenario["late"])


def test_done_milestone_and_its_stale_owned_label_is_removed(scenario):
    assert milestone(scenario["report"], "done-ms")["health"] == "done"
    assert labels(scenario["sb"], scenario["done"]) == {"feature"}  # plan:at-risk gone, the human's kept


def test_a_blocked_item_makes_its_milestone_at_risk(scenario):
    assert milestone(scenario["report"], "blocked-ms")["health"] == "at-risk"
    for issue in (scenario["blocked"], scenario["spare"]):
        assert "plan:at-risk" in labels(scenario["sb"], issue)


def test_an_open_item_in_a_watch_scope_but_no_milestone_is_unplanned_and_keeps_its_human_label(scenario):
    found = labels(scenario["sb"], scenario["unplanned"])
    assert "plan:unplanned" in found and "needs-design" in found


def test_closed_as_duplicate_and_wontfix_are_dropped_never_done(scenario):
    progress = milestone(scenario["report"], "dropped-ms")["progress"]
    assert progress["dropped"] == 2 and progress["done"] == 0


def test_a_second_apply_writes_nothing(scenario):
    sb, ws = scenario["sb"], scenario["ws"]
    sb.reset_counts()
    proc = ws.cli("apply")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sb.count(method="PUT", endpoint="gitlab.issue_edit") == 0
    assert sb.count(flavour="gitlab") > 0  # it did talk to GitLab: the zero is not from skipping it
