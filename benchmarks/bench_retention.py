"""A store that runs for years: a simulated year of ten-minute runs against the Store API, with retention.

Each run, at a pinned clock ten minutes after the last: a run row, an incremental pull carrying the
day's churn spread over its runs (2 % of items change a day, 50 new a day), a tracker sync, label
writes journaled and confirmed for a third of the changed items, the run finished, and one bounded
prune step — what `plansync run` does to the store, without HTTP. At the end a week inside the window
is reported, everything beyond a short window pruned, and the same week reported again: they must
be identical. Run alone: `python benchmarks/bench_retention.py [--quick] [--engines sqlite,postgresql]`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connector.model import Cursor, Plan, Status, WorkItem  # noqa: E402
from connector.store import Store  # noqa: E402
from connector.values import LabelChange, PullResult, ScopePull  # noqa: E402

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)  # a Monday
MILESTONES = ("alpha", "beta", "ga", "later")
REQUESTS = {"requests": 3, "reads": 3, "writes": 0, "not_modified": 2, "retries": 0, "seconds": 0.41}
FLOW = {Status.TODO: Status.IN_PROGRESS, Status.IN_PROGRESS: Status.DONE, Status.DONE: Status.DONE,
        Status.BLOCKED: Status.IN_PROGRESS, Status.DROPPED: Status.DROPPED}


class Org:
    """A GitHub-like organisation whose items move todo → in progress → done, some blocked or dropped."""

    def __init__(self, items: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.items: dict[str, WorkItem] = {}
        self.ids: list[str] = []
        for _ in range(items):
            self.new(START - timedelta(days=self.rng.randint(1, 300)))

    def new(self, at: datetime) -> WorkItem:
        n = len(self.items) + 1
        ms = MILESTONES[n % len(MILESTONES)]
        status = self.rng.choices(list(FLOW), weights=(40, 20, 30, 5, 5))[0] if at < START else Status.TODO
        item = WorkItem(
            tracker="github", id=str(500_000 + n), key=f"acme/web#{n}", container="acme/web",
            url=f"https://github.example.test/acme/web/issues/{n}", title=f"Checkout task {n}: the payment form",
            type="issue", status=status, raw_status="closed" if not status.is_open else "open", created=at,
            updated=at, resolved=at if status is Status.DONE else None, assignees=(f"dev{n % 60}",),
            labels=(ms,), milestones=(), due=date(2027, 3, 1) if n % 7 == 0 else None)
        self.items[item.id] = item
        self.ids.append(item.id)
        return item

    def change(self, at: datetime) -> WorkItem:
        old = self.items[self.rng.choice(self.ids)]
        status = FLOW[old.status] if self.rng.random() < 0.7 else old.status
        if old.status is Status.DONE and self.rng.random() < 0.05:
            status = Status.IN_PROGRESS  # reopened
        resolved = (old.resolved if old.status is Status.DONE else at) if status is Status.DONE else None
        item = replace(old, status=status, raw_status="open" if status.is_open else "closed", updated=at,
                       resolved=resolved, assignees=(f"dev{self.rng.randint(0, 59)}",))
        self.items[item.id] = item
        return item


def plan() -> Plan:
    return Plan.model_validate({
        "plan": {"name": "Year of checkout", "timezone": "UTC", "start": START.date()},
        "milestones": [{"key": m, "title": m.title(), "due": date(2027, 3, 1) + timedelta(days=30 * i),
                        "scope": [{"tracker": "github", "repo": "acme/web", "label": m}]}
                       for i, m in enumerate(MILESTONES)],
        "watch": [{"tracker": "github", "repo": "acme/web"}]})


def settings():
    from connector.settings import Settings

    return Settings(trackers={"github": {"kind": "github", "url": "https://github.example.test",
                                         "token_env": "BENCH_UNUSED_TOKEN"}})


def spread(total_per_day: float, runs_per_day: int, k: int) -> int:
    """How many of a day's events fall into run k: integer counts that add up exactly over the day."""
    per_run = total_per_day / runs_per_day
    return int((k + 1) * per_run) - int(k * per_run)


def store_size(store: Store) -> int:
    from sqlalchemy import text

    info = store.info()
    if store.dialect == "sqlite":
        with store._engine.connect() as conn:  # the WAL folded back so the file is the store's size
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        info = store.info()
    return info.size_bytes or 0


