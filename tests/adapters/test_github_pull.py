"""GitHub adapter pulls against recorded GitHub payloads served by `responses`: pagination, pull requests,
`since` in UTC, conditional requests, request counts, normalization."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import responses
from responses import matchers

from connector.errors import FatalAPIError
from connector.model import Cursor, Scope, Status
from connector.trackers.github.adapter import GithubAdapter, repo_scope_id
from connector.trackers.github.mapping import load_github_mapping
from connector.trackers.github.scopes import GithubScope
from connector.trackers.jira.scopes import JiraScope
from connector.values import PullSpec
from tests.adapters.github_fixtures import (
    API,
    clone_issues,
    find,
    load_octokit,
    load_replay,
    modern_issue,
    register,
    tracker_settings,
)

REPO = "PyGithub/PyGithub"
LIST = f"{API}/repos/{REPO}/issues"
MILESTONES = f"{API}/repos/{REPO}/milestones"
FULL_QUERY = {"state": "all", "per_page": "100", "sort": "created", "direction": "asc"}  # stable: pages in parallel
INCREMENTAL_QUERY = {"state": "all", "per_page": "100", "sort": "updated", "direction": "asc"}


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def adapter(monkeypatch):
    made = GithubAdapter(tracker_settings(monkeypatch), load_github_mapping(), overlap_minutes=5)
    yield made
    made.close()


def scopes(repo: str = REPO, **narrowing) -> tuple[Scope, ...]:
    return (GithubScope(tracker="gh", repo=repo, **narrowing),)


def milestones_record():
    return find(load_replay("Repository.testGetMilestones"), "GET", "/repos/PyGithub/PyGithub/milestones")


def register_milestones(rsps, url: str = MILESTONES):
    return register(rsps, "GET", url, milestones_record(),
                    match=(matchers.query_param_matcher({"state": "all", "per_page": "100"}),))


def test_full_pull_marks_pull_requests_and_normalizes(rsps, adapter):
    record = find(load_replay("Repository.testGetIssues"), "GET", "/repos/PyGithub/PyGithub/issues")
    register(rsps, "GET", LIST, record, match=(matchers.query_param_matcher(FULL_QUERY),))
    register_milestones(rsps)

    result = adapter.pull(PullSpec(scopes=scopes(), cursors={}, full=True))

    raw = record.json()
    items = result.all_items()
    assert len(items) == len(raw)
    prs = [i for i in items.values() if i.is_pull_request]
    raw_prs = [r for r in raw if r.get("pull_request")]
    assert raw_prs and len(prs) == len(raw_prs)
    assert all(i.type == "pull_request" for i in prs)
    assert all(i.type == "issue" for i in items.values() if not i.is_pull_request)
    first = raw[0]
    item = items[str(first["id"])]
    assert item.key == f"{REPO}#{first['number']}" and item.container == REPO
    assert item.url == first["html_url"]
    assert item.created.tzinfo is UTC and item.updated.tzinfo is UTC
    assert item.labels == tuple(label["name"] for label in first["labels"])
    if first.get("milestone"):
        assert item.milestones == (first["milestone"]["title"],)
    [scope] = result.scopes
    assert scope.scope_id == repo_scope_id("gh", REPO) and scope.complete
    assert scope.cursor.updated == max(i.updated for i in items.values())
    assert result.census and result.seen_ids == frozenset(items)
    ms = {m.name: m for m in result.milestones}
    recorded = {m["title"]: m for m in milestones_record().json()}
    assert set(ms) == set(recorded)
    for title, m in ms.items():
        due = recorded[title]["due_on"]
        assert m.kind == "milestone" and m.state == recorded[title]["state"]
        assert m.due == (date.fromisoformat(due[:10]) if due else None)
    assert adapter.stats.requests == 2 and adapter.stats.writes == 0


def test_state_reason_not_planned_is_dropped_and_links_are_found(rsps, adapter):
    issue = modern_issue()
    closed = dict(issue, id=1, number=1, state="closed", state_reason="not_planned",
                  title="Fix CHK-12 login", body="see acme/web#7 and https://github.com/acme/api/issues/3, #1, #4")
    completed = dict(issue, id=2, number=2, state="closed", state_reason="completed", body=None)
    blocked = dict(issue, id=3, number=3, state="open", state_reason=None,
                   labels=[{"name": "Blocked"}, {"name": "plan:at-risk"}])
    register(rsps, "GET", LIST, body=[closed, completed, blocked])
    register_milestones(rsps)

    items = adapter.pull(PullSpec(scopes=scopes(), cursors={}, full=True)).all_items()

    assert items["1"].status is Status.DROPPED and items["1"].raw_status == "closed/not_planned"
    assert items["1"].resolved is not None
    assert items["1"].links == ("CHK-12", "acme/web#7", "acme/api#3", f"{REPO}#4")
    assert items["2"].status is Status.DONE
    assert items["3"].status is Status.BLOCKED and items["3"].resolved is None
    assert items["1"].assignees == tuple(a["login"] for a in issue["assignees"])


def test_links_are_followed_for_every_page(rsps, adapter):
    """octokit's paginate-issues recording: 5 pages joined by real `Link: rel="next"` headers."""
    pages = [r for r in load_octokit("paginate-issues") if r.verb == "GET"]
    register(rsps, "GET", LIST, pages[0], match=(matchers.query_param_matcher(FULL_QUERY),))
    for page in pages[1:]:
        register(rsps, "GET", f"{API}{page.path}", page)
    register_milestones(rsps)

    result = adapter.pull(PullSpec(scopes=scopes(), cursors={}, full=True))

    expected = {str(i["id"]) for page in pages for i in page.json()}
    assert set(result.all_items()) == expected and len(expected) == 13  # 13 issues, 3 a page
    assert adapter.stats.requests == len(pages) + 1


