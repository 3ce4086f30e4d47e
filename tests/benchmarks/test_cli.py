"""`python -m benchmarks` options: the quick set, explicit sizes and latencies, case selection."""

from __future__ import annotations

import pytest

from benchmarks.__main__ import parse_args


def test_quick_is_1k_and_10k_at_0_ms_and_the_default_is_everything():
    quick = parse_args(["--quick"])
    assert (quick.sizes, quick.latency) == ([1_000, 10_000], [0])
    full = parse_args([])
    assert (full.sizes, full.latency, full.cases) == ([1_000, 10_000, 50_000], [0, 50], None)


def test_sizes_latency_and_cases_are_parsed():
    args = parse_args(["--sizes", "2_000, 20000", "--latency", "25", "--cases", "full sync; naive jira"])
    assert (args.sizes, args.latency, args.cases) == ([2_000, 20_000], [25], ["full sync", "naive jira"])


def test_an_unknown_case_is_refused(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--cases", "full sync;fastest sync"])
    assert "fastest sync" in capsys.readouterr().err


def test_help_is_printed_although_case_names_hold_a_percent_sign(capsys):
    """Issue #17 item 10: `python -m benchmarks --help` raised TypeError on "1% changed"."""
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--help"])
    assert exit_info.value.code == 0
    assert "1% changed" in capsys.readouterr().out
