"""The GitHub GraphQL path against faked answers: it posts to PyGithub's graphql URL with variables, counts
queries as reads and their points apart from the REST budget, and classifies errors like REST does
(secondary limits retried, RATE_LIMITED and the reserve stop cleanly, 5xx retried, FORBIDDEN is auth)."""

from __future__ import annotations

import json

import pytest
import responses

from connector.errors import AuthError, FatalAPIError, RateLimitExhausted
from connector.http import RetryPolicy
from connector.trackers.github.adapter import GithubAdapter
from connector.trackers.github.graphql import GraphqlClient
from connector.trackers.github.mapping import load_github_mapping
from connector.trackers.github.project_docs import CREATE_STATUS_UPDATE, PROJECT
from tests.adapters.github_fixtures import API, TOKEN, tracker_settings, with_port

URL = with_port(f"{API}/graphql")
VARS = {"owner": "acme", "number": 7, "search": "", "incremental": False}


def _rate(cost=1, remaining=4999, limit=5000):
    return {"cost": cost, "limit": limit, "remaining": remaining, "resetAt": "2030-01-01T00:00:00Z"}


def _owner():
    return {"repositoryOwner": {"login": "acme", "projectV2": None}}


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def adapter(monkeypatch):
    made = GithubAdapter(tracker_settings(monkeypatch), load_github_mapping(), policy=RetryPolicy(attempts=3))
    yield made
    made.close()


def client(adapter, share=0.8):
    return GraphqlClient(adapter.http, budget_share=share)


def test_a_query_is_one_post_with_variables_counted_as_a_read_and_its_points(rsps, adapter):
    rsps.post(URL, json={"data": {**_owner(), "rateLimit": _rate(cost=1, remaining=4321)}},
              headers={"X-RateLimit-Remaining": "4321", "X-RateLimit-Limit": "5000", "X-RateLimit-Resource": "graphql"})
    answer = client(adapter).query(PROJECT, VARS, what="q")
    sent = json.loads(rsps.calls[0].request.body)
    assert sent == {"query": PROJECT, "variables": VARS}  # values travel as variables, never in the text
    assert rsps.calls[0].request.headers["Authorization"].endswith(TOKEN)
    assert answer.data["repositoryOwner"]["login"] == "acme"
    stats = adapter.stats
    assert (stats.requests, stats.reads, stats.writes) == (1, 1, 0)
    assert (stats.points, stats.points_remaining, stats.points_limit) == (1, 4321, 5000)
    assert stats.rate_remaining is None  # GraphQL's headers do not stand in for the REST budget


def test_the_enterprise_graphql_url_is_pygithubs(monkeypatch):
    made = GithubAdapter(tracker_settings(monkeypatch, url="https://ghe.example.com/api/v3"), load_github_mapping())
    assert made.http.graphql_url == "https://ghe.example.com/api/graphql"
    made.close()


def test_a_secondary_limit_is_waited_out_and_retried(rsps, adapter, _no_real_sleep):
    rsps.post(URL, status=403, json={"message": "You have exceeded a secondary rate limit."},
              headers={"Retry-After": "7"})
    rsps.post(URL, json={"data": {**_owner(), "rateLimit": _rate()}})
    client(adapter).query(PROJECT, VARS, what="q")
    assert _no_real_sleep == [7.0] and adapter.stats.retries == 1


def test_server_errors_are_retried_then_fail_the_tracker(rsps, adapter, _no_real_sleep):
    for _ in range(3):
        rsps.post(URL, status=502, body="bad gateway")
    with pytest.raises(Exception, match="server error 502"):
        client(adapter).query(PROJECT, VARS, what="q")
    assert len(_no_real_sleep) == 2


def test_rate_limited_in_the_body_stops_cleanly(rsps, adapter):
    rsps.post(URL, json={"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 1."}]})
    with pytest.raises(RateLimitExhausted, match="GraphQL points budget is used up"):
        client(adapter).query(PROJECT, VARS, what="q")


def test_a_query_that_would_cut_into_the_reserve_is_not_sent(rsps, adapter):
    rsps.post(URL, json={"data": {**_owner(), "rateLimit": _rate(cost=1, remaining=1001)}})
    c = client(adapter, share=0.8)
    c.query(PROJECT, VARS, what="q")
    with pytest.raises(RateLimitExhausted, match="1001 of 5000 GraphQL points"):
        c.query(PROJECT, VARS, what="page", expect_cost=2)
    assert len(rsps.calls) == 1


def test_forbidden_is_an_auth_error_and_other_errors_are_fatal(rsps, adapter):
    rsps.post(URL, json={"data": None, "errors": [{"type": "FORBIDDEN", "message": "Resource not accessible"}]})
    rsps.post(URL, json={"errors": [{"message": "Field 'x' doesn't exist on type 'Query'"}]})
    with pytest.raises(AuthError, match="read:project"):
        client(adapter).query(PROJECT, VARS, what="q")
    with pytest.raises(FatalAPIError, match="doesn't exist"):
        client(adapter).query(PROJECT, VARS, what="q")


def test_not_found_comes_back_for_the_caller_to_name(rsps, adapter):
    rsps.post(URL, json={"data": {**_owner(), "rateLimit": _rate()},
                         "errors": [{"type": "NOT_FOUND", "path": ["repositoryOwner", "projectV2"],
                                     "message": "Could not resolve to a ProjectV2 with the number 7."}]})
    answer = client(adapter).query(PROJECT, VARS, what="q")
    assert answer.error_of("NOT_FOUND")["path"] == ["repositoryOwner", "projectV2"]


def test_a_mutation_is_paced_as_a_write_and_sent_once(rsps, adapter, _no_real_sleep):
    rsps.post(URL, status=502, body="bad gateway")
    with pytest.raises(Exception, match="502"):
        client(adapter).query(CREATE_STATUS_UPDATE, {"input": {"projectId": "PVT_1", "status": "ON_TRACK"}},
                              what="m", mutation=True)
    assert len(rsps.calls) == 1 and adapter.stats.writes == 1
