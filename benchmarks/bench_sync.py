"""The sync/apply/report/run cases against one sandbox per (size, latency), each case in a fresh process.

The sandbox runs in this process; the case runs in a child (benchmarks/child.py), so the sandbox's own
memory and CPU are never charged to plansync, and the sandbox's counters give the API cost exactly.
"""

from __future__ import annotations

import json
import logging
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from benchmarks.accounting import Row, Tally, pages, tally
from connector.sandbox import demo

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parent.parent
SEED = 7
CHANGE_SHARE = 0.01
TOUCH_LABEL = "bench-touched"
GITHUB_RATE_LIMIT = 10_000_000
# the cases in the order they run on one store; each leaves the store as the next one expects
CASES = ("full sync", "incremental, first after full", "incremental, nothing changed", "incremental, 1% changed",
         "first apply", "second apply", "report", "run --full", "naive github", "naive jira")
# the 50k x 50 ms subset; without the apply cases before it, its `run --full` labels everything
SLOW_ONLY = ("full sync", "run --full", "naive github", "naive jira")


@dataclass
class Setup:
    size: int
    latency_ms: int
    flavour: str
    folder: Path
    sandbox: object
    config: Path
    plan: Path
    env: dict
    jira_scopes: dict[str, int] = field(default_factory=dict)  # JQL -> issues matching
    github_repos: dict[str, int] = field(default_factory=dict)  # repo -> issues and PRs listed

    @property
    def minimum(self) -> tuple[int, int]:
        """Physical minimum of a full pull per tracker: ceil(N/100) list requests per scope / repo."""
        return (sum(pages(n) for n in self.jira_scopes.values()),
                sum(pages(n) for n in self.github_repos.values()))


def start(size: int, latency_ms: int, flavour: str, root: Path) -> Setup:
    """A sandbox of `size` issues, and the demo's config and plan written for it in a fresh folder."""
    from connector.run import load_inputs
    from connector.sandbox import Sandbox

    folder = root / f"{size}-{latency_ms}ms-{flavour}"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("plansync.db*"):
        stale.unlink()
    # GitHub's real 5,000 requests/hour would stop a 50,000-issue first apply part-way (plansync then
    # stops cleanly and continues next hour); the benchmark measures cost, so the sandbox does not limit
    sandbox = Sandbox(seed=SEED, scale=size, latency_ms=latency_ms, now=demo.DEMO_START,
                      github_rate_limit=GITHUB_RATE_LIMIT)
    sandbox.start()
    config = demo.write_config(folder, sandbox, flavour=flavour)
    plan = demo.write_plan(folder, sandbox.org)
    env = demo.sandbox_env(sandbox.clock.now())
    setup = Setup(size, latency_ms, flavour, folder, sandbox, config, plan, env)
    _, _, declared = load_inputs(config, plan)
    for scope in declared.all_scopes():
        # scopes are per-kind classes since the registry: only a Jira scope has `jql`, a GitHub one `repo`
        if getattr(scope, "jql", None) is not None:
            setup.jira_scopes[scope.jql] = _jira_count(sandbox, scope.jql)
        elif getattr(scope, "repo", None) is not None:
            setup.github_repos[scope.repo] = _github_count(sandbox, scope.repo)
    sandbox.reset_counts()
    return setup


def _jira_count(sandbox, jql: str) -> int:
    from connector.sandbox import JIRA_EMAIL, JIRA_TOKEN

    reply = requests.post(sandbox.jira_url + "/rest/api/3/search/approximate-count", json={"jql": jql},
                          auth=(JIRA_EMAIL, JIRA_TOKEN), timeout=60)
    reply.raise_for_status()
    return int(reply.json()["count"])


def _github_count(sandbox, repo: str) -> int:
    """What `GET /repos/{repo}/issues?state=all` lists: issues and pull requests, not deleted or moved."""
    with sandbox.state.lock:
        return sum(1 for i in sandbox.state.gh_issues[repo].values() if not i.deleted and not i.transferred_to)


def mutate(setup: Setup, share: float = CHANGE_SHARE, seed: int = SEED) -> tuple[int, int]:
    """Ten minutes later, a user adds a label to `share` of the issues in each tracker."""
    sb = setup.sandbox
    rng = random.Random(seed)
    sb.clock.advance(minutes=10)
    setup.env["PLANSYNC_NOW"] = sb.clock.now().isoformat()
    with sb.state.lock:
        jira = sorted(i.key for i in sb.state.jira_issues.values() if not i.deleted)
        github = sorted((repo, n) for repo, issues in sb.state.gh_issues.items() for n, i in issues.items()
                        if not i.deleted and not i.transferred_to and not i.is_pr)
    jira_sample = rng.sample(jira, max(1, round(share * len(jira))))
    github_sample = rng.sample(github, max(1, round(share * len(github))))
    for key in jira_sample:
        sb.update_jira_issue(key, labels=[*sb.jira_issue(key).labels, TOUCH_LABEL])
    for repo, number in github_sample:
        sb.update_github_issue(repo, number, labels=[*sb.github_issue(repo, number).labels, TOUCH_LABEL])
    return len(jira_sample), len(github_sample)


