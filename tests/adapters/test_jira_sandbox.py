"""The Jira adapter end to end against the sandbox, Cloud and Server flavours, plus the shared contract."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from connector.errors import FatalAPIError
from connector.model import Presence, WorkItem
from connector.sandbox import JIRA_EMAIL, JIRA_PAT, JIRA_TOKEN
from connector.trackers.jira.adapter import JiraAdapter
from connector.trackers.jira.config import JiraTrackerSettings
from connector.trackers.jira.mapping import load_jira_mapping
from connector.trackers.jira.scopes import JiraScope
from connector.values import LabelChange, PullSpec
from tests.adapters.contract import AdapterContract

SCOPE = JiraScope(tracker="jira", jql="project = CHK")
FLAVOURS = ("cloud", "server")


def make(sandbox, flavour: str, *, token: str | None = None, deployment: str | None = "same",
         overlap_minutes: int = 5) -> JiraAdapter:
    cloud = flavour == "cloud"
    tracker = JiraTrackerSettings(kind="jira", url=sandbox.jira_url if cloud else sandbox.jira_server_url,
                                  deployment=flavour if deployment == "same" else deployment,
                                  auth="basic" if cloud else "bearer", email=JIRA_EMAIL if cloud else None,
                                  token_env="JIRA_API_TOKEN", timeout=10)
    tracker._name = "jira"
    return JiraAdapter(tracker, load_jira_mapping(), overlap_minutes=overlap_minutes,
                       token=token or (JIRA_TOKEN if cloud else JIRA_PAT))


def full(adapter: JiraAdapter, scopes=(SCOPE,), **kw):
    return adapter.pull(PullSpec(scopes=scopes, cursors={}, full=True, **kw))


def incremental(adapter: JiraAdapter, first, scopes=(SCOPE,)):
    return adapter.pull(PullSpec(scopes=scopes, cursors={s.scope_id: s.cursor for s in first.scopes}))


class _JiraContract(AdapterContract):
    flavour = "cloud"

    def make_adapter(self, sandbox, *, token=None):
        return make(sandbox, self.flavour, token=token)

    def scopes(self, sandbox):
        return (SCOPE, JiraScope(tracker="jira", jql="project = PAY AND statusCategory != Done"))

    def touch(self, sandbox, item: WorkItem) -> None:
        sandbox.clock.advance(minutes=1)
        sandbox.update_jira_issue(item.key, summary=item.title + " (edited)")

    def tracker_labels(self, sandbox, item: WorkItem) -> set[str]:
        return set(sandbox.jira_issue(item.key).labels)

    def add_foreign_label(self, sandbox, item: WorkItem, label: str) -> None:
        sandbox.update_jira_issue(item.key, labels=[*sandbox.jira_issue(item.key).labels, label])


class TestJiraCloudContract(_JiraContract):
    flavour = "cloud"


class TestJiraServerContract(_JiraContract):
    flavour = "server"


# --- request counts ----------------------------------------------------------------------------

@pytest.mark.parametrize("flavour", FLAVOURS)
def test_full_pull_costs_ceil_n_over_page_searches(sandbox_factory, flavour):
    sb = sandbox_factory(seed=1, scale=2000)
    n = sum(1 for i in sb.state.live_jira() if i.project == "CHK")
    assert n > 300  # several pages
    adapter = make(sb, flavour)
    result = full(adapter)
    assert len(result.all_items()) == n
    search = "jira.search_jql" if flavour == "cloud" else "jira.search"
    # ceil(N/100) full pages; the full pull is itself the census (no id-only pass since issue #16)
    assert sb.count(endpoint=search) == math.ceil(n / 100)
    counts = sb.counts()["by_endpoint"]
    constants = {k: v for k, v in counts.items() if k != search}
    # one constant, /field: the versions and sprints come with the items (no versions or Agile API call)
    assert constants == {"jira.field": 1}
    assert adapter.stats.requests == sb.count()


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_incremental_with_nothing_changed_costs_one_search_per_scope(sandbox, flavour):
    scopes = (SCOPE, JiraScope(tracker="jira", jql="project = OPS"), JiraScope(tracker="jira", jql="project = PAY"))
    first = full(make(sandbox, flavour), scopes)
    sandbox.reset_counts()
    again = make(sandbox, flavour)
    incremental(again, first, scopes)
    search = "jira.search_jql" if flavour == "cloud" else "jira.search"
    assert sandbox.count(endpoint=search) == len(scopes)
    assert sandbox.count() == len(scopes) + 2  # + /field and /myself, once each


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_labels_on_k_issues_cost_k_requests(sandbox, flavour):
    adapter = make(sandbox, flavour)
    items = sorted(full(adapter).all_items().values(), key=lambda i: int(i.id))[:4]
    sandbox.reset_counts()
    for item in items:
        assert adapter.push_labels(LabelChange("jira", item.id, item.key, add=frozenset({"plan:on-track"}))).ok
    assert sandbox.count(method="PUT") == len(items) == sandbox.count()
    assert all("plan:on-track" in sandbox.jira_issue(i.key).labels for i in items)
    assert adapter.push_labels(LabelChange("jira", items[0].id, items[0].key)).requests == 0
    assert sandbox.count() == len(items)


# --- deployment, timezones, census ---------------------------------------------------------------

@pytest.mark.parametrize("flavour", FLAVOURS)
def test_deployment_is_detected_from_server_info(sandbox, flavour):
    adapter = make(sandbox, flavour, deployment=None)
    assert adapter.check().deployment == flavour
    assert full(adapter).all_items()


def test_a_cloud_site_configured_as_server_fails_fast_on_410(sandbox):
    adapter = make(sandbox, "cloud", deployment="server")
    with pytest.raises(FatalAPIError, match="410"):
        full(adapter)
    assert sandbox.count(endpoint="jira.search") == 1


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("zone", ["Pacific/Auckland", "America/Los_Angeles"])
def test_an_update_in_the_minute_before_the_cursor_is_not_missed(sandbox_factory, flavour, zone):
    sb = sandbox_factory(seed=3, jira_timezone=zone)
    first = full(make(sb, flavour))
    cursor = first.scopes[0].cursor.updated
    # an edit Jira indexed late: stamped 50 s before the cursor, visible only after our pull
    late = min((i for i in first.all_items().values() if i.updated < cursor - timedelta(hours=2)),
               key=lambda i: int(i.id))
    record = sb.jira_issue(late.key)
    record.summary += " (late edit)"
    record.updated = (cursor - timedelta(seconds=50)).timestamp()
    sb.state.bump()
    result = incremental(make(sb, flavour), first)
    assert late.id in result.all_items()
    assert result.all_items()[late.id].title.endswith("(late edit)")


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_census_finds_deleted_and_moved_issues(sandbox, flavour):
    adapter = make(sandbox, flavour)
    first = full(adapter)
    items = sorted(first.all_items().values(), key=lambda i: int(i.id))
    deleted, moved = items[3], items[4]
    sandbox.delete_jira_issue(deleted.key)
    new_key = sandbox.move_jira_issue(moved.key, "OPS").key
    known = frozenset(first.all_items())
    result = full(make(sandbox, flavour), known_ids=known, known_keys={i.id: i.key for i in items})
    gone = {g.id: g for g in result.gone}
    assert set(gone) == {deleted.id, moved.id}
    assert gone[deleted.id].presence is Presence.DELETED
    assert gone[moved.id].presence is Presence.MOVED and gone[moved.id].new_key == new_key
    assert result.census and result.seen_ids == known - {deleted.id, moved.id}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_retry_after_from_the_sandbox_is_honoured(sandbox, flavour, _no_real_sleep):
    sandbox.faults.add(preset="jira_429", path=r"/search", flavour=flavour)
    full(make(sandbox, flavour))
    assert max(_no_real_sleep) >= 5


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_truncated_body_fails_the_pull(sandbox, flavour):
    sandbox.faults.add("truncate", path=r"/search", flavour=flavour, status=200)
    with pytest.raises(FatalAPIError, match="not valid JSON"):
        full(make(sandbox, flavour))


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_comment_is_created_once_then_edited(sandbox, flavour):
    adapter = make(sandbox, flavour)
    key = sorted(full(adapter).all_items().values(), key=lambda i: int(i.id))[0].key
    first = adapter.post_comment(key, "[plansync:weekly]", "week 47: on track")
    second = adapter.post_comment(key, "[plansync:weekly]", "week 48: at risk")
    assert first == second
    bodies = [c["body"] for c in sandbox.jira_issue(key).comments]
    assert sum("[plansync:weekly]" in b for b in bodies) == 1 and any("week 48" in b for b in bodies)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_dropped_connection_and_a_502_are_retried(sandbox, flavour, _no_real_sleep):
    sandbox.faults.add("drop", path=r"/search", flavour=flavour)
    sandbox.faults.add(preset="502", path=r"/field", flavour=flavour)
    adapter = make(sandbox, flavour)
    assert full(adapter).all_items()
    assert adapter.stats.retries == 2 and len(_no_real_sleep) == 2
