"""The GitLab benchmark runs and its request counts are the cost model's (figures, not timings)."""

from __future__ import annotations

import math

from benchmarks.bench_gitlab import render, run


def test_gitlab_benchmark_counts_match_the_cost_model():
    n, rows = run(issues=450, changes=5)
    full, naive, quiet, busy = (row["requests"] for row in rows)
    assert full == math.ceil(n / 100) + 1
    assert naive == 1 + math.ceil(n / 20)  # the project, then pages of the library's default per_page
    assert quiet == 1 and busy == 2  # the changed page and the milestones
    assert "N = " in render(n, rows)
