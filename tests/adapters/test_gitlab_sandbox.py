"""The GitLab adapter end to end against the sandbox's GitLab flavour: the shared adapter contract, request
counts as the server saw them (keyset pages, per_page=100, quiet incrementals), status mapping (labels,
duplicates, wontfix), the census (deleted, moved), one-PUT label writes, 429 / 5xx / 401, and the
unmodified python-gitlab library against the same flavour."""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlsplit

import gitlab
import pytest

from connector import clock
from connector.errors import AuthError
from connector.http import RetryPolicy
from connector.model import Presence, Scope, Status, WorkItem
from connector.trackers.gitlab.adapter import GitlabAdapter
from connector.trackers.gitlab.config import GitlabTrackerSettings
from connector.trackers.gitlab.mapping import load_gitlab_mapping
from connector.trackers.gitlab.normalize import project_scope_id, split_key
from connector.trackers.gitlab.scopes import GitlabScope
from connector.values import LabelChange, PullSpec
from tests.adapters.contract import AdapterContract

SANDBOX_TOKEN = "sandbox-gitlab-token"
TOKEN_ENV = "PLANSYNC_TEST_SANDBOX_GITLAB_TOKEN"
CHECKOUT, MOBILE = "acme/platform/checkout", "acme/platform/mobile"
LIST = "gitlab.project_issues"


def make_gitlab(sandbox, monkeypatch, *, token: str = SANDBOX_TOKEN, attempts: int = 4) -> GitlabAdapter:
    monkeypatch.setenv(TOKEN_ENV, token)
    tracker = GitlabTrackerSettings(kind="gitlab", url=sandbox.gitlab_url, token_env=TOKEN_ENV)
    tracker._name = "gl"
    return GitlabAdapter(tracker, load_gitlab_mapping(), overlap_minutes=5, policy=RetryPolicy(attempts=attempts))


def visible(sandbox, project: str) -> list:
    return [i for i in sandbox.gitlab.issues.values() if i.project == project and not i.deleted]


def full(adapter, *scopes):
    return adapter.pull(PullSpec(scopes=scopes or (GitlabScope(tracker="gl", project=CHECKOUT),), cursors={},
                                 full=True))


class TestGitlabContract(AdapterContract):
    @pytest.fixture(autouse=True)
    def _env(self, monkeypatch):
        self.monkeypatch = monkeypatch

    def make_adapter(self, sandbox, *, token: str | None = None) -> GitlabAdapter:
        return make_gitlab(sandbox, self.monkeypatch, token=token or SANDBOX_TOKEN)

    def scopes(self, sandbox) -> tuple[Scope, ...]:
        return (GitlabScope(tracker="gl", project=CHECKOUT),
                GitlabScope(tracker="gl", group="acme/platform", milestone="Q4 launch"))

    def touch(self, sandbox, item: WorkItem) -> None:
        project, iid = split_key(item.key)
        sandbox.gitlab.update(project, iid, sandbox.clock.ts(), title=f"{item.title} (edited)")

    def tracker_labels(self, sandbox, item: WorkItem) -> set[str]:
        return set(sandbox.gitlab.issue(*split_key(item.key)).labels)

    def add_foreign_label(self, sandbox, item: WorkItem, label: str) -> None:
        project, iid = split_key(item.key)
        issue = sandbox.gitlab.issue(project, iid)
        sandbox.gitlab.update(project, iid, sandbox.clock.ts(), labels=[*issue.labels, label])


# --- request counts ---------------------------------------------------------------------------------
def test_full_pull_costs_ceil_n_over_100_keyset_pages_plus_milestones(sandbox_factory, monkeypatch):
    sandbox = sandbox_factory(seed=3, scale=2000)
    adapter = make_gitlab(sandbox, monkeypatch)
    n = len(visible(sandbox, CHECKOUT))
    assert n > 200, "the scale should give this project several pages"
    result = full(adapter)
    moved = [i for i in visible(sandbox, CHECKOUT) if i.moved_to_id]
    assert len(result.all_items()) == n - len(moved)
    assert sandbox.count(endpoint=LIST) == math.ceil(n / 100)
    assert sandbox.count(endpoint="gitlab.project_milestones") == 1
    assert sandbox.count() == math.ceil(n / 100) + 1 == adapter.stats.requests  # nothing per issue
    lists = [r for r in sandbox.log if r.endpoint_name == LIST]
    first = parse_qs(lists[0].query)
    assert first["pagination"] == ["keyset"] and first["per_page"] == ["100"]
    assert first["order_by"] == ["created_at"] and first["sort"] == ["asc"]
    assert all("cursor" in parse_qs(r.query) for r in lists[1:])  # followed rel="next", no page numbers