def one_run(store: Store, org: Org, at: datetime, k: int, args) -> None:
    os.environ["PLANSYNC_NOW"] = at.isoformat()
    run = store.begin_run("run", ["github"])
    k_day = k % args.runs_per_day
    changed = [org.change(at) for _ in range(spread(args.items * args.change_rate, args.runs_per_day, k_day))]
    changed += [org.new(at) for _ in range(spread(args.new_per_day, args.runs_per_day, k_day))]
    unique = {i.id: i for i in changed}
    cursor = Cursor("github", "github:acme/web", updated=at, etag=f'W/"{k}"')
    store.save_pull(run, PullResult("github", (ScopePull("github:acme/web", tuple(unique.values()), False, cursor),)),
                    at)
    store.mark_tracker_synced(run, "github", ok=True, census=False, requests=REQUESTS)
    writes = [LabelChange("github", i.id, i.key, add=frozenset({"plan:at-risk"}) if i.status.is_open else frozenset(),
                          remove=frozenset() if i.status.is_open else frozenset({"plan:at-risk"}),
                          reasons=("health",)) for i in list(unique.values())[::3]]
    for entry, change in zip(store.journal_plan(run, writes), writes, strict=True):
        store.journal_mark(entry, "sent")
        item = org.items[change.item_id]
        labels = tuple(sorted(set(item.labels) - change.remove | change.add))
        org.items[item.id] = replace(item, labels=labels)
        store.journal_confirm(entry, "github", item.id, labels, at)
    store.finish_run(run, "success", counts={"github": {"items_pulled": len(unique), "writes": len(writes)}},
                     requests={"github": REQUESTS})
    store.prune(args.keep_days, at, batch=args.batch)


def simulate(url: str, args) -> dict:
    org = Org(args.items, args.seed)
    store = Store.open(url)
    total = args.days * args.runs_per_day
    month = 30 * args.runs_per_day
    step = timedelta(days=1) / args.runs_per_day  # ten minutes at 144 runs a day
    walls: list[float] = []
    size_month = None
    os.environ["PLANSYNC_NOW"] = START.isoformat()
    first = store.begin_run("run", ["github"])  # the first run pulls the whole organisation (a census)
    scope = ScopePull("github:acme/web", tuple(org.items.values()), True, Cursor("github", "github:acme/web", updated=START))
    store.save_pull(first, PullResult("github", (scope,)), START)
    store.mark_tracker_synced(first, "github", ok=True, census=True, requests=REQUESTS)
    store.finish_run(first, "success")
    began = time.monotonic()
    for k in range(1, total):
        at = START + step * k
        t0 = time.perf_counter()
        one_run(store, org, at, k, args)
        walls.append(time.perf_counter() - t0)
        if k == month:
            size_month = store_size(store)
        if args.progress and k % (args.runs_per_day * 30) == 0:
            size = store_size(store)
            print(f"  {store.dialect}: day {k // args.runs_per_day}, {time.monotonic() - began:.0f} s, "
                  f"median run {statistics.median(walls[-1000:]) * 1000:.1f} ms, last {walls[-1] * 1000:.1f} ms, "
                  f"size {size / 1024 / 1024:.1f} MiB", file=sys.stderr, flush=True)
    end = START + step * (total - 1)
    size_end = store_size(store)
    info = store.info()
    result = {
        "engine": store.dialect, "runs": total, "items": len(org.items), "keep_days": args.keep_days,
        "size_month": size_month, "size_end": size_end,
        "month_median_ms": statistics.median(walls[:month]) * 1000, "last_ms": walls[-1] * 1000,
        "last_day_median_ms": statistics.median(walls[-args.runs_per_day:]) * 1000,
        "elapsed_s": time.monotonic() - began, "rows": info.rows,
    }
    result["plans"] = query_plans(store, end) if store.dialect == "postgresql" else []
    if not args.no_report_check:
        result["report_check"] = report_check(store, end, args)
    store.close()
    os.environ.pop("PLANSYNC_NOW", None)
    return result


