"""A small organisation's history, stored through the real store with known answers for week 2026-W48.

Week 2026-W48 runs Mon 23 Nov to Sun 29 Nov 2026 (Europe/Berlin); the report is taken on Thu 26 Nov.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from connector.model import Cursor, Milestone, Plan, Status, WorkItem
from connector.values import PullResult, ScopePull

T_CREATED = datetime(2026, 10, 6, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # the previous week's sync
T2 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # this week's sync
T3 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # a later Jira-only sync
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
BETA_JQL = 'project = CHK AND fixVersion = "Beta"'
XSS_TITLE = "<img src=x onerror=alert(1)> and <script>window.__pwned=1</script>"


def plan(*, beta_due: date = date(2026, 12, 15), launch: bool = True, objective: str | None = None) -> Plan:
    milestones = [
        {"key": "beta", "title": "Public beta", "due": beta_due, "owner": "dana",
         "scope": [{"tracker": "jira", "jql": BETA_JQL},
                   {"tracker": "github", "repo": "acme/web", "milestone": "Beta"}]},
        {"key": "ga", "title": "General availability", "due": date(2027, 1, 29),
         "scope": [{"tracker": "github", "repo": "acme/web", "label": "ga"}]},
    ]
    if launch:
        milestones.append({"key": "launch", "title": "Launch party", "due": date(2027, 2, 26),
                           "scope": [{"tracker": "github", "repo": "acme/web", "label": "launch"}]})
    return Plan.model_validate({
        "plan": {"name": "Checkout revamp", "timezone": "Europe/Berlin", "start": date(2026, 10, 5),
                 "objective": objective or "Ship the new checkout to every customer before the holiday freeze"},
        "people": {"dana": {"name": "Dana K", "jira": "dana@example.com", "github": "dana-k"},
                   "lee": {"github": "lee-gh"}},
        "milestones": milestones,
        "risks": [{"title": "Payment provider certification may slip", "milestone": "beta",
                   "likelihood": "medium", "impact": "high",
                   "mitigation": "Keep the fallback provider integration warm"}],
        "watch": [{"tracker": "jira", "jql": "project = CHK"}, {"tracker": "github", "repo": "acme/web"}],
    })


PLAN_BEFORE = plan(beta_due=date(2026, 12, 10), launch=False)  # as declared the previous week
PLAN_NOW = plan()


def jira(n: int, status: Status = Status.TODO, **fields) -> WorkItem:
    values = dict(tracker="jira", id=str(10000 + n), key=f"CHK-{n}", container="CHK",
                  url=f"https://jira.example.test/browse/CHK-{n}", title=f"Checkout step {n}", type="Story",
                  status=status, raw_status=str(status), created=T_CREATED, updated=T_CREATED,
                  milestones=("Beta",))
    values.update(fields)
    return WorkItem(**values)


def gh(n: int, status: Status = Status.TODO, **fields) -> WorkItem:
    values = dict(tracker="github", id=str(900 + n), key=f"acme/web#{n}", container="acme/web",
                  url=f"https://github.example.test/acme/web/issues/{n}", title=f"Web task {n}", type="issue",
                  status=status, raw_status="open" if status.is_open else "closed", created=T_CREATED,
                  updated=T_CREATED)
    values.update(fields)
    return WorkItem(**values)


def week1() -> tuple[list[WorkItem], list[WorkItem]]:
    j = [jira(1, estimate=3.0, assignees=("dana@example.com",), links=("acme/web#10",)),
         jira(2, Status.IN_PROGRESS, estimate=5.0, due=date(2026, 12, 1), assignees=("dana@example.com",)),
         jira(3, Status.DONE, estimate=2.0, resolved=datetime(2026, 11, 10, 12, tzinfo=UTC),
              assignees=("bob@example.com",)),
         jira(4, milestones=())]
    g = [gh(10, milestones=("Beta",), assignees=("dana-k",), due=date(2026, 11, 20)),
         gh(11, Status.IN_PROGRESS, labels=("ga",), assignees=("lee-gh",)),
         gh(12, assignees=("stranger",)),
         gh(13, Status.DONE, milestones=("Beta",), resolved=datetime(2026, 11, 12, 12, tzinfo=UTC))]
    return j, g


def week2(*, hostile: bool = False) -> tuple[list[WorkItem], list[WorkItem]]:
    j, g = week1()
    changed = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    j[0] = replace(j[0], status=Status.DONE, resolved=changed, updated=changed)  # completed
    j[1] = replace(j[1], status=Status.BLOCKED, due=date(2026, 12, 8), updated=changed)  # slipped, blocked
    j[2] = replace(j[2], status=Status.IN_PROGRESS, resolved=None, updated=changed)  # reopened
    g[1] = replace(g[1], labels=(), updated=changed)  # removed from ga
    g[2] = replace(g[2], milestones=("Beta",), updated=changed)  # added to beta
    g.append(gh(14, created=changed, updated=changed, milestones=("Beta",)))  # new, added to beta
    if hostile:
        g[0] = replace(g[0], title=XSS_TITLE, updated=changed,
                       assignees=("dana-k",), labels=("<b>bold</b>",))
    return j, g


def _jira_pull(items: list[WorkItem], at: datetime) -> PullResult:
    beta = plan().milestones[0].scope[0].id
    watch = plan().watch[0].id
    in_beta = tuple(i for i in items if "Beta" in i.milestones)
    return PullResult("jira", (ScopePull(beta, in_beta, True, Cursor("jira", beta, at)),
                               ScopePull(watch, tuple(items), True, Cursor("jira", watch, at))),
                      milestones=(Milestone("jira", "v1", "version", "Beta", "CHK", "unreleased",
                                            due=date(2026, 12, 15)),))


def _github_pull(items: list[WorkItem], at: datetime) -> PullResult:
    scope = "github:repo:acme/web"
    return PullResult("github", (ScopePull(scope, tuple(items), True, Cursor("github", scope, at)),))


def seed(store, monkeypatch, *, hostile: bool = False) -> None:
    """Two weekly syncs of both trackers, then a Jira-only sync on report day: GitHub's data is 50 h old
    at NOW (stale beyond the default 24 h), Jira's 3 h. The plan changed between the two weeks."""
    j1, g1 = week1()
    j2, g2 = week2(hostile=hostile)
    for at, j, g, declared in ((T1, j1, g1, PLAN_BEFORE), (T2, j2, g2, PLAN_NOW)):
        monkeypatch.setenv("PLANSYNC_NOW", at.isoformat())
        run = store.begin_run("sync", ["jira", "github"])
        store.save_pull(run, _jira_pull(j, at), at)
        store.mark_tracker_synced(run, "jira", True)
        store.save_pull(run, _github_pull(g, at), at)
        store.mark_tracker_synced(run, "github", True)
        store.save_plan_snapshot(run, declared, at)
        store.finish_run(run, "success")
    monkeypatch.setenv("PLANSYNC_NOW", T3.isoformat())
    run = store.begin_run("sync", ["jira"])
    store.save_pull(run, _jira_pull(j2, T3), T3)
    store.mark_tracker_synced(run, "jira", True)
    store.mark_tracker_synced(run, "github", False)
    store.finish_run(run, "partial")
    monkeypatch.delenv("PLANSYNC_NOW")
