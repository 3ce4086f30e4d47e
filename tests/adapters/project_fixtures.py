"""A Projects v2 roadmap in a sandbox: Status, Iteration and Target date fields over open issues of
acme/checkout-web, one pull request and one draft."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from connector.sandbox import github_graphql as gq

REPO = "acme/checkout-web"


@dataclass
class Roadmap:
    project: gq.Project
    sprint11: list  # GithubIssue of the sandbox
    sprint12: list
    blocked: object  # the Sprint 12 issue whose Status is Blocked
    pull: object
    sprint12_start: date


def open_issues(sb, repo: str = REPO) -> list:
    return sorted((i for i in sb.state.gh_issues[repo].values()
                   if i.state == "open" and not i.is_pr and not i.deleted and not i.transferred_to
                   and not i.labels), key=lambda i: i.number)


def roadmap(sb, owner: str = "acme", number: int = 7, n: int = 6) -> Roadmap:
    today = sb.clock.now().date()
    start12 = today + timedelta(days=7)
    project = gq.add_project(sb, owner, number, "Roadmap", [
        {"name": "Status", "type": "SINGLE_SELECT", "options": ["Todo", "In Progress", "Blocked", "Done"]},
        {"name": "Iteration", "type": "ITERATION",
         "iterations": [("Sprint 11", today - timedelta(days=7), 14), ("Sprint 12", start12, 14)]},
        {"name": "Target date", "type": "DATE"},
        {"name": "Notes", "type": "TEXT"}])
    issues = open_issues(sb)[:n]
    s11, s12 = issues[0::2], issues[1::2]
    for i in s11:
        gq.add_item(sb, project, REPO, i.number, Iteration="Sprint 11", Status="In Progress")
    for k, i in enumerate(s12):
        gq.add_item(sb, project, REPO, i.number, Iteration="Sprint 12", Status="Blocked" if k == 0 else "Todo")
    pull = next(i for i in sorted(sb.state.gh_issues[REPO].values(), key=lambda i: i.number)
                if i.is_pr and not i.deleted)
    gq.add_item(sb, project, REPO, pull.number, Iteration="Sprint 12")
    gq.add_item(sb, project, None, title="an idea, not yet an issue")
    return Roadmap(project, s11, s12, s12[0], pull, start12)
