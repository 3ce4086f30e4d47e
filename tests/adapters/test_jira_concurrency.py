"""Jira Server startAt pages fetched by a bounded pool, Jira Cloud token pages prefetched one ahead:
exactly the items and the request count of one-at-a-time paging (no timing asserted: see benchmarks/)."""

from __future__ import annotations

import math
import threading

import pytest

from connector.trackers.jira.scopes import JiraScope
from connector.trackers.jira.search import server_pages
from connector.values import PullSpec
from tests.adapters.test_jira_sandbox import FLAVOURS, make

SCOPES = (JiraScope(tracker="jira", jql="project = CHK"), JiraScope(tracker="jira", jql='project = PAY AND status != "Done"'))


def pull(sandbox, flavour: str, workers: int, *, full: bool = True):
    adapter = make(sandbox, flavour)
    adapter.page_workers = workers
    sandbox.reset_counts()
    try:
        result = adapter.pull(PullSpec(scopes=SCOPES, cursors={}, full=full))
        return result, adapter.stats, sandbox.counts()["by_endpoint"]
    finally:
        adapter.close()


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("server_cap", [1000, 40])
def test_concurrent_pull_equals_sequential(sandbox_factory, flavour, server_cap):
    """Server: pages of the server's real size (it may cap maxResults at 40) are asked once each."""
    sandbox = sandbox_factory(seed=5, scale=3000, jira_server_max_results=server_cap)
    sequential, seq_stats, seq_counts = pull(sandbox, flavour, workers=1)
    concurrent, con_stats, con_counts = pull(sandbox, flavour, workers=4)

    assert concurrent.all_items() == sequential.all_items()
    for seq_scope, con_scope in zip(sequential.scopes, concurrent.scopes, strict=True):
        assert [i.id for i in con_scope.items] == [i.id for i in seq_scope.items]
        assert con_scope.cursor == seq_scope.cursor
    assert concurrent.seen_ids == sequential.seen_ids and concurrent.gone == sequential.gone
    assert con_counts == seq_counts
    assert (con_stats.requests, con_stats.by_endpoint) == (seq_stats.requests, seq_stats.by_endpoint)
    chk = sum(1 for i in sandbox.state.jira_issues.values() if i.project == "CHK" and not i.deleted)
    assert len(concurrent.scopes[0].items) == chk
    search = "jira.search_jql" if flavour == "cloud" else "jira.search"
    page = 100 if flavour == "cloud" else min(100, server_cap)
    assert con_counts[search] >= math.ceil(chk / page)


def fake_search(issues: list[dict], cap: int, after_first=None):
    """A Data Center search over a list (pure paging logic: the paginator takes decoded JSON)."""
    asked: list[int] = []
    lock = threading.Lock()

    def fetch(params: dict) -> dict:
        size = min(params["maxResults"], cap)
        start = params["startAt"]
        with lock:
            asked.append(start)
            answer = {"startAt": start, "maxResults": size, "total": len(issues),
                      "issues": issues[start:start + size]}
            if len(asked) == 1 and after_first:
                after_first(issues)  # created after the first page said how many there are
        return answer

    return fetch, asked


@pytest.mark.parametrize("workers", [1, 4])
@pytest.mark.parametrize(("count", "cap"), [(0, 100), (1, 100), (100, 100), (101, 100), (950, 100), (950, 30)])
def test_server_pages_read_every_issue_once_with_the_sequential_request_count(workers, count, cap):
    issues = [{"id": str(n)} for n in range(count)]
    fetch, asked = fake_search(issues, cap)
    got = [i["id"] for page in server_pages(fetch, "project = X", ["id"], 100, workers=workers) for i in page]
    assert got == [str(n) for n in range(count)]
    assert sorted(asked) == list(range(0, max(count, 1), cap)) and len(asked) == max(1, math.ceil(count / cap))


def test_server_pages_created_during_the_pull_are_read_after_the_last_page():
    issues = [{"id": str(n)} for n in range(450)]
    fetch, asked = fake_search(issues, 100, after_first=lambda rows: rows.extend({"id": f"new{n}"} for n in range(70)))
    got = [i["id"] for page in server_pages(fetch, "project = X", ["id"], 100, workers=4) for i in page]
    assert len(got) == len(set(got)) == 520
    assert sorted(asked) == [0, 100, 200, 300, 400, 500]


def test_cloud_scopes_walk_their_token_chains_side_by_side(sandbox_factory):
    """Two Cloud scopes: the first page of each is in flight at once (a barrier that only opens when both
    scopes ask together), with exactly the items and requests of `concurrency = 1`."""
    sandbox = sandbox_factory(seed=5, scale=3000)
    sequential, seq_stats, _ = pull(sandbox, "cloud", workers=1)
    adapter = make(sandbox, "cloud")
    assert adapter.tracker.concurrency > 1
    barrier = threading.Barrier(2, timeout=10)
    first_pages = set()
    real = adapter.http.get_json

    def get_json(path, **kwargs):
        params = kwargs.get("params") or {}
        jql = params.get("jql", "")
        if path.endswith("/search/jql") and "nextPageToken" not in params and jql not in first_pages:
            first_pages.add(jql)
            barrier.wait()  # raises BrokenBarrierError when the scopes are walked one after the other
        return real(path, **kwargs)

    adapter.http.get_json = get_json
    try:
        concurrent = adapter.pull(PullSpec(scopes=SCOPES, cursors={}, full=True))
    finally:
        adapter.close()
    assert len(first_pages) == 2
    for seq_scope, con_scope in zip(sequential.scopes, concurrent.scopes, strict=True):
        assert con_scope.scope_id == seq_scope.scope_id
        assert [i.id for i in con_scope.items] == [i.id for i in seq_scope.items]
    assert adapter.stats.by_endpoint == seq_stats.by_endpoint

