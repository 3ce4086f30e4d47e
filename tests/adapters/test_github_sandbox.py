"""The GitHub adapter end to end against the sandbox on loopback: the shared adapter contract, request
counts as the server saw them, ETag 304s, the census, label idempotence, faults and rate limits."""

from __future__ import annotations

import math

import pytest

from connector import clock
from connector.errors import FatalAPIError, RateLimitExhausted
from connector.http import RetryPolicy
from connector.model import Presence, Scope, WorkItem
from connector.trackers.github.adapter import GithubAdapter, repo_scope_id
from connector.trackers.github.config import GithubTrackerSettings
from connector.trackers.github.mapping import load_github_mapping
from connector.trackers.github.normalize import split_key
from connector.trackers.github.scopes import GithubScope
from connector.values import LabelChange, PullSpec
from tests.adapters.contract import AdapterContract

SANDBOX_TOKEN = "sandbox-github-token"
TOKEN_ENV = "PLANSYNC_TEST_SANDBOX_GITHUB_TOKEN"
REPO = "acme/checkout-web"
LIST = "github.issues_list"


def make_github(sandbox, monkeypatch, *, token: str = SANDBOX_TOKEN, **settings) -> GithubAdapter:
    monkeypatch.setenv(TOKEN_ENV, token)
    tracker = GithubTrackerSettings(kind="github", url=sandbox.github_url, token_env=TOKEN_ENV, **settings)
    tracker._name = "gh"
    return GithubAdapter(tracker, load_github_mapping(), overlap_minutes=5, policy=RetryPolicy(attempts=4))


def visible_issues(sandbox, repo: str) -> list:
    return [i for i in sandbox.state.gh_issues[repo].values() if not i.deleted and not i.transferred_to]


class TestGithubContract(AdapterContract):
    @pytest.fixture(autouse=True)
    def _env(self, monkeypatch):
        self.monkeypatch = monkeypatch

    def make_adapter(self, sandbox, *, token: str | None = None) -> GithubAdapter:
        return make_github(sandbox, self.monkeypatch, token=token or SANDBOX_TOKEN)

    def scopes(self, sandbox) -> tuple[Scope, ...]:
        return (GithubScope(tracker="gh", repo=REPO), GithubScope(tracker="gh", repo="acme/infra", label="bug"))

    def touch(self, sandbox, item: WorkItem) -> None:
        repo, number = split_key(item.key)
        sandbox.update_github_issue(repo, number, title=f"{item.title} (edited)")

    def tracker_labels(self, sandbox, item: WorkItem) -> set[str]:
        repo, number = split_key(item.key)
        return set(sandbox.github_issue(repo, number).labels)

    def add_foreign_label(self, sandbox, item: WorkItem, label: str) -> None:
        repo, number = split_key(item.key)
        issue = sandbox.github_issue(repo, number)
        sandbox.update_github_issue(repo, number, labels=[*issue.labels, label])


# --- request counts ---------------------------------------------------------------------------------
def test_full_pull_costs_ceil_n_over_100_list_requests_plus_milestones(sandbox_factory, monkeypatch):
    sandbox = sandbox_factory(seed=3, scale=2000)
    adapter = make_github(sandbox, monkeypatch)
    n = len(visible_issues(sandbox, REPO))
    assert n > 200, "the scale should give this repo several pages"

    result = adapter.pull(PullSpec(scopes=(GithubScope(tracker="gh", repo=REPO),), cursors={}, full=True))

    items = result.all_items()
    assert len(items) == n
    assert sandbox.count(endpoint=LIST) == math.ceil(n / 100)
    assert sandbox.count(endpoint="github.milestones") == 1
    assert sandbox.count() == math.ceil(n / 100) + 1 == adapter.stats.requests  # nothing per issue
    prs = {i.key for i in items.values() if i.is_pull_request}
    assert prs == {f"{REPO}#{i.number}" for i in visible_issues(sandbox, REPO) if i.is_pr}
    assert all(i.type == "pull_request" for i in items.values() if i.is_pull_request)


