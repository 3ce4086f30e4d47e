"""A person works in the sandbox with the unmodified `jira` library and PyGithub while plansync runs:
what they create, transition and label is what the next `plansync run` sees and labels."""

from __future__ import annotations

import pytest
from github import Auth, Github
from jira import JIRA

from connector.sandbox import GITHUB_TOKEN, JIRA_EMAIL, JIRA_TOKEN
from connector.sandbox.demo import write_plan
from tests.e2e.helpers import make_workspace

pytestmark = pytest.mark.e2e  # a validating sandbox: plansync's and PyGithub's exchanges are checked too


def _plan_labels(labels) -> set[str]:
    return {x for x in labels if x.startswith("plan:")}


def test_changes_made_with_ordinary_clients_are_what_plansync_reacts_to(tmp_path, sandbox_factory):
    sb = sandbox_factory(seed=3, scale=300)
    ws = make_workspace(tmp_path, sb, write_plan(tmp_path, sb.org).read_text())
    first = ws.cli("run")
    assert first.returncode == 0, first.stdout + first.stderr

    jira = JIRA(sb.jira_url, basic_auth=(JIRA_EMAIL, JIRA_TOKEN))
    assert {"CHK", "PAY"} <= {p.key for p in jira.projects()}
    dana = jira.search_users(query="Dana")[0]
    new = jira.create_issue(project="CHK", summary="Wallet button copy", issuetype={"name": "Task"},
                            fixVersions=[{"name": "Beta"}])
    assert "In Progress" in {t["name"] for t in jira.transitions(new)}
    jira.transition_issue(new, "In Progress")
    new.update(fields={"labels": ["copy"]})
    jira.assign_issue(new, dana.emailAddress)  # the library looks the person up by a search term
    assert jira.issue(new.key).fields.assignee.displayName == "Dana Kim"
    assert jira.issue(new.key).fields.status.name == "In Progress"

    gh = Github(base_url=sb.github_url, auth=Auth.Token(GITHUB_TOKEN))
    assert gh.get_user().login and gh.get_organization("acme").login == "acme"
    repo = gh.get_repo("acme/checkout-web")
    beta = next(m for m in repo.get_milestones(state="all") if m.title == "Beta")
    repo.create_label("copy", "c5def5", "Wording")
    repo.create_label("temp", "ededed").delete()
    assert "temp" not in {lab.name for lab in repo.get_labels()}
    issue = repo.create_issue("Wallet button on the web", body="Needs copy", milestone=beta)
    issue.add_to_labels(repo.get_label("copy"))
    issue.edit(assignees=["dana-k"])
    assert [e.event for e in issue.get_events()] == ["labeled"]
    assert gh.search_issues(f"repo:{repo.full_name} is:issue label:copy").totalCount == 1
    assert list(repo.get_pulls(state="all"))  # the sandbox has pull requests too

    second = ws.cli("run")
    assert second.returncode == 0, second.stdout + second.stderr
    # plansync pulled the new items into their milestones and wrote its labels on them
    jira_labels = jira.issue(new.key).fields.labels
    assert "copy" in jira_labels and _plan_labels(jira_labels)
    gh_labels = [lab.name for lab in repo.get_issue(issue.number).labels]
    assert "copy" in gh_labels and _plan_labels(gh_labels)
    assert sb.violations == []
