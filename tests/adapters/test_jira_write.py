"""Jira adapter writes: label diffs as one PUT with update.labels, and the marker comment."""

from __future__ import annotations

import json

import pytest
import responses

from connector.errors import AuthError, RetriableAPIError
from connector.values import LabelChange
from tests.adapters import jira_fixtures as fx

pytestmark = pytest.mark.usefixtures("refdata")

ISSUE = f"{fx.BASE}/rest/api/3/issue"


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def change(item_id="10063", key="EE-1", add=(), remove=()):
    return LabelChange("jira", item_id, key, add=frozenset(add), remove=frozenset(remove))


def test_label_change_is_one_put_with_update_labels(rsps):
    put = rsps.put(f"{ISSUE}/10063", status=204)
    a = fx.adapter()
    result = a.push_labels(change(add={"plan:at-risk"}, remove={"plan:on-track", "plan:overdue"}))
    assert result.ok and result.requests == 1 and put.call_count == 1
    body = json.loads(put.calls[0].request.body)
    assert body == {"update": {"labels": [{"add": "plan:at-risk"}, {"remove": "plan:on-track"},
                                          {"remove": "plan:overdue"}]}}
    assert "fields" not in body  # never a full overwrite of the labels array
    assert a.stats.writes == 1 and a.stats.reads == 0  # no GET before or after (unlike Issue.update())


def test_k_changes_cost_k_requests_and_an_empty_change_none(rsps):
    for n in range(3):
        rsps.put(f"{ISSUE}/{20000 + n}", status=204)
    a = fx.adapter()
    results = [a.push_labels(change(str(20000 + n), f"EE-{n}", add={"plan:on-track"})) for n in range(3)]
    assert all(r.ok for r in results) and a.stats.requests == 3
    empty = a.push_labels(change())
    assert empty.ok and empty.requests == 0 and a.stats.requests == 3


def test_server_writes_use_api_v2_by_issue_id(rsps):
    put = rsps.put(f"{fx.SERVER_BASE}/rest/api/2/issue/10802", status=204)
    a = fx.adapter(url=fx.SERVER_BASE, deployment="server", auth="bearer")
    assert a.push_labels(change("10802", "DZFNK0168-1", remove={"plan:unplanned"})).ok
    assert json.loads(put.calls[0].request.body) == {"update": {"labels": [{"remove": "plan:unplanned"}]}}


@pytest.mark.parametrize("bad", [change(add={"plan:at risk"}), change(add={"plan:x"}, remove={"plan:x"}),
                                 LabelChange("github", "1", "EE-1", add=frozenset({"plan:x"}))])
def test_invalid_changes_are_refused_without_a_request(rsps, bad):
    a = fx.adapter()
    result = a.push_labels(bad)
    assert not result.ok and result.error and a.stats.requests == 0


def test_a_failed_write_is_reported_not_raised_and_auth_errors_raise(rsps):
    rsps.put(f"{ISSUE}/10063", status=404, json={"errorMessages": ["Issue does not exist"], "errors": {}})
    rsps.put(f"{ISSUE}/10064", status=401)
    a = fx.adapter()
    result = a.push_labels(change(add={"plan:on-track"}))
    assert not result.ok and "Issue does not exist" in result.error and result.requests == 1
    with pytest.raises(AuthError):
        a.push_labels(change("10064", "EE-2", add={"plan:on-track"}))


def test_label_writes_are_retried_and_per_issue_limits_space_later_writes(rsps, _no_real_sleep, monkeypatch):
    monkeypatch.setenv("PLANSYNC_NOW", "2026-11-26T02:00:00Z")
    limited = {"Retry-After": "5", "RateLimit-Reason": "jira-per-issue-on-write"}
    rsps.put(f"{ISSUE}/10063", status=429, headers=limited)
    rsps.put(f"{ISSUE}/10063", status=204)
    rsps.put(f"{ISSUE}/10064", status=204)  # another issue: not spaced
    rsps.put(f"{ISSUE}/10063", status=204)
    a = fx.adapter()
    assert a.push_labels(change(add={"plan:at-risk"})).ok
    assert a.push_labels(change("10064", "EE-2", add={"plan:at-risk"})).ok
    assert a.push_labels(change(remove={"plan:at-risk"})).ok
    # the retry waits 5 s and is itself spaced 5 s; the later write to EE-1 is spaced again
    assert _no_real_sleep == [5.0, 5.0, 5.0]


def test_comment_with_the_marker_is_edited_in_place(rsps):
    rsps.get(f"{ISSUE}/EE-1/comment", json={"startAt": 0, "maxResults": 100, "total": 2, "comments": [
        {"id": "10036", "body": {"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "someone else"}]}]}},
        {"id": "10040", "body": {"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "old report [plansync:weekly]"}]}]}},
    ]})
    put = rsps.put(f"{ISSUE}/EE-1/comment/10040", json={"id": "10040"})
    assert fx.adapter().post_comment("EE-1", "[plansync:weekly]", "new report\n[plansync:weekly]") == "10040"
    body = json.loads(put.calls[0].request.body)["body"]
    assert body["type"] == "doc" and body["content"][1]["content"][0]["text"] == "[plansync:weekly]"


def test_comment_create_is_never_retried(rsps, _no_real_sleep):
    rsps.get(f"{ISSUE}/EE-1/comment", json={"startAt": 0, "maxResults": 100, "total": 0, "comments": []})
    post = rsps.post(f"{ISSUE}/EE-1/comment", status=502)
    with pytest.raises(RetriableAPIError):
        fx.adapter().post_comment("EE-1", "[plansync:weekly]", "report")
    assert post.call_count == 1 and _no_real_sleep == []  # a retry could post it twice


def test_server_comment_is_created_as_text_with_the_marker(rsps):
    base = f"{fx.SERVER_BASE}/rest/api/2/issue/DZFNK0168-1/comment"
    rsps.get(base, json={"startAt": 0, "maxResults": 100, "total": 1, "comments": [{"id": "1", "body": "hello"}]})
    post = rsps.post(base, status=201, json={"id": "10100", "body": "report"})
    a = fx.adapter(url=fx.SERVER_BASE, deployment="server", auth="bearer")
    assert a.post_comment("DZFNK0168-1", "[plansync:weekly]", "report") == "10100"
    assert json.loads(post.calls[0].request.body) == {"body": "report\n\n[plansync:weekly]"}