def test_unchanged_repo_costs_one_request_answered_304(sandbox, monkeypatch):
    scopes = (GithubScope(tracker="gh", repo=REPO),)
    adapter = make_github(sandbox, monkeypatch)
    first = adapter.pull(PullSpec(scopes=scopes, cursors={}, full=True))
    cursors = {s.scope_id: s.cursor for s in first.scopes}
    # the first incremental learns the ETag of the `since` URL
    second = adapter.pull(PullSpec(scopes=scopes, cursors=cursors))
    cursors = {s.scope_id: s.cursor for s in second.scopes}
    assert cursors[repo_scope_id("gh", REPO)].etag
    sandbox.reset_counts()
    remaining = adapter.stats.rate_remaining

    third = make_github(sandbox, monkeypatch)
    result = third.pull(PullSpec(scopes=scopes, cursors=cursors))

    assert sandbox.count() == 1 and sandbox.count(status=304) == 1
    assert third.stats.requests == 1 and third.stats.not_modified == 1
    assert third.stats.rate_remaining == remaining  # a 304 does not spend the primary budget
    [scope] = result.scopes
    assert scope.items == () and scope.cursor == cursors[scope.scope_id]


def test_a_change_after_a_304_is_seen_and_the_cursor_advances(sandbox, monkeypatch):
    scopes = (GithubScope(tracker="gh", repo=REPO),)
    adapter = make_github(sandbox, monkeypatch)
    cursors = {s.scope_id: s.cursor for s in adapter.pull(PullSpec(scopes=scopes, cursors={}, full=True)).scopes}
    for _ in range(2):
        cursors = {s.scope_id: s.cursor for s in adapter.pull(PullSpec(scopes=scopes, cursors=cursors)).scopes}
    before = cursors[repo_scope_id("gh", REPO)]
    sandbox.clock.advance(minutes=30)
    changed = sandbox.update_github_issue(REPO, 3, title="retitled")

    result = adapter.pull(PullSpec(scopes=scopes, cursors=cursors))

    [scope] = result.scopes
    assert str(changed.id) in {i.id for i in scope.items}
    assert scope.cursor.updated > before.updated


def test_second_apply_of_the_same_labels_writes_nothing(sandbox, monkeypatch):
    adapter = make_github(sandbox, monkeypatch)
    scopes = (GithubScope(tracker="gh", repo=REPO),)
    item = next(i for i in adapter.pull(PullSpec(scopes=scopes, cursors={}, full=True)).all_items().values()
                if i.is_open and not i.is_pull_request)
    desired = {"plan:on-track", "plan:overdue"}

    def diff(current: WorkItem) -> LabelChange:
        owned = current.owned_labels("plan:")
        return LabelChange("gh", current.id, current.key, add=frozenset(desired - owned),
                           remove=frozenset(owned - desired))

    first = adapter.push_labels(diff(item))
    assert first.ok and first.requests == 1
    writes = sandbox.count(method="POST") + sandbox.count(method="DELETE")
    again = adapter.pull(PullSpec(scopes=scopes, cursors={}, full=True)).all_items()[item.id]
    second = adapter.push_labels(diff(again))
    assert second.ok and second.requests == 0 and second.change.empty
    assert sandbox.count(method="POST") + sandbox.count(method="DELETE") == writes


