"""GitHub wire behaviour: filters, Link headers, ETag/304 and the rate-limit budget, 301/410, labels."""

from __future__ import annotations

import re

import requests

from connector.sandbox import GITHUB_TOKEN

REPO = "/repos/acme/checkout-web"


def links(resp) -> dict:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', resp.headers.get("Link", ""))}


def test_link_headers_like_github(sandbox, gh):
    url = sandbox.github_url + REPO + "/issues"
    first = gh.get(url, params={"state": "all", "per_page": 10})
    rel = links(first)
    assert set(rel) == {"next", "last"} and rel["next"].endswith("page=2")
    assert first.headers["Link"].startswith("<http://127.0.0.1")
    middle = gh.get(rel["next"])
    assert set(links(middle)) == {"prev", "next", "last", "first"}
    last = gh.get(rel["last"])
    assert set(links(last)) == {"prev", "first"}
    assert len(first.json()) == 10 and gh.get(url).json() and len(gh.get(url).json()) <= 30


def test_filters_state_since_labels_milestone(sandbox, gh):
    url = sandbox.github_url + REPO + "/issues"
    issues = sandbox.state.gh_issues["acme/checkout-web"].values()
    live = [i for i in issues if not i.deleted and not i.transferred_to]
    got = gh.get(url, params={"state": "closed", "per_page": 100}).json()
    assert {i["state"] for i in got} == {"closed"}
    since = "2026-11-16T00:00:00Z"
    got = gh.get(url, params={"state": "all", "since": since, "per_page": 100, "sort": "updated",
                              "direction": "asc"}).json()
    stamps = [i["updated_at"] for i in got]
    assert stamps == sorted(stamps) and all(s >= since for s in stamps)
    got = gh.get(url, params={"state": "all", "milestone": "none", "per_page": 100}).json()
    assert all(i["milestone"] is None for i in got)
    got = gh.get(url, params={"state": "all", "milestone": "2", "per_page": 100}).json()
    assert {i["milestone"]["title"] for i in got} == {"Beta"}
    assert len(got) == sum(1 for i in live if i.milestone == 2) or len(got) == 100
    blocked = gh.get(url, params={"state": "open", "labels": "blocked", "per_page": 100}).json()
    assert blocked and all("blocked" in [x["name"] for x in i["labels"]] for i in blocked)
    prs = [i for i in gh.get(url, params={"state": "all", "per_page": 100}).json() if "pull_request" in i]
    assert prs


def test_etag_304_does_not_spend_the_budget(sandbox, gh):
    url = sandbox.github_url + REPO + "/issues/3"
    first = gh.get(url)
    assert first.headers["ETag"].startswith('W/"')
    remaining = int(first.headers["X-RateLimit-Remaining"])
    again = gh.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert int(again.headers["X-RateLimit-Remaining"]) == remaining
    assert sandbox.counts()["not_modified"] == 1
    sandbox.update_github_issue("acme/checkout-web", 3, title="changed")
    changed = gh.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and int(changed.headers["X-RateLimit-Remaining"]) == remaining - 1


def test_primary_rate_limit_exhaustion_and_reset(sandbox_factory):
    sb = sandbox_factory(github_rate_limit=3)
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {GITHUB_TOKEN}"
    for _ in range(3):
        assert s.get(sb.github_url + REPO).status_code == 200
    resp = s.get(sb.github_url + REPO)
    assert resp.status_code == 403 and resp.headers["X-RateLimit-Remaining"] == "0"
    assert resp.json()["message"].startswith("API rate limit exceeded")
    assert int(resp.headers["X-RateLimit-Reset"]) > sb.clock.ts()
    assert s.get(sb.github_url + "/rate_limit").json()["resources"]["core"]["remaining"] == 0
    sb.clock.advance(hours=1)
    assert s.get(sb.github_url + REPO).status_code == 200


def test_bad_token_is_401_with_githubs_body(sandbox):
    resp = requests.get(sandbox.github_url + REPO, headers={"Authorization": "token nope"})
    assert resp.status_code == 401 and resp.json()["message"] == "Bad credentials"


def test_transferred_is_301_and_deleted_is_410(sandbox, gh):
    moved = sandbox.transfer_github_issue("acme/checkout-web", 4, "acme/infra")
    resp = gh.get(sandbox.github_url + REPO + "/issues/4", allow_redirects=False)
    assert resp.status_code == 301 and resp.headers["Location"].endswith(f"/issues/{moved.number}")
    assert gh.get(resp.headers["Location"]).json()["id"] == moved.id
    sandbox.delete_github_issue("acme/checkout-web", 5)
    resp = gh.get(sandbox.github_url + REPO + "/issues/5")
    assert resp.status_code == 410 and resp.json()["message"] == "This issue was deleted"


def test_label_add_and_remove(sandbox, gh):
    base = sandbox.github_url + REPO + "/issues/6/labels"
    resp = gh.post(base, json={"labels": ["plan:at-risk", "plan:overdue"]})
    assert resp.status_code == 200 and {"plan:at-risk", "plan:overdue"} <= {x["name"] for x in resp.json()}
    assert gh.delete(base + "/plan%3Aat-risk").status_code == 200
    resp = gh.delete(base + "/plan%3Aat-risk")
    assert resp.status_code == 404 and resp.json()["message"] == "Label does not exist"
    assert sandbox.count(method="DELETE", endpoint="github.label_remove") == 2


def test_milestones_and_comments(sandbox, gh):
    ms = gh.get(sandbox.github_url + REPO + "/milestones", params={"state": "all"}).json()
    assert [m["title"] for m in ms] == ["Alpha", "Beta", "GA"] and ms[0]["state"] == "closed"
    assert ms[0]["open_issues"] == 0 and ms[1]["open_issues"] > 0
    url = sandbox.github_url + REPO + "/issues/7/comments"
    made = gh.post(url, json={"body": "hi"})
    assert made.status_code == 201
    assert [c["body"] for c in gh.get(url).json()] == ["hi"]


def test_list_etag_304_and_change_invalidates(sandbox, gh):
    url = sandbox.github_url + REPO + "/issues"
    first = gh.get(url, params={"state": "all", "per_page": 100})
    again = gh.get(url, params={"state": "all", "per_page": 100}, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["X-RateLimit-Used"] == first.headers["X-RateLimit-Used"]
    sandbox.clock.advance(minutes=5)
    sandbox.update_github_issue("acme/checkout-web", 8, labels=["bug"])
    fresh = gh.get(url, params={"state": "all", "per_page": 100}, headers={"If-None-Match": first.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != first.headers["ETag"]
    assert sandbox.count(status=304) == 1
