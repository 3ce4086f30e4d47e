"""Jira adapter failure handling: 410, 401/403/404/400, rate limits, Retry-After, bad bodies, timeouts."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime

import pytest
import requests
import responses

from connector.errors import AuthError, FatalAPIError, RateLimitExhausted, RetriableAPIError
from connector.http import RetryPolicy
from connector.model import Cursor
from connector.trackers.jira.scopes import JiraScope
from connector.values import PullSpec
from tests.adapters import jira_fixtures as fx

pytestmark = pytest.mark.usefixtures("refdata")

SEARCH_JQL = f"{fx.BASE}/rest/api/3/search/jql"
SCOPE = JiraScope(tracker="jira", jql="project = EE")


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def pull_since(adapter, when=datetime(2026, 11, 20, tzinfo=UTC)):
    return adapter.pull(PullSpec(scopes=(SCOPE,), cursors={SCOPE.id: Cursor("jira", SCOPE.id, updated=when)}))


def test_removed_search_410_fails_fast_with_a_migration_message(rsps, _no_real_sleep):
    # a Cloud site configured as "server" hits the removed /rest/api/2/search
    fx.add_basics(rsps, api="2", timezone="UTC")
    gone = rsps.get(f"{fx.BASE}/rest/api/2/search", status=410, json=fx.removed_search_body())
    with pytest.raises(FatalAPIError) as caught:
        pull_since(fx.adapter(deployment="server"))
    message = str(caught.value)
    assert "410" in message and "/rest/api/3/search/jql" in message and 'deployment = "cloud"' in message
    assert gone.call_count == 1 and _no_real_sleep == []  # never retried


def test_401_is_an_auth_error_naming_the_variable_never_the_token(rsps, caplog):
    caplog.set_level(logging.DEBUG)
    rsps.get(f"{fx.BASE}/rest/api/3/field", status=401, body="Client must be authenticated to access this resource.")
    with pytest.raises(AuthError) as caught:
        pull_since(fx.adapter())
    message = str(caught.value)
    assert message == ("tracker 'jira': the token was refused (HTTP 401); check JIRA_API_TOKEN / email; a service "
                       "account's scoped API token is refused by the site and only works through the Atlassian "
                       "API gateway: set cloud_id in [trackers.jira] (`plansync doctor` prints it)")
    basic = base64.b64encode(f"plansync-bot@example.com:{fx.TOKEN}".encode()).decode()
    for secret in (fx.TOKEN, basic):
        assert secret not in message and secret not in caplog.text
    # raised fresh, not chained to jira.JIRAError (whose text carries the request's Authorization)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


@pytest.mark.parametrize(("status", "expected"), [
    (403, "permission denied (HTTP 403)"),
    (404, "not found (HTTP 404)"),
])
def test_403_and_404_name_what_to_fix(rsps, status, expected):
    rsps.get(f"{fx.BASE}/rest/api/3/field", json=fx.field_list())
    rsps.get(f"{fx.BASE}/rest/api/3/myself", status=status,
             json={"errorMessages": ["You do not have the permission to see the specified issue."], "errors": {}})
    with pytest.raises(FatalAPIError) as caught:
        pull_since(fx.adapter())
    assert expected in str(caught.value) and "You do not have the permission" in str(caught.value)
    assert not isinstance(caught.value, AuthError)


def test_bad_jql_quotes_jira_and_the_scope(rsps):
    fx.add_basics(rsps, timezone="UTC")
    rsps.get(SEARCH_JQL, status=400, json={"errorMessages": [
        "Field 'fixVersionz' does not exist or you do not have permission to view it."], "errors": {}})
    with pytest.raises(FatalAPIError) as caught:
        pull_since(fx.adapter())
    assert "fixVersionz" in str(caught.value) and "jira: project = EE" in str(caught.value)


@pytest.mark.parametrize("body", ['{"issues": [{"id": "1", "key": "EE-1", "fie', "<html>502 Bad gateway</html>"])
def test_truncated_or_malformed_body_fails_the_pull_cleanly(rsps, body):
    fx.add_basics(rsps, timezone="UTC")
    rsps.get(SEARCH_JQL, body=body, content_type="application/json")
    with pytest.raises(FatalAPIError) as caught:
        pull_since(fx.adapter())
    assert "not valid JSON" in str(caught.value)


def test_a_page_without_issues_fails_cleanly(rsps):
    fx.add_basics(rsps, timezone="UTC")
    rsps.get(SEARCH_JQL, json={"values": []})
    with pytest.raises(FatalAPIError, match="no `issues` list"):
        pull_since(fx.adapter())


def test_retry_after_120_is_honoured_as_a_minimum(rsps, _no_real_sleep):
    fx.add_basics(rsps, timezone="UTC")
    rsps.get(SEARCH_JQL, status=429, headers={"Retry-After": "120"})
    rsps.get(SEARCH_JQL, json=fx.cloud_page([], is_last=True))
    a = fx.adapter()
    pull_since(a)
    assert _no_real_sleep and max(_no_real_sleep) >= 120
    assert a.stats.retries == 1


def test_retry_after_as_an_http_date(rsps, _no_real_sleep, monkeypatch):
    monkeypatch.setenv("PLANSYNC_NOW", "2026-11-26T02:00:00Z")
    fx.add_basics(rsps, timezone="UTC")
    rsps.get(SEARCH_JQL, status=503, headers={"Retry-After": "Thu, 26 Nov 2026 02:01:30 GMT"})
    rsps.get(SEARCH_JQL, json=fx.cloud_page([], is_last=True))
    pull_since(fx.adapter())
    assert _no_real_sleep == [90.0]


def test_5xx_and_dropped_connections_are_retried_with_backoff(rsps, _no_real_sleep):
    fx.add_basics(rsps, timezone="UTC")
    rsps.get(SEARCH_JQL, status=502)
    rsps.get(SEARCH_JQL, body=requests.ConnectionError("connection reset by peer"))
    rsps.get(SEARCH_JQL, json=fx.cloud_page([], is_last=True))
    pull_since(fx.adapter())
    assert _no_real_sleep == [1.0, 2.0]


def test_retries_give_up_after_the_policy(rsps, _no_real_sleep):
    fx.add_basics(rsps, timezone="UTC")
    failing = rsps.get(SEARCH_JQL, status=503)
    with pytest.raises(RetriableAPIError):
        pull_since(fx.adapter(policy=RetryPolicy(attempts=3)))
    assert failing.call_count == 3


def test_quota_limit_stops_with_the_reset_time(rsps, _no_real_sleep):
    fx.add_basics(rsps, timezone="UTC")
    limited = rsps.get(SEARCH_JQL, status=429, headers={"Retry-After": "1800", "RateLimit-Reason": "jira-quota-tenant-based",
                                                         "X-RateLimit-Reset": "2026-11-26T03:00Z"})
    with pytest.raises(RateLimitExhausted) as caught:
        pull_since(fx.adapter())
    assert "2026-11-26 03:00 UTC" in str(caught.value)
    assert limited.call_count == 1 and _no_real_sleep == []


def test_burst_limit_slows_that_endpoint_only_and_recovers(rsps, _no_real_sleep):
    # was: every later search spaced 1 s apart for the rest of the run; now the pace halves (100 -> 50
    # requests/s) on the burst 429 and climbs back with each success
    fx.add_basics(rsps)
    issues = fx.cloud_issues()
    rsps.get(SEARCH_JQL, status=429, headers={"Retry-After": "2", "RateLimit-Reason": "jira-burst-based"})
    rsps.get(SEARCH_JQL, json=fx.cloud_page(issues[:2], token="t1"))
    rsps.get(SEARCH_JQL, json=fx.cloud_page(issues[2:4], is_last=True))
    # the first page's issues are years old: a split is worth asking about, and 4 issues is not worth one
    rsps.post(f"{fx.BASE}/rest/api/3/search/approximate-count", json={"count": 4})
    # the census then probes a stored id the pull did not return: another endpoint, not paced
    rsps.get(f"{fx.BASE}/rest/api/3/issue/99999", status=404, json={"errorMessages": ["gone"], "errors": {}})
    adapter = fx.adapter()
    result = adapter.pull(PullSpec(scopes=(SCOPE,), cursors={}, full=True, known_ids=frozenset({"99999"})))
    assert [g.id for g in result.gone] == ["99999"]
    # the retry waits Retry-After (a minimum); later searches wait at most one slot at 50/s
    assert _no_real_sleep[0] == 2.0 and all(s <= 1 / 50 for s in _no_real_sleep[1:])
    assert adapter.http.pacer.rate("GET /search/jql") == 50 + 2 * 5  # two successes since, +5/s each
    assert adapter.http.pacer.rate("GET /issue/{id}") is None


def test_explicit_timeouts_on_every_request(rsps):
    fx.add_basics(rsps, timezone="UTC")
    rsps.get(SEARCH_JQL, json=fx.cloud_page([], is_last=True))
    pull_since(fx.adapter(timeout=12.5))
    assert len(rsps.calls) == 3
    assert all(call.request.req_kwargs["timeout"] == 12.5 for call in rsps.calls)


def test_library_retries_are_off(rsps):
    a = fx.adapter()
    assert a.http.client._session.max_retries == 0
    for adapter in a.http.session.adapters.values():
        assert adapter.max_retries.total == 0