@pytest.mark.parametrize("count", [1, 99, 100, 101, 250])
def test_full_pull_costs_ceil_n_over_100_list_requests_and_no_per_issue_request(rsps, adapter, count):
    """No lazy completion: items come from the list payloads, never a GET per issue."""
    issues = clone_issues(modern_issue(), REPO, count)
    pages = [issues[i:i + 100] for i in range(0, count, 100)]
    for index, page in enumerate(pages, start=1):
        more = index < len(pages)
        link = {"Link": f'<{LIST}?state=all&per_page=100&sort=created&direction=asc&page={index + 1}>; rel="next"'}
        query = dict(FULL_QUERY, **({"page": str(index)} if index > 1 else {}))
        register(rsps, "GET", LIST, body=page, headers=link if more else {},
                 match=(matchers.query_param_matcher(query),))
    register_milestones(rsps)

    result = adapter.pull(PullSpec(scopes=scopes(), cursors={}, full=True))

    assert len(result.all_items()) == count
    assert adapter.stats.requests == math.ceil(count / 100) + 1
    assert adapter.stats.by_endpoint == {"GET /repos/{o}/{r}/issues": math.ceil(count / 100),
                                         "GET /repos/{o}/{r}/milestones": 1}
    assert len(rsps.calls) == math.ceil(count / 100) + 1


def test_since_is_utc_with_z_from_a_plus_two_cursor(rsps, adapter):
    """Pitfall 12: PyGithub formats `since` without converting to UTC; the adapter converts."""
    berlin_summer = timezone(timedelta(hours=2))
    cursor = Cursor("gh", repo_scope_id("gh", REPO), updated=datetime(2026, 5, 7, 14, 0, tzinfo=berlin_summer))
    record = find(load_replay("Repository.testGetIssuesWithArguments"), "GET", "/repos/PyGithub/PyGithub/issues?since")
    register(rsps, "GET", LIST, record,
             match=(matchers.query_param_matcher(dict(INCREMENTAL_QUERY, since="2026-05-07T11:55:00Z")),))
    register_milestones(rsps)

    result = adapter.pull(PullSpec(scopes=scopes(), cursors={cursor.scope_id: cursor}))

    [scope] = result.scopes
    assert not scope.complete and not result.census
    # the recorded items are from 2012: the cursor never moves backwards
    assert scope.cursor.updated == cursor.updated and scope.cursor.updated.tzinfo is UTC


def test_unchanged_repo_costs_one_request_answered_304_and_keeps_the_cursor(rsps, adapter):
    recorded_304 = load_replay("ConditionalRequestUpdate.testDidNotUpdate")[0]
    etag = recorded_304.request_headers["If-None-Match"]
    cursor = Cursor("gh", repo_scope_id("gh", REPO), updated=datetime(2026, 5, 7, 12, 0, tzinfo=UTC), etag=etag)
    register(rsps, "GET", LIST, recorded_304,
             match=(matchers.header_matcher({"If-None-Match": etag}),
                    matchers.query_param_matcher(dict(INCREMENTAL_QUERY, since="2026-05-07T11:55:00Z"))))

    result = adapter.pull(PullSpec(scopes=scopes(), cursors={cursor.scope_id: cursor}))

    [scope] = result.scopes
    assert scope.items == () and not scope.complete
    assert scope.cursor == cursor and scope.cursor.etag == etag
    assert adapter.stats.requests == 1 and adapter.stats.not_modified == 1
    assert result.milestones == ()


