"""End to end on the sandbox: two real syncs through the adapters a week apart, known changes in between."""

from __future__ import annotations

import pytest

from connector import commands
from connector.plan_file import load_plan
from connector.report import build_report, render_markdown
from connector.sandbox.demo import sandbox_tokens, write_config, write_plan
from connector.settings import load_settings
from connector.store import Store
from tests.report.history import XSS_TITLE

REPO = "acme/checkout-web"
START = "2026-11-20T09:00:00+00:00"  # Friday of 2026-W47: the first sync is last week's


def _sync(sandbox, config, plan, monkeypatch) -> None:
    for name, value in sandbox_tokens().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PLANSYNC_NOW", sandbox.clock.now().isoformat())
    assert commands.sync(config, plan).code == 0


def _open_in(sandbox, milestone_title: str) -> list:
    numbers = [n for n, m in sandbox.state.repos[REPO]["milestones"].items() if m["title"] == milestone_title]
    return [i for i in sandbox.state.gh_issues[REPO].values()
            if i.milestone in numbers and i.state == "open" and not i.is_pr and not i.deleted]


def test_weekly_report_from_two_sandbox_syncs(sandbox_factory, tmp_path, monkeypatch):
    sandbox = sandbox_factory(seed=3, scale=300, now=START)
    config = write_config(tmp_path, sandbox, store_url=f"sqlite:///{tmp_path / 'plansync.db'}")
    plan_path = write_plan(tmp_path, sandbox.org)
    _sync(sandbox, config, plan_path, monkeypatch)

    candidates = _open_in(sandbox, "Beta")
    if not candidates:
        pytest.fail("the sandbox organisation has no open issue in the Beta milestone to close")
    closing = candidates[0]
    sandbox.clock.set("2026-11-24T10:00:00+00:00")  # Tuesday of 2026-W48
    sandbox.update_github_issue(REPO, closing.number, state="closed", state_reason="completed")
    new = sandbox.create_github_issue(REPO, XSS_TITLE, milestone="Beta")
    sandbox.clock.set("2026-11-25T10:00:00+00:00")
    _sync(sandbox, config, plan_path, monkeypatch)

    settings = load_settings(config)
    plan = load_plan(plan_path, settings)
    with Store.open(settings.store.url) as store:
        report = build_report(store, plan, settings, week="2026-W48", now=sandbox.clock.now())

    closed_key, new_key = f"{REPO}#{closing.number}", f"{REPO}#{new.number}"
    assert closed_key in [c.item.key for c in report.changes_of("completed")]
    assert (new_key, "beta") in [(c.item.key, c.milestone) for c in report.changes_of("added")]
    statuses = [c.detail for c in report.changes_of("status") if c.item.key == closed_key]
    assert len(statuses) == 1 and statuses[0].endswith(" → done")
    # nothing else happened in the sandbox this week: exactly the two known changes, plus the status line
    assert sorted((c.kind, c.item.key) for c in report.changes) == sorted(
        [("completed", closed_key), ("status", closed_key), ("added", new_key)])
    assert report.stale_trackers == ()
    assert [m.key for m in report.milestones] == [m.key for m in plan.milestones]
    beta = next(m for m in report.milestones if m.key == "beta")
    assert beta.burnup[-1].scope == beta.progress.total - beta.progress.dropped
    assert beta.burnup[-1].done == beta.progress.done
    text = render_markdown(report)
    assert "<script" not in text and "&lt;script&gt;" in text

