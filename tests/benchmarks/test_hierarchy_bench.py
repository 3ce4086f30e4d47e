"""The hierarchy benchmark runs and its extra requests are exactly the cost model's: dependency reads for
blocked open planned GitHub issues (once: a later census reuses the stored blockers of unchanged items),
sub-issue reads for parents with children, one Jira search per level."""

from __future__ import annotations

from benchmarks.bench_hierarchy import render, run


def test_the_extra_requests_are_the_blocked_by_and_sub_issue_reads_and_the_epic_levels(tmp_path):
    rows = run(1000, [0.05], tmp_path)
    base, with_relations, again = rows
    assert base["extra"] == 0
    github_extra = with_relations["github"] - base["github"]
    assert github_extra == with_relations["blocked_by"] + with_relations["sub_issues"]
    assert 0 < with_relations["blocked_by"] <= with_relations["added"]["github_blocked"]
    assert with_relations["sub_issues"] >= 1
    assert with_relations["jira"] - base["jira"] == 2  # the epic's children, then the empty level below
    assert "extra %" in render(rows, 1000)
    # the next census with nothing changed reuses every stored blocker: only the parent scope's reads remain
    assert again["blocked_by"] == 0
    assert again["github"] - base["github"] == again["sub_issues"] >= 1
