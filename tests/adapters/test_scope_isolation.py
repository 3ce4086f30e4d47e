"""#17 item 10: a scope the tracker refuses fails alone, on every kind. The failing scope is reported in
`PullResult.failed` with the tracker's own words, the other scopes are read and returned whole, a pull
with a failure is never a census (nothing is marked gone), and credentials refused or every scope
failing still fail the whole tracker."""

from __future__ import annotations

import pytest

from connector.errors import AuthError, FatalAPIError
from connector.trackers import isolation
from connector.trackers.gitlab.scopes import GitlabScope
from connector.values import PullSpec
from tests.adapters.test_gitlab_sandbox import CHECKOUT, MOBILE, make_gitlab

NOT_FOUND = {"message": "404 Project Not Found"}


def test_settle_raises_the_first_error_when_every_read_failed():
    first, second = FatalAPIError("t", "one"), FatalAPIError("t", "two")
    with pytest.raises(FatalAPIError, match="one"):
        isolation.settle([], [first, second], attempted=2)
    assert isolation.settle([], [], attempted=2) == ()


def test_only_refusals_about_the_scope_are_contained():
    assert isolation.scope_local(FatalAPIError("t", "gone", status=404))
    assert isolation.scope_local(FatalAPIError("t", "bad JQL", status=400), isolation.JQL_REFUSED)
    assert not isolation.scope_local(FatalAPIError("t", "bad JQL", status=400))  # not a forge's refusal
    assert not isolation.scope_local(FatalAPIError("t", "not JSON"))  # a malformed answer has no status
    assert not isolation.scope_local(AuthError("t", "401", status=401))
    assert not isolation.scope_local(ValueError("bug"))


def test_failure_lines_drop_the_tracker_prefix():
    scope = GitlabScope(tracker="gl", project=CHECKOUT)
    [failure] = isolation.failures(FatalAPIError("gl", "GET /projects/x/issues: 404"), [scope])
    assert failure.error == "GET /projects/x/issues: 404" and failure.scope_id == scope.id


def test_one_gitlab_project_gone_fails_alone(sandbox, monkeypatch):
    adapter = make_gitlab(sandbox, monkeypatch)
    good, gone = GitlabScope(tracker="gl", project=CHECKOUT), GitlabScope(tracker="gl", project=MOBILE)
    sandbox.faults.add("status", method="GET", path="/projects/acme(%2F|/)platform(%2F|/)mobile", status=404,
                       body=NOT_FOUND, times=None)
    result = adapter.pull(PullSpec(scopes=(good, gone), cursors={}, full=True,
                                   known_ids=frozenset({"999999"})))
    assert [f.scope_id for f in result.failed] == [gone.id] and "404" in result.failed[0].error
    assert result.scopes and all(s.items for s in result.scopes)  # the readable project came back whole
    assert not result.census and not result.seen_ids  # no census: nothing is called hidden or deleted
    # only what the readable project's own list says (an issue moved away from it) is reported gone
    assert all(g.presence.value == "moved" and CHECKOUT in g.detail for g in result.gone)


def test_every_scope_failing_fails_the_tracker(sandbox, monkeypatch):
    adapter = make_gitlab(sandbox, monkeypatch)
    sandbox.faults.add("status", method="GET", path="/projects/", status=404, body=NOT_FOUND, times=None)
    with pytest.raises(FatalAPIError, match="404"):
        adapter.pull(PullSpec(scopes=(GitlabScope(tracker="gl", project=CHECKOUT),), cursors={}))


def test_refused_credentials_are_not_contained(sandbox, monkeypatch):
    adapter = make_gitlab(sandbox, monkeypatch, token="wrong-token")
    with pytest.raises(AuthError):
        adapter.pull(PullSpec(scopes=(GitlabScope(tracker="gl", project=CHECKOUT),
                                      GitlabScope(tracker="gl", project=MOBILE)), cursors={}))


def test_doctor_checks_each_gitlab_project_and_group_on_its_own(sandbox, monkeypatch):
    adapter = make_gitlab(sandbox, monkeypatch)
    checked = adapter.check_scopes((GitlabScope(tracker="gl", project=CHECKOUT),
                                    GitlabScope(tracker="gl", project="acme/platform/no-such-project"),
                                    GitlabScope(tracker="gl", group="acme/platform", milestone="Q4 launch")))
    assert checked == [(CHECKOUT, None),
                       ("acme/platform/no-such-project", "project not found, or not visible to this token (404)"),
                       ("acme/platform", None)]
