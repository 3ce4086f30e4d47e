"""GitHub label writes, comments and the census against recorded answers: one POST per issue, URL-encoded
DELETEs where 404 is success, paced writes, never-retried comment creation, 301/410/404 census."""

from __future__ import annotations

import json

import pytest
import responses
from responses import matchers

from connector.errors import AuthError, RetriableAPIError
from connector.model import Presence
from connector.trackers.github.adapter import GithubAdapter
from connector.trackers.github.mapping import load_github_mapping
from connector.trackers.github.scopes import GithubScope
from connector.values import LabelChange, PullSpec
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
LABELS = f"{API}/repos/{REPO}/issues/28/labels"


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def adapter(monkeypatch):
    made = GithubAdapter(tracker_settings(monkeypatch, write_interval=1.0), load_github_mapping())
    yield made
    made.close()


def change(add=(), remove=(), key=f"{REPO}#28") -> LabelChange:
    return LabelChange("gh", "1", key, add=frozenset(add), remove=frozenset(remove))


def test_adding_labels_is_one_post_with_every_label(rsps, adapter):
    added = find(load_octokit("add-labels-to-issue"), "POST", "/repos/octokit-fixture-org/")
    register(rsps, "POST", LABELS, added,
             match=(matchers.json_params_matcher({"labels": ["plan:at-risk", "plan:overdue"]}),))
    result = adapter.push_labels(change(add={"plan:overdue", "plan:at-risk"}))
    assert result.ok and result.requests == 1
    assert adapter.stats.writes == 1 and adapter.stats.reads == 0


def test_removing_uses_url_encoded_names_and_404_counts_as_success(rsps, adapter):
    removed = find(load_replay("Issue50.testRemoveLabelFromIssue"), "DELETE", "/repos/jacquev6/PyGithub/issues/50")
    strange = "Label with spaces and strange characters (&*#$)"
    register(rsps, "DELETE", f"{LABELS}/plan%3Aon-track", removed)
    register(rsps, "DELETE", f"{LABELS}/{'Label%20with%20spaces%20and%20strange%20characters%20%28%26%2A%23%24%29'}",
             status=404, body={"message": "Label does not exist",
                               "documentation_url": "https://docs.github.com/rest/issues/labels"})
    result = adapter.push_labels(change(remove={"plan:on-track", strange}))
    assert result.ok and result.requests == 2
    sent = [call.request.url for call in rsps.calls]
    assert sent[0].endswith("/labels/Label%20with%20spaces%20and%20strange%20characters%20%28%26%2A%23%24%29")
    assert sent[1].endswith("/labels/plan%3Aon-track")


def test_an_empty_change_costs_nothing(rsps, adapter):
    assert adapter.push_labels(change()).ok
    assert adapter.stats.requests == 0 and len(rsps.calls) == 0


def test_writes_are_paced_through_the_clock(rsps, adapter, _no_real_sleep):
    added = find(load_octokit("add-labels-to-issue"), "POST", "/repos/octokit-fixture-org/")
    for _ in range(3):
        register(rsps, "POST", LABELS, added)
    register(rsps, "DELETE", f"{LABELS}/plan%3Aat-risk", status=200, body=[])
    for label in ("plan:a", "plan:b", "plan:c"):
        assert adapter.push_labels(change(add={label})).ok
    assert adapter.push_labels(change(remove={"plan:at-risk"})).ok
    # the first write goes at once; each later one waits out the interval (sleeps are recorded, not slept)
    assert len(_no_real_sleep) == 3 and all(0.9 <= s <= 1.0 for s in _no_real_sleep)


def test_no_more_than_80_writes_a_minute_even_with_no_interval(rsps, monkeypatch, _no_real_sleep):
    adapter = GithubAdapter(tracker_settings(monkeypatch, write_interval=0.0), load_github_mapping())
    rsps.add("POST", "https://api.github.com:443/repos/PyGithub/PyGithub/issues/28/labels", json=[])
    for n in range(81):
        assert adapter.push_labels(change(add={f"plan:x{n}"})).ok
    assert len(_no_real_sleep) == 1 and 59 <= _no_real_sleep[0] <= 60


def test_a_failed_write_is_reported_not_raised_but_auth_errors_stop(rsps, adapter):
    register(rsps, "POST", LABELS, status=422, body={"message": "Validation Failed"})
    result = adapter.push_labels(change(add={"plan:x"}))
    assert not result.ok and "422" in result.error and result.requests == 1
    register(rsps, "POST", LABELS, status=401, body={"message": "Bad credentials"})
    with pytest.raises(AuthError):
        adapter.push_labels(change(add={"plan:x"}))


def test_label_posts_are_retried_because_adding_is_idempotent(rsps, adapter, _no_real_sleep):
    register(rsps, "POST", LABELS, status=502, body={"message": "Server Error"})
    register(rsps, "POST", LABELS, body=[])
    assert adapter.push_labels(change(add={"plan:x"})).ok
    assert adapter.stats.retries == 1


# --- comments ---------------------------------------------------------------------------------------
MARKER = "<!-- plansync:weekly -->"
COMMENTS = f"{API}/repos/{REPO}/issues/28/comments"


