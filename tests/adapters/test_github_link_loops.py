"""Issue #17 item 2: a `Link: rel="next"` that leads back to a page already read (or the same page under
new URLs) fails the list with a message naming the loop, after a handful of requests, not thousands."""

from __future__ import annotations

import pytest
import responses
from responses import matchers

from connector.errors import FatalAPIError
from connector.http import RetryPolicy
from connector.trackers.github.adapter import GithubAdapter
from connector.trackers.github.mapping import load_github_mapping
from connector.trackers.github.paging import PageGuard
from connector.trackers.github.scopes import GithubScope
from connector.values import PullSpec
from tests.adapters.github_fixtures import API, clone_issues, modern_issue, register, tracker_settings

REPO = "PyGithub/PyGithub"
LIST = f"{API}/repos/{REPO}/issues"
FULL = "state=all&per_page=100&sort=created&direction=asc"


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def adapter(monkeypatch):
    made = GithubAdapter(tracker_settings(monkeypatch), load_github_mapping(), policy=RetryPolicy(attempts=2))
    yield made
    made.close()


def pull(adapter):
    return adapter.pull(PullSpec(scopes=(GithubScope(tracker="gh", repo=REPO),), cursors={}, full=True))


def test_next_link_back_to_page_one_fails_the_list_naming_the_loop(rsps, adapter):
    issues = clone_issues(modern_issue(), REPO, 200)
    register(rsps, "GET", LIST, body=issues[:100], headers={"Link": f'<{LIST}?{FULL}&page=2>; rel="next"'},
             match=(matchers.query_param_matcher({k: v for k, v in (p.split("=") for p in FULL.split("&"))}),))
    register(rsps, "GET", LIST, body=issues[100:], headers={"Link": f'<{LIST}?{FULL}&page=1>; rel="next"'},
             match=(matchers.query_param_matcher(dict((p.split("=") for p in FULL.split("&")), page="2")),))

    with pytest.raises(FatalAPIError, match="pagination loops.*page 1 follows page 2"):
        pull(adapter)
    assert adapter.stats.requests == 2


def test_next_link_to_the_same_url_fails_at_once(rsps, adapter):
    issues = clone_issues(modern_issue(), REPO, 100)
    url = f"{LIST}?{FULL}&page=2"
    register(rsps, "GET", LIST, body=issues, headers={"Link": f'<{url}>; rel="next"'},
             match=(matchers.query_param_matcher(dict(p.split("=") for p in FULL.split("&"))),))
    register(rsps, "GET", LIST, body=issues, headers={"Link": f'<{url}>; rel="next"'},
             match=(matchers.query_param_matcher(dict((p.split("=") for p in FULL.split("&")), page="2")),))

    with pytest.raises(FatalAPIError, match="already read"):
        pull(adapter)
    assert adapter.stats.requests == 2


def test_the_same_page_under_ever_new_urls_is_a_loop_without_rate_headers():
    """GHE with rate limiting off: no budget guard would ever stop it; the content check does."""
    guard = PageGuard("gh", "GET /repos/o/r/issues", f"{LIST}?{FULL}")
    page = [{"id": n} for n in range(100)]
    guard.seen(page)
    guard.next_page(f"{LIST}?{FULL}&page=2&cache=1")
    with pytest.raises(FatalAPIError, match="page 2 holds only entries already read"):
        guard.seen(page)


def test_a_ceiling_derived_from_the_last_page_stops_a_list_that_keeps_growing():
    guard = PageGuard("gh", "GET /repos/o/r/issues", f"{LIST}?{FULL}", last=3)
    with pytest.raises(FatalAPIError, match="more than 53 pages"):
        for number in range(2, 100):
            guard.next_page(f"{LIST}?{FULL}&page={number}")
            guard.seen([{"id": number * 1000 + n} for n in range(100)])


def test_an_honest_list_passes_the_guard():
    guard = PageGuard("gh", "GET /repos/o/r/issues", f"{LIST}?{FULL}", last=5)
    guard.seen([{"id": n} for n in range(100)])
    for number in range(2, 6):
        guard.next_page(f"{LIST}?{FULL}&page={number}")
        guard.seen([{"id": number * 1000 + n} for n in range(100)])