def test_quiet_incremental_costs_one_request_and_sends_updated_after_with_an_offset(sandbox, monkeypatch):
    scopes = (GitlabScope(tracker="gl", project=CHECKOUT),)
    first = make_gitlab(sandbox, monkeypatch).pull(PullSpec(scopes=scopes, cursors={}, full=True))
    cursors = {s.scope_id: s.cursor for s in first.scopes}
    sandbox.clock.advance(hours=1)  # nothing changes for an hour: the overlap window holds nothing
    sandbox.reset_counts()
    again = make_gitlab(sandbox, monkeypatch)
    result = again.pull(PullSpec(scopes=scopes, cursors=cursors))
    stored = cursors[project_scope_id("gl", CHECKOUT)].updated
    assert all(i.updated <= stored for i in result.all_items().values())  # the overlap window, nothing new
    assert sandbox.count() == 1 == again.stats.requests
    query = parse_qs(sandbox.log[0].query)
    assert query["updated_after"][0].endswith("+00:00") and query["order_by"] == ["updated_at"]
    assert result.scopes[0].cursor.updated == cursors[project_scope_id("gl", CHECKOUT)].updated


def test_group_scopes_use_offset_pages(sandbox, monkeypatch):
    adapter = make_gitlab(sandbox, monkeypatch)
    result = full(adapter, GitlabScope(tracker="gl", group="acme/platform", label="payments"))
    lists = [r for r in sandbox.log if r.endpoint_name == "gitlab.group_issues"]
    assert lists and "pagination" not in parse_qs(lists[0].query)
    inside = [i for i in sandbox.gitlab.issues.values() if not i.deleted and not i.moved_to_id]
    assert len(result.all_items()) == len(inside)
    assert len(lists) == math.ceil(len([i for i in sandbox.gitlab.issues.values() if not i.deleted]) / 100)


# --- status mapping ---------------------------------------------------------------------------------
def test_status_comes_from_state_labels_and_how_an_issue_was_closed(sandbox, monkeypatch):
    gl = sandbox.gitlab
    opened = [i for i in visible(sandbox, CHECKOUT) if i.state == "opened" and not i.moved_to_id]
    now = sandbox.clock.ts()
    gl.update(CHECKOUT, opened[0].iid, now, labels=["Blocked"])
    gl.update(CHECKOUT, opened[1].iid, now, labels=["in progress"])
    gl.update(CHECKOUT, opened[2].iid, now, state="closed", duplicate_of=opened[3].id)
    gl.update(CHECKOUT, opened[3].iid, now, state="closed", labels=["wontfix"])
    gl.update(CHECKOUT, opened[4].iid, now, state="closed")
    items = {i.key: i for i in full(make_gitlab(sandbox, monkeypatch)).all_items().values()}
    key = [f"{CHECKOUT}#{i.iid}" for i in opened[:5]]
    assert [items[k].status for k in key] == [Status.BLOCKED, Status.IN_PROGRESS, Status.DROPPED,
                                              Status.DROPPED, Status.DONE]
    assert items[key[2]].raw_status == "closed/duplicate"


# --- census -------------------------------------------------------------------------------------------
def test_census_marks_deleted_and_moved_issues(sandbox, monkeypatch):
    scopes = (GitlabScope(tracker="gl", project=CHECKOUT), GitlabScope(tracker="gl", project=MOBILE))
    first = make_gitlab(sandbox, monkeypatch).pull(PullSpec(scopes=scopes, cursors={}, full=True))
    known = first.all_items()
    gl = sandbox.gitlab
    victim, mover = sorted((i for i in known.values() if i.container == CHECKOUT and i.status.is_open),
                           key=lambda i: i.id)[:2]
    gl.delete(*split_key(victim.key))
    new = gl.move(*split_key(mover.key), MOBILE, sandbox.clock.ts())
    sandbox.reset_counts()
    result = make_gitlab(sandbox, monkeypatch).pull(PullSpec(
        scopes=scopes, cursors={}, full=True, known_ids=frozenset(known),
        known_keys={i.id: i.key for i in known.values()}))
    gone = {g.id: g for g in result.gone}
    assert gone[victim.id].presence is Presence.DELETED
    assert gone[mover.id].presence is Presence.MOVED and gone[mover.id].new_key == f"{MOBILE}#{new.iid}"
    assert mover.id not in result.all_items() and str(new.id) in result.all_items()
    assert sandbox.count(endpoint="gitlab.issue_get") == 1  # only the deleted one needed a look-up


# --- writes -------------------------------------------------------------------------------------------
def test_a_label_swap_is_one_put_with_add_and_remove(sandbox, monkeypatch):
    adapter = make_gitlab(sandbox, monkeypatch)
    item = next(i for i in full(adapter).all_items().values() if i.status.is_open)
    sandbox.reset_counts()
    change = LabelChange("gl", item.id, item.key, add=frozenset({"plan:at-risk", "plan:off-track"}),
                         remove=frozenset({"plan:on-track"}))
    result = adapter.push_labels(change)
    assert result.ok and result.requests == 1 and sandbox.count(method="PUT", endpoint="gitlab.issue_edit") == 1
    assert set(result.labels) == set(sandbox.gitlab.issue(*split_key(item.key)).labels) >= change.add
    again = adapter.push_labels(change)  # idempotent: the same PUT changes nothing the second time
    assert again.ok and set(again.labels) == set(result.labels)


