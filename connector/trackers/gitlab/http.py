"""GitLab transport: python-gitlab's http layer over our requests session, its own retries off (429 and
transient), our one retry policy, error classes and GitLab's RateLimit-* bookkeeping.

Every request goes through `GitlabTransport.request`. python-gitlab's exceptions are never stringified
into our errors: only the status and GitLab's own `message` / `error` text are.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import gitlab
import requests

from connector import clock
from connector.errors import AuthError, FatalAPIError, RateLimitExhausted, RetriableAPIError
from connector.http import RetryPolicy, call_with_retry, parse_retry_after, prepare_session
from connector.trackers.gitlab.config import GitlabTrackerSettings
from connector.values import RequestStats

log = logging.getLogger(__name__)

USER_AGENT = "plansync (+https://github.com/plansync)"
_TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                     requests.exceptions.ContentDecodingError)


@dataclass(frozen=True)
class Reply:
    """One answered request: status, lower-cased headers, parsed JSON (None for 204)."""

    status: int
    headers: dict[str, str]
    data: Any

    def link(self, rel: str) -> str | None:
        for link in requests.utils.parse_header_links(self.headers.get("link", "")):
            if link.get("rel") == rel:
                return link.get("url")
        return None


class GitlabTransport:
    """One adapter's requests: counted on the session, classified, retried once per policy."""

    def __init__(self, tracker: GitlabTrackerSettings, stats: RequestStats, policy: RetryPolicy) -> None:
        self.name, self.stats, self.policy = tracker.name, stats, policy
        self._token_env, self._budget_share = tracker.token_env, tracker.budget_share
        self.session = prepare_session(requests.Session(), timeout=tracker.timeout, verify=tracker.verify_tls,
                                       stats=stats)
        self._last: requests.Response | None = None
        # python-gitlab raises on non-2xx without the headers; this hook keeps the last answer's
        self.session.hooks["response"].append(self._remember)
        self.client = gitlab.Gitlab(tracker.url, private_token=tracker.token().get_secret_value(),
                                    session=self.session, retry_transient_errors=False,
                                    timeout=max(1, math.ceil(tracker.timeout)), ssl_verify=tracker.verify_tls,
                                    per_page=100, user_agent=USER_AGENT, keep_base_url=True)

    def _remember(self, response: requests.Response, *args, **kwargs) -> None:
        self._last = response

    def close(self) -> None:
        self.session.close()

    def on_our_base(self, url: str) -> str:
        """A Link-header URL as a path under our configured API root. GitLab builds Link URLs from its
        `external_url`, which behind a proxy may name another host: following that host would send the
        token there, so only the path after `/api/v4` and the query are kept."""
        parts = urlsplit(url)
        tail = parts.path.split("/api/v4", 1)[1] if "/api/v4" in parts.path else parts.path
        return self.client.api_url + tail + (f"?{parts.query}" if parts.query else "")

    def request(self, verb: str, path: str, *, what: str, params: dict | None = None, body: Any = None,
                retry: bool = True, budget: bool = False, accept: frozenset[int] = frozenset()) -> Reply:
        """Send one request to `path` (under /api/v4, or a full URL from a Link header); statuses in
        `accept` are returned instead of raised. `budget=True` refuses a request that would spend the
        share of the rate limit other users keep."""

        def once() -> Reply:
            if budget:
                self._check_budget(what)
            self._last = None
            try:
                # obey_rate_limit/max_retries/retry_transient_errors off: call_with_retry is the one layer
                response = self.client.http_request(verb.lower(), path, query_data=dict(params or {}),
                                                    post_data=body, obey_rate_limit=False, max_retries=0,
                                                    retry_transient_errors=False)
            except _TRANSPORT_ERRORS as exc:
                raise RetriableAPIError(self.name, f"{what}: connection failed ({type(exc).__name__})") from None
            except gitlab.exceptions.RedirectError:
                raise FatalAPIError(self.name, f"{what}: GitLab redirected a write; check the tracker's url "
                                    "(it must be the instance root, without /api/v4)") from None
            except gitlab.exceptions.GitlabError as exc:  # GitlabHttpError, GitlabAuthenticationError
                response = self._last
                status = exc.response_code or (response.status_code if response is not None else 0)
                headers = _lower(response.headers) if response is not None else {}
                self._count(verb, path)
                self._note_rate(headers)
                if status in accept:
                    return Reply(status, headers, _json_or_none(response.text if response is not None else ""))
                raise self._classify(status, headers, _message(exc), what) from None
            self._count(verb, path)
            headers = _lower(response.headers)
            self._note_rate(headers)
            return Reply(response.status_code, headers, self._parse(response, what))

        if not retry:
            return once()
        return call_with_retry(once, tracker=self.name, stats=self.stats, policy=self.policy, what=what)

    def _count(self, verb: str, path: str) -> None:
        with self.stats.lock:
            self.stats.by_endpoint[f"{verb} {endpoint_of(path)}"] += 1

    def _parse(self, response: requests.Response, what: str) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise FatalAPIError(self.name, f"{what}: GitLab answered {response.status_code} with a body that "
                                f"is not JSON ({response.text[:80]!r}...)") from None

    # --- error classes -----------------------------------------------------------------------------
    def _classify(self, status: int, headers: dict[str, str], message: str, what: str) -> Exception:
        if status == 401:
            return AuthError(self.name, f"GitLab refused the credentials (401 {message}); check that the "
                             f"environment variable {self._token_env} holds a valid, unexpired access token")
        if status == 429:
            stated = parse_retry_after(headers.get("retry-after"), _server_now(headers))
            if stated is None and headers.get("ratelimit-reset"):
                stated = max(0.0, float(headers["ratelimit-reset"]) - _server_now(headers).timestamp())
            return RetriableAPIError(self.name, f"{what}: rate limited (429)"
                                     + (f", retry after {stated:.0f} s" if stated is not None else ""),
                                     retry_after=stated, status=status)
        if status == 403:
            return FatalAPIError(self.name, f"{what}: forbidden (403 {message}); the token lacks access "
                                 "(reads need the read_api scope, label writes the api scope)", status=403)
        if status >= 500:
            stated = parse_retry_after(headers.get("retry-after"), _server_now(headers))
            return RetriableAPIError(self.name, f"{what}: server error {status} {message}".rstrip(),
                                     retry_after=stated, status=status)
        return FatalAPIError(self.name, f"{what}: {status} {message}".rstrip(), status=status)

    # --- rate limits -------------------------------------------------------------------------------
    def _note_rate(self, headers: dict[str, str]) -> None:
        try:
            if "ratelimit-remaining" in headers:
                self.stats.rate_remaining = int(float(headers["ratelimit-remaining"]))
            if "ratelimit-limit" in headers:
                self.stats.rate_limit = int(float(headers["ratelimit-limit"]))
            if "ratelimit-reset" in headers:
                self.stats.rate_reset = datetime.fromtimestamp(int(float(headers["ratelimit-reset"])), UTC)
        except ValueError:
            log.debug("%s: unreadable rate-limit headers", self.name)

    def _check_budget(self, what: str) -> None:
        """Stop before a page would take the remaining budget below the share other users keep."""
        remaining, limit, reset = self.stats.rate_remaining, self.stats.rate_limit, self.stats.rate_reset
        if remaining is None or not limit:
            return
        if reset is not None and reset <= clock.now():
            return  # a new window has begun since we last heard
        floor = (1 - self._budget_share) * limit
        if remaining - 1 < floor:
            when = f"it resets at {reset:%Y-%m-%d %H:%M} UTC" if reset else "its reset time is unknown"
            raise RateLimitExhausted(self.name, f"{what}: stopped pulling cleanly with {remaining} of {limit} "
                                     f"requests left (budget_share {self._budget_share:g} keeps {floor:.0f} in "
                                     f"reserve); {when}; the next run continues from the stored cursors")


def _server_now(headers: dict[str, str]) -> datetime:
    try:
        if headers.get("date"):
            when = parsedate_to_datetime(headers["date"])
            return when if when.tzinfo else when.replace(tzinfo=UTC)
    except (TypeError, ValueError, IndexError):
        pass
    return clock.now()


def _lower(headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _message(exc: gitlab.exceptions.GitlabError) -> str:
    """GitLab's own words: `message` or `error` of the body (python-gitlab extracted it already)."""
    message = exc.error_message
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    if isinstance(message, dict | list):
        message = json.dumps(message)
    return str(message or "")[:200]


def endpoint_of(url: str) -> str:
    """`/projects/acme%2Fweb/issues/12?x` -> `/projects/{id}/issues/{n}`."""
    path = urlsplit(url).path
    path = re.sub(r"^.*?/api/v4", "", path)
    path = re.sub(r"/(projects|groups)/[^/]+", r"/\1/{id}", path)
    return re.sub(r"/\d+(?=/|$)", "/{n}", path)
