"""Projects v2 end to end: the real CLI against the sandbox's GraphQL. An iteration-filtered project
scope, due dates from a date field and from an iteration's end, a status mapped to blocked making the
milestone at risk, its status update published once per week and edited on rerun, and bad input."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest

from tests.adapters.graphql_check import answer_problems, document_problems, needs_schema
from tests.adapters.project_fixtures import REPO, roadmap
from tests.e2e.helpers import make_workspace

pytestmark = [pytest.mark.e2e, needs_schema]


def plan_text(sb, scope: str, due_in_days: int = 60) -> str:
    today = sb.clock.now().date()
    return f'''[plan]
name = "Roadmap"
timezone = "UTC"
start = {today - timedelta(days=30)}

[[milestones]]
key = "s12"
title = "Sprint 12"
due = {today + timedelta(days=due_in_days)}
scope = [{{ tracker = "github", {scope} }}]
'''


def workspace(tmp_path, sb, scope: str, fields: str, *, status_updates: bool = False):
    ws = make_workspace(tmp_path, sb, plan_text(sb, scope), extra=f"[trackers.github.project_fields]\n{fields}\n")
    if status_updates:
        text = ws.config.read_text()
        assert 'out_dir = "reports"\n' in text
        ws.config.write_text(text.replace('out_dir = "reports"\n', 'out_dir = "reports"\nproject_status = true\n'))
    return ws


def stored(ws) -> dict:
    with sqlite3.connect(ws.folder / "plansync.db") as db:
        return {key: (due, status) for key, due, status in db.execute("select key, due, status from items")}


@pytest.fixture
def sb(sandbox_factory):
    made = sandbox_factory(seed=3, scale=300)
    made.roadmap = roadmap(made)
    yield made
    for query, variables, answer in made.__dict__.get("graphql_log", ()):
        assert document_problems(query) == [] and answer_problems(query, variables, answer) == [], query


def test_an_iteration_scope_with_iteration_due_dates_and_a_blocked_status_publishes_its_health(tmp_path, sb):
    road = sb.roadmap
    ws = workspace(tmp_path, sb, 'project = "acme/7", field = "Iteration", value = "Sprint 12"',
                   'due = "Iteration"\nstatus = "Status"', status_updates=True)
    shown = ws.cli("plan")  # the write is shown before it is made
    assert "~ project status update on github acme/7: s12" in shown.stdout, shown.stdout + shown.stderr
    assert road.project.status_updates == []
    first = ws.cli("run")
    assert first.returncode == 0, first.stdout + first.stderr
    items = stored(ws)
    expected = {f"{REPO}#{i.number}" for i in road.sprint12} | {f"{REPO}#{road.pull.number}"}
    assert set(items) == expected  # Sprint 11 and the draft are not in the scope
    last_day = (road.sprint12_start + timedelta(days=13)).isoformat()
    assert {due for due, _ in items.values()} == {last_day}
    assert items[f"{REPO}#{road.blocked.number}"][1] == "blocked"
    report = json.loads((ws.folder / "reports" / "latest.json").read_text())
    milestone = report["milestones"][0]
    assert milestone["health"] == "at-risk"
    assert any("blocked" in reason for reason in milestone["reasons"])
    assert "plan:at-risk" in sb.github_issue(REPO, road.blocked.number).labels
    assert "plan:at-risk" not in sb.github_issue(REPO, road.pull.number).labels  # pull requests take no labels

    updates = road.project.status_updates
    assert len(updates) == 1
    update = updates[0]
    assert update["status"] == "AT_RISK" and update["targetDate"] == str(sb.clock.now().date() + timedelta(days=60))
    assert update["body"].startswith("s12: Sprint 12 — health") and "plansync:project-status s12" in update["body"]
    assert "project status acme/7: s12 at-risk (created" in first.stdout

    again = ws.cli("run")  # the same ISO week: the update is edited, not added
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(road.project.status_updates) == 1 and "(edited update" in again.stdout
    mutations = [q for q, _, _ in sb.graphql_log if "mutation" in q]
    assert [("createProjectV2StatusUpdate" in q, "updateProjectV2StatusUpdate" in q) for q in mutations] == [
        (True, False), (False, True)]

    sb.clock.advance(days=7)  # next week: a new update beside last week's
    later = ws.cli("run")
    assert later.returncode == 0, later.stdout + later.stderr
    assert len(road.project.status_updates) == 2

    with sqlite3.connect(ws.folder / "plansync.db") as db:
        journal = db.execute("select key, state from write_journal where item_id like 'status:%'").fetchall()
    assert len(journal) == 3 and {state for _, state in journal} == {"confirmed"}


def test_due_dates_from_a_date_field(tmp_path, sb):
    road = sb.roadmap
    from connector.sandbox import github_graphql as gq

    gq.set_value(sb, road.project, road.project.items[0], "Target date", "2026-12-24")
    ws = workspace(tmp_path, sb, 'project = "acme/7"', 'due = "Target date"')
    proc = ws.cli("run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    items = stored(ws)
    assert items[f"{REPO}#{road.sprint11[0].number}"][0] == "2026-12-24"
    assert [due for due, _ in items.values() if due] == ["2026-12-24"]
    assert road.project.status_updates == []  # publishing status updates is opt-in


@pytest.mark.parametrize(("scope", "fields", "message"), [
    ('project = "acme/99"', "", "project acme/99: acme has no project number 99"),
    ('project = "acme/7", field = "Sprint", value = "Sprint 12"', "", "project acme/7 has no field 'Sprint'"),
    ('project = "acme/7", field = "Target date", value = "x"', "", "field 'Target date' is a date field"),
    ('project = "acme/7"', 'status = "Iteration"', "field 'Iteration' is a iteration field"),
])
def test_what_only_github_knows_is_exit_1_naming_tracker_and_project(tmp_path, sb, scope, fields, message):
    ws = workspace(tmp_path, sb, scope, fields)
    proc = ws.cli("run")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if message in line]
    assert lines and "github" in lines[0], proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_what_is_known_offline_is_exit_2_before_any_request(tmp_path, sb):
    ws = workspace(tmp_path, sb, 'project = "acme/7", field = "Iteration"', "")
    sb.reset_counts()
    proc = ws.cli("run")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "`field` and `value` go together" in proc.stderr
    assert sb.count() == 0
