"""One `plansync run` on the demo organisation: one adapter per tracker for the whole run, one
reconciliation shared by the label writes and the report, and no more requests than before."""

from __future__ import annotations

from connector import commands
from connector.sandbox.demo import DEMO_START, sandbox_env, write_config, write_plan

# Requests of the demo's first `run` at seed 7 and scale 600, measured on the release before the
# pipeline (which built up to three adapters per tracker and reconciled twice): 199.
REQUESTS_BEFORE = 199


def test_a_run_builds_one_adapter_per_tracker_and_reconciles_once(sandbox_factory, tmp_path, monkeypatch):
    import connector.reconcile
    from connector.trackers import registry

    sandbox = sandbox_factory(seed=7, scale=600, now=DEMO_START)
    config = write_config(tmp_path, sandbox)
    plan = write_plan(tmp_path, sandbox.org)
    for name, value in sandbox_env(sandbox.clock.now()).items():
        monkeypatch.setenv(name, value)

    built: list[str] = []
    reconciled: list[object] = []
    make_adapter, reconcile = registry.make_adapter, connector.reconcile.reconcile
    monkeypatch.setattr(registry, "make_adapter",
                        lambda tracker, *a, **k: built.append(tracker.name) or make_adapter(tracker, *a, **k))
    monkeypatch.setattr(connector.reconcile, "reconcile",
                        lambda *a, **k: reconciled.append(k["now"]) or reconcile(*a, **k))
    sandbox.reset_counts()

    result = commands.run(config, plan)

    assert result.code == 0, result.lines
    assert sorted(built) == ["github", "jira"]  # pull, label writes (and publishing) share them
    # the present is reconciled once: the report took the run's own reconciliation (the summary's "then"
    # is the week's start, rebuilt from history)
    now = sandbox.clock.now()
    assert reconciled.count(now) == 1 and all(at < now for at in reconciled if at != now)
    assert any(line.startswith("report (html): ") for line in result.lines)
    writes = sum(t.writes_ok for t in result.run.summary.trackers.values())
    assert writes > 0  # the run did label: the single reconciliation fed the writes as well
    assert sandbox.counts()["total"] <= REQUESTS_BEFORE


def _setup(sandbox_factory, tmp_path, monkeypatch, extra: str = ""):
    sandbox = sandbox_factory(seed=7, scale=300, now=DEMO_START)
    config = write_config(tmp_path, sandbox, extra=extra)
    plan = write_plan(tmp_path, sandbox.org)
    for name, value in sandbox_env(sandbox.clock.now()).items():
        monkeypatch.setenv(name, value)
    return config, plan


def _last_run(config):
    from connector.settings import load_settings
    from connector.store import Store

    with Store.open(load_settings(config).store.url) as store:
        return store.runs(limit=1)[0]


def test_a_user_error_raised_inside_a_run_still_finishes_it(sandbox_factory, tmp_path, monkeypatch):
    import pytest

    from connector import pipeline
    from connector.errors import ConfigError

    config, plan = _setup(sandbox_factory, tmp_path, monkeypatch)

    def broken(run, **_):
        raise ConfigError("something the user got wrong", key="report.out_dir")

    monkeypatch.setattr(pipeline, "write_reports", broken)
    metrics = tmp_path / "plansync.prom"
    with pytest.raises(ConfigError):
        commands.run(config, plan, metrics_file=metrics)
    last = _last_run(config)
    assert last["finished"] is not None and last["outcome"] == "failed"
    assert "something the user got wrong" in (last["error"] or "")
    assert 'plansync_run_outcome{command="run",outcome="failed"} 1.0' in metrics.read_text()


def test_a_failed_publish_is_part_of_the_outcome(sandbox_factory, tmp_path, monkeypatch):
    extra = '[report.publish]\ntracker = "github"\nissue = "acme/checkout-web#999999"\n'
    config, plan = _setup(sandbox_factory, tmp_path, monkeypatch, extra=extra)
    result = commands.run(config, plan)
    assert result.code == 1
    assert any(line.startswith("plansync: publishing the report failed: ") for line in result.lines)
    assert "outcome=partial" in next(line for line in result.lines if line.startswith("plansync run:"))
    assert _last_run(config)["outcome"] == "partial"
