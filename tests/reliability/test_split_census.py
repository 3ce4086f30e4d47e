"""Through the CLI: a census after the first one splits a large Jira Cloud scope into created-date
ranges from the store's own members (connector.pipeline passes them), and the store ends the same."""

from __future__ import annotations

from urllib.parse import parse_qs

from connector.store import Store
from connector.trackers.jira import search


def _searches(sb, since: int) -> list[str]:
    return [parse_qs(r.query)["jql"][0] for r in sb.log[since:] if r.endpoint_name == "jira.search_jql"]


def test_the_next_census_splits_the_big_scope_by_its_stored_members(workspace, monkeypatch):
    ws = workspace(scale=1000)
    sb = ws.sandbox
    assert ws.main("sync", "--full").code == 0
    assert not [q for q in _searches(sb, 0) if " AND created " in q]  # nothing stored yet: one chain each
    with Store.open(ws.store_url) as store:
        before = {(i.id, i.updated) for i in store.items("jira")}
    monkeypatch.setattr(search, "SPLIT_ITEMS", 50)
    start = len(sb.log)
    result = ws.main("sync", "--full")
    assert result.code == 0, str(result)
    ranges = {q.split(") AND ", 1)[1] for q in _searches(sb, start) if q.startswith("(project = CHK) AND created")}
    # the demo's `project = CHK` holds about half the members of its six scopes: two of the four chains
    assert len(ranges) == 2, ranges
    with Store.open(ws.store_url) as store:
        assert {(i.id, i.updated) for i in store.items("jira")} == before
        assert not [i for i in store.items("jira") if i.presence.value != "present"]
