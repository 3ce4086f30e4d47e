"""A store that runs for years: a simulated year of ten-minute runs against the Store API, with retention.

What the target ("store size at the end ≤ 2 × its size after the first 30 days") is about: a store in
its steady state, whose retention window is already full. With `keep_days` = 400 a store younger than
400 days holds everything in full by design (DESIGN §12), so a year that starts from an empty store
grows with the churn and says nothing about retention. So by default the store is first *seeded*:
`keep_days` days of the same organisation's history (a census, then the same churn) are written
through the store's own code paths, in fewer, larger runs (the day's changes in 8 pulls; label writes
journaled in bulk with the same final rows), so at the start of the simulated year the window is
full. Then the year: 365 days × 144 ten-minute runs = 52,560 runs at a pinned clock, with retention's
bounded prune step inside every run as `plansync run` does. `--seed-days 0 --keep-days 30` is the
other variant: an empty store whose short window fills during the first month.

Churn (a 10,000-item organisation): 2 % of 10,000 items change a day and 50 items are new a day,
both as weekly totals that land on working days (Monday-Friday, 09:00-17:00 UTC). A run carrying
changes does what `plansync run` does to the store, without HTTP: a run row, an incremental pull
of the changed items, a tracker sync, label writes journaled planned → sent → confirmed (one commit
each) for a third of them, the run finished, one prune step — and is timed. What is compressed:
the other runs (nights and weekends, where nothing changed): each leaves its run row, its tracker
sync and the re-saved cursor, written for a whole stretch of them in one transaction, followed by
one prune step with their summed batch bound. `--hours 0-24 --weekends` compresses nothing.

At the end a week inside the window is reported, everything beyond a short window pruned, and the
same week reported again: they must be identical. Run alone:
`python benchmarks/bench_retention.py [--quick] [--engines sqlite,postgresql] [--progress]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.year_sim import Org, Schedule, Walls, census, full_run, run_days, sizes  # noqa: E402
from connector.model import Plan  # noqa: E402
from connector.store import Store  # noqa: E402

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
START = datetime(2027, 1, 4, 0, 0, tzinfo=UTC)  # a Monday: the simulated year's first day
MILESTONES = ("alpha", "beta", "ga", "later")
MIB = 1024 * 1024


def plan(start: date) -> Plan:
    return Plan.model_validate({
        "plan": {"name": "Year of checkout", "timezone": "UTC", "start": start},
        "milestones": [{"key": m, "title": m.title(), "due": date(2027, 9, 1) + timedelta(days=60 * i),
                        "scope": [{"tracker": "github", "repo": "acme/web", "label": m}]}
                       for i, m in enumerate(MILESTONES)],
        "watch": [{"tracker": "github", "repo": "acme/web"}]})


def settings():
    from connector.settings import Settings

    return Settings(trackers={"github": {"kind": "github", "url": "https://github.example.test",
                                         "token_env": "BENCH_UNUSED_TOKEN"}})


def schedule(args, every: int = 1) -> Schedule:
    return Schedule(args.runs_per_day, args.hours, args.weekends, args.change_rate, args.items, args.new_per_day,
                    every=every)


def simulate(url: str, args) -> dict:
    seed_start = START - timedelta(days=args.seed_days)
    org = Org(args.items, args.seed, seed_start)
    store = Store.open(url)
    rpd = args.runs_per_day
    began = time.monotonic()
    census(store, org, seed_start)  # the store's first run pulls the whole organisation
    if args.seed_days:
        run_days(store, org, schedule(args, every=args.seed_every), seed_start, args.seed_days,
                 keep_days=args.keep_days, batch=args.batch, k0=0, walls=None, bulk_journal=True, skip_first=True)
    seed_s = time.monotonic() - began
    items_start = len(org.items)
    checkpoints = {0: sizes(store)}
    walls = Walls()
    t_year = time.monotonic()

    def on_day(d: int) -> None:
        if d % 30 and d != args.days:
            return
        checkpoints[d] = point = sizes(store)
        if args.progress:
            recent = [w for w, day in zip(walls.wall, walls.day, strict=True) if day >= d - 30]
            print(f"  {store.dialect}: day {d}, {time.monotonic() - t_year:.0f} s, median full run "
                  f"{statistics.median(recent) * 1000:.1f} ms, size {point['size'] / MIB:.1f} MiB, "
                  f"load {point['load']:.1f}", file=sys.stderr, flush=True)

    first = min(30, args.days)
    common = {"keep_days": args.keep_days, "batch": args.batch, "walls": walls, "bulk_journal": False,
              "skip_first": not args.seed_days, "on_day": on_day}
    made = run_days(store, org, schedule(args), START, first, k0=args.seed_days * rpd, **common)
    pool = len(org.ids)  # the items the store held after the first month: the probes change only these
    store, snap_url, drop_snap = snapshot(store, url)
    made += run_days(store, org, schedule(args), START + timedelta(days=first), args.days - first,
                     k0=(args.seed_days + first) * rpd, day0=first, **common)
    runs = made + (0 if args.seed_days else 1)
    end = START + timedelta(days=args.days) - timedelta(days=1) / rpd
    month = [i for i, d in enumerate(walls.day) if d < 30]
    last_day = [i for i, d in enumerate(walls.day) if d == walls.day[-1]]

    def med(values, idx):
        return statistics.median(values[i] for i in idx) * 1000
    result = {
        "engine": store.dialect, "runs": runs, "timed_runs": len(walls.wall), "seed_days": args.seed_days,
        "keep_days": args.keep_days, "items_start": items_start, "items": len(org.items),
        "size_start": checkpoints[0]["size"], "size_month": checkpoints[min(30, args.days)]["size"],
        "size_end": checkpoints[args.days]["size"],
        "month_median_ms": med(walls.wall, month), "month_median_cpu_ms": med(walls.cpu, month),
        "last_ms": walls.wall[-1] * 1000, "last_cpu_ms": walls.cpu[-1] * 1000,
        "last5_median_ms": med(walls.wall, range(len(walls.wall) - 5, len(walls.wall))),
        "last5_median_cpu_ms": med(walls.cpu, range(len(walls.cpu) - 5, len(walls.cpu))),
        "last_day_median_ms": med(walls.wall, last_day), "last_day_median_cpu_ms": med(walls.cpu, last_day),
        "seed_s": seed_s, "year_s": time.monotonic() - t_year, "rows": checkpoints[args.days]["rows"],
        "checkpoints": checkpoints, "load_max": max(p["load"] for p in checkpoints.values()),
    }
    try:
        result["probe"] = probes(store, snap_url, org, pool, START + timedelta(days=first), end, args)
    finally:
        drop_snap()
    result["plans"] = query_plans(store, end) if store.dialect == "postgresql" else []
    if not args.no_report_check:
        result["report_check"] = report_check(store, end, args, seed_start.date())
    store.close()
    os.environ.pop("PLANSYNC_NOW", None)
    return result


def snapshot(store: Store, url: str) -> tuple[Store, str, object]:
    """A copy of the store as it is now (the end of the first month), for the probes at the end.
    Returns the store reopened (PostgreSQL copies a database only while nobody is connected to it)."""
    import shutil

    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if store.dialect == "sqlite":
        sizes(store)  # WAL folded back into the file, so the file is the whole store
        copy = f"{parsed.database}.month"
        shutil.copyfile(parsed.database, copy)
        return store, f"sqlite:///{copy}", lambda: Path(copy).unlink(missing_ok=True)
    import psycopg

    store.close()
    name = f"{parsed.database}_month"
    libpq = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{parsed.database}"')

    def drop() -> None:
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return Store.open(url), parsed.set(database=name).render_as_string(hide_password=False), drop


def probes(live: Store, snap_url: str, org: Org, pool: int, month_end: datetime, end: datetime, args) -> dict:
    """The same run (a working-hours run's changes: 7 items, a third relabelled) made alternately on the
    store as it was after the first month and on the store at the end, `--probes` times each: the
    wall-time ratio with the machine's load the same for both sides."""
    shape = round((args.items * args.change_rate + args.new_per_day) * 7 / 5 / len(schedule(args).active(START)))
    import cProfile
    import io
    import pstats

    snap = Store.open(snap_url)
    out: dict[str, Walls] = {"month": Walls(), "end": Walls()}
    profiles = {name: cProfile.Profile() for name in out} if args.profile else {}
    try:
        for r in range(args.probes):
            for name, store, base in (("month", snap, month_end), ("end", live, end)):
                at = base + timedelta(minutes=10 * (r + 1))
                if profiles:
                    profiles[name].enable()
                t0, c0 = time.perf_counter(), time.process_time()
                full_run(store, org, at, shape, 0, keep_days=args.keep_days, batch=args.batch, k=-r, pool=pool)
                out[name].wall.append(time.perf_counter() - t0)
                out[name].cpu.append(time.process_time() - c0)
                if profiles:
                    profiles[name].disable()
    finally:
        snap.close()
    result = {"repeats": args.probes, "items_changed": shape}
    for name, prof in profiles.items():
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(15)
        print(f"--- probe profile, {name} store ---\n{text.getvalue()}", file=sys.stderr)
    for name, w in out.items():
        result[f"{name}_ms"] = statistics.median(w.wall) * 1000
        result[f"{name}_cpu_ms"] = statistics.median(w.cpu) * 1000
    return result


def report_check(store: Store, end: datetime, args, start: date) -> str:
    """A week inside a short window, reported before and after pruning everything beyond it."""
    from connector.report.build import build_report, iso_week

    keep = args.check_keep_days
    week = iso_week(end - timedelta(days=keep - 10), UTC)  # the oldest whole week inside the window
    before = build_report(store, plan(start), settings(), week=week, now=end)
    pruned = store.prune_all(keep, end, batch=args.batch)
    after = build_report(store, plan(start), settings(), week=week, now=end)
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


def pg_database(base: str, async_commit: bool = False, name: str | None = None):
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(base)
    name = name or f"plansync_bench_{uuid.uuid4().hex[:8]}"
    libpq = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        if async_commit:  # no fsync wait per commit: a shared, loaded machine; the work per run is the same
            conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')

    def drop() -> None:
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return admin.set(database=name).render_as_string(hide_password=False), drop


def hours(text: str) -> tuple[int, int]:
    first, last = (int(x) for x in text.split("-"))
    if not 0 <= first < last <= 24:
        raise argparse.ArgumentTypeError("hours: FROM-TO with 0 <= FROM < TO <= 24")
    return first, last


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1,000 items, 45 days of 48 runs, a 20-day window")
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--runs-per-day", type=int, default=144)
    ap.add_argument("--change-rate", type=float, default=0.02, help="share of --items changed a day (weekly mean)")
    ap.add_argument("--new-per-day", type=float, default=50, help="new items a day (weekly mean)")
    ap.add_argument("--hours", type=hours, default=(9, 17), help="UTC working hours that see changes, FROM-TO")
    ap.add_argument("--weekends", action="store_true", help="changes on Saturdays and Sundays too")
    ap.add_argument("--keep-days", type=int, default=400, help="store.keep_days during the year")
    ap.add_argument("--seed-days", type=int, default=None,
                    help="days of history written before the year (default: keep_days, a full window)")
    ap.add_argument("--seed-every", type=int, default=6, help="seed: every n-th working-hours run pulls")
    ap.add_argument("--check-keep-days", type=int, default=56, help="the window of the report check")
    ap.add_argument("--batch", type=int, default=500, help="prune batch per run")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-report-check", action="store_true")
    ap.add_argument("--profile", action="store_true", help="profile the probe runs (stderr)")
    ap.add_argument("--probes", type=int, default=25, help="repeats of the month/end probe run, each side")
    ap.add_argument("--progress", action="store_true", help="a line on stderr every 30 simulated days")
    ap.add_argument("--pg-async-commit", action="store_true",
                    help="synchronous_commit = off for the scratch PostgreSQL database (faster on a loaded machine)")
    ap.add_argument("--pg-database", default=None, help="name of the scratch PostgreSQL database (dropped after)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args(argv)
    if args.quick:
        args.items, args.days, args.new_per_day, args.keep_days, args.check_keep_days = 1000, 45, 5, 20, 14
        args.runs_per_day = 48
    if args.seed_days is None:
        args.seed_days = args.keep_days
    return args


def table(results: list[dict]) -> list[str]:
    out = ["| engine | seed days | keep_days | runs (timed) | items start → end | size at start | size after 30 days "
           "| size at end | end / 30 days (≤ 2) | first month median run | last run | last 5 median | last day median "
           "| last 5 / first month (≤ 1.3) | probe month → end | probe end / month (≤ 1.3) | max load | seed s | year s |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        cpu = r["engine"] == "sqlite"  # PostgreSQL's work is in its server processes: CPU here says little

        def ms(key: str, r=r, cpu=cpu) -> str:
            return f"{r[key]:.1f} ms" + (f" ({r[key.replace('_ms', '_cpu_ms')]:.1f} cpu)" if cpu else "")
        ratio = r["last5_median_ms"] / r["month_median_ms"]
        p = r["probe"]
        probe = f"{ms('month_ms', p)} → {ms('end_ms', p)}"
        out.append(f"| {r['engine']} | {r['seed_days']} | {r['keep_days']} | {r['runs']:,} ({r['timed_runs']:,}) | "
                   f"{r['items_start']:,} → {r['items']:,} | {r['size_start'] / MIB:.1f} MiB | "
                   f"{r['size_month'] / MIB:.1f} MiB | {r['size_end'] / MIB:.1f} MiB | "
                   f"{r['size_end'] / r['size_month']:.2f} | {ms('month_median_ms')} | {ms('last_ms')} | "
                   f"{ms('last5_median_ms')} | {ms('last_day_median_ms')} | {ratio:.2f} | {probe} | "
                   f"{p['end_ms'] / p['month_ms']:.2f} (cpu {p['end_cpu_ms'] / p['month_cpu_ms']:.2f}) | {r['load_max']:.1f} | "
                   f"{r['seed_s']:.0f} | {r['year_s']:.0f} |")
    return out


def checkpoint_lines(r: dict) -> list[str]:
    last = r["checkpoints"][max(r["checkpoints"])]["bytes"]
    big = sorted(last, key=lambda t: -last[t])[:6]
    out = [f"{r['engine']} (seed {r['seed_days']}, keep {r['keep_days']}): size, free pages and the largest "
           "tables (rows / MiB with indexes) every 30 simulated days",
           "| day | size | free | " + " | ".join(big) + " | load |", "|---" * (len(big) + 4) + "|"]
    for day, p in sorted(r["checkpoints"].items()):
        free = f"{p['free'] / MIB:.1f} MiB" if p["free"] is not None else ""
        cells = [f"{p['rows'].get(t, 0):,} / {p['bytes'].get(t, 0) / MIB:.1f}" for t in big]
        out.append(f"| {day} | {p['size'] / MIB:.1f} MiB | {free} | " + " | ".join(cells) + f" | {p['load']:.1f} |")
    return out


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    results = []
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        if engine == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                results.append(simulate(f"sqlite:///{Path(tmp) / 'year.db'}", args))
        else:
            url, drop = pg_database(os.environ.get("PLANSYNC_TEST_DATABASE_URL") or PG_DEFAULT, args.pg_async_commit,
                                    args.pg_database)
            try:
                results.append(simulate(url, args))
            finally:
                drop()
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, default=str))
    print(f"{args.items:,} items at the first sync, {args.days} days x {args.runs_per_day} runs, {args.change_rate:.0%} "
          f"of {args.items:,} changed and {args.new_per_day:g} new a day (weekly mean; changes "
          f"{args.hours[0]:02d}:00-{args.hours[1]:02d}:00 UTC{', every day' if args.weekends else ', Monday-Friday'}), "
          f"keep_days {args.keep_days}, {args.seed_days} days seeded, prune batch {args.batch}")
    print("\n".join(table(results)))
    for r in results:
        print()
        print("\n".join(checkpoint_lines(r)))
        print(f"{r['engine']} rows at end: " + ", ".join(f"{k} {v:,}" for k, v in r["rows"].items()))
        if r.get("report_check"):
            print(f"{r['engine']} report check: {r['report_check']}")
        for p in r["plans"]:
            print(f"{r['engine']} plan {p}")
    return results


if __name__ == "__main__":
    failed = [r for r in main() if str(r.get("report_check", "")).startswith("FAILED")]
    sys.exit(1 if failed else 0)