def report_check(store: Store, end: datetime, args) -> str:
    """A week inside a short window, reported before and after pruning everything beyond it."""
    from connector.report.build import build_report, iso_week

    keep = args.check_keep_days
    week_day = end - timedelta(days=keep - 10)  # the oldest whole week inside the window
    week = iso_week(week_day, UTC)
    before = build_report(store, plan(), settings(), week=week, now=end)
    pruned = store.prune_all(keep, end, batch=args.batch)
    after = build_report(store, plan(), settings(), week=week, now=end)
    if not (pruned.versions > 0 and pruned.runs > 0):
        return f"FAILED: nothing was pruned ({pruned}): the check would be vacuous"
    if before != after:
        return f"FAILED: report for {week} differs after pruning"
    return (f"{week} identical after pruning to {keep} days ({pruned.versions:,} versions, {pruned.runs:,} runs, "
            f"{pruned.journal:,} journal entries removed)")


def query_plans(store: Store, end: datetime) -> list[str]:
    from sqlalchemy import text

    queries = {
        "items_as_of (a week ago)": "SELECT count(*) FROM item_versions WHERE valid_to IS NULL AND valid_from <= :t "
                                    "UNION ALL SELECT count(*) FROM item_versions WHERE valid_to > :t AND valid_from <= :t",
        "changes (one week)": "SELECT count(*) FROM item_history WHERE observed_at >= :t AND observed_at < :u",
    }
    out = []
    with store._engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        for name, sql in queries.items():
            rows = conn.execute(text("EXPLAIN " + sql), {"t": end - timedelta(days=7), "u": end}).scalars()
            out.append(f"{name}:\n    " + "\n    ".join(rows))
    return out


def pg_database(base: str, async_commit: bool = False):
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(base)
    name = f"plansync_bench_{uuid.uuid4().hex[:8]}"
    libpq = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        if async_commit:  # no fsync wait per commit: a shared, loaded machine; the work per run is the same
            conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')

    def drop() -> None:
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return admin.set(database=name).render_as_string(hide_password=False), drop


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1,000 items, 45 days, 40-day window (a few seconds)")
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--runs-per-day", type=int, default=144)
    ap.add_argument("--change-rate", type=float, default=0.02, help="share of items changed a day")
    ap.add_argument("--new-per-day", type=float, default=50)
    ap.add_argument("--keep-days", type=int, default=400, help="store.keep_days during the year")
    ap.add_argument("--check-keep-days", type=int, default=56, help="the window of the report check")
    ap.add_argument("--batch", type=int, default=500, help="prune batch per run")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-report-check", action="store_true")
    ap.add_argument("--progress", action="store_true", help="a line on stderr every 30 simulated days")
    ap.add_argument("--pg-async-commit", action="store_true",
                    help="synchronous_commit = off for the scratch PostgreSQL database (faster on a loaded machine)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args(argv)
    if args.quick:
        args.items, args.days, args.new_per_day, args.keep_days, args.check_keep_days = 1000, 45, 5, 40, 21
        args.runs_per_day = 48
    return args


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    results = []
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        if engine == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                results.append(simulate(f"sqlite:///{Path(tmp) / 'year.db'}", args))
        else:
            url, drop = pg_database(os.environ.get("PLANSYNC_TEST_DATABASE_URL") or PG_DEFAULT, args.pg_async_commit)
            try:
                results.append(simulate(url, args))
            finally:
                drop()
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, default=str))
    print(f"{args.items:,} items, {args.days} days x {args.runs_per_day} runs, {args.change_rate:.0%} changed "
          f"a day, {args.new_per_day:g} new a day, keep_days {args.keep_days}, prune batch {args.batch}")
    print("| engine | runs | items at end | size after 30 days | size at end | ratio | first month median run | "
          "last run | last day median | sim s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        mib = 1024 * 1024
        print(f"| {r['engine']} | {r['runs']:,} | {r['items']:,} | {r['size_month'] / mib:.1f} MiB | "
              f"{r['size_end'] / mib:.1f} MiB | {r['size_end'] / r['size_month']:.2f} | {r['month_median_ms']:.1f} ms | "
              f"{r['last_ms']:.1f} ms | {r['last_day_median_ms']:.1f} ms | {r['elapsed_s']:.0f} |")
    for r in results:
        print(f"{r['engine']} rows at end: " + ", ".join(f"{k} {v:,}" for k, v in r["rows"].items()))
        if r.get("report_check"):
            print(f"{r['engine']} report check: {r['report_check']}")
        for p in r["plans"]:
            print(f"{r['engine']} plan {p}")
    return results


if __name__ == "__main__":
    failed = [r for r in main() if str(r.get("report_check", "")).startswith("FAILED")]
    sys.exit(1 if failed else 0)
