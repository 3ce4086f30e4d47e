"""The Jira HTTP layer: the `jira` library's session with our one retry policy, and error classification.

Every request goes through `JiraHttp.call`; every non-2xx answer is turned into one TrackerError here.
`jira.JIRAError` is never stringified: its text includes the request headers (the Authorization).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import requests
from jira import JIRA, JIRAError
from pydantic import SecretStr

from connector import clock
from connector.errors import AuthError, FatalAPIError, RateLimitExhausted, RetriableAPIError, TrackerError
from connector.http import (
    Pacer,
    RetryPolicy,
    WindowLimit,
    call_with_retry,
    parse_retry_after,
    prepare_session,
)
from connector.trackers.jira.config import JiraTrackerSettings, gateway_hint
from connector.values import RequestStats

log = logging.getLogger(__name__)

BURST_RATE = {"GET": 100.0, "POST": 100.0, "PUT": 50.0, "DELETE": 50.0}  # Jira's steady burst limits, per second
MIN_BURST_RATE = 1.0  # never paced slower than this after repeated burst limits
PER_ISSUE_WRITES = ((20, 2.0), (100, 30.0))  # Jira's per-issue write limits
_TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                     requests.exceptions.ContentDecodingError)


def build_client(tracker: JiraTrackerSettings, secret: SecretStr, api_version: str) -> JIRA:
    """The library client, with its own retries off (ours are the one layer) and no startup requests."""
    auth: dict = ({"token_auth": secret.get_secret_value()} if tracker.auth == "bearer"
                  else {"basic_auth": (tracker.email or "", secret.get_secret_value())})
    return JIRA(server=tracker.api_base, options={"verify": tracker.verify_tls, "rest_api_version": api_version,
                                             "check_update": False},
                get_server_info=False, max_retries=0, timeout=tracker.timeout, **auth)


def jira_messages(resp: requests.Response, limit: int = 400) -> str:
    """Jira's own words (errorMessages + errors) from an error body, shortened; never the request."""
    try:
        body = resp.json()
    except ValueError:
        text = (resp.text or "").strip()
        return text[:limit]
    if not isinstance(body, dict):
        return str(body)[:limit]
    parts = [str(m) for m in body.get("errorMessages") or ()]
    errors = body.get("errors") or {}
    if isinstance(errors, list):  # the bulk APIs: {"errors": [{"message": ...}]}
        parts += [str(e.get("message") if isinstance(e, dict) else e) for e in errors]
    else:
        parts += [f"{k}: {v}" for k, v in errors.items()]
    if body.get("message"):
        parts.append(str(body["message"]))
    return "; ".join(parts)[:limit]


