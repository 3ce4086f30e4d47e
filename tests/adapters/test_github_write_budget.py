"""GitHub's write budget for one run: the hourly content limit (across runs) and `budget_share`."""

from __future__ import annotations

from connector.trackers.github.adapter import GithubAdapter
from connector.trackers.github.mapping import load_github_mapping
from connector.values import LabelChange
from tests.adapters.github_fixtures import tracker_settings


def adapter(monkeypatch, **extra) -> GithubAdapter:
    return GithubAdapter(tracker_settings(monkeypatch, **extra), load_github_mapping())


def test_cost_is_one_post_for_additions_and_one_delete_per_removal(monkeypatch):
    a = adapter(monkeypatch)
    change = LabelChange("gh", "1", "o/r#1", add=frozenset({"plan:a", "plan:b"}), remove=frozenset({"plan:c"}))
    assert a.write_cost(change) == 2
    assert a.write_cost(LabelChange("gh", "1", "o/r#1", remove=frozenset({"plan:c", "plan:d"}))) == 2


def test_hourly_content_limit_counts_what_earlier_runs_spent(monkeypatch):
    a = adapter(monkeypatch)
    assert a.write_budget(0) == 500 and a.write_budget(480) == 20 and a.write_budget(600) == 0


def test_budget_share_of_the_primary_limit_bounds_writes_too(monkeypatch):
    a = adapter(monkeypatch, budget_share=0.8)
    a.stats.rate_limit, a.stats.rate_remaining = 5000, 1100  # 1,000 are kept for others
    assert a.write_budget(0) == 100
    a.stats.rate_remaining = 900
    assert a.write_budget(0) == 0


def test_no_limits_configured_means_no_budget(monkeypatch):
    assert adapter(monkeypatch, writes_per_hour=0).write_budget(10_000) is None
