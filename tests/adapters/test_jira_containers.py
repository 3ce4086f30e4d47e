"""Versions and sprints come with the items (`fixVersions`, the sprint field): a pull asks neither the
versions API nor the Agile API, except one version list for a project where a scope names a version no
item carries (cached, so the next pull does not ask again)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connector.store.metadata import MetadataCache
from connector.trackers.jira.scopes import JiraScope
from tests.adapters.test_jira_sandbox import full, make

SCOPES = tuple(JiraScope(tracker="jira", jql=f"project = {p}") for p in ("CHK", "OPS", "PAY"))


def _of(result, kind: str) -> dict:
    return {m.id: m for m in result.milestones if m.kind == kind}


def test_a_full_pull_takes_versions_and_sprints_from_the_items_without_asking(sandbox):
    result = full(make(sandbox, "cloud"), SCOPES)
    assert sandbox.count(endpoint="jira.agile_boards") == sandbox.count(endpoint="jira.agile_sprints") == 0
    assert not [r for r in sandbox.log if "/version" in r.path]
    st = sandbox.state
    carried_versions = {v for i in st.jira_issues.values() for v in i.fix_versions}
    versions = _of(result, "version")
    assert versions and set(versions) == {f"version:{v}" for v in carried_versions}
    for vid, m in versions.items():  # the item's copy carries the version's own date, name and state
        raw = st.versions[int(vid.split(":")[1])]
        assert (m.name, m.container, str(m.due)) == (raw["name"], raw["project"], raw["releaseDate"])
        assert m.state == ("released" if raw["released"] else "unreleased")
    sprints = _of(result, "sprint")
    assert sprints and set(sprints) == {f"sprint:{s}" for i in st.jira_issues.values() for s in i.sprints}
    for sid, m in sprints.items():
        raw = st.sprints[int(sid.split(":")[1])]
        end = datetime.fromtimestamp(raw["end"], UTC).date()
        assert (m.name, m.state, m.due) == (raw["name"], raw["state"], end)


def test_a_named_version_no_item_carries_is_read_from_its_project_once(sandbox, store):
    st = sandbox.state
    st.versions[99999] = {"id": 99999, "name": "Empty", "project": "OPS", "released": False, "archived": False,
                          "releaseDate": "2027-03-01", "startDate": "2026-11-01", "description": "no issues yet"}
    st.projects["OPS"]["versions"].append(99999)
    scopes = (*SCOPES, JiraScope(tracker="jira", jql='project = OPS AND fixVersion = "Empty"'),
              JiraScope(tracker="jira", jql='project = CHK AND fixVersion = "Beta"'))  # carried: not read
    now = datetime(2026, 12, 1, tzinfo=UTC)
    cache = MetadataCache(store, "jira", now=now, census=True)
    result = full(make(sandbox, "cloud"), scopes, metadata=cache)
    reads = [r.path for r in sandbox.log if "/version" in r.path]
    assert reads == ["/jira/rest/api/3/project/OPS/version"]
    empty = _of(result, "version")["version:99999"]
    assert (empty.name, empty.container, str(empty.due), str(empty.start)) == ("Empty", "OPS", "2027-03-01",
                                                                              "2026-11-01")
    cache.flush()
    before = len(sandbox.log)
    again = MetadataCache(store, "jira", now=now + timedelta(hours=1), census=True)
    assert "version:99999" in _of(full(make(sandbox, "cloud"), scopes, metadata=again), "version")
    assert not [r for r in sandbox.log[before:] if "/version" in r.path]  # from the cache


def test_a_sprint_spanning_projects_is_filed_the_same_way_every_pull(sandbox):
    chk_board = sandbox.state.projects["CHK"]["board"]
    shared = sandbox.state.boards[chk_board]["sprints"][4]  # CHK's active sprint, given to a PAY issue too
    pay = next(i for i in sandbox.state.jira_issues.values() if i.project == "PAY")
    pay.sprints = [shared]
    containers = {_of(full(make(sandbox, "cloud"), order), "sprint")[f"sprint:{shared}"].container
                  for order in (SCOPES, SCOPES[::-1], SCOPES)}
    assert len(containers) == 1  # one project, whatever order the scopes finish in
