"""Jira adapter pulls against `responses` fixtures built from recorded Jira payloads."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest
import responses

from connector.model import Cursor, Presence, Scope, Status
from connector.trackers.jira.scopes import JiraScope
from connector.values import PullSpec
from tests.adapters import jira_fixtures as fx

pytestmark = pytest.mark.usefixtures("refdata")

SEARCH_JQL = f"{fx.BASE}/rest/api/3/search/jql"
SCOPE = JiraScope(tracker="jira", jql='project = EE AND fixVersion = "v2.7.0" ORDER BY rank')


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def incremental(scope: Scope, updated: datetime) -> PullSpec:
    return PullSpec(scopes=(scope,), cursors={scope.id: Cursor("jira", scope.id, updated=updated)})


# --- normalization of recorded issues ----------------------------------------------------------

def test_recorded_cloud_issues_normalize(rsps):
    fx.add_basics(rsps, timezone="Asia/Shanghai")
    rsps.get(SEARCH_JQL, json=fx.cloud_page(fx.cloud_issues(), is_last=True))
    result = fx.adapter().pull(incremental(SCOPE, datetime(2021, 3, 1, tzinfo=UTC)))
    items = {i.key: i for i in result.all_items().values()}
    assert len(items) == 33
    ee1 = items["EE-1"]
    assert ee1.id == "10063" and ee1.container == "EE" and ee1.url == f"{fx.BASE}/browse/EE-1"
    assert ee1.milestones == ("v2.7.0",) and ee1.labels == ("frontEnd", "Saas")
    assert ee1.sprint == "EE Sprint 7" and ee1.due == date(2025, 3, 9)
    # recorded +0800 timestamps arrive as UTC
    assert ee1.created == datetime(2020, 6, 12, 0, 13, 13, 360000, tzinfo=UTC)
    assert ee1.resolved == datetime(2020, 6, 19, 6, 31, 18, 495000, tzinfo=UTC)
    assert ee1.estimate == -1.0
    # the status "已完成" is unmapped: its category decides, and the name is reported once
    assert "已完成" in result.unmapped_statuses
    assert items["EE-2"].status is Status.DONE
    assert items["EE-20"].status is Status.DROPPED  # resolution Won't Do beats the done category
    assert items["EE-25"].parent == "EE-1" and items["EE-25"].type == "子任务"
    assert items["K5-2"].epic == "K5-1" and items["K5-2"].parent == "K5-1"
    assert items["K5-2"].sprint == "K5 Sprint 1"
    sprints = {m.name: m for m in result.milestones if m.kind == "sprint"}
    assert sprints["EE Sprint 7"].state == "closed" and sprints["EE Sprint 7"].due == date(2020, 6, 26)
    assert {m.name for m in result.milestones if m.kind == "epic"} == {"K5 epic"}


def test_cloud_epic_from_parent_when_the_site_has_no_epic_link(rsps):
    fx.add_basics(rsps, fields=fx.field_list(epic_link=False))
    raw = fx.issue("K5-2")
    rsps.get(SEARCH_JQL, json=fx.cloud_page([raw]))
    fx.add_no_milestones(rsps, ["EE"])  # the scope names EE's v2.7.0, which K5-2 does not carry
    item = next(iter(fx.adapter().pull(PullSpec(scopes=(SCOPE,), cursors={}, full=True)).all_items().values()))
    assert item.epic == "K5-1"  # parent of issuetype Epic


def test_server_string_and_cloud_adf_descriptions_yield_github_links(rsps):
    fx.add_basics(rsps, base=fx.SERVER_BASE, api="2", timezone="Etc/UTC")
    server_raw = fx.server_issues()[0]
    server_raw["fields"]["description"] += " fixed by https://github.com/acme/checkout-web/issues/12 and acme/api#7"
    rsps.get(f"{fx.SERVER_BASE}/rest/api/2/search", json=fx.server_page([server_raw], 0, 1))
    result = fx.adapter(url=fx.SERVER_BASE, deployment="server", auth="bearer").pull(
        incremental(SCOPE, datetime(2023, 1, 1, tzinfo=UTC)))
    item = next(iter(result.all_items().values()))
    assert item.links == ("acme/checkout-web#12", "acme/api#7")
    assert item.assignees == ("hao.ke@merico.dev",)
    assert item.created == datetime(2023, 5, 29, 3, 57, 6, tzinfo=UTC)


def test_adf_description_links_are_found(rsps):
    fx.add_basics(rsps, timezone="UTC")
    raw = fx.issue("EE-2")
    raw["fields"]["description"] = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "see acme/web#45 and "},
                                          {"type": "inlineCard", "attrs": {"url": "https://github.com/acme/api/pull/9"}}]}]}
    rsps.get(SEARCH_JQL, json=fx.cloud_page([raw], is_last=True))
    item = next(iter(fx.adapter().pull(incremental(SCOPE, datetime(2021, 1, 1, tzinfo=UTC))).all_items().values()))
    assert set(item.links) == {"acme/web#45", "acme/api#9"}


# --- paging --------------------------------------------------------------------------------------

def test_cloud_paging_follows_tokens_ignores_total_and_stops_without_is_last_or_token(rsps):
    fx.add_basics(rsps, timezone="UTC")
    issues = fx.cloud_issues()
    # a short first page with a misleading `total`: neither may stop the paging
    rsps.get(SEARCH_JQL, json=fx.cloud_page(issues[:5], token="tok-1", is_last=False, total=5))
    rsps.get(SEARCH_JQL, json=fx.cloud_page(issues[5:20], token="tok-2"))
    rsps.get(SEARCH_JQL, json=fx.cloud_page(issues[20:]))  # last page: neither isLast nor nextPageToken
    result = fx.adapter().pull(incremental(SCOPE, datetime(2021, 1, 1, tzinfo=UTC)))
    assert len(result.all_items()) == 33
    calls = fx.calls_to(rsps, "/rest/api/3/search/jql")
    assert [fx.query(c).get("nextPageToken") for c in calls] == [None, "tok-1", "tok-2"]
    for call in calls:
        q = fx.query(call)
        assert q["maxResults"] == "100"
        requested = q["fields"].split(",")
        assert {"summary", "status", "resolution", "fixVersions", "updated", fx.SPRINT, fx.EPIC_LINK,
                fx.POINTS} <= set(requested)
        assert "*all" not in requested and "startAt" not in q


def test_deployment_type_picks_the_server_search_with_startat(rsps):
    rsps.get(f"{fx.SERVER_BASE}/rest/api/2/serverInfo", json={"deploymentType": "Server", "versionNumbers": [9, 12, 2]})
    fx.add_basics(rsps, base=fx.SERVER_BASE, api="2", timezone="UTC")
    issues = fx.server_issues()
    url = f"{fx.SERVER_BASE}/rest/api/2/search"
    # the server caps pages at 10 whatever we ask: advance by what came back
    rsps.get(url, json=fx.server_page(issues[:10], 0, 22, max_results=10))
    rsps.get(url, json=fx.server_page(issues[10:20], 10, 22, max_results=10))
    rsps.get(url, json=fx.server_page(issues[20:], 20, 22, max_results=10))
    a = fx.adapter(url=fx.SERVER_BASE, deployment=None, auth="bearer")
    result = a.pull(incremental(SCOPE, datetime(2023, 1, 1, tzinfo=UTC)))
    assert len(result.all_items()) == 22 and a.deployment == "server"
    assert [fx.query(c)["startAt"] for c in fx.calls_to(rsps, "/rest/api/2/search")] == ["0", "10", "20"]
    assert rsps.calls[-1].request.headers["Authorization"] == f"Bearer {fx.TOKEN}"


def test_deployment_type_cloud_picks_enhanced_search(rsps):
    rsps.get(f"{fx.BASE}/rest/api/2/serverInfo", json={"deploymentType": "Cloud", "versionNumbers": [1001, 0, 0]})
    fx.add_basics(rsps, timezone="UTC")
    rsps.get(SEARCH_JQL, json=fx.cloud_page(fx.cloud_issues()[:3], is_last=True))
    result = fx.adapter(deployment=None).pull(incremental(SCOPE, datetime(2021, 1, 1, tzinfo=UTC)))
    assert len(result.all_items()) == 3


# --- incremental cursor --------------------------------------------------------------------------

@pytest.mark.parametrize(("zone", "literal"), [
    ("America/Santo_Domingo", "2026/11/20 09:58"),  # UTC-4 all year
    ("Europe/Moscow", "2026/11/20 16:58"),  # UTC+3 all year
    ("Pacific/Auckland", "2026/11/21 02:58"),  # UTC+13 in November (daylight time)
    ("America/Los_Angeles", "2026/11/20 05:58"),  # UTC-8
])
def test_cursor_is_written_in_the_account_timezone_with_overlap(rsps, zone, literal):
    fx.add_basics(rsps, timezone=zone)
    rsps.get(SEARCH_JQL, json=fx.cloud_page([], is_last=True))
    cursor_at = datetime(2026, 11, 20, 14, 3, 11, 123000, tzinfo=UTC)
    result = fx.adapter(overlap_minutes=5).pull(incremental(SCOPE, cursor_at))
    jql = fx.query(fx.calls_to(rsps, "/rest/api/3/search/jql")[0])["jql"]
    assert jql == f'(project = EE AND fixVersion = "v2.7.0") AND updated >= "{literal}" ORDER BY created ASC, key ASC'
    assert result.scopes[0].cursor.updated == cursor_at  # nothing newer: the cursor stays
    assert not result.scopes[0].complete


def test_overlap_duplicates_are_deduplicated_and_the_cursor_is_the_newest_update(rsps):
    fx.add_basics(rsps, timezone="UTC")
    a, b = fx.issue("EE-1"), fx.issue("EE-2")
    newer_a = fx.issue("EE-1")
    newer_a["fields"]["updated"] = "2021-03-28T16:10:00.000+0800"
    rsps.get(SEARCH_JQL, json=fx.cloud_page([a, b], token="t"))
    rsps.get(SEARCH_JQL, json=fx.cloud_page([newer_a], is_last=True))  # EE-1 edited while we paged
    result = fx.adapter().pull(incremental(SCOPE, datetime(2021, 3, 28, 8, 0, tzinfo=UTC)))
    items = result.scopes[0].items
    assert sorted(i.key for i in items) == ["EE-1", "EE-2"]
    assert result.scopes[0].cursor.updated == datetime(2021, 3, 28, 8, 10, tzinfo=UTC)


def test_dst_ambiguous_wall_time_is_stepped_back(rsps):
    # 01:00-01:59 happens twice in New York on 2026-11-01; Jira may read the later instant, so the
    # literal steps back out of the repeated hour (05:35Z - nothing = 01:35 EDT -> 00:35 EDT)
    fx.add_basics(rsps, timezone="America/New_York")
    rsps.get(SEARCH_JQL, json=fx.cloud_page([], is_last=True))
    fx.adapter(overlap_minutes=0).pull(incremental(SCOPE, datetime(2026, 11, 1, 5, 35, tzinfo=UTC)))
    jql = fx.query(fx.calls_to(rsps, "/rest/api/3/search/jql")[0])["jql"]
    assert 'updated >= "2026/11/01 00:35"' in jql


def test_incremental_pull_with_nothing_changed_costs_one_search_per_scope(rsps):
    fx.add_basics(rsps, timezone="UTC")
    scopes = (SCOPE, JiraScope(tracker="jira", jql="project = K5"))
    last = fx.issue("EE-1")
    seen_at = datetime(2021, 3, 28, 8, 6, 8, 713000, tzinfo=UTC)  # EE-1's updated
    rsps.get(SEARCH_JQL, json=fx.cloud_page([last], is_last=True))  # only the overlap re-read
    rsps.get(SEARCH_JQL, json=fx.cloud_page([], is_last=True))
    a = fx.adapter()
    result = a.pull(PullSpec(scopes=scopes, cursors={s.id: Cursor("jira", s.id, updated=seen_at) for s in scopes}))
    # constants: /field and /myself; then one search per scope; no milestone calls (the overlap's EE-1
    # brings its version along)
    assert a.stats.requests == 2 + len(scopes) and a.stats.writes == 0
    assert [m.name for m in result.milestones if m.kind == "version"] == ["v2.7.0"]


def test_full_pull_of_n_issues_costs_ceil_n_over_page_searches_plus_constants(rsps):
    n = 250
    raws = fx.numbered(fx.issue("EE-3"), n)
    fx.add_basics(rsps)  # a full pull needs no /myself
    for start in range(0, n, 100):
        last = start + 100 >= n
        rsps.get(SEARCH_JQL, json=fx.cloud_page(raws[start:start + 100], token=None if last else f"p{start}"))
    a = fx.adapter()
    result = a.pull(PullSpec(scopes=(SCOPE,), cursors={}, full=True))
    assert len(result.all_items()) == n and result.scopes[0].complete and result.census
    full_pages = [c for c in fx.calls_to(rsps, "/rest/api/3/search/jql") if fx.query(c)["fields"] != "id"]
    assert len(full_pages) == math.ceil(n / 100)
    # the full pull is the census: no second, id-only pass over the same scope (issue #16)
    assert not [c for c in fx.calls_to(rsps, "/rest/api/3/search/jql") if fx.query(c)["fields"] == "id"]
    # one constant: /field (the versions and sprints come with the items, v2.7.0 among them)
    assert a.stats.requests == math.ceil(n / 100) + 1


# --- census: moves and deletions ------------------------------------------------------------------

def test_census_marks_deleted_and_moved_issues(rsps):
    fx.add_basics(rsps)
    present = fx.issue("EE-2")
    rsps.get(SEARCH_JQL, json=fx.cloud_page([present], is_last=True))
    rsps.get(f"{fx.BASE}/rest/api/3/issue/10063", status=404,
             json={"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}})
    rsps.get(f"{fx.BASE}/rest/api/3/issue/10065", json={"id": "10065", "key": "BETA-5", "fields": {}})
    recheck = rsps.get(SEARCH_JQL, json=fx.cloud_page([], is_last=True))
    known = frozenset({"10063", "10064", "10065"})
    result = fx.adapter().pull(PullSpec(scopes=(SCOPE,), cursors={}, known_ids=known, full=True,
                                           known_keys={"10063": "EE-1", "10064": "EE-2", "10065": "EE-3"}))
    gone = {g.id: g for g in result.gone}
    assert gone["10063"].presence is Presence.DELETED and "no longer visible" in gone["10063"].detail
    assert gone["10065"].presence is Presence.MOVED and gone["10065"].new_key == "BETA-5"
    assert "10064" not in gone and result.seen_ids == frozenset({"10064"})
    assert "id in (10065)" in fx.query(recheck.calls[0])["jql"]


def test_census_does_not_mark_an_issue_a_scope_still_matches(rsps):
    fx.add_basics(rsps)
    rsps.get(SEARCH_JQL, json=fx.cloud_page([], is_last=True))  # the pull missed it (lagging index)
    fx.add_no_milestones(rsps, ["EE"])  # no item carries the scope's v2.7.0: its project's versions
    rsps.get(f"{fx.BASE}/rest/api/3/issue/10065", json={"id": "10065", "key": "EE-3", "fields": {}})
    rsps.get(SEARCH_JQL, json=fx.cloud_page([{"id": "10065"}], is_last=True))  # but the recheck finds it
    result = fx.adapter().pull(PullSpec(scopes=(SCOPE,), cursors={}, known_ids=frozenset({"10065"}), full=True))
    assert result.gone == () and "10065" in result.seen_ids


def test_full_pull_takes_versions_and_sprints_from_the_items_and_asks_neither_api(rsps):
    fx.add_basics(rsps)
    raws = [fx.issue("EE-1"), fx.issue("K5-2")]
    rsps.get(SEARCH_JQL, json=fx.cloud_page(raws, is_last=True))
    result = fx.adapter().pull(PullSpec(scopes=(SCOPE,), cursors={}, full=True))
    assert len(rsps.calls) == 2  # /field and the one search: no versions API, no Agile API
    versions = {m.name: m for m in result.milestones if m.kind == "version"}
    # the recorded fixVersions entry: {"id": "10026", "name": "v2.7.0", "released": true, "releaseDate": ...}
    carried = raws[0]["fields"]["fixVersions"][0]
    assert versions["v2.7.0"].id == f"version:{carried['id']}" and versions["v2.7.0"].container == "EE"
    assert versions["v2.7.0"].state == "released" and str(versions["v2.7.0"].due) == carried["releaseDate"]
    sprints = {m.name: m for m in result.milestones if m.kind == "sprint"}
    assert sprints["EE Sprint 7"].state == "closed" and sprints["EE Sprint 7"].due == date(2020, 6, 26)
    assert sprints["K5 Sprint 1"].container == "K5"


def test_a_named_version_no_item_carries_is_read_from_its_projects_version_list(rsps):
    fx.add_basics(rsps)
    raw = fx.issue("EE-2")
    raw["fields"]["fixVersions"] = []  # the scope's v2.7.0 has no issue left
    rsps.get(SEARCH_JQL, json=fx.cloud_page([raw], is_last=True))
    project = fx.mock_json("project.json")
    rsps.get(f"{fx.BASE}/rest/api/3/project/EE/version",
             json={"startAt": 0, "maxResults": 50, "total": len(project["versions"]), "isLast": True,
                   "values": project["versions"]})
    result = fx.adapter().pull(PullSpec(scopes=(SCOPE,), cursors={}, full=True))
    versions = [m for m in result.milestones if m.kind == "version"]
    assert {m.id for m in versions} == {f"version:{v['id']}" for v in project["versions"]}
    assert all(m.state in ("released", "unreleased", "archived") for m in versions)


def test_census_keeps_an_issue_that_only_left_the_scopes(rsps):
    fx.add_basics(rsps)
    rsps.get(SEARCH_JQL, json=fx.cloud_page([], is_last=True))
    fx.add_no_milestones(rsps, ["EE"])
    rsps.get(f"{fx.BASE}/rest/api/3/issue/10065", json={"id": "10065", "key": "EE-3", "fields": {}})
    rsps.get(SEARCH_JQL, json=fx.cloud_page([], is_last=True))
    result = fx.adapter().pull(PullSpec(scopes=(SCOPE,), cursors={}, known_ids=frozenset({"10065"}), full=True,
                                           known_keys={"10065": "EE-3"}))
    # same key: not moved, not deleted; the complete (empty) scope pull already drops its membership
    assert result.gone == () and result.scopes[0].complete and result.scopes[0].items == ()
