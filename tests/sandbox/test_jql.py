"""JQL semantics: fields, operators, functions, ORDER BY, errors, and the profile-timezone rule."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.sandbox import Sandbox
from connector.sandbox.jql import Context, JQLError, evaluate


@pytest.fixture(scope="module")
def sb():
    return Sandbox(seed=3, scale=600)  # never started: JQL is evaluated in-process here


def run(sb, jql, tz="UTC"):
    return evaluate(jql, Context(sb.state, ZoneInfo(tz), sb.clock.ts(), 0), sb.state.live_jira())


def keys(issues):
    return {i.key for i in issues}


def test_project_and_fix_version(sb):
    got = run(sb, 'project = CHK AND fixVersion = "Beta"')
    assert got and all(i.project == "CHK" for i in got)
    assert all("Beta" in [sb.state.versions[v]["name"] for v in i.fix_versions] for i in got)
    assert keys(run(sb, 'project = chk and fixversion = beta')) == keys(got)  # keywords, values case-insensitive


def test_or_not_parentheses_and_in(sb):
    a = keys(run(sb, "project = CHK AND (status = Blocked OR status = 'In Progress')"))
    b = keys(run(sb, 'project = CHK AND status in (Blocked, "In Progress")'))
    c = keys(run(sb, 'project = CHK AND NOT status not in (Blocked, "In Progress")'))
    assert a == b == c and a


def test_not_equal_never_matches_empty(sb):
    unassigned = keys(run(sb, "assignee is EMPTY"))
    not_dana = keys(run(sb, "assignee != dana@example.com"))
    assert unassigned and not unassigned & not_dana
    assert keys(run(sb, "assignee is not EMPTY")) == keys(run(sb, "project in (CHK, PAY, OPS)")) - unassigned


def test_status_category_sprint_and_epic(sb):
    done = run(sb, "statusCategory = Done")
    assert {i.status for i in done} <= {"Done", "Won't Do"}
    open_sprint = run(sb, "sprint in openSprints()")
    states = {sb.state.sprints[s]["state"] for i in open_sprint for s in i.sprints}
    assert open_sprint and states <= {"active", "future"}
    epic = next(i for i in sb.state.live_jira() if i.issuetype == "Epic")
    assert keys(run(sb, f"parent = {epic.key}")) == keys(run(sb, f'"Epic Link" = {epic.key}'))
    assert run(sb, "sprint = 'CHK Sprint 5'")


def test_current_user(sb):
    bot = sb.create_jira_issue("OPS", "bot work", assignee="plansync-bot")
    assert keys(run(sb, "assignee = currentUser()")) == {bot.key}


def test_relative_and_absolute_dates(sb):
    now = sb.clock.ts()
    recent = run(sb, "updated >= -3d")
    assert recent and all(i.updated >= now - 3 * 86400 for i in recent)
    ms = int((now - 3 * 86400) * 1000)
    assert keys(run(sb, f"updated >= {ms}")) == keys(recent)
    assert keys(run(sb, 'updated >= "2026-11-20"')) == keys(run(sb, "updated >= 2026-11-20"))
    assert keys(run(sb, 'updated >= "2026/11/20 10:00"')) == keys(run(sb, "updated >= 2026-11-20 10:00"))
    assert run(sb, "resolved is EMPTY") and run(sb, "duedate < now()") is not None


@pytest.mark.parametrize("tz, offset_hours", [("America/Los_Angeles", -8), ("Pacific/Auckland", 13)])
def test_offsetless_literals_are_read_in_the_users_timezone(sandbox_factory, tz, offset_hours, jira_for):
    sb = sandbox_factory(scale=400, jira_timezone=tz)
    session = jira_for(sb)
    assert session.get(sb.jira_url + "/rest/api/3/myself").json()["timeZone"] == tz
    # 10:00 local is 10:00 - offset in UTC; an issue updated one minute after it matches, one before does not.
    utc_instant = datetime(2026, 11, 20, 10, 0, tzinfo=UTC).timestamp() - offset_hours * 3600
    before, after = sb.create_jira_issue("CHK", "before"), sb.create_jira_issue("CHK", "after")
    before.updated, after.updated = utc_instant - 60, utc_instant + 60
    sb.state.bump()
    jql = 'project = CHK AND updated >= "2026/11/20 10:00" AND (summary ~ "before" OR summary ~ "after")'
    resp = session.get(sb.jira_url + "/rest/api/3/search/jql", params={"jql": jql, "fields": "summary"})
    assert {i["key"] for i in resp.json()["issues"]} == {after.key}
    # Epoch milliseconds carry no zone and mean the same everywhere.
    resp = session.get(sb.jira_url + "/rest/api/3/search/jql",
                       params={"jql": f"updated >= {int(utc_instant * 1000)} AND summary ~ after", "fields": "key"})
    assert [i["key"] for i in resp.json()["issues"]] == [after.key]


def test_order_by(sb):
    got = run(sb, "project = PAY ORDER BY updated DESC")
    assert [i.updated for i in got] == sorted((i.updated for i in got), reverse=True)
    got = run(sb, "project = PAY ORDER BY key ASC")
    assert [int(i.key.split("-")[1]) for i in got] == sorted(int(i.key.split("-")[1]) for i in got)
    default = run(sb, "project = PAY")
    assert [i.id for i in default] == sorted(i.id for i in default)


def test_moved_issue_matches_its_old_key(sb):
    old, new = next(iter(sb.org["jira"]["moved"].items()))
    assert keys(run(sb, f"key = {old}")) == {new}
    assert keys(run(sb, f"id = {sb.jira_issue(new).id}")) == {new}


@pytest.mark.parametrize("jql, message", [
    ("project = ", "Expecting either a value, list or function"),
    ("projekt = CHK", "Field 'projekt' does not exist"),
    ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
    ("project CHK", "Expecting operator but got 'CHK'"),
    ("status = Done AND", "Expecting a field name"),
    ("status = Done ORDER updated", "Expecting 'BY'"),
    ("updated >= 'yesterday'", "Date value 'yesterday'"),
    ("labels > x", "The operator '>' is not supported"),
])
def test_bad_jql_messages(sb, jql, message):
    with pytest.raises(JQLError, match=message.replace("(", r"\(")):
        run(sb, jql)


def test_bad_jql_over_http_has_jiras_error_shape(sandbox, jira):
    resp = jira.get(sandbox.jira_url + "/rest/api/3/search/jql", params={"jql": "projekt = CHK"})
    assert resp.status_code == 400
    assert resp.json() == {"errorMessages": ["Field 'projekt' does not exist or you do not have permission to "
                                             "view it."], "errors": {}}


PIECES = ["project", "=", "CHK", "AND", "OR", "NOT", "(", ")", "status", "in", "is", "EMPTY", "updated", ">=",
          '"2026/11/20 10:00"', "-5d", "ORDER", "BY", "DESC", ",", "labels", "!=", "~", "openSprints()", "'x'",
          "fixVersion", "Beta", "key", "CHK-1", "assignee", "currentUser()", "1795000000000", "!", '"', "["]


@given(st.lists(st.sampled_from(PIECES), max_size=12))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_token_soup_is_either_a_query_or_a_jql_error(sb, pieces):
    try:
        run(sb, " ".join(pieces))
    except JQLError:
        pass


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_text_is_either_a_query_or_a_jql_error(sb, text):
    try:
        run(sb, text)
    except JQLError:
        pass


def test_functions_with_arguments_versions_and_unresolved(sb):
    assert keys(run(sb, "resolution = Unresolved")) == keys(run(sb, "resolution is EMPTY"))
    released = run(sb, "project = CHK AND fixVersion in releasedVersions()")
    assert released and all(sb.state.versions[v]["released"] for i in released for v in i.fix_versions)
    unreleased = run(sb, "fixVersion in unreleasedVersions(CHK)")
    assert unreleased and {i.project for i in unreleased} == {"CHK"}
    day = 86400
    yesterday = run(sb, "updated >= startOfDay(-1) AND updated < startOfDay()")
    assert all(sb.clock.ts() - 2 * day < i.updated <= sb.clock.ts() for i in yesterday)
    assert keys(run(sb, "updated >= startOfDay(-1d)")) == keys(run(sb, 'updated >= startOfDay("-1d")'))
    assert run(sb, "created >= startOfWeek(-2)") is not None
