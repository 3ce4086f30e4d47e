"""The simulated year, scaled down (`bench_retention.py --quick`): retention keeps runs and the journal
within the window while it runs, and a week inside the window reports identically after pruning —
both from a store seeded with a full window (the steady state) and from an empty store whose window
fills during the simulated days. Timing is the benchmark's business, not asserted here."""

from __future__ import annotations

import pytest

from benchmarks import bench_retention
from tests.fixtures.store import pg_base_url


@pytest.mark.slow
@pytest.mark.parametrize("seeded", [True, False], ids=["full-window", "empty-store"])
@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_quick_year_stays_within_its_window_and_reports_identically(engine, seeded, monkeypatch):
    if engine == "postgresql" and not pg_base_url():
        pytest.skip("PLANSYNC_TEST_DATABASE_URL is not set: no PostgreSQL to test against")
    monkeypatch.delenv("PLANSYNC_NOW", raising=False)
    argv = ["--quick", "--probes", "3"] + ([] if seeded else ["--seed-days", "0"])
    [result] = bench_retention.main([*argv, "--engines", engine])
    args = bench_retention.parse_args(argv)
    assert result["runs"] == args.days * args.runs_per_day
    assert result["seed_days"] == (args.keep_days if seeded else 0)
    # the report check prunes to a shorter window at the end: what is left is that window's runs
    assert "identical after pruning" in result["report_check"], result["report_check"]
    # during the year (before that check) the store held at most keep_days of runs (the cutoff is the
    # UTC midnight keep_days ago, so up to one day more)
    assert result["rows"]["runs"] <= (args.keep_days + 1) * args.runs_per_day
    assert result["rows"]["write_journal"] < result["runs"]  # finished entries beyond the window went
    assert result["size_end"] > 0 and result["size_month"] > 0
    assert result["probe"]["repeats"] == 3 and result["probe"]["end_ms"] > 0
