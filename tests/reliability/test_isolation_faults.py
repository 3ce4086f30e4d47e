"""The fault matrix, extended by issue #17 items 1-3: a Jira pull failing on a bad JQL (its milestones
are held on GitHub too), a GitHub `Link: rel="next"` loop (that tracker fails naming the loop after a
handful of requests), and a second plan pointed at the same store (refused, exit 2, nothing touched)."""

from __future__ import annotations

import pytest

from tests.reliability.harness import (
    assert_no_traceback,
    duplicates,
    failure_lines,
    record,
    store_state,
    tracker_part,
    writes_to,
)

JIRA_SEARCH = r"^/jira/rest/api/3/search/jql"
GITHUB_ISSUES = r"^/github/repos/[^/]+/[^/]+/issues$"
BAD_JQL = {"errorMessages": ["Error in the JQL Query: Expecting either 'OR' or 'AND' but got the end of the query."],
           "errors": {}}


def _labelled_open_issue(sb, repo="acme/checkout-web"):
    return next(i for i in sorted(sb.state.gh_issues[repo].values(), key=lambda i: i.number)
                if i.state == "open" and not i.is_pr and not i.deleted
                and any(x.startswith("plan:") and x != "plan:unplanned" for x in i.labels))


def test_a_jira_jql_error_holds_the_github_labels_of_its_milestones(workspace):
    ws = workspace()
    assert ws.main("apply").code == 0
    sb = ws.sandbox
    issue = _labelled_open_issue(sb)
    sb.update_github_issue("acme/checkout-web", issue.number, state="closed", state_reason="completed")
    before = store_state(ws.store_url)
    sb.reset_counts()

    rule = sb.faults.add(status=400, path=JIRA_SEARCH, times=None, body=BAD_JQL)
    result = ws.main("apply")
    sb.faults.clear()

    assert rule.hits >= 1
    assert_no_traceback(result)
    assert result.code == 1, str(result)
    (line,) = failure_lines(result)
    assert "'jira'" in line and "JQL" in line
    assert writes_to(sb, "github") == 0 and writes_to(sb, "jira") == 0, "a health computed without Jira was written"
    assert tracker_part(store_state(ws.store_url), "jira") == tracker_part(before, "jira")

    again = ws.main("apply")  # Jira answers again: the held change is made, once
    assert again.code == 0, str(again)
    assert writes_to(sb, "github") > 0
    assert ws.main("plan", "--detailed-exitcode").code == 0
    assert not duplicates(sb)
    record("pull: jira 400 (JQL error) on an established store", "milestones held on every tracker (exit 1)", 0)


def test_a_github_link_next_loop_fails_github_naming_the_loop(workspace):
    ws = workspace()
    sb = ws.sandbox
    sb.reset_counts()
    loop = f'<{sb.github_url}/repos/acme/checkout-web/issues?state=all&per_page=100&page=1>; rel="next"'
    rule = sb.faults.add(status=200, path=GITHUB_ISSUES, times=None, body=[], headers={"Link": loop})
    result = ws.main("sync")
    sb.faults.clear()

    assert rule.hits >= 1
    assert_no_traceback(result)
    assert result.code == 1, str(result)
    (line,) = failure_lines(result)
    assert "'github'" in line and "pagination loops" in line
    assert sb.count(flavour="github") < 10, "the loop was followed"  # not ~4,000 requests
    assert ws.main("sync").code == 0  # the next run, without the loop, works
    record("pull: github Link rel=next back to page 1", "github failed naming the loop (exit 1)", 0)


@pytest.mark.parametrize("force", [False, True])
def test_a_second_plan_on_the_same_store_is_refused(workspace, force):
    team_a = workspace(name="team-a")
    assert team_a.main("apply").code == 0
    labels_before = {k: tuple(i.labels) for k, i in team_a.sandbox.state.jira_issues.items()}
    team_b = workspace(name="team-b", store_url=team_a.store_url)
    team_b.plan.write_text(team_b.plan.read_text().replace('name = "Checkout revamp (sandbox)"',
                                                           'name = "Payments team"', 1))
    team_b.sandbox.reset_counts()

    refused = team_b.main("apply", *(["--force"] if force else []))

    assert_no_traceback(refused)
    assert refused.code == 2, str(refused)
    assert "serves the plan 'Checkout revamp (sandbox)', not 'Payments team'" in refused.err
    assert team_b.sandbox.log == []  # refused before any request
    assert {k: tuple(i.labels) for k, i in team_a.sandbox.state.jira_issues.items()} == labels_before
    assert team_a.main("apply").code == 0  # team A is unaffected
    record("store: a second plan on the same store" + (" with --force" if force else ""),
           "refused before any request (exit 2)", 0)


def test_one_github_repository_refused_fails_only_its_scope(workspace):
    """#17 item 10: one repository answering 404 fails its own scope; the other repositories are pulled
    and labelled, that repository's stored items keep their data, and the run exits 1 naming it."""
    ws = workspace()
    assert ws.main("apply").code == 0
    sb = ws.sandbox
    issue = _labelled_open_issue(sb)
    sb.update_github_issue("acme/checkout-web", issue.number, state="closed", state_reason="completed")
    sb.reset_counts()
    rule = sb.faults.add(status=404, path=r"^/github/repos/acme/infra/", times=None,
                         body={"message": "Not Found", "documentation_url": "https://docs.github.com/rest",
                               "status": "404"})
    result = ws.main("apply")
    sb.faults.clear()

    assert rule.hits >= 1
    assert_no_traceback(result)
    assert result.code == 1, str(result)
    (line,) = failure_lines(result)
    assert "'github'" in line and "acme/infra" in line and "404" in line
    assert writes_to(sb, "github") > 0, "the readable repositories were not labelled"
    assert ws.main("apply").code == 0
    assert ws.main("plan", "--detailed-exitcode").code == 0
    assert not duplicates(sb)
    record("pull: one github repository 404 on an established store",
           "that scope failed alone, its milestone held, the rest labelled (exit 1)", 0)