class JiraHttp:
    """Sends requests through the library's session; paces endpoints and issues Jira told us to slow."""

    def __init__(self, tracker: JiraTrackerSettings, name: str, secret: SecretStr, api_version: str,
                 stats: RequestStats, policy: RetryPolicy) -> None:
        self.tracker, self.name, self.stats, self.policy = tracker, name, stats, policy
        self.client = build_client(tracker, secret, api_version)
        self.session = prepare_session(self.client._session, timeout=tracker.timeout,
                                       verify=tracker.verify_tls, stats=stats)
        self.base = tracker.api_base  # the gateway for a service account; browse links keep tracker.url
        # endpoint ("GET /search/jql") -> a pace that halves on a burst 429 and climbs back on success
        self.pacer = Pacer(lambda key: BURST_RATE.get(key.partition(" ")[0], 50.0), floor=MIN_BURST_RATE)
        self.issue_writes = WindowLimit(PER_ISSUE_WRITES)
        self._issue_gap: dict[str, float] = {}  # issue -> min seconds between writes (per-issue limit)
        self._last_call: dict[str, datetime] = {}
        self._last_write: dict[str, datetime] = defaultdict(lambda: datetime.min)

    def close(self) -> None:
        self.client.close()

    # --- sending -----------------------------------------------------------------------------------
    def call(self, method: str, path: str, *, what: str, endpoint: str, params: dict | None = None,
             body: dict | None = None, retry: bool = True, issue: str | None = None,
             allow: tuple[int, ...] = ()) -> requests.Response:
        """One request, retried per the policy when `retry` (idempotent calls only: pitfall 10).

        Statuses in `allow` are returned instead of raised (e.g. 404 when probing a census miss).
        """
        url = self.base + path
        data = json.dumps(body) if body is not None else None

        def once() -> requests.Response:
            self._wait_for(endpoint, issue if method != "GET" else None)
            with self.stats.lock:
                self.stats.by_endpoint[endpoint] += 1
            try:
                resp = self.session.request(method, url, params=params, data=data)
            except JIRAError as err:  # ResilientSession raises on >= 400; classify its response
                resp = err.response
                if resp is None:
                    raise RetriableAPIError(self.name, f"{what}: no response from {self.base}") from None
            except _TRANSPORT_ERRORS as exc:
                raise RetriableAPIError(self.name, f"{what}: {type(exc).__name__} talking to {self.base}") from None
            finally:
                self._last_call[endpoint] = clock.now()
                if issue and method != "GET":
                    self._last_write[issue] = clock.now()
            self._note_rate_headers(resp)
            if resp.ok or resp.status_code in allow:
                self.pacer.success(endpoint)
                return resp
            raise self.classify(resp, what=what, endpoint=endpoint, issue=issue)

        if not retry:
            return once()
        return call_with_retry(once, tracker=self.name, stats=self.stats, policy=self.policy, what=what)

    def get_json(self, path: str, *, what: str, endpoint: str, params: dict | None = None):
        return self.decode(self.call("GET", path, what=what, endpoint=endpoint, params=params), what)

    def decode(self, resp: requests.Response, what: str):
        try:
            return resp.json()
        except ValueError:
            raise FatalAPIError(self.name, f"{what}: Jira's answer was not valid JSON (truncated or malformed, "
                                f"HTTP {resp.status_code}); this pull stores nothing") from None

    def _wait_for(self, endpoint: str, issue: str | None) -> None:
        self.pacer.wait(endpoint)
        if issue:
            self.issue_writes.acquire(issue)
        waits = []
        if issue and issue in self._issue_gap and self._last_write[issue] != datetime.min:
            waits.append(self._issue_gap[issue] - (clock.now() - self._last_write[issue]).total_seconds())
        wait = max(waits, default=0.0)
        if wait > 0:
            clock.sleep(wait)

    def _note_rate_headers(self, resp: requests.Response) -> None:
        for header, attr in (("X-RateLimit-Remaining", "rate_remaining"), ("X-RateLimit-Limit", "rate_limit")):
            value = resp.headers.get(header)
            if value and value.strip().isdigit():
                setattr(self.stats, attr, int(value))
        reset = _parse_reset(resp.headers.get("X-RateLimit-Reset"))
        if reset:
            self.stats.rate_reset = reset

    # --- classification (the one place) ---------------------------------------------------------
    def classify(self, resp: requests.Response, *, what: str, endpoint: str, issue: str | None = None) -> TrackerError:
        code = resp.status_code
        said = jira_messages(resp)
        said_part = f": {said}" if said else ""
        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        if code == 401:
            hint = (f"check {self.tracker.token_env} (personal access token)" if self.tracker.auth == "bearer"
                    else f"check {self.tracker.token_env} / email")
            return AuthError(self.name, f"the token was refused (HTTP 401); {hint}{gateway_hint(self.tracker)}")
        if code == 403:
            captcha = "AUTHENTICATION_DENIED" in resp.headers.get("X-Seraph-LoginReason", "")
            fix = ("Jira demands a CAPTCHA for this account: log in once in a browser" if captcha else
                   "give the account Browse Projects (and Edit Issues for labels) permission on the project")
            return FatalAPIError(self.name, f"{what}: permission denied (HTTP 403){said_part}; {fix}")
        if code == 404:
            return FatalAPIError(self.name, f"{what}: not found (HTTP 404){said_part}; check the tracker url "
                                 f"({self.base}) and that it exists and is visible to this account")
        if code == 410:
            return FatalAPIError(self.name, f"{what}: Jira answered 410 Gone{said_part}. This Jira removed that "
                                 "API: Jira Cloud only serves /rest/api/3/search/jql, so set deployment = "
                                 f"\"cloud\" in [trackers.{self.name}] (or upgrade plansync)")
        if code == 400:
            return FatalAPIError(self.name, f"{what}: Jira rejected the request (HTTP 400){said_part}", status=400)
        if code == 429:
            return self._rate_limited(resp, what=what, endpoint=endpoint, issue=issue, retry_after=retry_after)
        if code in (408, 502, 503, 504) or code >= 500:
            return RetriableAPIError(self.name, f"{what}: HTTP {code}", retry_after=retry_after, status=code)
        return FatalAPIError(self.name, f"{what}: unexpected HTTP {code}{said_part}")

    def _rate_limited(self, resp: requests.Response, *, what: str, endpoint: str, issue: str | None,
                      retry_after: float | None) -> TrackerError:
        reason = (resp.headers.get("RateLimit-Reason") or resp.headers.get("X-Beta-RateLimit-Reason") or "").lower()
        if reason.startswith("jira-quota"):
            reset = _parse_reset(resp.headers.get("X-RateLimit-Reset"))
            if reset is None and retry_after is not None:
                reset = clock.now().replace(microsecond=0) + timedelta(seconds=retry_after)
            when = reset.strftime("%Y-%m-%d %H:%M UTC") if reset else "the top of the next hour"
            return RateLimitExhausted(self.name, f"{what}: the API quota is used up ({reason}); it resets at "
                                      f"{when}; stopping this tracker's work for this run")
        if reason == "jira-burst-based":
            # slow this endpoint only, and only until requests succeed again (the pace climbs back)
            rate = self.pacer.throttled(endpoint)
            log.warning("%s: burst rate limit on %s; pacing it at %.0f requests/s until it recovers", self.name,
                        endpoint, rate)
        elif reason == "jira-per-issue-on-write" and issue:
            self._issue_gap[issue] = max(self._issue_gap.get(issue, 0.0), retry_after or 1.0)
            log.warning("%s: per-issue write limit on %s; spacing writes to it %.0f s apart", self.name, issue,
                        self._issue_gap[issue])
        return RetriableAPIError(self.name, f"{what}: rate limited (HTTP 429{', ' + reason if reason else ''})",
                                 retry_after=retry_after, status=429)


def _parse_reset(value: str | None) -> datetime | None:
    """`X-RateLimit-Reset` as Jira sends it (`2026-11-26T03:00Z`) or ISO 8601."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=parsed.tzinfo or UTC).astimezone(UTC)
