"""Sandbox benchmark: startup time at scale 100,000 and the latency of full 100-issue pages per flavour.

Run alone: `python benchmarks/bench_sandbox.py [--scale N] [--requests N]`; prints a table.
"""

from __future__ import annotations

import argparse
import statistics
import time

import requests

from connector.sandbox import GITHUB_TOKEN, JIRA_EMAIL, JIRA_PAT, JIRA_TOKEN, Sandbox


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=50)
    args = ap.parse_args()

    t = time.perf_counter()
    sb = Sandbox(seed=1, scale=args.scale)
    generate = time.perf_counter() - t
    t = time.perf_counter()
    sb.start()
    listen = time.perf_counter() - t
    rows = [("startup: generate", f"{generate * 1000:.0f} ms", "", ""),
            ("startup: listen", f"{listen * 1000:.1f} ms", "", "")]
    try:
        jira = requests.Session()
        jira.auth = (JIRA_EMAIL, JIRA_TOKEN)
        server = requests.Session()
        server.headers["Authorization"] = f"Bearer {JIRA_PAT}"
        gh = requests.Session()
        gh.headers["Authorization"] = f"token {GITHUB_TOKEN}"
        jql = "project = CHK ORDER BY updated DESC"
        first = jira.get(sb.jira_url + "/rest/api/3/search/jql",
                         params={"jql": jql, "fields": "*all", "maxResults": 100}).json()
        token = first["nextPageToken"]
        cases = {
            "jira cloud  /search/jql (page 2, *all)": lambda: jira.get(
                sb.jira_url + "/rest/api/3/search/jql",
                params={"jql": jql, "fields": "*all", "maxResults": 100, "nextPageToken": token}),
            "jira server /search (startAt=100)": lambda: server.get(
                sb.jira_server_url + "/rest/api/2/search", params={"jql": jql, "startAt": 100, "maxResults": 100}),
            "github      /issues (page 2)": lambda: gh.get(
                sb.github_url + "/repos/acme/checkout-web/issues",
                params={"state": "all", "per_page": 100, "page": 2, "sort": "updated"}),
        }
        for name, fn in cases.items():
            resp = fn()
            assert resp.status_code == 200, (name, resp.status_code, resp.text[:200])
            samples = timed(fn, args.requests)
            p95 = statistics.quantiles(samples, n=20)[-1]
            rows.append((name, f"{statistics.median(samples):.1f} ms", f"{p95:.1f} ms", f"{len(resp.content) // 1024} KiB"))
        cold = timed(lambda: jira.get(sb.jira_url + "/rest/api/3/search/jql",
                                      params={"jql": f"project = PAY AND updated >= -{7}d", "fields": "id"}), 1)
        rows.append(("jira cloud  first JQL evaluation (cold)", f"{cold[0]:.1f} ms", "", ""))
    finally:
        sb.stop()
    total = len(sb.state.jira_issues) + sum(len(r) for r in sb.state.gh_issues.values())
    print(f"plansync sandbox benchmark: scale {args.scale} ({total} issues), {args.requests} requests per case")
    print(f"{'case':44} {'median':>10} {'p95':>10} {'body':>8}")
    for name, med, p95, size in rows:
        print(f"{name:44} {med:>10} {p95:>10} {size:>8}")


if __name__ == "__main__":
    main()