def test_comment_with_the_marker_is_edited(rsps, adapter):
    listed = find(load_replay("Issue.testGetComments"), "GET", "/repos/PyGithub/PyGithub/issues/28/comments")
    comments = listed.json()
    comments[-1]["body"] = f"old report\n{MARKER}"
    edited = find(load_replay("IssueComment.testEdit"), "PATCH", "/repos/PyGithub/PyGithub/issues/comments/")
    register(rsps, "GET", COMMENTS, listed, body=comments)
    register(rsps, "PATCH", f"{API}/repos/{REPO}/issues/comments/{comments[-1]['id']}", edited,
             match=(matchers.json_params_matcher({"body": f"new report\n{MARKER}"}),))
    assert adapter.post_comment(f"{REPO}#28", MARKER, f"new report\n{MARKER}") == str(comments[-1]["id"])


def test_comment_without_a_marker_match_is_created_once(rsps, adapter):
    listed = find(load_replay("Issue.testGetComments"), "GET", "/repos/PyGithub/PyGithub/issues/28/comments")
    created = find(load_replay("Issue.testCreateComment"), "POST", "/repos/PyGithub/PyGithub/issues/28/comments")
    register(rsps, "GET", COMMENTS, listed)
    register(rsps, "POST", COMMENTS, created)
    comment_id = adapter.post_comment(f"{REPO}#28", MARKER, "the report")
    assert comment_id == str(created.json()["id"])
    assert MARKER in json.loads(rsps.calls[1].request.body)["body"]


def test_comment_creation_is_never_retried(rsps, adapter):
    """Pitfall 10: a 502 on create may have created it; a retry could post twice."""
    register(rsps, "GET", COMMENTS, body=[])
    register(rsps, "POST", COMMENTS, status=502, body={"message": "Server Error"})
    with pytest.raises(RetriableAPIError):
        adapter.post_comment(f"{REPO}#28", MARKER, "the report")
    assert len(rsps.calls) == 2 and adapter.stats.retries == 0


# --- census -----------------------------------------------------------------------------------------
def test_census_marks_deleted_moved_and_hidden_items(rsps, adapter):
    """No recorded 410/301 exists (shared/refdata/README.md): those two answers follow GitHub's docs."""
    present = clone_issues(modern_issue(), REPO, 2)
    register(rsps, "GET", f"{API}/repos/{REPO}/issues", body=present)
    register(rsps, "GET", f"{API}/repos/{REPO}/milestones", body=[])
    register(rsps, "GET", f"{API}/repos/{REPO}/issues/7", status=410,
             body={"message": "This issue was deleted", "documentation_url": "https://docs.github.com/rest"})
    moved = dict(modern_issue(), id=555, number=3, repository_url=f"{API}/repos/acme/elsewhere")
    register(rsps, "GET", f"{API}/repos/{REPO}/issues/8", status=301, body={"message": "Moved Permanently"},
             headers={"Location": f"{API}/repositories/42/issues/3"})
    register(rsps, "GET", f"{API}/repositories/42/issues/3", body=moved)
    unknown = find(load_replay("Exceptions.testUnknownObject"), "GET", "/repos/jacquev6/Xxx", 404)
    register(rsps, "GET", f"{API}/repos/{REPO}/issues/9", unknown)
    known = {str(i["id"]) for i in present} | {"501", "555", "503", "504", "505"}
    keys = {"501": f"{REPO}#7", "555": f"{REPO}#8", "503": f"{REPO}#9", "504": "other/repo#1"}

    result = adapter.pull(PullSpec(scopes=(GithubScope(tracker="gh", repo=REPO),), cursors={}, full=True,
                                      known_ids=frozenset(known), known_keys=keys))

    gone = {g.id: g for g in result.gone}
    assert gone["501"].presence is Presence.DELETED
    assert gone["555"].presence is Presence.MOVED and gone["555"].new_key == "acme/elsewhere#3"
    assert gone["503"].presence is Presence.HIDDEN
    assert set(gone) == {"501", "555", "503"}  # 504 is outside the pulled repos, 505 has no key
    assert any("no key" in note for note in result.notes)
    assert result.census and result.seen_ids == {str(i["id"]) for i in present}
    assert adapter.stats.requests == 2 + 4  # lists + one GET per vanished id (+ the followed redirect)


def test_census_keeps_an_item_the_list_missed_but_a_single_get_finds(rsps, adapter):
    issue = dict(modern_issue(), id=777, number=28)
    register(rsps, "GET", f"{API}/repos/{REPO}/issues", body=[])
    register(rsps, "GET", f"{API}/repos/{REPO}/milestones", body=[])
    register(rsps, "GET", f"{API}/repos/{REPO}/issues/28", body=issue)
    result = adapter.pull(PullSpec(scopes=(GithubScope(tracker="gh", repo=REPO),), cursors={}, full=True,
                                      known_ids=frozenset({"777"}), known_keys={"777": f"{REPO}#28"}))
    assert result.gone == () and "777" in result.seen_ids and "777" in result.all_items()
