"""Publishing the week's Markdown as one comment per week, through the real GitHub adapter (faked HTTP)."""

from __future__ import annotations

import json

import pytest
import responses

from connector.report.publish import comment_body, describe_publish, publish_marker, publish_report
from connector.settings import PublishSettings
from connector.trackers.registry import make_adapter

API = "https://github.example.test"
WIRE = f"{API}:443"  # PyGithub sends the default port explicitly
COMMENTS = f"{WIRE}/repos/acme/status/issues/1/comments"
PUBLISH = PublishSettings(tracker="github", issue="acme/status#1")
TOKEN = "ghp_secret_token_value_123"


@pytest.fixture
def adapter(settings, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    tracker = settings.trackers["github"]
    tracker._name = "github"
    made = make_adapter(tracker, settings)
    yield made
    made.close()


@responses.activate(assert_all_requests_are_fired=True)
def test_first_publish_creates_the_weeks_comment(adapter):
    responses.get(COMMENTS, json=[{"id": 7, "body": "unrelated"}])
    posted = responses.post(COMMENTS, json={"id": 99}, status=201)
    assert publish_report(adapter, PUBLISH, "# Report\nbody\n", "2026-W48") == "99"
    body = json.loads(posted.calls[0].request.body)["body"]
    assert body.startswith("<!-- plansync:weekly-report 2026-W48 -->\n# Report")
    assert TOKEN not in body


@responses.activate(assert_all_requests_are_fired=True)
def test_a_rerun_edits_that_weeks_comment_instead_of_adding_one(adapter):
    old = {"id": 41, "body": "<!-- plansync:weekly-report 2026-W47 -->\nlast week"}
    this = {"id": 42, "body": "<!-- plansync:weekly-report 2026-W48 -->\nfirst run"}
    responses.get(COMMENTS, json=[old, this])
    edited = responses.patch(f"{WIRE}/repos/acme/status/issues/comments/42", json={"id": 42})
    assert publish_report(adapter, PUBLISH, "second run\n", "2026-W48") == "42"
    assert json.loads(edited.calls[0].request.body)["body"].endswith("second run\n")
    assert not any(c.request.method == "POST" for c in responses.calls)


def test_publish_refuses_the_wrong_tracker(adapter):
    with pytest.raises(ValueError, match="jira"):
        publish_report(adapter, PublishSettings(tracker="jira", issue="CHK-1"), "x", "2026-W48")


def test_marker_only_for_week_labels():
    assert publish_marker("2026-W01") == "<!-- plansync:weekly-report 2026-W01 -->"
    with pytest.raises(ValueError):
        publish_marker("2026-W48 --><script>")


def test_long_reports_are_cut_to_the_trackers_comment_limit():
    text = "".join(f"line {n}\n" for n in range(20_000))
    github, jira = comment_body(text, "2026-W48", "github"), comment_body(text, "2026-W48", "jira")
    assert len(github) <= 65_536 and len(jira) <= 32_767
    assert "cut here" in github and github.startswith(publish_marker("2026-W48"))


def test_describe_publish_for_plan_output():
    assert "off" in describe_publish(None, "2026-W48")
    line = describe_publish(PUBLISH, "2026-W48", "x" * 1200)
    assert line == ("~ comment on github acme/status#1: weekly report 2026-W48 "
                    "(edits this week's comment if it exists, else creates it, 1,200 characters)")