def run_child(setup: Setup, spec: dict, *, timeout: float = 3600) -> dict:
    """Run one case in a fresh interpreter; its output goes to a log file next to the store."""
    spec = {**spec, "dir": str(setup.folder), "env": setup.env, "config": str(setup.config),
            "plan": str(setup.plan)}
    slug = spec["case"] + "-" + str(len(list(setup.folder.glob("case-*.json"))))
    spec_path = setup.folder / f"case-{slug}.json"
    spec["out"] = str(setup.folder / f"result-{slug}.json")
    spec_path.write_text(json.dumps(spec))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with open(setup.folder / f"case-{slug}.log", "w") as out:
        subprocess.run([sys.executable, "-m", "benchmarks.child", str(spec_path)], cwd=REPO, env=env,
                       stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False)
    try:
        return json.loads(Path(spec["out"]).read_text())
    except FileNotFoundError:
        return {"exit_code": -1, "seconds": None, "peak_rss_mib": None}


def measure(setup: Setup, case: str, spec: dict, *, minimum: int | None = None, note: str = "") -> Row:
    """One case: counters reset, child run, the sandbox's request log tallied per tracker."""
    setup.sandbox.reset_counts()
    result = run_child(setup, spec)
    tallied = tally(setup.sandbox.log)
    row = Row(setup.size, setup.latency_ms, case, jira=tallied["jira"], github=tallied["github"],
              seconds=result["seconds"], peak_rss_mib=result["peak_rss_mib"], minimum=minimum,
              exit_code=result["exit_code"], note=note, setup_seconds=result.get("setup_seconds"))
    if row.exit_code:
        row.note = (row.note + f"; exit {row.exit_code}").lstrip("; ")
    log.info("%s", row.as_dict())
    return row


def _naive_specs(setup: Setup) -> dict[str, dict]:
    from connector.sandbox import JIRA_EMAIL

    jira_url = setup.sandbox.jira_url if setup.flavour == "cloud" else setup.sandbox.jira_server_url
    return {
        "naive github": {"case": "naive-github", "url": setup.sandbox.github_url,
                         "token_env": demo.GITHUB_TOKEN_ENV, "repos": sorted(setup.github_repos)},
        "naive jira": {"case": "naive-jira", "url": jira_url, "email": JIRA_EMAIL,
                       "token_env": demo.JIRA_TOKEN_ENV, "jqls": list(setup.jira_scopes)},
    }


def bench(size: int, latency_ms: int, *, flavour: str = "cloud", root: Path, cases=CASES) -> list[Row]:
    """Every case in `cases` (in CASES order) on one fresh sandbox and store."""
    started = time.perf_counter()
    setup = start(size, latency_ms, flavour, root)
    rows: list[Row] = []
    jira_min, github_min = setup.minimum
    full_note = f"min = jira {jira_min} + github {github_min} list pages"
    specs = {
        "full sync": ({"case": "sync"}, jira_min + github_min, full_note),
        "incremental, first after full": ({"case": "sync"}, None, "stores the ETags"),
        "incremental, nothing changed": ({"case": "sync"}, None,
                                         f"{len(setup.jira_scopes)} jira scopes, {len(setup.github_repos)} repos"),
        "incremental, 1% changed": ({"case": "sync"}, None, ""),
        "first apply": ({"case": "apply", "kwargs": {"sync_first": False}}, None, "labels everything once"),
        "second apply": ({"case": "apply", "kwargs": {"sync_first": False}}, None, "target: 0 writes"),
        "report": ({"case": "report"}, None, "md + html + json"),
        "run --full": ({"case": "run", "kwargs": {"full": True}}, jira_min + github_min,
                       "census sync + apply + report"),
    }
    naive = _naive_specs(setup)
    try:
        for case in CASES:
            if case not in cases:
                continue
            if case == "incremental, 1% changed":
                changed = mutate(setup)
                specs[case] = (specs[case][0], None, f"{changed[0]} jira + {changed[1]} github issues changed")
            if case in naive:
                minimum = jira_min if case == "naive jira" else github_min
                rows.append(measure(setup, case, naive[case], minimum=minimum,
                                    note="PyGithub defaults, 30/page" if case == "naive github"
                                    else "jira defaults, 50/page, *all"))
                continue
            spec, minimum, note = specs[case]
            if case == "run --full" and "first apply" not in cases:
                note = "first run on this store: census sync + labels everything + report"
            rows.append(measure(setup, case, spec, minimum=minimum, note=note))
    finally:
        setup.sandbox.stop()
    log.info("size %d at %d ms: %.0f s", size, latency_ms, time.perf_counter() - started)
    return rows


def bench_reconcile(items: int, root: Path) -> Row:
    """Reconcile alone over bench_reconcile.py's generated plan (second call timed, in a fresh process)."""
    folder = root / f"reconcile-{items}"
    folder.mkdir(parents=True, exist_ok=True)
    setup = Setup(items, 0, "-", folder, None, folder / "config.toml", folder / "plan.toml", {})
    result = run_child(setup, {"case": "reconcile", "items": items})
    return Row(items, 0, "reconcile only", jira=Tally(), github=Tally(), seconds=result["seconds"],
               peak_rss_mib=result["peak_rss_mib"], exit_code=result["exit_code"],
               note="benchmarks/bench_reconcile.py data; target < 2 s")
