"""Fault injection: each kind, rule matching (method, path, flavour, after, times), and the HTTP controls."""

from __future__ import annotations

import pytest
import requests

REPO = "/repos/acme/checkout-web"


def test_jira_429_with_retry_after_then_recovers(sandbox, jira):
    sandbox.faults.add(preset="jira_429", path=r"/search/jql", times=2)
    url = sandbox.jira_url + "/rest/api/3/search/jql"
    for _ in range(2):
        resp = jira.get(url, params={"jql": "project = CHK"})
        assert resp.status_code == 429
        assert resp.headers["Retry-After"] == "5" and resp.headers["RateLimit-Reason"] == "jira-burst-based"
    assert jira.get(url, params={"jql": "project = CHK"}).status_code == 200
    assert sandbox.count(status=429) == 2


def test_retry_after_as_http_date_and_after_skips_matches(sandbox, gh):
    date = "Mon, 23 Nov 2026 09:02:00 GMT"
    sandbox.faults.add(method="GET", path=REPO + "$", status=429, headers={"Retry-After": date},
                       body={"message": "slow down"}, after=1)
    url = sandbox.github_url + REPO
    assert gh.get(url).status_code == 200
    resp = gh.get(url)
    assert resp.status_code == 429 and resp.headers["Retry-After"] == date
    assert "X-RateLimit-Remaining" in resp.headers
    assert gh.get(url).status_code == 200


@pytest.mark.parametrize("preset, has_retry_after", [("github_secondary", True),
                                                     ("github_secondary_no_retry_after", False)])
def test_github_secondary_limit(sandbox, gh, preset, has_retry_after):
    sandbox.faults.add(preset=preset, flavour="github")
    resp = gh.get(sandbox.github_url + REPO + "/issues")
    assert resp.status_code == 403 and "secondary rate limit" in resp.json()["message"]
    assert ("Retry-After" in resp.headers) is has_retry_after


def test_5xx_burst_and_token_revoked(sandbox, jira, gh):
    sandbox.faults.add(preset="503", flavour="cloud", times=3)
    codes = [jira.get(sandbox.jira_url + "/rest/api/3/myself").status_code for _ in range(4)]
    assert codes == [503, 503, 503, 200]
    sandbox.faults.add(preset="github_token_revoked", flavour="github", times=None)
    assert gh.get(sandbox.github_url + REPO).status_code == 401
    assert gh.get(sandbox.github_url + REPO).json()["message"] == "Bad credentials"
    assert jira.get(sandbox.jira_url + "/rest/api/3/myself").status_code == 200  # other flavours untouched


def test_latency_drop_truncate_malformed(sandbox, gh):
    url = sandbox.github_url + REPO + "/issues"
    rule = sandbox.faults.add("latency", latency_ms=5, path="/issues$")
    assert gh.get(url).status_code == 200 and rule.hits == 1
    sandbox.faults.add("drop", path="/issues$")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url, headers=gh.headers)
    sandbox.faults.add("truncate", path="/issues$")
    resp = gh.get(url)
    assert resp.status_code == 200
    with pytest.raises(ValueError):
        resp.json()
    sandbox.faults.add("malformed", path="/issues$")
    with pytest.raises(ValueError):
        gh.get(url).json()
    assert gh.get(url).json()


def test_expired_page_token_fault_hits_only_follow_up_pages(sandbox, jira):
    sandbox.faults.add("expired_token", times=None)
    url = sandbox.jira_url + "/rest/api/3/search/jql"
    first = jira.get(url, params={"jql": "project = CHK", "maxResults": 5})
    assert first.status_code == 200
    resp = jira.get(url, params={"jql": "project = CHK", "nextPageToken": first.json()["nextPageToken"]})
    assert resp.status_code == 400 and resp.json()["errorMessages"]


def test_global_latency_setting(sandbox_factory, jira_for):
    sb = sandbox_factory(latency_ms=2)
    assert jira_for(sb).get(sb.jira_url + "/rest/api/3/myself").status_code == 200


def test_control_endpoints(sandbox, gh):
    ctl = sandbox.url + "/_sandbox"
    made = requests.post(ctl + "/faults", json={"preset": "502", "path": "/milestones", "times": 1})
    assert made.status_code == 201 and made.json()["status"] == 502
    assert gh.get(sandbox.github_url + REPO + "/milestones").status_code == 502
    assert requests.post(ctl + "/faults", json={"kind": "nonsense"}).status_code == 400
    requests.post(ctl + "/faults", json={"status": 500, "path": ".", "flavour": "github", "times": None})
    assert requests.delete(ctl + "/faults").status_code == 200
    assert gh.get(sandbox.github_url + REPO + "/milestones").status_code == 200
    log = requests.get(ctl + "/requests").json()
    assert log[0]["endpoint_name"] == "github.milestones" and log[0]["status"] == 502
    counts = requests.get(ctl + "/counts").json()
    assert counts["by_endpoint"]["github.milestones"] == 2 and counts["by_flavour"]["github"] == 2
    requests.post(ctl + "/reset-counts")
    assert sandbox.count(flavour="github") == 0
    now = requests.post(ctl + "/clock", json={"days": 1}).json()["now"]
    assert now.startswith("2026-11-24T09:00")
    assert requests.post(ctl + "/clock", json={"set": "2026-12-01T00:00:00Z"}).json()["now"].startswith("2026-12-01")
    summary = requests.post(ctl + "/simulate", json={"days": 2}).json()
    assert summary["now"].startswith("2026-12-03")
    assert requests.get(ctl + "/org").json()["name"] == "acme"
