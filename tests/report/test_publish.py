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


# --- native rendering: ADF on Jira Cloud, wiki markup on Data Center, Markdown on GitHub ---

SCHEMA = __import__("pathlib").Path(__file__).parent / "data" / "adf-subset.schema.json"


def _adf_errors(doc) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


@pytest.fixture
def w48(hostile_store, settings):
    from connector.report import build_report
    from tests.report import history as h

    return build_report(hostile_store, h.PLAN_NOW, settings, week="2026-W48", now=h.NOW)


def test_the_summary_as_adf_is_a_valid_document_with_every_milestone(w48):
    from connector.report.comment import render_comment
    from connector.trackers.jira.normalize import adf_text

    doc = render_comment(w48, "2026-W48", "adf", "https://reports.example.test/2026-W48/index.html")
    assert _adf_errors(doc) == []
    text = "".join(adf_text(doc))
    for m in w48.summary.milestones:
        assert f"{m.key}: {m.title}" in text
    assert "plansync:weekly-report 2026-W48" in text
    assert "<script>window.__pwned=1</script>" in text  # ADF text is literal: shown, never markup
    table = next(n for n in doc["content"] if n["type"] == "table")
    assert len(table["content"]) == 1 + len(w48.summary.milestones)
    # the schema is closed: it does reject what Jira would reject
    assert _adf_errors({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": ""}]}]})
    assert _adf_errors({"type": "doc", "version": 1, "content": [{"type": "html", "text": "<b>"}]})


def test_the_summary_as_wiki_markup_escapes_everything_markup_can_start(w48):
    from connector.report.comment import render_comment, wiki_text

    body = render_comment(w48, "2026-W48", "wiki")
    assert body.startswith("h2. Checkout revamp: weekly summary 2026-W48")
    assert "||Milestone||Health then → now||" in body and "|beta: Public beta|" in body
    assert wiki_text("[~admin] {html}<b>x</b>{html} *b* [x|javascript:1]") == (
        "\\[\\~admin\\] \\{html\\}\\<b\\>x\\</b\\>\\{html\\} \\*b\\* \\[x\\|javascript:1\\]")
    assert "{html}" not in body and "[~" not in body
    assert body.rstrip().endswith("{color:#999999}plansync:weekly-report 2026-W48{color}")


def test_the_summary_as_markdown_and_every_format_fits_its_limit(w48):
    from dataclasses import replace

    from connector.report.comment import LIMITS, render_comment, size_of

    md = render_comment(w48, "2026-W48", "markdown")
    assert md.startswith(publish_marker("2026-W48") + "\n## Checkout revamp: weekly summary")
    assert "<script" not in md and "Needs a decision" in md
    many = replace(w48, summary=replace(w48.summary, milestones=w48.summary.milestones * 400))
    for fmt in ("adf", "wiki", "markdown"):
        body = render_comment(many, "2026-W48", fmt)
        assert size_of(body) <= LIMITS[fmt], fmt
        assert "more milestones in the full report" in json.dumps(body), fmt
    assert _adf_errors(render_comment(many, "2026-W48", "adf")) == []
    with pytest.raises(ValueError):
        render_comment(w48, "2026-W48", "html")


def _jira(sandbox, flavour):
    from tests.adapters.test_jira_sandbox import make

    return make(sandbox, flavour)


def test_jira_cloud_stores_the_adf_summary_renders_it_back_and_a_rerun_edits_it(sandbox, w48):
    adapter = _jira(sandbox, "cloud")
    assert adapter.comment_format == "adf"
    key = "CHK-1"
    before = len(sandbox.jira_issue(key).comments)
    target = PublishSettings(tracker="jira", issue=key)
    first = publish_report(adapter, target, w48, "2026-W48")
    again = publish_report(adapter, target, w48, "2026-W48")
    assert first == again and len(sandbox.jira_issue(key).comments) == before + 1
    page = adapter.http.get_json(f"{adapter.api}/issue/{key}/comment", what="test", endpoint="GET /issue/{key}/comment")
    ours = [c["body"] for c in page["comments"] if c["id"] == first]
    assert len(ours) == 1 and _adf_errors(ours[0]) == []
    from connector.report.comment import render_comment
    assert ours[0] == render_comment(w48, "2026-W48", "adf")  # stored and rendered back as posted
    adapter.close()


def test_jira_data_center_gets_wiki_markup(sandbox, w48):
    adapter = _jira(sandbox, "server")
    assert adapter.comment_format == "wiki"
    key = "CHK-1"
    comment_id = publish_report(adapter, PublishSettings(tracker="jira", issue=key), w48, "2026-W48")
    body = next(c["body"] for c in sandbox.jira_issue(key).comments if str(c["id"]) == comment_id)
    assert body.startswith("h2. Checkout revamp: weekly summary 2026-W48") and "||Milestone||" in body
    adapter.close()


def test_github_gets_the_markdown_summary_not_the_item_dump(adapter, w48):
    assert adapter.comment_format == "markdown"
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.get(COMMENTS, json=[])
        posted = mock.post(COMMENTS, json={"id": 5}, status=201)
        publish_report(adapter, PUBLISH, w48, "2026-W48")
        body = json.loads(posted.calls[0].request.body)["body"]
    assert body.startswith(publish_marker("2026-W48")) and "weekly summary 2026-W48" in body
    assert "## What changed this week" not in body and "## Workload" not in body
