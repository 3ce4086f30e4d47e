"""`plansync plan --proposed/--against` through the real CLI on the sandbox: every kind of plan edit is
named, items entering and leaving milestones are counted, a re-scope that trips the guard says so before
anyone merges, malformed plans fail as `validate` does, and no review ever writes to a tracker."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.e2e.helpers import jira_open, make_workspace

pytestmark = pytest.mark.e2e

PLAN = """
[plan]
name = "Review"
timezone = "UTC"
start = 2026-10-05

[people.dana]
name = "Dana"
jira = "dana@example.com"

[[milestones]]
key = "big"
title = "Big"
due = {big_due}
owner = "dana"

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
{extra}
"""


def _tracker_writes(sandbox) -> list:
    """Every request that could change a tracker: a review must send none."""
    return [(r.method, r.path) for r in sandbox.log if r.method in ("PUT", "POST", "PATCH", "DELETE")]


@pytest.fixture
def review(tmp_path, sandbox_factory):
    sb = sandbox_factory(seed=5, scale=400)
    keys = [i.key for i in jira_open(sb, "CHK")]
    assert len(keys) >= 29

    def text(big=keys[:12], small=keys[12:20], big_due="2027-06-30", big_jql=None, extra=""):
        return PLAN.format(big_due=big_due, big_jql=big_jql or f"key in ({', '.join(big)})",
                           small=", ".join(f'"{k}"' for k in small), extra=extra)

    ws = make_workspace(tmp_path, sb, text())
    ws.keys, ws.text = keys, text
    proc = ws.cli("apply")  # labels everything and leaves the store's label records
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ws.writes_before = len(_tracker_writes(sb))

    def propose(*args, fmt="json", **plan):
        path = tmp_path / "proposed.toml"
        path.write_text(text(**plan))
        proc = ws.cli("plan", "--proposed", str(path), "--format", fmt, *args)
        assert len(_tracker_writes(sb)) == ws.writes_before, "a review wrote to a tracker"
        return proc

    ws.propose = propose
    return ws


def _json(proc) -> dict:
    assert proc.returncode in (0, 3), proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def test_each_kind_of_plan_edit_is_named_with_both_values(review):
    keys = review.keys
    extra = f"""
[people.eli]
name = "Eli"
jira = "eli@example.com"

[[milestones]]
key = "later"
title = "Later"
due = 2027-09-30

  [[milestones.scope]]
  tracker = "jira"
  items = ["{keys[25]}"]

