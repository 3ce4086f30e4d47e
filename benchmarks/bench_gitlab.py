"""GitLab sync cost on the sandbox: plansync's full pull vs ceil(N/100) and vs the naive python-gitlab way
(`project.issues.list(get_all=True)` with the library's defaults), then the quiet and a busy incremental.

Run alone: `python -m benchmarks.bench_gitlab [--issues 10000]`; prints a table (requests as the sandbox
counted them; wall seconds of each step in this process).
"""

from __future__ import annotations

import argparse
import math
import os
import time

import gitlab

from connector.http import RetryPolicy
from connector.sandbox import GITLAB_TOKEN, Sandbox
from connector.sandbox.gitlab_state import PROJECTS, build_gitlab
from connector.trackers.gitlab.adapter import GitlabAdapter
from connector.trackers.gitlab.config import GitlabTrackerSettings
from connector.trackers.gitlab.mapping import load_gitlab_mapping
from connector.trackers.gitlab.scopes import GitlabScope
from connector.values import PullSpec

PROJECT = PROJECTS[0][0]
TOKEN_ENV = "PLANSYNC_BENCH_GITLAB_TOKEN"


def _adapter(sb) -> GitlabAdapter:
    os.environ[TOKEN_ENV] = GITLAB_TOKEN
    tracker = GitlabTrackerSettings(kind="gitlab", url=sb.gitlab_url, token_env=TOKEN_ENV)
    tracker._name = "gitlab"
    return GitlabAdapter(tracker, load_gitlab_mapping(), policy=RetryPolicy(attempts=3))


def _step(sb, name: str, fn) -> dict:
    sb.reset_counts()
    started = time.perf_counter()
    detail = fn()
    return {"case": name, "requests": sb.count(), "wall_s": round(time.perf_counter() - started, 2), **detail}


def run(issues: int = 10_000, changes: int = 50, seed: int = 1) -> tuple[int, list[dict]]:
    """The rows of the table for a project of about `issues` issues; returns (N, rows)."""
    sb = Sandbox(seed=seed, scale=300)
    sb.gitlab = build_gitlab(seed, 300, sb.clock.ts(), sb.state.people, sb.state.lock,
                             issues=math.ceil(issues / PROJECTS[0][2]))
    sb.gitlab.rate_limit = 10 ** 9  # the benchmark measures requests, not GitLab's per-minute limit
    sb.start()
    try:
        n = sum(1 for i in sb.gitlab.issues.values() if i.project == PROJECT and not i.deleted)
        scopes = (GitlabScope(tracker="gitlab", project=PROJECT),)
        state: dict = {}

        def full():
            result = _adapter(sb).pull(PullSpec(scopes=scopes, cursors={}, full=True))
            state["cursors"] = {s.scope_id: s.cursor for s in result.scopes}
            return {"items": len(result.all_items()), "minimum": math.ceil(n / 100) + 1}

        def naive():
            client = gitlab.Gitlab(sb.gitlab_url, private_token=GITLAB_TOKEN)
            listed = client.projects.get(PROJECT).issues.list(get_all=True)
            return {"items": len(listed), "minimum": math.ceil(n / 100) + 1}

        def quiet():
            sb.clock.advance(hours=1)
            result = _adapter(sb).pull(PullSpec(scopes=scopes, cursors=state["cursors"]))
            return {"items": len(result.all_items()), "minimum": 1}

        def busy():
            opened = sorted((i for i in sb.gitlab.issues.values() if i.project == PROJECT and i.state == "opened"
                             and not i.deleted), key=lambda i: i.id)[:changes]
            sb.clock.advance(hours=1)
            for i in opened:
                sb.gitlab.update(PROJECT, i.iid, sb.clock.ts(), title=i.title + " (edited)")
            result = _adapter(sb).pull(PullSpec(scopes=scopes, cursors=state["cursors"]))
            return {"items": len(result.all_items()), "minimum": math.ceil(changes / 100) + 1}

        rows = [_step(sb, "plansync full sync (keyset, per_page=100)", full),
                _step(sb, "naive python-gitlab list(get_all=True)", naive),
                _step(sb, "plansync incremental, nothing changed", quiet),
                _step(sb, f"plansync incremental, {changes} issues changed", busy)]
        return n, rows
    finally:
        sb.stop()


def render(n: int, rows: list[dict]) -> str:
    lines = [f"GitLab sync on the sandbox, project {PROJECT} with N = {n:,} issues (ceil(N/100) = {math.ceil(n / 100)})",
             "", f"| {'case':<46} | requests | minimum | items | wall s |", f"|{'-' * 48}|---------:|--------:|------:|-------:|"]
    lines += [f"| {r['case']:<46} | {r['requests']:>8,} | {r['minimum']:>7,} | {r['items']:>5,} | {r['wall_s']:>6} |"
              for r in rows]
    lines += ["", "minimum: ceil(N/100) issue pages + 1 milestone page for a full pull; 1 request for a quiet "
              "incremental (milestones only when something changed)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_gitlab", description=__doc__)
    ap.add_argument("--issues", type=int, default=10_000)
    ap.add_argument("--changes", type=int, default=50)
    args = ap.parse_args(argv)
    print(render(*run(args.issues, args.changes)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
