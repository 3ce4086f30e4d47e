"""The safety threshold through the real CLI on the sandbox: news (health, status, overdue) is applied,
surprises (scope, drift) above both limits are refused with the arithmetic, first applies adopt."""

from __future__ import annotations

import json
import signal

import pytest

from tests.e2e.helpers import jira_open, label_writes, make_workspace

pytestmark = pytest.mark.e2e

PLAN = """
[plan]
name = "Guard"
timezone = "UTC"
start = 2026-10-05

[[milestones]]
key = "big"
title = "Big"
due = {big_due}

  [[milestones.scope]]
  tracker = "jira"
  jql = '{big_jql}'

[[milestones]]
key = "small"
title = "Small"
due = 2027-06-30

  [[milestones.scope]]
  tracker = "jira"
  items = [{small}]
"""


@pytest.fixture
def guard(tmp_path, sandbox_factory):
    sb = sandbox_factory(seed=5, scale=400)
    issues = jira_open(sb, "CHK")
    assert len(issues) >= 29, "the sandbox should have enough open CHK issues"
    keys = [i.key for i in issues]
    ws = make_workspace(tmp_path, sb, "")
    ws.keys = keys
    ws.write = lambda big=keys[:12], small=keys[12:20], big_due="2027-06-30", big_jql=None: ws.plan.write_text(
        PLAN.format(big_due=big_due, big_jql=big_jql or f"key in ({', '.join(big)})",
                    small=", ".join(f'"{k}"' for k in small)))
    ws.write()
    return ws


def _ok(proc):
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _causes(ws) -> dict[str, str]:
    proc = ws.cli("plan", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {c["key"]: c["cause"] for c in json.loads(proc.stdout)["changes"]}


def test_a_milestone_of_60_percent_turning_off_track_is_applied_without_force(guard):
    _ok(guard.cli("apply"))  # the first apply labels everything
    guard.write(big_due="2026-10-10")  # big's due date has passed: its 12 of 20 items go off-track
    causes = _causes(guard)
    assert len(causes) == 12 and set(causes.values()) == {"health"}
    proc = _ok(guard.cli("apply"))
    assert "outcome=success" in proc.stdout and "writes=12" in proc.stdout


def test_a_jql_typo_emptying_a_milestone_is_refused_with_the_arithmetic_and_force_applies_it(guard):
    _ok(guard.cli("apply"))
    guard.write(big_jql='project = CHK AND labels = "betta"')  # a typo: valid JQL, no items
    plan = guard.cli("plan")
    assert "guarded: 12 of 20 items, 60.0 %, limit 30 % and 10" in plan.stdout
    assert "apply would refuse this plan without --force" in plan.stdout
    guard.sandbox.reset_counts()
    refused = guard.cli("apply")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "guarded: 12 of 20 items, 60.0 %, limit 30 % and 10" in refused.stdout
    assert "leaving every scope (12)" in refused.stdout
    assert label_writes(guard.sandbox) == []  # refused means nothing was written
    forced = _ok(guard.cli("apply", "--force"))
    assert "writes=12" in forced.stdout


def test_a_fresh_store_against_labelled_trackers_adopts_them_on_its_first_apply(guard, tmp_path):
    _ok(guard.cli("apply"))
    fresh = make_workspace(tmp_path / "second", guard.sandbox, guard.plan.read_text(),
                           store_url=f"sqlite:///{tmp_path / 'second.db'}") if (tmp_path / "second").mkdir() is None \
        else None
    guard.sandbox.reset_counts()
    proc = _ok(fresh.cli("apply"))
    assert "jira: adopting 20 item(s) already labelled by an earlier installation" in proc.stdout
    assert label_writes(guard.sandbox) == []  # they already carry the right labels
    assert "No changes" in _ok(fresh.cli("plan")).stdout


def test_nine_guarded_changes_on_a_twenty_item_plan_are_applied(guard):
    _ok(guard.cli("apply"))
    guard.write(big=guard.keys[:12] + guard.keys[20:29])  # nine items enter the plan
    causes = _causes(guard)
    assert list(causes.values()).count("scope") == 9
    proc = _ok(guard.cli("apply"))
    assert "writes=9" in proc.stdout


def _labels(guard, key: str) -> set[str]:
    return set(guard.sandbox.jira_issue(key).labels)


def test_a_changed_prefix_is_refused_then_forced_or_migrated(guard):
    _ok(guard.cli("apply"))
    key = guard.keys[0]
    assert any(label.startswith("plan:") for label in _labels(guard, key))
    guard.config.write_text(guard.config.read_text().replace('prefix = "plan:"', 'prefix = "ps-"'))
    plan = guard.cli("plan")
    assert "the owned prefix changed from 'plan:' to 'ps-': 20 item(s) still carry" in plan.stdout
    refused = guard.cli("apply")
    assert refused.returncode == 1 and "--migrate-prefix" in refused.stdout, refused.stdout

    migrated = _ok(guard.cli("apply", "--migrate-prefix"))
    assert "writes=20" in migrated.stdout
    labels = _labels(guard, key)
    assert not any(label.startswith("plan:") for label in labels) and any(x.startswith("ps-") for x in labels)
    guard.sandbox.reset_counts()
    _ok(guard.cli("apply"))
    assert label_writes(guard.sandbox) == []


def test_a_forced_prefix_change_leaves_the_old_labels_and_says_so(guard):
    _ok(guard.cli("apply"))
    key = guard.keys[0]
    guard.config.write_text(guard.config.read_text().replace('prefix = "plan:"', 'prefix = "ps-"'))
    _ok(guard.cli("apply", "--force"))
    labels = _labels(guard, key)
    assert any(x.startswith("plan:") for x in labels) and any(x.startswith("ps-") for x in labels)
    assert "left untouched and no longer owned" in guard.cli("plan").stdout


def test_a_resumed_apply_keeps_its_causes_and_does_not_count_them_twice(guard):
    # the crash point counts journaled items one by one: Jira Cloud bulk edits off (they mark a batch at once)
    text = guard.config.read_text()
    assert 'deployment = "cloud"' in text
    guard.config.write_text(text.replace('deployment = "cloud"', 'deployment = "cloud"\nbulk = false', 1))
    _ok(guard.cli("apply"))
    guard.write(big_jql='project = CHK AND labels = "betta"')
    before = _causes(guard)
    assert set(before.values()) == {"scope"} and len(before) == 12
    crashed = guard.cli("apply", "--force", PLANSYNC_CRASH_AT="journal-sent:4")
    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    after = _causes(guard)
    assert len(after) == 9 and all(before[k] == cause for k, cause in after.items())
    # 9 guarded changes left of 20 would pass anyway; what matters is that the resume does not refuse
    # what the forced apply had approved, nor count it again
    resumed = _ok(guard.cli("apply"))
    assert "writes=9" in resumed.stdout
