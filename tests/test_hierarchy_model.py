"""Hierarchy, dependencies and types in the model: normalizing recorded payloads, the scopes' keys and
validation, the store round trip, and the reconcile rules (blocked, dependency-risk, blockers first)."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from connector.dependencies import backlogs, item_dependency_risk, open_blockers
from connector.errors import ConfigError
from connector.model import Blocker, Plan, PlanHeader, PlanMilestone, Status, WorkItem
from connector.plan_file import load_plan
from connector.reconcile import reconcile
from connector.settings import load_settings
from connector.store.codec import item_from_row, item_row
from connector.trackers.github.mapping import load_github_mapping
from connector.trackers.github.normalize import item_from_github
from connector.trackers.github.scopes import GithubScope
from connector.trackers.jira.mapping import load_jira_mapping
from connector.trackers.jira.normalize import FieldIds, Normalizer
from connector.trackers.jira.scopes import JiraScope

REFDATA = Path(__file__).resolve().parents[1].parent / "shared" / "refdata"
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def _replay_bodies(name: str):
    lines = (REFDATA / "github-replay/pygithub/ReplayData" / name).read_text().split("\n")
    for start in range(0, len(lines) - 10, 11):
        body = lines[start + 9]
        if body.startswith(("[", "{")):
            yield json.loads(body)


@pytest.mark.skipif(not REFDATA.is_dir(), reason="needs ../shared/refdata")
def test_a_recorded_github_issue_list_gives_parent_and_type():
    raws = [raw for body in _replay_bodies("Repository.testGetIssuesWithTypeArgument.txt")
            for raw in (body if isinstance(body, list) else [body]) if raw.get("parent_issue_url")]
    assert raws, "the recording holds sub-issues"
    item, _ = item_from_github(raws[0], tracker="gh", repo="PyGithub/PyGithub", mapping=load_github_mapping())
    assert item.parent == "PyGithub/PyGithub#28"
    assert item.type == raws[0]["type"]["name"] and item.type not in ("issue", "pull_request")


@pytest.mark.skipif(not REFDATA.is_dir(), reason="needs ../shared/refdata")
def test_a_recorded_jira_blocks_link_gives_a_blocker_with_its_state():
    csv.field_size_limit(1 << 30)
    path = REFDATA / "jira-recorded/devlake-raw-tables/_raw_jira_api_issue_relationships.csv"
    raws = [json.loads(row["data"]) for row in csv.DictReader(path.open())]
    raw = next(r for r in raws if any("inwardIssue" in x and x["type"]["name"] == "Blocks"
                                      for x in r["fields"].get("issuelinks") or ()))
    link = next(x for x in raw["fields"]["issuelinks"] if "inwardIssue" in x and x["type"]["name"] == "Blocks")
    item = Normalizer("jira", "https://jira.example", load_jira_mapping(), FieldIds()).item(raw, set())
    other = link["inwardIssue"]
    expected_open = other["fields"]["status"]["statusCategory"]["key"] != "done"
    assert Blocker(other["id"], other["key"], expected_open) in item.blocked_by
    outward = [x["outwardIssue"]["key"] for x in raw["fields"]["issuelinks"] if "outwardIssue" in x]
    assert not {b.key for b in item.blocked_by} & set(outward)  # "blocks" is the other direction


def _item(n: int, *, tracker="jira", status=Status.TODO, blocked_by=(), type_="Story") -> WorkItem:
    return WorkItem(tracker=tracker, id=str(n), key=f"CHK-{n}", container="CHK", url="", title=f"t{n}",
                    type=type_, status=status, raw_status=str(status), created=NOW, updated=NOW,
                    blocked_by=tuple(blocked_by))


def test_blockers_and_links_round_trip_through_the_store_row():
    item = replace(_item(1, blocked_by=[Blocker("2", "CHK-2", True), Blocker("3", "CHK-3", False)]),
                   links=("acme/web#7",), parent="CHK-9")
    assert item_from_row(item_row(item)) == item
    plain = _item(4)
    assert item_row(plain)["links"] == "[]"  # rows without blockers are as before: same hash, no new version


def test_scope_ids_are_unchanged_without_the_new_keys_and_differ_with_them():
    old = JiraScope(tracker="jira", jql="project = CHK")
    assert JiraScope(tracker="jira", jql="project = CHK", type="Bug").id != old.id
    assert JiraScope(tracker="jira", parent="CHK-1").id != JiraScope(tracker="jira", parent="CHK-2").id
    legacy = hashlib.sha1("\x1f".join(("jira", "project = CHK", "", "", "", "")).encode()).hexdigest()[:12]
    assert old.id == f"jira:{legacy}"  # stored cursors and memberships keep their ids


def test_a_github_parent_may_be_given_with_its_repository():
    assert GithubScope(tracker="gh", repo="acme/web", parent="#12").parent_key == "acme/web#12"
    assert GithubScope(tracker="gh", parent="acme/web#12").remote


PLAN = '''
[plan]
name = "p"
[[milestones]]
key = "m"
title = "M"
due = 2027-01-01
  [[milestones.scope]]
  {scope}
'''


@pytest.mark.parametrize("scope, message", [
    ('tracker = "jira"\n  parent = "not a key"', "is not a Jira issue key"),
    ('tracker = "jira"\n  parent = "CHK-1"\n  items = ["CHK-2"]', "a parent scope takes `parent`"),
    ('tracker = "github"\n  repo = "acme/web"\n  parent = "acme/api#3"', "`repo` is the parent's repository"),
    ('tracker = "github"\n  parent = "12"', "is not an issue like"),
    ('tracker = "github"\n  repo = "acme/web"\n  type = " "', "`type` is empty"),
])
def test_the_plan_loader_names_a_bad_parent_or_type(tmp_path, scope, message):
    path = tmp_path / "plan.toml"
    path.write_text(PLAN.format(scope=scope))
    settings = load_settings(Path(__file__).resolve().parents[1] / "config.example.toml")
    with pytest.raises(ConfigError, match=message):
        load_plan(path, settings)


def _plan(*milestones) -> Plan:
    return Plan(plan=PlanHeader(name="p", timezone="UTC"), milestones=tuple(milestones))


def _milestone(key: str, due: date, *keys: str, type_: str | None = None) -> PlanMilestone:
    return PlanMilestone(key=key, title=key, due=due, scope=(JiraScope(tracker="jira", items=keys, type=type_),))


def test_an_open_blocker_blocks_using_its_own_stored_state_and_a_closed_one_does_not():
    blocked = _item(1, blocked_by=[Blocker("2", "CHK-2", False)])  # the link said closed: stale
    blocker = _item(2)  # the store says it is open now
    other = _item(3, blocked_by=[Blocker("4", "CHK-4", True)])  # said open, but it is done now
    done = _item(4, status=Status.DONE)
    plan = _plan(_milestone("a", date(2027, 1, 1), "CHK-1", "CHK-3"), _milestone("b", date(2027, 6, 1), "CHK-2"))
    rec = reconcile(plan, [blocked, blocker, other, done], {}, [], [], now=NOW)
    assert rec.items[blocked.uid].status is Status.BLOCKED
    assert rec.items[other.uid].status is Status.TODO
    assert rec.milestone("a").progress.blocked == 1
    risk = [f for f in rec.findings if f.kind == "dependency-risk"]
    assert [(f.item, f.related, f.milestone) for f in risk] == [(blocked.uid, blocker.uid, "a")]
    assert "CHK-2 of milestone b, due later (2027-06-01)" in risk[0].message
    [finding] = [f for f in rec.findings if f.kind == "blocked"]
    assert finding.message == "CHK-1 is blocked (by CHK-2)"


def test_the_mapping_switch_leaves_the_status_alone_but_keeps_the_finding():
    blocked, blocker = _item(1, blocked_by=[Blocker("2", "CHK-2", True)]), _item(2)
    plan = _plan(_milestone("a", date(2027, 1, 1), "CHK-1"))
    rec = reconcile(plan, [blocked, blocker], {}, [], [], now=NOW, blocking_trackers=frozenset())
    assert rec.items[blocked.uid].status is Status.TODO
    [risk] = [f for f in rec.findings if f.kind == "dependency-risk"]
    assert "CHK-2, which is outside the plan" in risk.message


def test_a_type_filter_keeps_only_items_of_that_type():
    plan = _plan(_milestone("a", date(2027, 1, 1), "CHK-1", "CHK-2", type_="bug"))
    rec = reconcile(plan, [_item(1, type_="Bug"), _item(2)], {}, [], [], now=NOW)
    assert rec.milestone("a").items == (("jira", "1"),)


def test_the_forecast_queues_a_blocker_of_a_later_milestone_before_the_item_it_blocks():
    a1, a2 = _item(1, blocked_by=[Blocker("5", "CHK-5", True)]), _item(2)
    b5, b6 = _item(5, blocked_by=[Blocker("7", "CHK-7", True)]), _item(6)
    outside = _item(7)
    plan = _plan(_milestone("a", date(2027, 1, 1), "CHK-1", "CHK-2"), _milestone("b", date(2027, 6, 1),
                                                                                 "CHK-5", "CHK-6"))
    present = {i.uid: i for i in (a1, a2, b5, b6, outside)}
    blockers = open_blockers(present)
    members = {"a": [a1, a2], "b": [b5, b6]}
    # a: its two items, the blocker CHK-5 and CHK-5's own blocker CHK-7; b: adds only CHK-6
    assert backlogs(plan, members, blockers) == {"a": 4, "b": 5}
    assert backlogs(plan, members) == {"a": 2, "b": 4}
    risk = item_dependency_risk(plan, members, {a1.uid: ("a",), a2.uid: ("a",), b5.uid: ("b",),
                                                b6.uid: ("b",)}, blockers)
    assert {(f.milestone, f.related) for f in risk} == {("a", b5.uid), ("b", outside.uid)}


def test_an_item_blocked_by_an_item_of_the_same_or_an_earlier_milestone_is_no_dependency_risk():
    a1, a2 = _item(1), _item(2, blocked_by=[Blocker("1", "CHK-1", True)])
    b3 = _item(3, blocked_by=[Blocker("1", "CHK-1", True)])
    plan = _plan(_milestone("a", date(2027, 1, 1), "CHK-1", "CHK-2"), _milestone("b", date(2027, 6, 1), "CHK-3"))
    rec = reconcile(plan, [a1, a2, b3], {}, [], [], now=NOW)
    assert not [f for f in rec.findings if f.kind == "dependency-risk"]
    assert rec.milestone("b").progress.blocked == 1  # still blocked: only not a risk to its date

