"""GitHub errors and rate limits against recorded answers: 401, primary limit, secondary limits with and
without retry-after, the reserved budget, 5xx and dropped connections; one retry layer only."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
import requests
import responses
from responses import matchers

from connector import clock
from connector.errors import AuthError, FatalAPIError, RateLimitExhausted, RetriableAPIError
from connector.http import RetryPolicy
from connector.trackers.github.adapter import GithubAdapter
from connector.trackers.github.mapping import load_github_mapping
from connector.trackers.github.scopes import GithubScope
from connector.values import PullSpec
from tests.adapters.github_fixtures import (
    API,
    TOKEN,
    TOKEN_ENV,
    clone_issues,
    find,
    load_replay,
    modern_issue,
    register,
    tracker_settings,
    with_port,
)

REPO = "PyGithub/PyGithub"
LIST = f"{API}/repos/{REPO}/issues"
SCOPES = (GithubScope(tracker="gh", repo=REPO),)


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def adapter(monkeypatch):
    made = GithubAdapter(tracker_settings(monkeypatch), load_github_mapping(), policy=RetryPolicy(attempts=4))
    yield made
    made.close()


def full(adapter):
    return adapter.pull(PullSpec(scopes=SCOPES, cursors={}, full=True))


def secondary_record():
    """2018: 403 from the secondary ("abuse") limit with Retry-After: 60."""
    return find(load_replay("SpecificExceptions.testAuthenticatedRateLimitExceeded"), "GET", "/search/code", 403)


def test_401_is_an_auth_error_naming_the_tracker_and_env_var_never_the_token(rsps, adapter, caplog):
    caplog.set_level(logging.DEBUG)
    bad = find(load_replay("SpecificExceptions.testBadCredentials"), "GET", "/user", 401)
    register(rsps, "GET", LIST, bad)
    with pytest.raises(AuthError) as caught:
        full(adapter)
    message = str(caught.value)
    assert "'gh'" in message and TOKEN_ENV in message and TOKEN not in message
    assert TOKEN not in caplog.text
    assert len(rsps.calls) == 1 and adapter.stats.retries == 0  # never retried


def test_primary_limit_exhausted_stops_cleanly_without_sleeping(rsps, adapter, _no_real_sleep):
    record = find(load_replay("SpecificExceptions.testRateLimitExceeded"), "GET", "/users/jacquev6", 403)
    reset = 1_900_000_000
    register(rsps, "GET", LIST, record, headers={"X-RateLimit-Reset": str(reset)})
    with pytest.raises(RateLimitExhausted) as caught:
        full(adapter)
    assert "primary rate limit" in str(caught.value)
    assert datetime.fromtimestamp(reset, UTC).strftime("%H:%M") in str(caught.value)
    assert _no_real_sleep == [] and len(rsps.calls) == 1
    assert adapter.stats.rate_remaining == 0


def test_429_with_remaining_zero_is_the_primary_limit_too(rsps, adapter, _no_real_sleep):
    register(rsps, "GET", LIST, status=429, body={"message": "API rate limit exceeded for user ID 1."},
             headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "5000", "X-RateLimit-Reset": "1900000000"})
    with pytest.raises(RateLimitExhausted):
        full(adapter)
    assert _no_real_sleep == []


def test_secondary_limit_with_retry_after_waits_the_stated_time(rsps, adapter, _no_real_sleep):
    register(rsps, "GET", LIST, secondary_record())
    register(rsps, "GET", LIST, body=clone_issues(modern_issue(), REPO, 2))
    register(rsps, "GET", f"{API}/repos/{REPO}/milestones", body=[])
    assert len(full(adapter).all_items()) == 2
    assert _no_real_sleep == [60.0]
    assert adapter.stats.retries == 1 and adapter.stats.requests == 3


def test_secondary_limit_without_retry_after_waits_at_least_60_s_and_backs_off(rsps, adapter, _no_real_sleep):
    record = secondary_record()
    without = tuple((k, v) for k, v in record.headers if k.lower() != "retry-after")
    bare = type(record)(record.verb, record.host, record.path, record.request_headers, 403, without, record.body)
    register(rsps, "GET", LIST, bare)
    register(rsps, "GET", LIST, bare)
    register(rsps, "GET", LIST, body=[])
    register(rsps, "GET", f"{API}/repos/{REPO}/milestones", body=[])
    full(adapter)
    assert _no_real_sleep == [60.0, 120.0]


def test_429_with_retry_after_120_sleeps_at_least_120(rsps, adapter, _no_real_sleep):
    register(rsps, "GET", LIST, status=429, body={"message": "You have exceeded a secondary rate limit."},
             headers={"Retry-After": "120"})
    register(rsps, "GET", LIST, body=[])
    register(rsps, "GET", f"{API}/repos/{REPO}/milestones", body=[])
    full(adapter)
    assert _no_real_sleep and _no_real_sleep[0] >= 120


def test_a_stated_wait_beyond_the_policy_stops_the_tracker(rsps, adapter, _no_real_sleep):
    register(rsps, "GET", LIST, status=403, body={"message": "You have exceeded a secondary rate limit."},
             headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitExhausted):
        full(adapter)
    assert _no_real_sleep == []


def test_pull_stops_before_a_page_would_spend_the_reserved_budget(rsps, adapter, _no_real_sleep, monkeypatch):
    """budget_share 0.8 of 5000 keeps 1000 in reserve: at 1000 left the next page is not asked."""
    reset = int(clock.now().timestamp()) + 1800
    link = f'<{LIST}?state=all&per_page=100&sort=updated&direction=asc&page=2>; rel="next"'
    register(rsps, "GET", LIST, body=clone_issues(modern_issue(), REPO, 100),
             headers={"Link": link, "X-RateLimit-Remaining": "1000", "X-RateLimit-Limit": "5000",
                      "X-RateLimit-Reset": str(reset)})
    with pytest.raises(RateLimitExhausted) as caught:
        full(adapter)
    assert "1000 of 5000" in str(caught.value) and "resets at" in str(caught.value)
    assert len(rsps.calls) == 1 and _no_real_sleep == []


def test_a_past_reset_does_not_block_the_next_run(rsps, adapter):
    register(rsps, "GET", LIST, body=[], headers={"X-RateLimit-Remaining": "10", "X-RateLimit-Limit": "5000",
                                                  "X-RateLimit-Reset": "1000000000"})
    register(rsps, "GET", f"{API}/repos/{REPO}/milestones", body=[])
    full(adapter)
    assert adapter.stats.rate_remaining == 10


def test_5xx_and_dropped_connections_are_retried_by_our_policy_only(rsps, adapter, _no_real_sleep):
    """PyGithub's GithubRetry is off (retry=None): each 5xx reaches `responses` once and our layer retries."""
    non_json_503 = find(load_replay("Exceptions.testNonJsonDataReturnedByGithub"), "GET", "/users/jacquev6", 503)
    register(rsps, "GET", LIST, non_json_503)
    rsps.add("GET", with_port(LIST), body=requests.ConnectionError("reset by peer"))
    register(rsps, "GET", LIST, status=502, body={"message": "Server Error"})
    register(rsps, "GET", LIST, body=[])
    register(rsps, "GET", f"{API}/repos/{REPO}/milestones", body=[])
    full(adapter)
    assert len(rsps.calls) == 5 and adapter.stats.retries == 3
    assert _no_real_sleep == [1.0, 2.0, 4.0]


