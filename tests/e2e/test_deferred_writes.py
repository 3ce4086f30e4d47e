"""Work larger than one run's write budget is deferred, not failed: each run exits 0 within the budget,
says `deferred=N`, and the next runs finish the labelling without writing anything twice."""

from __future__ import annotations

import re

import pytest

from connector.sandbox.demo import write_plan
from tests.e2e.helpers import label_writes, make_workspace

pytestmark = pytest.mark.e2e
PER_HOUR = 15


def test_github_first_labelling_completes_over_runs_within_the_hourly_limit(tmp_path, sandbox_factory):
    sb = sandbox_factory(seed=5, scale=300)
    ws = make_workspace(tmp_path, sb, write_plan(tmp_path, sb.org).read_text())
    text = ws.config.read_text()
    ws.config.write_text(text.replace("writes_per_hour = 0 ", f"writes_per_hour = {PER_HOUR} ", 1))
    assert f"writes_per_hour = {PER_HOUR}" in ws.config.read_text()
    metrics = tmp_path / "plansync.prom"
    written: list[str] = []
    deferred_seen = []
    for _ in range(12):
        if not deferred_seen:  # `plan` says beforehand what an apply would defer, and writes nothing
            sb.reset_counts()
            planned = ws.cli("plan")
            assert planned.returncode in (0, 2), planned.stdout + planned.stderr
            assert not label_writes(sb)
            predicted = re.search(r"github: (\d+) of these change\(s\) would be deferred", planned.stdout)
            assert predicted, planned.stdout
        sb.reset_counts()
        proc = ws.cli("--metrics-file", str(metrics), "apply")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        deferred = int(re.search(r"deferred=(\d+)", proc.stdout).group(1))
        deferred_seen.append(deferred)
        if len(deferred_seen) == 1:
            assert int(predicted.group(1)) == deferred
        gh = [r for r in label_writes(sb) if "/repos/" in r.path]
        assert len(gh) <= PER_HOUR, "a run exceeded the hourly content limit"
        written += [r.path.split("/labels")[0] for r in gh if r.method == "POST"]
        assert f'plansync_writes_deferred{{tracker="github"}} {float(deferred)}' in metrics.read_text()
        if deferred == 0:
            break
        if len(deferred_seen) == 1:  # the report's freshness section shows the progress
            assert ws.cli("report", "--format", "md").returncode == 0
            texts = [p.read_text() for p in (tmp_path / "reports").rglob("*.md")]
            assert any(f"github: {deferred} label change(s) deferred" in t for t in texts)
        # within the same hour the journal says the budget is spent: nothing more is written
        sb.reset_counts()
        again = ws.cli("apply")
        assert again.returncode == 0 and not [r for r in label_writes(sb) if "/repos/" in r.path]
        sb.clock.advance(minutes=61)
    assert deferred_seen[0] > 0 and deferred_seen[-1] == 0, deferred_seen
    assert len(deferred_seen) >= 3
    assert len(written) == len(set(written)), "an issue's labels were added twice"
    sb.reset_counts()
    final = ws.cli("plan", "--detailed-exitcode")
    assert final.returncode == 0, final.stdout + final.stderr
