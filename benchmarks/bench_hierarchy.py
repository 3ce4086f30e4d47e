"""Hierarchy and dependencies (issue #18): what a full sync costs once the organisation uses them.

One sandbox and store (`benchmarks/bench_sync.py` does the plumbing); every case is a census
(`sync --full`) of the demo plan, so each reads the same lists:
1. without: the organisation as generated (Jira epics as parents, no links, no GitHub relations);
2. for each density d: Jira Blocks links on d of the issues, GitHub sub-issues under 2 % of the open issues,
   d of the open GitHub issues blocked by an open issue, and one parent scope per tracker added to the plan.
Jira links cost nothing (they come in the search fields); each open GitHub issue with an open blocker costs
one `dependencies/blocked_by` read the first time (a later census reuses the stored blockers of an item whose
`updated_at` and open-blocker count are unchanged), and a GitHub parent scope one `sub_issues` read per parent
with children. Each density is measured twice: the first census after the relations appear, and the next.

`python -m benchmarks.bench_hierarchy [--size N] [--densities 0.0025,0.01]` prints one table.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

from benchmarks.bench_sync import SEED, measure, start
from connector.sandbox.hierarchy import add_blocked_by, add_sub_issue, link_jira_blocks

SUB_ISSUE_SHARE = 0.02  # open GitHub issues that become sub-issues
CHILDREN = 5  # sub-issues per parent


def _open_github(sb, repos) -> list:
    return sorted(((repo, n) for repo in repos for n, i in sb.state.gh_issues[repo].items()
                   if not i.deleted and not i.transferred_to and not i.is_pr and i.state == "open"))


class Relations:
    """Adds relations in one fixed random order, so a higher density extends a lower one exactly."""

    def __init__(self, sb, repos, rng: random.Random) -> None:
        self.sb = sb
        self.jira = sorted(i.key for i in sb.state.jira_issues.values() if not i.deleted and i.issuetype != "Epic")
        self.github = _open_github(sb, repos)
        self.jira_order, self.github_order = rng.sample(self.jira, len(self.jira)), rng.sample(self.github,
                                                                                                len(self.github))
        self.rng, self.links, self.blocked, self.parents = rng, 0, 0, 0

    def to(self, density: float) -> dict:
        ref = lambda pair: f"{pair[0]}#{pair[1]}"  # noqa: E731
        for key in self.jira_order[self.links:round(density * len(self.jira))]:
            link_jira_blocks(self.sb, self.rng.choice(self.jira), key)
            self.links += 1
        for pair in self.github_order[self.blocked:round(density * len(self.github))]:
            blocker = self.rng.choice([p for p in self.github_order[-50:] if p != pair])
            add_blocked_by(self.sb, ref(pair), ref(blocker))
            self.blocked += 1
        if not self.parents:  # sub-issues are free to read from the lists: one fixed share
            tree = self.github_order[len(self.github_order) // 2:]
            for n in range(0, round(SUB_ISSUE_SHARE * len(self.github)), CHILDREN + 1):
                for child in tree[n + 1:n + 1 + CHILDREN]:
                    add_sub_issue(self.sb, ref(tree[n]), ref(child))
                self.parents += 1
        return {"jira_links": self.links, "github_blocked": self.blocked, "github_parents": self.parents,
                "github_open_issues": len(self.github), "jira_issues": len(self.jira)}


def add_parent_scopes(setup, sb) -> None:
    """One Jira epic and the first GitHub parent as milestones of the plan: their trees are read too."""
    epic = next(i for i in sorted(sb.state.jira_issues.values(), key=lambda i: i.id)
                if i.issuetype == "Epic" and not i.deleted)
    parent = next(i for repo, n in _open_github(sb, setup.github_repos) if (i := sb.github_issue(repo, n)).sub_issues)
    setup.plan.write_text(setup.plan.read_text() + f'''
[[milestones]]
key = "epic-tree"
title = "Everything under one epic and one GitHub parent"
due = 2027-06-30

  [[milestones.scope]]
  tracker = "jira"
  parent = "{epic.key}"

  [[milestones.scope]]
  tracker = "github"
  parent = "{parent.repo}#{parent.number}"
''')


def run(size: int, densities: list[float], root: Path) -> list[dict]:
    setup = start(size, 0, "cloud", root)
    sb = setup.sandbox
    relations = Relations(sb, sorted(setup.github_repos), random.Random(SEED))
    rows = []
    try:
        measure(setup, "full sync", {"case": "sync"})  # the store, as a first run leaves it
        base = measure(setup, "census, without", {"case": "sync", "kwargs": {"full": True}})
        rows.append({"case": "without hierarchy or dependencies", "jira": base.jira.total,
                     "github": base.github.total, "extra": 0, "blocked_by": 0, "sub_issues": 0, "added": {}})
        first = True
        for density in densities:
            added = relations.to(density)
            if first:
                add_parent_scopes(setup, sb)
                first = False
            # the first census after the relations appear reads every blocked item's blockers; the next one
            # (nothing changed) reuses the stored ones: the steady cost of a scheduled census
            for when in ("first census after they appear", "next census, unchanged"):
                row = measure(setup, f"census, density {density:g}, {when}", {"case": "sync", "kwargs": {"full": True}})
                rows.append({"case": f"with: Jira links and GitHub blockers on {density:.2%} of issues ({when})",
                             "jira": row.jira.total, "github": row.github.total,
                             "extra": row.jira.total + row.github.total - base.jira.total - base.github.total,
                             "blocked_by": sb.count(endpoint="github.blocked_by"),
                             "sub_issues": sb.count(endpoint="github.sub_issues"), "added": added,
                             "exit": row.exit_code})
    finally:
        sb.stop()
    total = rows[0]["jira"] + rows[0]["github"]
    for row in rows:
        row["percent"] = 100 * row["extra"] / total if total else 0.0
    return rows


def render(rows: list[dict], size: int) -> str:
    out = [f"Full sync (census) of the {size:,}-issue demo plan, with and without hierarchy and dependencies",
           "| case | jira requests | github requests | extra | extra % | blocked_by reads | sub_issues reads |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['case']} | {r['jira']} | {r['github']} | {r['extra']} | {r['percent']:.1f} % | "
                   f"{r['blocked_by']} | {r['sub_issues']} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_hierarchy", description=__doc__)
    ap.add_argument("--size", type=int, default=50_000)
    ap.add_argument("--densities", default="0.0025,0.01",
                    type=lambda t: [float(x) for x in t.split(",") if x.strip()])
    ap.add_argument("--work-dir", type=Path, default=None)
    args = ap.parse_args(argv)
    rows = run(args.size, args.densities, args.work_dir or Path(tempfile.mkdtemp(prefix="plansync-hier-")))
    print(render(rows, args.size))
    for r in rows[1:]:
        print(f"{r['case']}: added {r['added']}")
    return 1 if any(r.get("exit") for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
