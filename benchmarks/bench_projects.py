"""Projects v2 pull cost on the sandbox: a project of N issues read through GraphQL (requests and points)
against the physical minimum of ceil(N/100) pages, the quiet incremental, an incremental after one edit,
and, for comparison, the REST listing of the repository that holds the same issues.

Run alone: `python -m benchmarks.bench_projects [--items 10000]`; prints a table (requests as the sandbox
counted them, GraphQL points as its `rateLimit.cost` charged them; wall seconds of each step here).
"""

from __future__ import annotations

import argparse
import math
import os
import time

from connector.http import RetryPolicy
from connector.sandbox import GITHUB_TOKEN, Sandbox
from connector.sandbox import github_graphql as gq
from connector.trackers.github.adapter import GithubAdapter
from connector.trackers.github.config import GithubTrackerSettings
from connector.trackers.github.mapping import load_github_mapping
from connector.trackers.github.scopes import GithubScope
from connector.values import PullSpec

TOKEN_ENV = "PLANSYNC_BENCH_GITHUB_TOKEN"
REPO = "acme/roadmap-bench"


def _adapter(sb) -> GithubAdapter:
    os.environ[TOKEN_ENV] = GITHUB_TOKEN
    tracker = GithubTrackerSettings(kind="github", url=sb.github_url, token_env=TOKEN_ENV,
                                    project_fields={"due": "Iteration", "status": "Status"})
    tracker._name = "github"
    return GithubAdapter(tracker, load_github_mapping(), policy=RetryPolicy(attempts=3))


def _populate(sb, items: int) -> gq.Project:
    """A repository with `items` issues, all of them in project acme/42 with an iteration and a status."""
    from connector.sandbox.state import GithubIssue

    st, now = sb.state, sb.clock.ts()
    st.repos[REPO] = {"id": 990_001, "name": REPO.split("/")[1], "milestones": {}, "labels": {}}
    st.gh_issues[REPO] = {}
    today = sb.clock.now().date()
    project = gq.add_project(sb, "acme", 42, "Bench roadmap", [
        {"name": "Status", "type": "SINGLE_SELECT", "options": ["Todo", "In Progress", "Blocked", "Done"]},
        {"name": "Iteration", "type": "ITERATION", "iterations": [("Sprint 1", today, 14)]}])
    for number in range(1, items + 1):
        st.gh_issues[REPO][number] = GithubIssue(id=st.next_gh_id, repo=REPO, number=number, title=f"Issue {number}",
                                                 body="", user=0, state="open", created_at=now - items + number,
                                                 updated_at=now - items + number)
        st.next_gh_id += 1
        item = gq.Item(f"PVTI_bench{number:07d}", (REPO, number), updated_at=now,
                       values={"iteration": "Sprint 1", "status": "Todo" if number % 10 else "In Progress"})
        project.items.append(item)
    st.bump()
    return project


def _step(sb, adapter, name: str, fn) -> dict:
    sb.reset_counts()
    points_before = adapter.stats.points
    started = time.perf_counter()
    detail = fn()
    return {"case": name, "requests": sb.count(), "points": adapter.stats.points - points_before,
            "wall_s": round(time.perf_counter() - started, 2), **detail}


def run(items: int = 10_000, seed: int = 1) -> tuple[int, list[dict]]:
    sb = Sandbox(seed=seed, scale=300, github_rate_limit=10 ** 9)
    _populate(sb, items)
    sb.start()
    try:
        project_scope = (GithubScope(tracker="github", project="acme/42"),)
        repo_scope = (GithubScope(tracker="github", repo=REPO),)
        pages = math.ceil(items / 100)
        state: dict = {}
        adapter = _adapter(sb)

        def full():
            result = adapter.pull(PullSpec(scopes=project_scope, cursors={}, full=True))
            state["cursors"] = {s.scope_id: s.cursor for s in result.scopes}
            return {"items": len(result.all_items()), "minimum": pages}

        def quiet():
            sb.clock.advance(minutes=10)
            result = adapter.pull(PullSpec(scopes=project_scope, cursors=state["cursors"]))
            return {"items": len(result.all_items()), "minimum": 1}

        def one_edit():
            sb.clock.advance(minutes=10)
            sb.update_github_issue(REPO, 1, title="Issue 1 (edited)")
            result = adapter.pull(PullSpec(scopes=project_scope, cursors=state["cursors"]))
            # the items cannot be listed by update time: after a change the API allows no less than a re-read
            return {"items": len(result.all_items()), "minimum": 1 + pages}

        def rest():
            rest_adapter = _adapter(sb)
            result = rest_adapter.pull(PullSpec(scopes=repo_scope, cursors={}, full=True))
            return {"items": len(result.all_items()), "minimum": pages}

        rows = [_step(sb, adapter, "project full read (census)", full),
                _step(sb, adapter, "project incremental, nothing changed", quiet),
                _step(sb, adapter, "project incremental, 1 issue edited", one_edit),
                _step(sb, adapter, "REST listing of the same issues' repository", rest)]
        return items, rows
    finally:
        sb.stop()


def render(n: int, rows: list[dict]) -> str:
    pages = math.ceil(n / 100)
    lines = [f"Projects v2 pull on the sandbox, project acme/42 with N = {n:,} issues (ceil(N/100) = {pages})", "",
             f"| {'case':<46} | requests | points | minimum | items | wall s |",
             f"|{'-' * 48}|---------:|-------:|--------:|------:|-------:|"]
    lines += [f"| {r['case']:<46} | {r['requests']:>8,} | {r['points']:>6,} | {r['minimum']:>7,} | {r['items']:>5,} "
              f"| {r['wall_s']:>6} |" for r in rows]
    lines += ["", "requests: HTTP requests the sandbox served; points: GraphQL `rateLimit.cost` charged (GitHub's "
              "rule); minimum: ceil(N/100) pages for a whole read, 1 request to learn nothing changed, the check plus a "
              "whole read after a change (the items list has no update-time order or filter). "
              "A whole read is 1 header query (1 point) + ceil(N/100) item pages (2 points each: labels and "
              "assignees connections). REST requests spend the separate REST budget, not points."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_projects", description=__doc__)
    ap.add_argument("--items", type=int, default=10_000)
    args = ap.parse_args(argv)
    print(render(*run(args.items)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