def test_retries_give_up_after_the_policy_attempts(rsps, adapter):
    for _ in range(4):
        register(rsps, "GET", LIST, status=500, body={"message": "Server Error"})
    with pytest.raises(RetriableAPIError):
        full(adapter)
    assert len(rsps.calls) == 4


def test_other_4xx_are_fatal_at_once(rsps, adapter):
    missing = find(load_replay("Exceptions.testUnknownObject"), "GET", "/repos/jacquev6/Xxx", 404)
    register(rsps, "GET", LIST, missing)
    with pytest.raises(FatalAPIError, match="404 Not Found"):
        full(adapter)
    assert len(rsps.calls) == 1


def test_pygithub_retry_and_throttle_are_off(adapter):
    """The only retry layer is ours; PyGithub would otherwise retry and time.sleep by itself (pitfall 14)."""
    settings = adapter.http._requester.kwargs
    assert settings["retry"] is None
    assert settings["seconds_between_requests"] is None and settings["seconds_between_writes"] is None
    assert settings["api_version"] == adapter.tracker.api_version and settings["per_page"] == 100


def test_rate_headers_are_recorded(rsps, adapter):
    register(rsps, "GET", LIST, body=[], headers={"X-RateLimit-Remaining": "4321", "X-RateLimit-Limit": "5000",
                                                  "X-RateLimit-Reset": "1900000000"},
             match=(matchers.header_matcher({"Accept": "application/vnd.github+json"}),))
    register(rsps, "GET", f"{API}/repos/{REPO}/milestones", body=[])
    full(adapter)
    assert (adapter.stats.rate_remaining, adapter.stats.rate_limit) == (4321, 5000)
    assert adapter.stats.rate_reset == datetime.fromtimestamp(1_900_000_000, UTC)
