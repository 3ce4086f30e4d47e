"""Store benchmark: save a 50,000-item pull twice (the second with 1 % changed) on SQLite and PostgreSQL.

Run alone: `python benchmarks/bench_store.py [--items N] [--tracemalloc]`. PostgreSQL comes from
PLANSYNC_TEST_DATABASE_URL (else the local default); a scratch database is created and dropped.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connector.model import Cursor, Status, WorkItem  # noqa: E402
from connector.store import Store  # noqa: E402
from connector.values import PullResult, ScopePull  # noqa: E402

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
STATUSES = list(Status)


def make_items(n: int) -> list[WorkItem]:
    return [WorkItem(
        tracker="jira", id=str(100_000 + i), key=f"CHK-{i}", container="CHK", url=f"https://jira.test/browse/CHK-{i}",
        title=f"Checkout step {i}: make the payment form remember the card", type="Story",
        status=STATUSES[i % len(STATUSES)], raw_status="In Progress", created=T0 - timedelta(days=i % 400),
        updated=T0 - timedelta(minutes=i), resolved=None, assignees=(f"user{i % 40}@example.com",),
        labels=("backend", "plan:on-track") if i % 3 else ("frontend",), milestones=(f"1.{i % 12}",),
        sprint=f"Sprint {i % 20}", epic=f"CHK-{i % 50}", parent=None, due=date(2026, 12, 1) + timedelta(days=i % 90),
        estimate=float(i % 8), links=(f"acme/web#{i}",) if i % 10 == 0 else (),
    ) for i in range(n)]


def as_pull(items: list[WorkItem]) -> PullResult:
    cursor = Cursor("jira", "jira:bench", updated=max(i.updated for i in items))
    return PullResult("jira", (ScopePull("jira:bench", tuple(items), True, cursor),))


class PeakRSS:
    """Samples this process's RSS every 5 ms while a step runs."""

    def __init__(self) -> None:
        self.proc, self.peak, self._stop = psutil.Process(), 0, threading.Event()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            self._stop.wait(0.005)

    def __enter__(self) -> PeakRSS:
        self.peak = self.proc.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


def measure(step: Callable[[], object], use_tracemalloc: bool) -> tuple[float, float, float, float | None]:
    """(wall seconds, this process's CPU seconds, peak RSS MiB, Python heap peak MiB or None).

    CPU time is reported because a busy machine inflates wall time; the database server's own CPU
    (PostgreSQL) is in the wall time only.
    """
    if use_tracemalloc:
        tracemalloc.start()
    with PeakRSS() as rss:
        start, cpu_start = time.perf_counter(), time.process_time()
        step()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    heap = None
    if use_tracemalloc:
        heap = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return seconds, cpu, rss.peak / 2**20, heap


def bench(engine: str, url: str, n: int, use_tracemalloc: bool) -> list[tuple]:
    items = make_items(n)
    changed = [replace(i, status=Status.DONE, updated=T0 + timedelta(hours=1)) if k % 100 == 0 else i
               for k, i in enumerate(items)]
    first, second = as_pull(items), as_pull(changed)
    rows = []
    with Store.open(url) as store:
        for label, step in (
            (f"save_pull {n:,} new", lambda: store.save_pull(None, first, T0)),
            (f"save_pull {n:,}, 1 % changed", lambda: store.save_pull(None, second, T0 + timedelta(hours=2))),
            (f"save_pull {n:,} unchanged", lambda: store.save_pull(None, second, T0 + timedelta(hours=3))),
            (f"items() {n:,}", lambda: store.items("jira")),
            (f"items_as_of {n:,}", lambda: store.items_as_of(T0 + timedelta(hours=1))),
            ("done_events (all)", lambda: store.done_events()),
            ("changes (week)", lambda: store.changes(T0, T0 + timedelta(days=7))),
        ):
            rows.append((engine, label, *measure(step, use_tracemalloc)))
        summary = store.save_pull(None, second, T0 + timedelta(hours=4))
        assert summary.unchanged == n, summary
    return rows


def pg_scratch(base: str):
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"plansync_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return make_url(base).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--tracemalloc", action="store_true", help="also report the Python heap peak (slower)")
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    results = []
    engines = args.engines.split(",")
    if "sqlite" in engines:
        with tempfile.TemporaryDirectory() as tmp:
            results += bench("sqlite", f"sqlite:///{tmp}/bench.db", args.items, args.tracemalloc)
    if "postgresql" in engines:
        url, drop = pg_scratch(os.environ.get("PLANSYNC_TEST_DATABASE_URL") or PG_DEFAULT)
        try:
            results += bench("postgresql", url, args.items, args.tracemalloc)
        finally:
            drop()
    print(f"{'engine':<11} {'step':<34} {'wall s':>7} {'cpu s':>7} {'peak RSS MiB':>13} {'heap peak MiB':>14}")
    for engine, label, seconds, cpu, rss, heap in results:
        heap_text = f"{heap:14.1f}" if heap is not None else f"{'-':>14}"
        print(f"{engine:<11} {label:<34} {seconds:7.2f} {cpu:7.2f} {rss:13.1f} {heap_text}")


if __name__ == "__main__":
    main()
