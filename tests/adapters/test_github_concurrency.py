"""Full GitHub pulls fetch pages 2..last concurrently: exactly the items and the request count of a
sequential pull, against the sandbox on loopback (no timing asserted here: see benchmarks/)."""

from __future__ import annotations

import math

from connector.trackers.github.adapter import repo_scope_id
from connector.trackers.github.scopes import GithubScope
from connector.values import PullSpec
from tests.adapters.test_github_sandbox import LIST, REPO, make_github, visible_issues

REPOS = (REPO, "acme/payments-api", "acme/infra")


def full_pull(sandbox, monkeypatch, workers: int):
    adapter = make_github(sandbox, monkeypatch)
    adapter.page_workers = workers
    sandbox.reset_counts()
    try:
        result = adapter.pull(PullSpec(scopes=tuple(GithubScope(tracker="gh", repo=r) for r in REPOS), cursors={},
                                          full=True))
        connections = adapter._idle_transports.qsize()
        return result, adapter.stats, sandbox.count(endpoint=LIST), connections
    finally:
        adapter.close()


def test_concurrent_full_pull_equals_sequential(sandbox_factory, monkeypatch):
    sandbox = sandbox_factory(seed=5, scale=3000)
    sequential, seq_stats, seq_lists, seq_connections = full_pull(sandbox, monkeypatch, workers=1)
    concurrent, con_stats, con_lists, con_connections = full_pull(sandbox, monkeypatch, workers=4)

    assert concurrent.all_items() == sequential.all_items()
    for repo in REPOS:
        scope_id = repo_scope_id("gh", repo)
        seq_scope = next(s for s in sequential.scopes if s.scope_id == scope_id)
        con_scope = next(s for s in concurrent.scopes if s.scope_id == scope_id)
        assert [i.id for i in con_scope.items] == [i.id for i in seq_scope.items]  # same (created) order
        assert con_scope.cursor == seq_scope.cursor
        assert len(con_scope.items) == len(visible_issues(sandbox, repo))
    expected_lists = sum(math.ceil(len(visible_issues(sandbox, r)) / 100) for r in REPOS)
    assert seq_lists == con_lists == expected_lists
    assert (con_stats.requests, con_stats.reads) == (seq_stats.requests, seq_stats.reads)
    assert con_stats.by_endpoint == seq_stats.by_endpoint
    assert seq_connections == 0 and con_connections > 1  # pages really went out on several connections


def test_concurrent_pages_ask_for_the_stable_created_order(sandbox_factory, monkeypatch):
    """Every list request of a full pull (first page and the pooled ones) is sort=created, direction=asc."""
    sandbox = sandbox_factory(seed=5, scale=3000)
    full_pull(sandbox, monkeypatch, workers=4)
    lists = [r for r in sandbox.log if r.endpoint_name == LIST]
    assert len(lists) > len(REPOS)
    assert all("sort=created" in r.query and "direction=asc" in r.query for r in lists)
    asked = [(r.path, p) for r in lists for p in r.query.split("&") if p.startswith("page=")]
    assert len(asked) == len(set(asked)) == len(lists) - len(REPOS)  # each later page asked once


def test_an_issue_created_after_the_first_page_is_still_read(sandbox_factory, monkeypatch):
    """New issues append to the created-order list: the last page's rel=next is followed."""
    sandbox = sandbox_factory(seed=5, scale=3000)
    adapter = make_github(sandbox, monkeypatch)
    created = []
    original = adapter._rest_concurrently

    def create_then_continue(first, what):
        # 100 new issues: exactly one page more than the first page's rel="last" promised
        created.extend(sandbox.create_github_issue("acme/infra", f"new {n}").id for n in range(100))
        return original(first, what)

    adapter._rest_concurrently = create_then_continue
    try:
        result = adapter.pull(PullSpec(scopes=(GithubScope(tracker="gh", repo="acme/infra"),), cursors={}, full=True))
    finally:
        adapter.close()
    ids = set(result.all_items())
    assert {str(i) for i in created} <= ids
    assert len(ids) == len(visible_issues(sandbox, "acme/infra"))
