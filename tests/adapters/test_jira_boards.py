"""Sprints from the Agile API: boards asked per project, each board read once, each sprint filed under
its board's own project (a board whose filter spans projects is listed for each of them)."""

from __future__ import annotations

from connector.trackers.jira.scopes import JiraScope
from tests.adapters.test_jira_sandbox import full, make

SCOPES = tuple(JiraScope(tracker="jira", jql=f"project = {p}") for p in ("CHK", "OPS", "PAY"))


def _sprints(result) -> dict:
    return {m.id: m for m in result.milestones if m.kind == "sprint"}


def test_a_full_pull_reads_each_projects_own_board_once(sandbox):
    result = full(make(sandbox, "cloud"), SCOPES)
    # three projects, one board each: three board listings and three sprint listings, not 3 x 3
    assert sandbox.count(endpoint="jira.agile_boards") == 3
    assert sandbox.count(endpoint="jira.agile_sprints") == 3
    assert all("projectKeyOrId=" in r.query for r in sandbox.log if r.endpoint_name == "jira.agile_boards")
    for sid, m in _sprints(result).items():
        board = sandbox.state.sprints[int(sid.split(":")[1])]["board"]
        assert m.container == sandbox.state.boards[board]["project"]


def test_a_board_spanning_projects_keeps_its_sprints_under_its_own_project(sandbox):
    chk_board = sandbox.state.projects["CHK"]["board"]
    sandbox.state.boards[chk_board]["spans"] = ["PAY"]  # its filter also covers PAY's issues
    result = full(make(sandbox, "cloud"), SCOPES)
    chk_sprints = {f"sprint:{s}" for s in sandbox.state.boards[chk_board]["sprints"]}
    sprints = _sprints(result)
    assert chk_sprints and chk_sprints <= set(sprints)
    assert {sprints[s].container for s in chk_sprints} == {"CHK"}  # not PAY, listed after CHK
    # the spanning board is listed twice (for CHK and for PAY) but its sprints are read once
    assert sandbox.count(endpoint="jira.agile_sprints") == 3
