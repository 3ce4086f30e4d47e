"""Benchmark: the weekly report for a 50,000-item plan with two weeks of stored history (target: < 10 s).

Counted: build_report (reconciling now and at the week's start, for the summary), every chart
(burn-ups with cones, histograms, the timeline) and the three renderers. Shown beside it: the publish
comment renderers, and build_report when the run passes its own reconciliation in.

Run alone: `python benchmarks/bench_report.py [--items N] [--store URL]`; seeds a fresh store (not timed),
then times build_report and each renderer, and prints a table with peak RSS.
Wall time means something only on a quiet machine (the CPU column is not disturbed by other processes);
on a busy shared one run it in its own scheduling group:
`setsid sh -c 'echo -10 > /proc/self/autogroup; exec nice -n -10 python benchmarks/bench_report.py'`.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connector.model import Cursor, Plan, Status, WorkItem  # noqa: E402
from connector.report import build_report, render_html, render_json, render_markdown, write_report  # noqa: E402
from connector.report.comment import render_comment  # noqa: E402
from connector.report.html import all_chart_svgs  # noqa: E402
from connector.settings import Settings  # noqa: E402
from connector.store import Store  # noqa: E402
from connector.values import PullResult, ScopePull  # noqa: E402

T1 = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
REPOS = ("acme/web", "acme/api", "acme/pay", "acme/app")
VERSIONS = ("Alpha", "Beta", "RC", "GA", "Later")
STATUSES = [Status.TODO] * 4 + [Status.IN_PROGRESS] * 2 + [Status.BLOCKED] + [Status.DONE] * 4 + [Status.DROPPED]
PEOPLE = {f"p{n}": {"jira": f"p{n}@example.com", "github": f"p{n}-gh"} for n in range(40)}


def make_plan() -> Plan:
    milestones = []
    for n, version in enumerate(VERSIONS):
        scope = [{"tracker": "jira", "jql": f'project = CHK AND fixVersion = "{version}"'}]
        scope += [{"tracker": "github", "repo": repo, "milestone": version} for repo in REPOS]
        milestones.append({"key": version.lower(), "title": f"Release {version}", "due": date(2026, 11, 20) +
                           timedelta(days=30 * n), "scope": scope})
    return Plan.model_validate({
        "plan": {"name": "Bench", "timezone": "Europe/Berlin", "start": date(2026, 9, 7), "objective": "Ship it"},
        "people": PEOPLE, "milestones": milestones,
        "watch": [{"tracker": "jira", "jql": "project = CHK"}] + [{"tracker": "github", "repo": r} for r in REPOS]})


def make_items(count: int, rng: random.Random) -> tuple[list[WorkItem], list[WorkItem]]:
    jira, github = [], []
    for n in range(count):
        status = rng.choice(STATUSES)
        created = datetime(2026, 9, 7, tzinfo=UTC) + timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 1440))
        resolved = created + timedelta(days=rng.randint(1, 20)) if status is Status.DONE else None
        who = rng.choice([f"p{rng.randint(0, 60)}", None])
        common = dict(title=f"Task {n} <b>with</b> [markup] | pipes", status=status, raw_status=str(status),
                      created=created, updated=resolved or created, resolved=resolved,
                      milestones=(rng.choice(VERSIONS),) if rng.random() < 0.8 else (),
                      due=date(2026, 11, 1) + timedelta(days=rng.randint(0, 90)) if rng.random() < 0.3 else None)
        if n % 10 < 6:
            jira.append(WorkItem(tracker="jira", id=str(n), key=f"CHK-{n}", container="CHK",
                                 url=f"https://jira.example.test/browse/CHK-{n}", type="Story",
                                 assignees=(f"{who}@example.com",) if who else (),
                                 estimate=float(rng.choice((1, 2, 3, 5, 8))), **common))
        else:
            repo = REPOS[n % len(REPOS)]
            github.append(WorkItem(tracker="github", id=str(n), key=f"{repo}#{n}", container=repo,
                                   url=f"https://github.example.test/{repo}/issues/{n}", type="issue",
                                   assignees=(f"{who}-gh",) if who else (), **common))
    return jira, github


def churn(items: list[WorkItem], rng: random.Random, share: float = 0.05) -> list[WorkItem]:
    """A week of work: `share` of the items change status, milestone or due date."""
    out = []
    at = T2 - timedelta(hours=3)
    for item in items:
        if rng.random() < share:
            pick = rng.random()
            if pick < 0.6:
                item = replace(item, status=Status.DONE, resolved=at, updated=at)
            elif pick < 0.8:
                item = replace(item, milestones=(rng.choice(VERSIONS),), updated=at)
            else:
                item = replace(item, due=(item.due or date(2026, 11, 30)) + timedelta(days=7), updated=at)
        out.append(item)
    return out


def seed(store: Store, plan: Plan, count: int) -> None:
    rng = random.Random(7)
    jira1, gh1 = make_items(count, rng)
    weeks = ((T1, jira1, gh1), (T2, churn(jira1, rng), churn(gh1, rng)))
    for at, jira, github in weeks:
        os.environ["PLANSYNC_NOW"] = at.isoformat()
        run = store.begin_run("sync", ["jira", "github"])
        scopes = []
        for m in plan.milestones:
            jql = m.scope[0]
            version = m.title.split()[-1]
            scopes.append(ScopePull(jql.id, tuple(i for i in jira if version in i.milestones), True,
                                    Cursor("jira", jql.id, at)))
        scopes.append(ScopePull(plan.watch[0].id, tuple(jira), True, Cursor("jira", plan.watch[0].id, at)))
        store.save_pull(run, PullResult("jira", tuple(scopes)), at)
        store.mark_tracker_synced(run, "jira", True)
        by_repo = [ScopePull(f"github:repo:{r}", tuple(i for i in github if i.container == r), True,
                             Cursor("github", f"github:repo:{r}", at)) for r in REPOS]
        store.save_pull(run, PullResult("github", tuple(by_repo)), at)
        store.mark_tracker_synced(run, "github", True)
        store.save_plan_snapshot(run, plan, at)
        store.finish_run(run, "success")
    os.environ.pop("PLANSYNC_NOW", None)


def _current_reconciliation(store: Store, plan: Plan, settings: Settings):
    """What the run pipeline hands the report: its own reconciliation as of now (not timed)."""
    from connector.reconcile import reconcile

    return reconcile(plan, store.items_as_of(NOW), store.scope_members(), store.milestones(),
                     [e for e in store.done_events() if e[2] <= NOW], now=NOW, prefix=settings.labels.prefix,
                     stale_days=settings.reconcile.stale_days, forecast_runs=settings.reconcile.forecast_runs,
                     seed=settings.reconcile.seed, forecast_window_days=settings.reconcile.forecast_window_days)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--store", help="store URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    settings = Settings(trackers={
        "jira": {"kind": "jira", "url": "https://jira.example.test", "token_env": "JIRA_TOKEN", "email": "b@x.test"},
        "github": {"kind": "github", "url": "https://github.example.test", "token_env": "GITHUB_TOKEN"}})
    plan = make_plan()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.store or f"sqlite:///{tmp}/bench.db"
        with Store.open(url) as store:
            started = time.perf_counter()
            seed(store, plan, args.items)
            seeded = time.perf_counter() - started
            rss_seeded = peak_rss_mb()
            rows = []

            def timed(name, work):
                began, cpu = time.perf_counter(), time.process_time()
                result = work()
                rows.append((name, time.perf_counter() - began, time.process_time() - cpu))
                return result

            report = timed("build_report (store reads, reconcile, history)",
                           lambda: build_report(store, plan, settings, week="2026-W48", now=NOW))
            charts = timed(f"charts ({len(report.milestones)} burn-ups, histograms, timeline)",
                           lambda: all_chart_svgs(report))
            md = timed("render markdown", lambda: render_markdown(report))
            html = timed("render html", lambda: render_html(report, charts=charts))
            js = timed("render json", lambda: render_json(report))
            timed("write_report md,html,json (renders again)", lambda: write_report(report, Path(tmp) / "out"))
            timed("summary comment: adf + wiki + markdown",
                  lambda: [render_comment(report, report.label, f) for f in ("adf", "wiki", "markdown")])
            rec = _current_reconciliation(store, plan, settings)
            timed("build_report given the run's reconciliation",
                  lambda: build_report(store, plan, settings, week="2026-W48", now=NOW, reconciliation=rec))
    total = sum(row[1] for row in rows[:5])
    total_cpu = sum(row[2] for row in rows[:5])
    load = os.getloadavg()[0]
    print(f"\nplansync report benchmark: {args.items:,} items, {len(report.milestones)} milestones, "
          f"{len(report.changes):,} changes this week (store seeded in {seeded:.1f} s, not counted; "
          f"peak RSS after seeding {rss_seeded:.0f} MB)\n")
    print(f"{'step':<48} {'wall s':>8} {'cpu s':>8}")
    print("-" * 66)
    for name, seconds, cpu in rows:
        print(f"{name:<48} {seconds:>8.2f} {cpu:>8.2f}")
    print("-" * 66)
    print(f"{'build + charts + md + html + json':<48} {total:>8.2f} {total_cpu:>8.2f}   (target < 10 s wall: "
          f"{'PASS' if total < 10 else 'FAIL'})")
    print(f"{'load average (1 min) on ' + str(os.cpu_count()) + ' CPUs':<48} {load:>8.1f}")
    print(f"{'output size md / html / json (KB)':<48} {len(md) // 1024:>4} / {len(html) // 1024} / {len(js) // 1024}")
    print(f"{'peak RSS (MB)':<48} {peak_rss_mb():>8.0f}")


if __name__ == "__main__":
    main()
