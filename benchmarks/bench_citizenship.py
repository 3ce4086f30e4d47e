"""API citizenship (issue #16): the first apply's Jira writes and watcher emails per flavour, the full sync
against its minimum, and a sync after a burst 429 against the same sync without it.

`python -m benchmarks.bench_citizenship [--size N] [--latency MS]` prints one table; each case runs in a
fresh process against one sandbox per flavour (benchmarks/bench_sync.py does the plumbing).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.bench_sync import measure, mutate, start
from connector.sandbox.jira_bulk import citizenship

BURST = {"kind": "status", "status": 429, "times": 1,
         "headers": {"Retry-After": "1", "RateLimit-Reason": "jira-burst-based"},
         "body": {"errorMessages": ["Rate limit exceeded."], "errors": {}}}


def _count(sb, method: str, needle: str) -> int:
    return sum(1 for r in sb.log if r.method == method and needle in r.path)


def first_apply(size: int, latency_ms: int, flavour: str, root: Path) -> dict:
    setup = start(size, latency_ms, flavour, root)
    sb = setup.sandbox
    try:
        full = measure(setup, "full sync", {"case": "sync"})
        jira_min, github_min = setup.minimum
        scopes = len(setup.jira_scopes) + len(setup.github_repos)
        row = measure(setup, "first apply", {"case": "apply", "kwargs": {"sync_first": False}})
        c = citizenship(sb)
        out = {
            "flavour": flavour, "size": size, "latency_ms": latency_ms,
            "full_sync_requests": full.jira.total + full.github.total, "minimum": jira_min + github_min,
            "scopes": scopes, "full_sync_s": full.seconds,
            "jira_bulk_posts": _count(sb, "POST", "/bulk/issues/fields"),
            "jira_polls": _count(sb, "GET", "/bulk/queue/"),
            "jira_puts": _count(sb, "PUT", "/rest/api/"),
            "github_writes": row.github.writes,
            "emails_jira": c.emails["cloud"] + c.emails["server"], "emails_github": c.emails["github"],
            "apply_s": row.seconds, "exit": row.exit_code,
        }
        # an incremental sync with a burst 429 on its first search, against the same sync without it
        mutate(setup)
        plain = measure(setup, "incremental", {"case": "sync"})
        mutate(setup, seed=8)
        search = r"^/jira/rest/api/3/search/jql$" if flavour == "cloud" else r"^/jira-server/rest/api/2/search$"
        sb.faults.add(**BURST, path=search)
        burst = measure(setup, "incremental after a burst 429", {"case": "sync"})
        out.update(sync_s=plain.seconds, sync_429_s=burst.seconds,
                   burst_hits=sum(r.status == 429 for r in sb.log))
        return out
    finally:
        sb.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--latency", type=int, default=0)
    parser.add_argument("--flavours", default="cloud,server", help="Jira flavours, comma-separated")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="plansync-bench-") as tmp:
        rows = [first_apply(args.size, args.latency, flavour, Path(tmp)) for flavour in args.flavours.split(",")]
    cols = ["flavour", "size", "latency_ms", "full_sync_requests", "minimum", "scopes", "jira_bulk_posts",
            "jira_polls", "jira_puts", "github_writes", "emails_jira", "emails_github", "apply_s", "sync_s",
            "sync_429_s", "burst_hits", "exit"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        print("| " + " | ".join(f"{row[c]:.2f}" if isinstance(row[c], float) else str(row[c]) for c in cols) + " |")
    print(f"({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