def test_etag_is_kept_only_when_the_first_page_is_the_whole_answer(rsps, adapter):
    cursor = Cursor("gh", repo_scope_id("gh", REPO), updated=datetime(2026, 5, 1, 0, 0, tzinfo=UTC))
    issues = clone_issues(modern_issue(), REPO, 3)
    register(rsps, "GET", LIST, body=issues, headers={"ETag": 'W/"small"'})
    register_milestones(rsps)
    small = adapter.pull(PullSpec(scopes=scopes(), cursors={cursor.scope_id: cursor})).scopes[0]
    assert small.cursor.etag == 'W/"small"'
    assert small.cursor.updated == max(i.updated for i in small.items) > cursor.updated

    rsps.reset()
    many = clone_issues(modern_issue(), REPO, 100)
    register(rsps, "GET", LIST, body=many, headers={"ETag": 'W/"page1"'})
    register_milestones(rsps)
    full_page = adapter.pull(PullSpec(scopes=scopes(), cursors={cursor.scope_id: cursor})).scopes[0]
    # a full first page may have more pages behind it, and changes land at the end: no ETag
    assert full_page.cursor.etag is None


def test_items_scope_in_an_otherwise_unpulled_repo_pulls_that_repo_once(rsps, adapter):
    other = "acme/web"
    register(rsps, "GET", LIST, body=clone_issues(modern_issue(), REPO, 2))
    register_milestones(rsps)
    register(rsps, "GET", f"{API}/repos/{other}/issues", body=clone_issues(modern_issue(), other, 1, start_id=1))
    register(rsps, "GET", f"{API}/repos/{other}/milestones", body=[])
    request_scopes = (*scopes(), *scopes(milestone="Beta"), GithubScope(tracker="gh", items=(f"{other}#1",)),
                      JiraScope(tracker="jira", jql="project = X"))

    result = adapter.pull(PullSpec(scopes=request_scopes, cursors={}, full=True))

    assert [s.scope_id for s in result.scopes] == [repo_scope_id("gh", REPO), repo_scope_id("gh", other)]
    assert adapter.stats.requests == 4


def test_malformed_json_fails_the_pull_cleanly(rsps, adapter):
    register(rsps, "GET", LIST, body='[{"id": 1, "number": 1, "title": "trunc')
    with pytest.raises(FatalAPIError, match="not JSON"):
        adapter.pull(PullSpec(scopes=scopes(), cursors={}, full=True))


def test_a_json_object_where_a_list_belongs_fails_cleanly(rsps, adapter):
    register(rsps, "GET", LIST, body={"message": "surprise"})
    with pytest.raises(FatalAPIError, match="JSON array"):
        adapter.pull(PullSpec(scopes=scopes(), cursors={}, full=True))


def test_api_version_is_pinned_and_the_token_is_sent(rsps, monkeypatch):
    tracker = tracker_settings(monkeypatch, api_version="2026-03-10")
    adapter = GithubAdapter(tracker, load_github_mapping())
    user = find(load_replay("Exceptions.testUnknownObject"), "GET", "/user")
    register(rsps, "GET", f"{API}/user", user,
             match=(matchers.header_matcher({"X-GitHub-Api-Version": "2026-03-10"}),))
    identity = adapter.check()
    assert identity.user == "jacquev6" and identity.deployment == "github.com"
    sent = rsps.calls[0].request.headers
    assert sent["Authorization"].startswith("token ")
    assert "plansync" in sent["User-Agent"]


def test_enterprise_base_url_keeps_its_path_prefix(rsps, monkeypatch):
    base = "https://ghe.example.com/api/v3"
    adapter = GithubAdapter(tracker_settings(monkeypatch, url=base), load_github_mapping())
    register(rsps, "GET", f"{base}/repos/{REPO}/issues", body=[])
    register(rsps, "GET", f"{base}/repos/{REPO}/milestones", body=[])
    result = adapter.pull(PullSpec(scopes=scopes(), cursors={}, full=True))
    assert result.all_items() == {} and adapter.stats.requests == 2


def test_an_item_changed_while_paging_keeps_the_old_cursor(rsps, adapter):
    """Offset pages shift when an item moves to the end mid-pull; its duplicate reveals that."""
    cursor = Cursor("gh", repo_scope_id("gh", REPO), updated=datetime(2026, 4, 30, 0, 0, tzinfo=UTC))
    issues = clone_issues(modern_issue(), REPO, 150)
    moved = dict(issues[10], updated_at="2026-06-01T00:00:00Z")
    link = {"Link": f'<{LIST}?state=all&per_page=100&sort=updated&direction=asc&since=2026-04-29T23%3A55%3A00Z'
                    '&page=2>; rel="next"'}
    register(rsps, "GET", LIST, body=issues[:100], headers=link,
             match=(matchers.query_param_matcher(dict(INCREMENTAL_QUERY, since="2026-04-29T23:55:00Z")),))
    register(rsps, "GET", LIST, body=issues[101:] + [moved],
             match=(matchers.query_param_matcher(dict(INCREMENTAL_QUERY, since="2026-04-29T23:55:00Z", page="2")),))
    register_milestones(rsps)

    result = adapter.pull(PullSpec(scopes=scopes(), cursors={cursor.scope_id: cursor}))

    [scope] = result.scopes
    assert scope.cursor.updated == cursor.updated and scope.cursor.etag is None
    assert result.all_items()[str(moved["id"])].updated.month == 6
    assert any("read again" in note for note in result.notes)
