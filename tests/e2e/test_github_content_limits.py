"""GitHub's first labelling against a sandbox that enforces the secondary content limits on its own clock
(scaled down from 80 a minute and 500 an hour): every run exits 0, none is refused by a limit or spends
more than `budget_share` of the primary limit, and the labelling completes over successive runs (the
sandbox clock advanced between them, every pacing wait advancing it too: nothing sleeps for real) with
no label written twice. benchmarks/bench_citizenship.py runs the same at real size (5,122 items)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from connector import clock, commands
from connector.sandbox.demo import DEMO_START, sandbox_env, write_config, write_plan
from connector.sandbox.github_limits import ContentLimits
from connector.trackers.github import http as github_http
from tests.e2e.helpers import label_writes

pytestmark = pytest.mark.e2e
PER_MINUTE, PER_HOUR, PRIMARY = 4, 10, 400


def test_first_labelling_completes_over_runs_within_the_content_limits(sandbox_factory, tmp_path, monkeypatch):
    sb = sandbox_factory(seed=5, scale=300, now=DEMO_START, github_rate_limit=PRIMARY)
    sb.github_content_limits = ContentLimits(((PER_MINUTE, 60.0), (PER_HOUR, 3600.0)))
    config = write_config(tmp_path, sb)
    text = config.read_text()
    for old, new in (("write_interval = 0.0", "write_interval = 1.0"),
                     ("writes_per_minute = 0", f"writes_per_minute = {PER_MINUTE}"),
                     ("writes_per_hour = 0 ", f"writes_per_hour = {PER_HOUR} ")):
        assert old in text
        text = text.replace(old, new, 1)
    config.write_text(text)
    plan = write_plan(tmp_path, sb.org)
    monkeypatch.chdir(tmp_path)
    waits: list[float] = []
    # one clock for both sides: plansync's waits advance the sandbox's, and its write pacing reads it
    monkeypatch.setattr(clock, "sleep", lambda s: (waits.append(s), sb.clock.advance(seconds=s)))
    monkeypatch.setattr(github_http, "time", SimpleNamespace(monotonic=sb.clock.ts))
    written, deferred_seen = [], []
    for _ in range(30):
        for name, value in sandbox_env(sb.clock.now()).items():
            monkeypatch.setenv(name, value)
        sb.reset_counts()
        result = commands.apply(config, plan)
        assert result.code == 0, result.lines
        github = [r for r in sb.log if r.flavour == "github"]
        writes = [r for r in label_writes(sb) if r.flavour == "github"]
        assert len(writes) <= PER_HOUR
        assert len(github) <= 0.8 * PRIMARY, "a run spent more than budget_share of the primary limit"
        assert not [r for r in github if r.status == 403], "a run was refused by a secondary limit"
        written += [r.path for r in writes if r.method == "POST"]
        deferred = result.run.summary.tracker("github").writes_deferred
        deferred_seen.append(deferred)
        if deferred == 0:
            break
        sb.clock.advance(minutes=61)
    assert sb.github_content_limits.refused == 0
    assert deferred_seen[0] > 0 and deferred_seen[-1] == 0 and len(deferred_seen) >= 3, deferred_seen
    assert len(written) == len(set(written)), "an issue's labels were added twice"
    assert any(w >= 0.9 for w in waits)  # writes were paced (virtually) instead of being refused
    final = commands.plan(config, plan, detailed_exitcode=True)
    assert final.code == 0, final.lines