[[risks]]
title = "Vendor slips"
milestone = "big"
likelihood = "high"
"""
    doc = _json(review.propose(big_due="2027-07-15", extra=extra))
    edits = {(e["what"], e["subject"]): (e["before"], e["after"]) for e in doc["plan_changes"]}
    assert edits[("due_moved", "big")] == ("2027-06-30", "2027-07-15")
    assert ("milestone_added", "later") in edits
    assert ("person_added", "eli") in edits
    assert edits[("risk_added", "Vendor slips")][1].startswith("likelihood high")
    later = next(m for m in doc["milestones"] if m["key"] == "later")
    assert later["before"] is None and later["after"]["items"] == 1 and later["entering"] == [keys[25]]
    big = next(m for m in doc["milestones"] if m["key"] == "big")
    assert big["before"]["items"] == big["after"]["items"] == 12 and not big["entering"] and not big["leaving"]
    # the new milestone's item enters the plan: one `scope` change, nothing refused
    assert [c["cause"] for c in doc["label_changes"]["changes"]] == ["scope"]
    assert doc["would_refuse"] is False


def test_renames_removals_and_scope_moves(review):
    keys = review.keys
    path = review.folder / "proposed.toml"
    proposed = review.text(big=keys[:8], small=keys[12:20] + keys[8:10]).replace('title = "Small"',
                                                                                   'title = "Small things"')
    path.write_text(proposed.replace('[people.dana]\nname = "Dana"', '[people.dana]\nname = "Dana K"'))
    proc = review.cli("plan", "--proposed", str(path), "--format", "text")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert 'milestone small renamed: "Small" → "Small things"' in out
    assert "milestone big scope added: jira: key in (" in out and "milestone big scope removed" in out
    assert "person dana: Dana (jira dana@example.com) → Dana K (jira dana@example.com)" in out
    assert f"big (Big): items 12 (0 done) → 8 (0 done); entering +0; leaving -4: {keys[8]}, {keys[9]}" in out
    assert f"small (Small things): items 8 (0 done) → 10 (0 done); entering +2: {keys[8]}, {keys[9]}" in out
    # keys 8, 9 move between milestones of the same health: no label changes; keys 10, 11 leave the plan
    assert "guarded: 2 of 20 items, 10.0 %" in out and "apply would refuse" not in out
    leaving = [line for line in out.splitlines() if "[scope]" in line]
    assert len(leaving) == 2 and keys[10] in leaving[0] and keys[11] in leaving[1]
    assert len(_tracker_writes(review.sandbox)) == review.writes_before


def test_markdown_is_for_a_review_only(review):
    proc = review.cli("plan", "--format", "markdown")
    assert proc.returncode == 2 and "markdown is for a plan review" in proc.stderr
    both = review.cli("plan", "--proposed", str(review.plan), "--against", "main")
    assert both.returncode == 2 and "not both" in both.stderr


def test_a_rescope_that_trips_the_guard_is_flagged_before_merging(review):
    proc = review.propose(big_jql='project = CHK AND labels = "betta"', fmt="markdown")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    md = proc.stdout
    assert "**Warning: the next apply would refuse this change without `--force`**" in md
    assert "guarded: 12 of 20 items, 60.0 %, limit 30 % and 10" in md
    assert "| `big` Big | 12 (0 done) → 0 (0 done) |  | −12: " in md
    doc = _json(review.propose(big_jql='project = CHK AND labels = "betta"'))
    assert doc["would_refuse"] is True and doc["label_changes"]["guard"]["guarded"] == 12
    # the proposed JQL was never in the store: read for the review, and nothing of it stored
    assert any("is new: read for this review, not stored" in n for n in doc["notes"])


def test_no_sync_reads_only_the_new_scopes_and_detailed_exitcode(review):
    before = len(review.sandbox.log)
    proc = review.propose("--no-sync", "--detailed-exitcode", big_jql='project = CHK AND labels = "betta"')
    assert proc.returncode == 3, proc.stdout + proc.stderr
    searched = [r for r in review.sandbox.log[before:]]
    assert searched and all("search" in r.path or "field" in r.path or "serverInfo" in r.path
                            or "myself" in r.path for r in searched), [r.path for r in searched]
    same = review.propose("--no-sync", "--detailed-exitcode")
    assert same.returncode == 0 and json.loads(same.stdout)["plan_changes"] == []


@pytest.mark.parametrize("broken, expected", [
    ('[plan]\nname = "x"\ntimezone = "Mars/Base"\n[[milestones]]\nkey="a"\ntitle="A"\ndue=2027-01-01\n',
     ":3: plan.timezone: unknown timezone 'Mars/Base'"),
    ("[plan\n", "invalid TOML"),
])
def test_a_malformed_proposed_plan_fails_like_validate(review, broken, expected):
    path = review.folder / "broken.toml"
    path.write_text(broken)
    proc = review.cli("plan", "--proposed", str(path))
    check = review.cli("validate", "--config", str(review.config), "--plan", str(path))
    assert proc.returncode == check.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == check.stderr.strip().splitlines()[-1]
    assert expected in proc.stderr and len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_against_a_git_ref_and_its_errors(review):
    folder = review.folder
    git = ["git", "-C", str(folder), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "plan.toml"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "plan"], check=True)
    review.plan.write_text(review.text(big_due="2027-08-01"))  # the pull request's change
    proc = review.cli("plan", "--against", "main", "--format", "json")
    doc = _json(proc)
    assert doc["before"] == "main:plan.toml"
    assert [(e["what"], e["before"], e["after"]) for e in doc["plan_changes"]] == [
        ("due_moved", "2027-06-30", "2027-08-01")]
    bad = review.cli("plan", "--against", "no-such-ref")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--against: cannot read the plan at" in bad.stderr
    subprocess.run([*git, "rm", "-q", "--cached", "plan.toml"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "drop"], check=True)
    missing = review.cli("plan", "--against", "HEAD")
    assert missing.returncode == 2 and "not in 'HEAD'" in missing.stderr
    assert len(_tracker_writes(review.sandbox)) == review.writes_before


def test_a_new_scope_the_tracker_rejects_fails_the_review_and_holds_its_changes_back(review):
    proc = review.propose(fmt="text", big_jql="project = CHK AND priority = High")  # the sandbox has no priority
    assert proc.returncode == 1
    assert "held back:" in proc.stdout and "plansync: tracker 'jira' failed" in proc.stdout
    assert "Traceback" not in proc.stderr
