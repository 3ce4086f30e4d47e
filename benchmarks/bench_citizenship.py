"""API citizenship (issue #16): the first apply's Jira writes and watcher emails per flavour, full and quiet
syncs against their minimum, a sync after a burst 429 against the same sync without it, and GitHub's first
labelling of a 50,000-issue org under the real-size secondary limits over successive runs.

`python -m benchmarks.bench_citizenship` prints the tables of every "Must show" figure in one run:
  --sizes 1000,10000,50000   the 0 ms rows (Jira Cloud at each size; Data Center at --server-sizes)
  --slow-size 50000          the 50 ms rows (full syncs and the burst pair, both flavours; no apply)
  --labelling 50000          the GitHub labelling case (0 = skip)
Each case runs in a fresh process against one sandbox per row (benchmarks/bench_sync.py does the plumbing);
wall times are medians of --repeat runs of a case (the 0 ms first full sync runs once).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.bench_sync import measure, mutate, start
from connector.sandbox.github_limits import REAL_SIZE, ContentLimits
from connector.sandbox.jira_bulk import citizenship

BURST = {"kind": "status", "status": 429, "times": 1,
         "headers": {"Retry-After": "1", "RateLimit-Reason": "jira-burst-based"},
         "body": {"errorMessages": ["Rate limit exceeded."], "errors": {}}}
GITHUB_LIMIT, BUDGET_SHARE = 5000, 0.8  # GitHub's primary limit an hour; the demo config's budget_share


def _ints(text: str) -> list[int]:
    return [int(p.strip().replace("_", "")) for p in text.split(",") if p.strip()]


def _count(sb, method: str, needle: str) -> int:
    return sum(1 for r in sb.log if r.method == method and needle in r.path)


def _total(row) -> int:
    return row.jira.total + row.github.total


def _median(rows) -> float:
    return round(statistics.median(r.seconds for r in rows), 2)


def _cold(setup, repeat: int) -> list:
    """The first full sync on an empty store, `repeat` times (each on a new empty store)."""
    rows = []
    for _ in range(repeat):
        for stale in setup.folder.glob("plansync.db*"):
            stale.unlink()
        rows.append(measure(setup, "full sync", {"case": "sync"}))
    return rows


def citizenship_row(size: int, latency_ms: int, flavour: str, root: Path, *, apply: bool = True,
                    repeat: int = 3) -> dict:
    """One sandbox's figures. Request counts are exact (the same every time); each wall time is the median
    of `repeat` runs of its case (this machine's load moves single runs by 30 % or more), and a ratio
    is of the two medians."""
    setup = start(size, latency_ms, flavour, root)
    sb = setup.sandbox
    try:
        jira_min, github_min = setup.minimum
        scopes = len(setup.jira_scopes) + len(setup.github_repos)
        colds = _cold(setup, repeat if latency_ms else 1)
        cold = colds[-1]
        search = r"^/jira/rest/api/3/search/jql$" if flavour == "cloud" else r"^/jira-server/rest/api/2/search$"
        warms, warms_429 = [], []
        for _ in range(repeat):
            sb.clock.advance(minutes=10)
            setup.env["PLANSYNC_NOW"] = sb.clock.now().isoformat()
            warms.append(measure(setup, "census, metadata cached", {"case": "sync", "kwargs": {"full": True}}))
            sb.faults.add(**BURST, path=search)
            warms_429.append(measure(setup, "census after a burst 429", {"case": "sync", "kwargs": {"full": True}}))
        warm, census_s, census_429_s = warms[0], _median(warms), _median(warms_429)
        measure(setup, "incremental, first after full", {"case": "sync"})
        quiet = measure(setup, "incremental, nothing changed", {"case": "sync"})
        out = {
            "flavour": flavour, "size": size, "latency_ms": latency_ms, "scopes": scopes,
            "minimum": jira_min + github_min, "target": round(1.02 * (jira_min + github_min) + scopes, 2),
            "full_cold": _total(cold), "full_warm": _total(warm), "full_s": _median(colds),
            "census_s": census_s, "census_429_s": census_429_s,
            "census_ratio_429": round(census_429_s / census_s, 2) if census_s else None,
            "census_extra_s": round(census_429_s - census_s, 2),
            "quiet": _total(quiet), "quiet_304": quiet.github.not_modified,
        }
        assert len({_total(r) for r in colds}) == 1 and len({_total(r) for r in warms}) == 1, "counts must repeat"
        if apply:
            row = measure(setup, "first apply", {"case": "apply", "kwargs": {"sync_first": False}})
            c = citizenship(sb)
            out.update(jira_bulk_posts=_count(sb, "POST", "/bulk/issues/fields"), jira_polls=_count(sb, "GET", "/bulk/queue/"),
                       jira_puts=_count(sb, "PUT", "/rest/api/"), github_writes=row.github.writes,
                       emails_jira=c.emails["cloud"] + c.emails["server"], emails_github=c.emails["github"],
                       apply_s=row.seconds, exit=row.exit_code)
        # an incremental sync with a burst 429 on its first search, against the same sync without it. The
        # sandbox clock stands still between changes, so a sync re-reads, through its 5-minute overlap, what
        # changed at the previous cursor (the apply's own edits, the previous 1 %): one warm-up sync first,
        # then each of a pair reads the same 2 % (the previous change and its own)
        mutate(setup, seed=9)
        measure(setup, "incremental, warm-up", {"case": "sync"})
        plains, bursts, hits = [], [], 0
        for n in range(repeat):
            mutate(setup, seed=100 + n)
            plains.append(measure(setup, "incremental", {"case": "sync"}))
            mutate(setup, seed=200 + n)
            sb.faults.add(**BURST, path=search)
            bursts.append(measure(setup, "incremental after a burst 429", {"case": "sync"}))
            hits += sum(r.status == 429 for r in sb.log)
        sync_s, sync_429_s = _median(plains), _median(bursts)
        out.update(sync_s=sync_s, sync_429_s=sync_429_s, burst_hits=hits,
                   ratio_429=round(sync_429_s / sync_s, 2) if sync_s else None,
                   extra_429_s=round(sync_429_s - sync_s, 2))
        return out
    finally:
        sb.stop()


def labelling(size: int, root: Path, runs: int = 20) -> dict:
    """GitHub's first labelling with the real-size limits: 5,000 requests an hour (the sandbox's primary
    limit), 80 content writes a minute and 500 an hour (enforced by the sandbox on its clock, and
    configured in plansync as on real GitHub), the sandbox clock advanced 61 minutes between runs."""
    setup = start(size, 0, "cloud", root / "labelling")
    sb = setup.sandbox
    sb.github_rate_limit = GITHUB_LIMIT
    sb.github_content_limits = ContentLimits(REAL_SIZE)
    text = setup.config.read_text()
    for old, new in (("write_interval = 0.0", "write_interval = 1.0"), ("writes_per_minute = 0", "writes_per_minute = 80"),
                     ("writes_per_hour = 0 ", "writes_per_hour = 500 ")):
        text = text.replace(old, new, 1)
    setup.config.write_text(text)
    control = sb.url + "/_sandbox"
    setup.folder.mkdir(parents=True, exist_ok=True)
    metrics = setup.folder / "labelling.prom"
    per_run, written = [], []
    try:
        measure(setup, "full sync", {"case": "sync"})
        for n in range(runs):
            setup.env["PLANSYNC_NOW"] = sb.clock.now().isoformat()
            row = measure(setup, "apply", {"case": "apply", "virtual_clock": control,
                                           "kwargs": {"metrics_file": str(metrics)}})
            github = [r for r in sb.log if r.flavour == "github"]
            writes = [r for r in github if r.method in ("POST", "DELETE") and "/labels" in r.path]
            stamps = sorted(r.at for r in writes)
            per_minute = max((sum(1 for t in stamps[i:] if t < s + 60) for i, s in enumerate(stamps)), default=0)
            found = metrics.exists() and re.search(r'plansync_writes_deferred\{tracker="github"\} ([0-9.]+)',
                                                   metrics.read_text())
            deferred = int(float(found.group(1))) if found else -1
            written += [r.path for r in writes if r.method == "POST"]
            per_run.append({"exit": row.exit_code, "writes": len(writes), "requests": len(github), "max_per_minute": per_minute,
                            "refused": sum(r.status in (403, 429) for r in github), "deferred": deferred,
                            "within_budget_share": len(github) <= BUDGET_SHARE * GITHUB_LIMIT})
            if n == 0:  # the report's freshness section shows the progress
                measure(setup, "report", {"case": "report"})
                texts = [p.read_text() for p in (setup.folder / "reports").rglob("*.md")]
                per_run[0]["report_shows"] = any(f"github: {deferred} label change(s) deferred" in t for t in texts)
            if deferred <= 0:
                break
            sb.clock.advance(minutes=61)
    finally:
        sb.stop()
    return {"runs": per_run, "items": len(set(written)), "duplicates": len(written) - len(set(written)),
            "refused_by_sandbox": sb.github_content_limits.refused}


def _table(rows: list[dict], cols: list[str]) -> list[str]:
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        lines.append("| " + " | ".join(f"{row[c]:.2f}" if isinstance(row.get(c), float) else str(row.get(c, ""))
                                       for c in cols) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_ints, default=[1_000, 10_000, 50_000])
    parser.add_argument("--server-sizes", type=_ints, default=[1_000, 10_000])
    parser.add_argument("--slow-size", type=int, default=50_000, help="0 skips the 50 ms rows")
    parser.add_argument("--latency", type=int, default=50)
    parser.add_argument("--labelling", type=int, default=50_000, help="0 skips the GitHub labelling case")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timed case; its median is shown")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="plansync-bench-") as tmp:
        root = Path(tmp)
        rows = [citizenship_row(size, 0, "cloud", root, repeat=args.repeat) for size in args.sizes]
        rows += [citizenship_row(size, 0, "server", root, repeat=args.repeat) for size in args.server_sizes]
        if args.slow_size:
            rows += [citizenship_row(args.slow_size, args.latency, flavour, root, apply=False, repeat=args.repeat)
                     for flavour in ("cloud", "server")]
        label = labelling(args.labelling, root) if args.labelling else None
    out = _table(rows, ["flavour", "size", "latency_ms", "full_cold", "full_warm", "minimum", "scopes", "target", "full_s",
                        "quiet", "quiet_304", "census_s", "census_429_s", "census_ratio_429", "census_extra_s", "jira_bulk_posts", "jira_polls", "jira_puts", "github_writes",
                        "emails_jira", "emails_github", "apply_s", "sync_s", "sync_429_s", "ratio_429", "extra_429_s", "burst_hits",
                        "exit"])
    if label:
        out += ["", f"GitHub first labelling at {args.labelling:,} issues: {len(label['runs'])} runs, {label['items']:,} "
                f"items labelled, {label['duplicates']} duplicate writes, {label['refused_by_sandbox']} writes refused "
                "by the sandbox's limits", ""]
        out += _table([{"run": n + 1, **r} for n, r in enumerate(label["runs"])],
                      ["run", "exit", "writes", "requests", "within_budget_share", "max_per_minute", "refused",
                       "deferred", "report_shows"])
    print("\n".join(out))
    print(f"({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