# --- census -----------------------------------------------------------------------------------------
def test_census_marks_deleted_transferred_and_invisible_items(sandbox, monkeypatch):
    adapter = make_github(sandbox, monkeypatch)
    scopes = (GithubScope(tracker="gh", repo=REPO),)
    items = adapter.pull(PullSpec(scopes=scopes, cursors={}, full=True)).all_items()
    deleted, moved = sorted((i for i in items.values() if not i.is_pull_request), key=lambda i: i.id)[:2]
    sandbox.delete_github_issue(*split_key(deleted.key))
    new = sandbox.transfer_github_issue(*split_key(moved.key), "acme/payments-api")
    known_keys = {i.id: i.key for i in items.values()} | {"999999": f"{REPO}#99999"}

    result = adapter.pull(PullSpec(scopes=scopes, cursors={}, full=True, known_ids=frozenset(known_keys),
                                      known_keys=known_keys))

    gone = {g.id: g for g in result.gone}
    assert gone[deleted.id].presence is Presence.DELETED
    assert gone[moved.id].presence is Presence.MOVED
    assert gone[moved.id].new_key == f"acme/payments-api#{new.number}"
    assert gone["999999"].presence is Presence.HIDDEN
    assert set(gone) == {deleted.id, moved.id, "999999"}
    assert result.seen_ids == frozenset(items) - {deleted.id, moved.id}


# --- faults and limits ------------------------------------------------------------------------------
def test_secondary_limits_are_waited_out(sandbox, monkeypatch, _no_real_sleep):
    sandbox.faults.add(preset="github_secondary", path=r"/issues$", times=1)
    sandbox.faults.add(preset="github_secondary_no_retry_after", path=r"/milestones$", times=1)
    adapter = make_github(sandbox, monkeypatch)
    result = adapter.pull(PullSpec(scopes=(GithubScope(tracker="gh", repo=REPO),), cursors={}, full=True))
    assert result.all_items()
    assert _no_real_sleep == [60.0, 60.0] and adapter.stats.retries == 2


def test_server_errors_and_dropped_connections_are_retried(sandbox, monkeypatch, _no_real_sleep):
    sandbox.faults.add(preset="502", path=r"/issues$", times=1)
    sandbox.faults.add("drop", path=r"/milestones$", times=1)
    adapter = make_github(sandbox, monkeypatch)
    assert adapter.pull(PullSpec(scopes=(GithubScope(tracker="gh", repo=REPO),), cursors={}, full=True)).all_items()
    assert adapter.stats.retries == 2


def test_malformed_body_fails_the_pull_cleanly(sandbox, monkeypatch):
    sandbox.faults.add("malformed", path=r"/issues$", times=1)
    with pytest.raises(FatalAPIError, match="not JSON"):
        make_github(sandbox, monkeypatch).pull(PullSpec(scopes=(GithubScope(tracker="gh", repo=REPO),), cursors={},
                                                           full=True))


def test_primary_limit_exhaustion_stops_the_pull(sandbox_factory, monkeypatch, _no_real_sleep):
    sandbox = sandbox_factory(seed=1, github_rate_limit=1)
    adapter = make_github(sandbox, monkeypatch)
    with pytest.raises(RateLimitExhausted, match="primary rate limit"):
        adapter.pull(PullSpec(scopes=(GithubScope(tracker="gh", repo=REPO),), cursors={}, full=True))
    assert _no_real_sleep == []


def test_pull_stops_at_the_budget_share(sandbox_factory, monkeypatch, _no_real_sleep):
    sandbox = sandbox_factory(seed=3, scale=2000, github_rate_limit=10, now=clock.now())
    adapter = make_github(sandbox, monkeypatch, budget_share=0.2)  # keeps 8 of 10 in reserve
    with pytest.raises(RateLimitExhausted, match="budget_share"):
        adapter.pull(PullSpec(scopes=(GithubScope(tracker="gh", repo=REPO),), cursors={}, full=True))
    assert sandbox.count() == 2 and _no_real_sleep == []


def test_report_comment_is_created_once_then_edited(sandbox, monkeypatch):
    adapter = make_github(sandbox, monkeypatch)
    marker = "<!-- plansync:report -->"
    first = adapter.post_comment(f"{REPO}#1", marker, "week 1")
    second = adapter.post_comment(f"{REPO}#1", marker, "week 2")
    assert first == second
    bodies = [c["body"] for c in sandbox.github_issue(REPO, 1).comments if marker in c["body"]]
    assert bodies == [f"week 2\n\n{marker}"]
