"""apply is idempotent, never touches labels outside the prefix, and survives SIGKILL at any write."""

from __future__ import annotations

import re
import signal

import pytest

from connector.sandbox.demo import write_plan
from tests.e2e.helpers import label_writes, make_workspace

pytestmark = pytest.mark.e2e

_ISSUE = re.compile(r"(/rest/api/\d/issue/[^/?]+|/repos/[^/]+/[^/]+/issues/\d+)")


def written_issues(records) -> list[str]:
    """One entry per write request, naming the issue it wrote to."""
    return [_ISSUE.search(r.path).group(1) for r in records]


@pytest.fixture
def workspace(tmp_path, sandbox_factory):
    sb = sandbox_factory(seed=5, scale=300)
    return make_workspace(tmp_path, sb, write_plan(tmp_path, sb.org).read_text())


def test_second_apply_makes_zero_writes(workspace):
    sb = workspace.sandbox
    first = workspace.cli("apply")
    assert first.returncode == 0, first.stdout + first.stderr
    writes = label_writes(sb)
    assert writes, "the first apply labels the plan's open items"
    sb.reset_counts()
    second = workspace.cli("apply")
    assert second.returncode == 0, second.stdout + second.stderr
    assert label_writes(sb) == []
    assert sb.count(method="GET") > 0  # it did look


def test_labels_outside_the_prefix_survive_every_apply(workspace):
    sb = workspace.sandbox
    assert workspace.cli("apply").returncode == 0
    labelled = [i for i in sb.state.jira_issues.values() if any(x.startswith("plan:") for x in i.labels)]
    issue = labelled[0]
    sb.update_jira_issue(issue.key, labels=issue.labels + ["needs-design", "planning", "Plan:manual"])
    gh = next(i for r in sb.state.gh_issues.values() for i in r.values()
              if any(x.startswith("plan:") for x in i.labels))
    sb.update_github_issue(gh.repo, gh.number, labels=gh.labels + ["customer", "plan-b"])
    # the milestone's health changes, so the owned labels of these items change too
    sb.update_jira_issue(issue.key, status="Blocked")
    for _ in range(2):
        proc = workspace.cli("apply", "--force")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert {"needs-design", "planning", "Plan:manual"} <= set(sb.jira_issue(issue.key).labels)
        assert {"customer", "plan-b"} <= set(sb.github_issue(gh.repo, gh.number).labels)


def per_item(workspace):
    """Jira Cloud with bulk edits off: one journaled write per item, so crash points count items."""
    text = workspace.config.read_text()
    workspace.config.write_text(text.replace('deployment = "cloud"', 'deployment = "cloud"\nbulk = false', 1))
    return workspace


@pytest.mark.parametrize("point", ["journal-sent", "write-sent"])
def test_sigkill_mid_apply_converges_without_duplicate_writes(workspace, point):
    workspace = per_item(workspace)
    sb = workspace.sandbox
    crashed = workspace.cli("apply", PLANSYNC_CRASH_AT=f"{point}:4")
    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    before = written_issues(label_writes(sb))
    assert len(before) == (3 if point == "journal-sent" else 4)
    sb.reset_counts()
    resumed = workspace.cli("run")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    after = written_issues(label_writes(sb))
    assert after, "the resumed run makes the writes the crash prevented"
    assert not set(before) & set(after), "a write the crashed run made was sent again"
    assert len(after) == len(set(after)), "an issue was written twice"
    sb.reset_counts()
    final = workspace.cli("plan", "--detailed-exitcode")
    assert final.returncode == 0, final.stdout + final.stderr
    assert label_writes(sb) == []


def test_sigkill_between_a_bulk_post_and_its_task_resumes_without_duplicate_or_lost_labels(workspace):
    from connector.sandbox.jira_bulk import citizenship

    sb = workspace.sandbox
    crashed = workspace.cli("apply", PLANSYNC_CRASH_AT="bulk-posted:1")
    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    tasks = citizenship(sb).tasks
    assert len(tasks) == 1, "the crash came after the first bulk edit reached Jira"
    landed = set(next(iter(tasks.values()))["processedAccessibleIssues"])
    assert landed
    sb.reset_counts()
    resumed = workspace.cli("run")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    again = {i for t in list(tasks.values())[1:] for i in t["processedAccessibleIssues"]}
    singles = {int(_ISSUE.search(r.path).group(1).rsplit("/", 1)[1]) for r in label_writes(sb)
               if "/rest/api/" in r.path and r.method == "PUT"}
    assert again or singles, "the resumed run makes the writes the crash prevented"
    assert not landed & (again | singles), "an issue the crashed bulk edit labelled was written again"
    assert citizenship(sb).emails["cloud"] == 0
    sb.reset_counts()
    final = workspace.cli("plan", "--detailed-exitcode")
    assert final.returncode == 0, final.stdout + final.stderr  # nothing lost: no change left
