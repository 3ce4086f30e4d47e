"""The Projects v2 benchmark runs and its counts are the cost model's (figures, not timings)."""

from __future__ import annotations

import math

from benchmarks.bench_projects import render, run
from tests.adapters.graphql_check import needs_schema


@needs_schema
def test_projects_benchmark_counts_match_the_cost_model():
    n, rows = run(items=250)
    pages = math.ceil(n / 100)
    full, quiet, edited, rest = rows
    assert (full["requests"], full["points"], full["items"]) == (1 + pages, 1 + 2 * pages, n)
    assert (quiet["requests"], quiet["points"], quiet["items"]) == (1, 1, 0)
    assert (edited["requests"], edited["points"]) == (1 + pages, 1 + 2 * pages)
    assert rest["points"] == 0 and rest["items"] == n
    assert "N = 250" in render(n, rows)
