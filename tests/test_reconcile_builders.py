"""Builders for reconcile/changes tests: small constructed plans and items (no tests live here)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from connector.model import Milestone, Plan, PlanHeader, PlanMilestone, Scope, Status, WorkItem
from connector.trackers.github.scopes import GithubScope
from connector.trackers.jira.scopes import JiraScope

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
JIRA_SCOPE = JiraScope(tracker="jira", jql='project = CHK AND fixVersion = "Beta"')
GH_SCOPE = GithubScope(tracker="github", repo="acme/checkout-web", milestone="Beta")
JIRA_WATCH = JiraScope(tracker="jira", jql="project = CHK")
GH_WATCH = GithubScope(tracker="github", repo="acme/checkout-web")


def jira(n: int, status: Status = Status.TODO, **kw) -> WorkItem:
    defaults = dict(tracker="jira", id=str(10000 + n), key=f"CHK-{n}", container="CHK",
                    url=f"https://jira.example/browse/CHK-{n}", title=f"Jira issue {n}", type="Story",
                    status=status, raw_status=status.value, created=NOW - timedelta(days=60),
                    updated=NOW - timedelta(days=1))
    if status is Status.DONE and "resolved" not in kw:
        defaults["resolved"] = NOW - timedelta(days=2)
    defaults.update(kw)
    return WorkItem(**defaults)


def gh(n: int, status: Status = Status.TODO, *, repo: str = "acme/checkout-web", **kw) -> WorkItem:
    defaults = dict(tracker="github", id=str(500000 + n), key=f"{repo}#{n}", container=repo,
                    url=f"https://github.example/{repo}/issues/{n}", title=f"GitHub issue {n}", type="issue",
                    status=status, raw_status="open" if status.is_open else "closed",
                    created=NOW - timedelta(days=60), updated=NOW - timedelta(days=1), milestones=("Beta",))
    if status is Status.DONE and "resolved" not in kw:
        defaults["resolved"] = NOW - timedelta(days=2)
    defaults.update(kw)
    return WorkItem(**defaults)


def milestone(key: str = "beta", due: date = date(2026, 12, 15), scope: tuple[Scope, ...] = (JIRA_SCOPE, GH_SCOPE),
              **kw) -> PlanMilestone:
    return PlanMilestone(key=key, title=kw.pop("title", key.title()), due=due, scope=scope, **kw)


def plan(*milestones: PlanMilestone, watch: tuple[Scope, ...] = (JIRA_WATCH, GH_WATCH),
         start: date | None = date(2026, 10, 5), timezone: str = "Europe/Berlin") -> Plan:
    return Plan(plan=PlanHeader(name="Checkout revamp", timezone=timezone, start=start),
                milestones=milestones or (milestone(),), watch=watch)


def members_for(items: list[WorkItem], *scopes_and_keys: tuple[Scope, list[str]]) -> dict[str, frozenset]:
    """What the Jira pull returned per JQL scope: scope -> the uids of the listed keys."""
    by_key = {i.key: i.uid for i in items}
    return {scope.id: frozenset(by_key[k] for k in keys) for scope, keys in scopes_and_keys}


def jira_version(name: str, due: date | None, *, container: str = "CHK") -> Milestone:
    return Milestone(tracker="jira", id=f"v-{name}", kind="version", name=name, container=container,
                     state="unreleased", due=due)


def gh_milestone(name: str, due: date | None, *, repo: str = "acme/checkout-web") -> Milestone:
    return Milestone(tracker="github", id=f"m-{name}", kind="milestone", name=name, container=repo, state="open",
                     due=due)
