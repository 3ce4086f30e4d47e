"""`python -m benchmarks` (`make bench`): every size x latency against the sandbox, one table, JSON results.

`--quick`: 1,000 and 10,000 issues at 0 ms only. Results: benchmarks/results/latest.json (+ latest.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.accounting import render_table
from benchmarks.bench_sync import CASES, SLOW_ONLY, bench, bench_reconcile

RESULTS = Path(__file__).resolve().parent / "results"
log = logging.getLogger("benchmarks")
LEGEND = ("r/304/w = reads / 304 Not Modified / writes as the sandbox counted them; minimum = ceil(N/100) list "
          "requests per Jira scope or GitHub repo; wall s = the case's work in a fresh process (imports excluded); "
          "peak MiB = that process's peak RSS.")


def _ints(text: str) -> list[int]:
    return [int(part.strip().replace("_", "")) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="1,000 and 10,000 issues at 0 ms only")
    ap.add_argument("--sizes", type=_ints, default=None, help="issue counts, e.g. 1000,10000,50000")
    ap.add_argument("--latency", type=_ints, default=None, help="round-trip latencies in ms, e.g. 0,50")
    ap.add_argument("--flavour", choices=("cloud", "server"), default="cloud", help="Jira flavour")
    ap.add_argument("--slow-subset-from", type=int, default=50_000,
                    help="at this size and any latency > 0 run only: " + ", ".join(SLOW_ONLY).replace("%", "%%"))
    ap.add_argument("--cases", type=lambda text: [c.strip() for c in text.split(";") if c.strip()], default=None,
                    help="only these cases (separated by ';') of: " + "; ".join(CASES).replace("%", "%%"))
    ap.add_argument("--reconcile-items", type=int, default=100_000, help="0 skips the reconcile-only row")
    ap.add_argument("--work-dir", type=Path, default=None, help="where stores and logs go (default: a temp dir)")
    ap.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = ap.parse_args(argv)
    if args.sizes is None:
        args.sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 50_000]
    unknown = sorted(set(args.cases or ()) - set(CASES))
    if unknown:
        ap.error(f"unknown case(s) {unknown}; known: {'; '.join(CASES)}")
    if args.latency is None:
        args.latency = [0] if args.quick else [0, 50]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    root = args.work_dir or Path(tempfile.mkdtemp(prefix="plansync-bench-"))
    log.info("work dir %s", root)
    started = time.perf_counter()
    rows = []
    for latency in args.latency:
        for size in args.sizes:
            cases = SLOW_ONLY if latency > 0 and size >= args.slow_subset_from else CASES
            if args.cases:
                cases = tuple(c for c in cases if c in args.cases)
            rows += bench(size, latency, flavour=args.flavour, root=root, cases=cases)
    if args.reconcile_items:
        rows.append(bench_reconcile(args.reconcile_items, root))
    table = render_table(rows)
    print(f"plansync benchmark: Jira {args.flavour} + GitHub sandbox on loopback, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {time.perf_counter() - started:.0f} s in all")
    print(LEGEND)
    print(table)
    meta = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "cores": os.cpu_count(),
            "python": platform.python_version(), "machine": platform.machine(), "flavour": args.flavour,
            "sizes": args.sizes, "latency_ms": args.latency, "argv": sys.argv[1:],
            "seconds": round(time.perf_counter() - started, 1)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "rows": [r.as_dict() for r in rows]}, indent=2))
    args.out.with_suffix(".md").write_text(
        f"Run {meta['when']} on {meta['cores']} cores ({meta['machine']}), Python {meta['python']}, Jira "
        f"{args.flavour}, `python -m benchmarks {' '.join(meta['argv'])}`, {meta['seconds']:.0f} s in all.\n\n"
        + LEGEND + "\n\n" + render_table(rows, markdown=True) + "\n")
    log.info("results: %s", args.out)
    return 1 if any(r.exit_code for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