def test_comment_is_created_once_then_edited_by_marker(sandbox, monkeypatch):
    adapter = make_gitlab(sandbox, monkeypatch)
    item = next(iter(full(adapter).all_items().values()))
    first = adapter.post_comment(item.key, "<!-- plansync:status -->", "week 1")
    second = adapter.post_comment(item.key, "<!-- plansync:status -->", "week 2")
    notes = sandbox.gitlab.issue(*split_key(item.key)).notes
    assert first == second and len(notes) == 1 and notes[0]["body"].startswith("week 2")


# --- errors and limits --------------------------------------------------------------------------------
def test_429_with_retry_after_is_waited_out_by_our_one_retry_layer(sandbox, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(clock, "sleep", waits.append)
    sandbox.faults.add(method="GET", path=r"^/gitlab/api/v4/projects/.+/issues$", status=429, times=2,
                       headers={"Retry-After": "7"}, body="Retry later")
    adapter = make_gitlab(sandbox, monkeypatch)
    assert full(adapter).all_items()
    assert waits[:2] == [7.0, 7.0] and adapter.stats.retries == 2
    assert sandbox.count(endpoint=LIST, status=429) == 2  # python-gitlab did not retry on its own


def test_the_sandbox_rate_limit_answers_429_and_the_headers_are_read(sandbox, monkeypatch):
    monkeypatch.setattr(clock, "sleep", lambda seconds: None)
    adapter = make_gitlab(sandbox, monkeypatch, attempts=1)
    adapter.check()
    assert adapter.stats.rate_limit == 2000 and adapter.stats.rate_remaining == 1999
    sandbox.gitlab.rate_limit = 1
    with pytest.raises(Exception) as caught:
        adapter.check()
    assert "429" in str(caught.value) and "gl" in str(caught.value)


def test_server_errors_and_dropped_connections_are_retried(sandbox, monkeypatch):
    monkeypatch.setattr(clock, "sleep", lambda seconds: None)
    sandbox.faults.add(method="GET", path=r"^/gitlab/api/v4/projects/.+/issues$", status=502, times=1)
    sandbox.faults.add(kind="drop", method="GET", path=r"^/gitlab/api/v4/projects/.+/milestones$", times=1)
    adapter = make_gitlab(sandbox, monkeypatch)
    assert full(adapter).all_items() and adapter.stats.retries == 2


def test_a_refused_token_is_one_auth_error_without_the_token(sandbox, monkeypatch):
    adapter = make_gitlab(sandbox, monkeypatch, token="glpat-wrong-123")
    with pytest.raises(AuthError) as caught:
        full(adapter)
    assert "gl" in str(caught.value) and TOKEN_ENV in str(caught.value)
    assert "glpat-wrong-123" not in str(caught.value) and SANDBOX_TOKEN not in str(caught.value)


# --- the flavour is GitLab enough for GitLab's own client -------------------------------------------
def test_unmodified_python_gitlab_works_against_the_flavour(sandbox):
    client = gitlab.Gitlab(sandbox.gitlab_url, private_token=SANDBOX_TOKEN)
    project = client.projects.get(CHECKOUT)
    assert project.path_with_namespace == CHECKOUT
    listed = list(project.issues.list(iterator=True, pagination="keyset", order_by="created_at", sort="asc",
                                      per_page=50))
    assert len(listed) == len(visible(sandbox, CHECKOUT))
    assert len({i.id for i in listed}) == len(listed)
    paged = list(project.issues.list(iterator=True, per_page=40))  # offset pages, X-Total and Link
    assert {i.id for i in paged} == {i.id for i in listed}
    issue = project.issues.get(listed[0].iid)
    issue.labels = [*issue.labels, "needs-design"]
    issue.save()
    assert "needs-design" in sandbox.gitlab.issue(CHECKOUT, issue.iid).labels
    assert [m.title for m in project.milestones.list()] == ["Alpha", "Beta", "GA"]
    assert [m.title for m in client.groups.get("acme/platform").milestones.list()] == ["Q4 launch"]
    assert urlsplit(client.api_url).path == "/gitlab/api/v4"


def test_next_links_are_followed_on_the_configured_base_only(sandbox, monkeypatch):
    """GitLab writes Link URLs from its external_url; the token must not follow them to another host."""
    adapter = make_gitlab(sandbox, monkeypatch)
    elsewhere = "https://gitlab.elsewhere.example/api/v4/projects/9200/issues?cursor=abc&per_page=100"
    assert adapter.http.on_our_base(elsewhere) == f"{sandbox.gitlab_url}/api/v4/projects/9200/issues?cursor=abc&per_page=100"
