"""Issue #17 item 1, through the real CLI: when one tracker's pull fails, the milestones it feeds keep
their labels on EVERY tracker (no health computed from the other tracker alone is written), the report
shows their last confirmed health marked as not current, and the run exits 1 naming the tracker."""

from __future__ import annotations

import json

import pytest

from connector.sandbox.demo import write_plan
from tests.e2e.helpers import label_writes, make_workspace

pytestmark = pytest.mark.e2e

ALPHA_JQL = 'project = CHK AND fixVersion = "Alpha"'


def _issue_writes(sb, repo: str, number: int) -> list:
    return [r for r in label_writes(sb) if f"/repos/{repo}/issues/{number}/labels" in r.path]


def _milestones(ws) -> dict:
    return {m["key"]: m for m in json.loads((ws.folder / "reports" / "latest.json").read_text())["milestones"]}


@pytest.mark.parametrize("breakage", ["jql-syntax-error", "revoked-token"])
def test_a_failed_jira_pull_changes_no_label_on_github(tmp_path, sandbox_factory, breakage):
    sb = sandbox_factory(seed=3, scale=300)
    ws = make_workspace(tmp_path, sb, write_plan(tmp_path, sb.org).read_text())
    first = ws.cli("run")
    assert first.returncode == 0, first.stdout + first.stderr
    before = _milestones(ws)

    # a labelled open GitHub issue of a milestone is closed: its health label is due to go
    repo = "acme/checkout-web"
    issue = next(i for i in sorted(sb.state.gh_issues[repo].values(), key=lambda i: i.number)
                 if i.state == "open" and not i.is_pr and not i.deleted and any(
                     label.startswith("plan:") and label != "plan:unplanned" for label in i.labels))
    sb.update_github_issue(repo, issue.number, state="closed", state_reason="completed")
    earlier = len(_issue_writes(sb, repo, issue.number))

    env = {}
    if breakage == "jql-syntax-error":
        ws.plan.write_text(ws.plan.read_text().replace(ALPHA_JQL, ALPHA_JQL + " AND ("))
    else:
        env["PLANSYNC_SANDBOX_JIRA_TOKEN"] = "revoked-token-0000"
    held = ws.cli("run", **env)

    assert held.returncode == 1, held.stdout + held.stderr
    assert "tracker 'jira'" in held.stdout + held.stderr
    assert len(_issue_writes(sb, repo, issue.number)) == earlier  # held: no label of it changed
    after = _milestones(ws)
    for key, milestone in after.items():
        assert milestone["notes"][0].startswith("Not current:"), milestone["notes"]
        assert "'jira'" in milestone["notes"][0]
        assert milestone["health"] == before[key]["health"]  # the last confirmed health, not a recomputed one

    # once Jira answers again the held change is made: holding it was what kept it back
    ws.plan.write_text(ws.plan.read_text().replace(ALPHA_JQL + " AND (", ALPHA_JQL))
    fixed = ws.cli("run")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert len(_issue_writes(sb, repo, issue.number)) > earlier
    assert not any(n.startswith("Not current:") for m in _milestones(ws).values() for n in m["notes"])


def test_apply_no_sync_after_a_failed_pull_job_holds_and_exits_1(tmp_path, sandbox_factory):
    """The split deployment: a `sync --tracker jira` job failed; `apply --no-sync` must not write a health
    computed without Jira's data."""
    sb = sandbox_factory(seed=3, scale=300)
    ws = make_workspace(tmp_path, sb, write_plan(tmp_path, sb.org).read_text())
    assert ws.cli("run").returncode == 0
    repo = "acme/checkout-web"
    issue = next(i for i in sorted(sb.state.gh_issues[repo].values(), key=lambda i: i.number)
                 if i.state == "open" and not i.is_pr and not i.deleted
                 and any(label.startswith("plan:") and label != "plan:unplanned" for label in i.labels))
    sb.update_github_issue(repo, issue.number, state="closed", state_reason="completed")
    earlier = len(_issue_writes(sb, repo, issue.number))
    assert ws.cli("sync", "--tracker", "github").returncode == 0
    failed = ws.cli("sync", "--tracker", "jira", PLANSYNC_SANDBOX_JIRA_TOKEN="revoked-token-0000")
    assert failed.returncode == 1

    proc = ws.cli("apply", "--no-sync")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "tracker 'jira' is not current" in proc.stdout + proc.stderr
    assert len(_issue_writes(sb, repo, issue.number)) == earlier
