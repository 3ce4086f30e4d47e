"""A large Jira Cloud scope's census is split into created-date ranges walked side by side (its
nextPageToken chain is sequential): the same items as one chain, about the same number of pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from connector.trackers.jira import chains, search
from connector.trackers.jira.scopes import JiraScope
from tests.adapters.test_jira_sandbox import full, make

SCOPE = JiraScope(tracker="jira", jql="project = CHK")


def test_created_ranges_cover_every_instant_once(monkeypatch):
    monkeypatch.setattr(search, "SPLIT_ITEMS", 10)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    created = [t0 + timedelta(hours=n) for n in range(100)]
    ranges = search.created_ranges(created, 4)
    assert len(ranges) == 4 and ranges[0].startswith("created < ") and ranges[-1].startswith("created >= ")
    bounds = [int(r.split()[-1]) for r in ranges[:-1]]
    assert bounds == sorted(bounds) and ranges[-1] == f"created >= {bounds[-1]}"
    assert search.created_ranges(created[:19], 4) == [""]  # under two chains' worth: not split
    assert search.created_ranges(created, 1) == [""]
    assert search.created_ranges([t0] * 50, 4) == ["created < " + str(int(t0.timestamp() * 1000)),
                                                   f"created >= {int(t0.timestamp() * 1000)}"]


def test_chains_are_shared_out_by_each_scopes_part_of_all_members():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    members = {sid: [t0 + timedelta(minutes=n) for n in range(count)]
               for sid, count in {"big": 12_000, "beta": 4_000, "ga": 2_500, "ops": 2_400, "pay": 1_100}.items()}
    def units(hints):
        return chains.plan(hints, {}, 4, t0).units

    # 22,000 members over 4 workers: a share is 5,500; the big scope holds two, the rest under one
    assert {sid: len(u) for sid, u in units(members).items()} == {"big": 2, "beta": 1, "ga": 1, "ops": 1, "pay": 1}
    assert {len(u) for u in units({"only": members["big"]}).values()} == {4}
    assert units({"small": members["pay"]}) == {"small": [("", None)]}  # under 2 x 2,000: one chain


@pytest.mark.parametrize("hint", ["exact", "stale"])
def test_a_split_census_returns_what_one_chain_returns(sandbox_factory, monkeypatch, hint):
    sb = sandbox_factory(seed=3, scale=2000)
    whole = full(make(sb, "cloud"), (SCOPE,))
    items = whole.scopes[0].items
    one_chain = sb.count(endpoint="jira.search_jql")
    created = sorted(i.created for i in items)
    if hint == "stale":  # a hint from long ago: only the oldest third was stored; new issues land in the last range
        created = created[: len(created) // 3]
    monkeypatch.setattr(search, "SPLIT_ITEMS", 50)
    before = sb.count(endpoint="jira.search_jql")
    split = full(make(sb, "cloud"), (SCOPE,), known_created={SCOPE.id: tuple(created)})
    jqls = [parse_qs(r.query)["jql"][0] for r in sb.log if r.endpoint_name == "jira.search_jql"][before:]
    assert all(" AND created " in q for q in jqls)  # every page belongs to one of the ranges
    # as many chains as the hint is worth, at most the default concurrency (4)
    assert len({q.split(") AND ", 1)[1] for q in jqls}) == min(4, len(created) // 50) >= 2
    assert sorted(i.id for i in split.scopes[0].items) == sorted(i.id for i in items)
    assert split.scopes[0].complete and split.census
    if hint == "exact":  # each range rounds up to whole pages: at most one more page per extra chain
        assert sb.count(endpoint="jira.search_jql") - before <= one_chain + 3


def test_a_first_full_pull_splits_a_large_scope_after_its_first_page(sandbox_factory, monkeypatch):
    sb = sandbox_factory(seed=3, scale=2000)
    one = make(sb, "cloud")
    one.tracker.concurrency = 1  # one chain per scope: the reference
    whole = full(one, (SCOPE,))
    one_chain = sb.count(endpoint="jira.search_jql")
    monkeypatch.setattr(search, "SPLIT_ITEMS", 50)
    monkeypatch.setattr("connector.trackers.jira.chains.SPLIT_ITEMS", 50)
    before, counted = sb.count(endpoint="jira.search_jql"), sb.count(endpoint="jira.approximate_count")
    split = full(make(sb, "cloud"), (SCOPE,))  # nothing stored: no hint
    assert sorted(i.id for i in split.scopes[0].items) == sorted(i.id for i in whole.scopes[0].items)
    assert split.scopes[0].complete and split.census
    assert sb.count(endpoint="jira.approximate_count") - counted == 1  # asked once: the estimate said "large"
    jqls = [parse_qs(r.query)["jql"][0] for r in sb.log if r.endpoint_name == "jira.search_jql"][before:]
    assert " AND created " not in jqls[0]  # the first page, as one chain would read it
    assert len({q.split(") AND ", 1)[1] for q in jqls[1:]}) == 4  # then four ranges side by side
    # each range rounds up to whole pages, and the first re-reads the first page's newest instant
    assert len(jqls) <= one_chain + 4


def test_a_small_or_unknown_scope_is_not_split_and_not_counted(sandbox_factory):
    sb = sandbox_factory(seed=3, scale=2000)  # ~480 issues in CHK: under the 4,000 a split needs
    full(make(sb, "cloud"), (SCOPE,))
    assert sb.count(endpoint="jira.approximate_count") == 0
    jqls = [parse_qs(r.query)["jql"][0] for r in sb.log if r.endpoint_name == "jira.search_jql"]
    assert not [q for q in jqls if " AND created " in q]
