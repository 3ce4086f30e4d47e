"""Golden scenarios on the sandbox, through the real CLI: each health and finding rule, and its labels."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connector.sandbox import Sandbox
from tests.e2e.helpers import github_issues, jira_done, jira_open, make_workspace
from tests.fixtures.sandbox import VALIDATE

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """One sandbox, one plan with a milestone per rule, one `plansync run`."""
    with Sandbox(seed=11, scale=300, validate=VALIDATE) as sb:  # every exchange checked (fixtures/sandbox.py)
        yield _build(sb, tmp_path_factory)


def _build(sb, tmp_path_factory):
    today = sb.clock.now().date()
    blocked, late, drift_jira, spare = jira_open(sb, "CHK")[:4]
    done_jira = jira_done(sb, "CHK")[0]
    done_gh = github_issues(sb, "acme/checkout-web", "closed", "completed")[0]
    drift_gh = github_issues(sb, "acme/checkout-web", "open")[0]
    unplanned = github_issues(sb, "acme/infra", "open")[0]
    dropped_gh = github_issues(sb, "acme/payments-api", "open")[0]

    sb.update_jira_issue(blocked.key, status="Blocked")
    # a linked pair: the Jira issue names the GitHub issue; Jira says done, GitHub is still open
    sb.update_jira_issue(drift_jira.key, status="Done")
    drift_jira.description = f"Tracked in acme/checkout-web#{drift_gh.number}"
    sb.update_jira_issue(drift_jira.key, summary=drift_jira.summary + " (linked)")
    sb.update_github_issue("acme/payments-api", dropped_gh.number, state="closed", state_reason="not_planned")
    # milestone "infra-other" claims the whole infra milestone Beta, so only unplanned issues stay out of it
    sb.update_github_issue("acme/infra", unplanned.number, milestone=None)

    far = today + timedelta(days=200)
    plan = f'''
[plan]
name = "Golden scenarios"
timezone = "UTC"
start = {today - timedelta(days=60)}

[[milestones]]
key = "blocked-ms"
title = "Has a blocked item"
due = {far}
  [[milestones.scope]]
  tracker = "jira"
  items = ["{blocked.key}", "{spare.key}"]

[[milestones]]
key = "done-ms"
title = "Everything done"
due = {today - timedelta(days=5)}
  [[milestones.scope]]
  tracker = "jira"
  items = ["{done_jira.key}"]
  [[milestones.scope]]
  tracker = "github"
  repo = "acme/checkout-web"
  items = ["acme/checkout-web#{done_gh.number}"]

[[milestones]]
key = "late-ms"
title = "Due date passed with open work"
due = {today - timedelta(days=2)}
  [[milestones.scope]]
  tracker = "jira"
  items = ["{late.key}"]

[[milestones]]
key = "drift-ms"
title = "A linked pair that disagrees"
due = {far}
depends_on = ["late-ms"]
  [[milestones.scope]]
  tracker = "jira"
  items = ["{drift_jira.key}"]
  [[milestones.scope]]
  tracker = "github"
  repo = "acme/checkout-web"
  items = ["acme/checkout-web#{drift_gh.number}"]

[[milestones]]
key = "dropped-ms"
title = "Closed as not planned"
due = {far}
  [[milestones.scope]]
  tracker = "github"
  repo = "acme/payments-api"
  items = ["acme/payments-api#{dropped_gh.number}"]

[[watch]]
tracker = "github"
repo = "acme/infra"
'''
    ws = make_workspace(tmp_path_factory.mktemp("golden"), sb, plan)
    sb.update_github_issue("acme/infra", unplanned.number, labels=["needs-design"])  # a human's label
    proc = ws.cli("run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = ws.report_json()
    return {"sb": sb, "ws": ws, "report": report, "blocked": blocked, "late": late, "spare": spare,
            "done_jira": done_jira, "done_gh": done_gh, "drift_jira": drift_jira, "drift_gh": drift_gh,
            "unplanned": unplanned, "dropped_gh": dropped_gh}


def health(report: dict, key: str) -> str:
    return next(m for m in report["milestones"] if m["key"] == key)["health"]


def jira_labels(sb, key):
    return set(sb.jira_issue(key).labels)


def test_a_milestone_past_due_with_open_items_is_off_track(scenario):
    assert health(scenario["report"], "late-ms") == "off-track"
    assert {"plan:off-track", "plan:overdue"} <= jira_labels(scenario["sb"], scenario["late"].key)


def test_a_milestone_with_every_item_done_is_done_and_its_items_carry_no_owned_label(scenario):
    sb = scenario["sb"]
    assert health(scenario["report"], "done-ms") == "done"
    assert not {x for x in jira_labels(sb, scenario["done_jira"].key) if x.startswith("plan:")}
    assert not {x for x in sb.github_issue("acme/checkout-web", scenario["done_gh"].number).labels
                if x.startswith("plan:")}


def test_a_blocked_item_makes_its_milestone_at_risk(scenario):
    assert health(scenario["report"], "blocked-ms") == "at-risk"
    for issue in (scenario["blocked"], scenario["spare"]):
        assert "plan:at-risk" in jira_labels(scenario["sb"], issue.key)


def test_a_linked_pair_with_one_side_closed_is_drift(scenario):
    drift = scenario["report"]["drift"]
    keys = {(d["item"]["key"], r["key"]) for d in drift for r in d["related"]}
    pair = (scenario["drift_jira"].key, f"acme/checkout-web#{scenario['drift_gh'].number}")
    assert pair in keys or pair[::-1] in keys


def test_an_open_item_in_a_watch_scope_but_no_milestone_is_unplanned(scenario):
    labels = set(scenario["sb"].github_issue("acme/infra", scenario["unplanned"].number).labels)
    assert "plan:unplanned" in labels
    assert "needs-design" in labels  # the human's label survived


def test_closed_as_not_planned_is_dropped_never_done(scenario):
    milestone = next(m for m in scenario["report"]["milestones"] if m["key"] == "dropped-ms")
    assert milestone["progress"]["dropped"] == 1 and milestone["progress"]["done"] == 0


def test_dependency_on_an_off_track_milestone_is_reported(scenario):
    milestone = next(m for m in scenario["report"]["milestones"] if m["key"] == "drift-ms")
    assert any("depends on late-ms" in note and "off-track" in note for note in milestone["notes"])


def test_milestone_date_drift_against_the_tracker_is_reported(scenario):
    # no scope here names a tracker milestone, so no drift note is invented
    assert all("due" not in note or "depends" in note
               for m in scenario["report"]["milestones"] for note in m["notes"])


def test_plan_after_apply_shows_no_changes(scenario):
    proc = scenario["ws"].cli("plan", "--detailed-exitcode")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No changes" in proc.stdout
