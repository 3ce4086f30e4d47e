"""GitHub transport: PyGithub's Requester with its retries off, our one retry policy, error classes,
rate-limit bookkeeping (primary budget, secondary limits) and write pacing.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from github import Auth, Github

from connector import clock
from connector.errors import AuthError, FatalAPIError, RateLimitExhausted, RetriableAPIError
from connector.http import RetryPolicy, call_with_retry, parse_retry_after, prepare_session
from connector.trackers.github.app import InstallationTokens, owner_repo
from connector.trackers.github.config import GithubTrackerSettings
from connector.values import RequestStats

log = logging.getLogger(__name__)

USER_AGENT = "plansync (+https://github.com/plansync)"
SECONDARY_MIN_WAIT = 60.0  # GitHub: without retry-after, wait at least a minute, then back off
_SECONDARY_HINTS = ("secondary rate limit", "abuse detection", "please retry your request again later",
                    "please wait a few minutes before you try again")


@dataclass(frozen=True)
class Reply:
    """One answered request: status, lower-cased headers, parsed JSON (None for 204/304)."""

    status: int
    headers: dict[str, str]
    data: Any

    def link(self, rel: str) -> str | None:
        for link in requests.utils.parse_header_links(self.headers.get("link", "")):
            if link.get("rel") == rel:
                return link.get("url")
        return None

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")


class GithubTransport:
    """Every GitHub request of one adapter goes through `request`; it counts, classifies and paces."""

    def __init__(self, tracker: GithubTrackerSettings, stats: RequestStats, policy: RetryPolicy,
                 app: InstallationTokens | None = None) -> None:
        self.name, self.stats, self.policy = tracker.name, stats, policy
        self._tracker = tracker
        self._in_flight = _InFlight()  # budgeted requests sent and not yet answered, across forks
        self._token_env, self._budget_share = tracker.token_env, tracker.budget_share
        self._write_interval = tracker.write_interval
        self._writes_per_minute = tracker.writes_per_minute
        self._last_write: float | None = None
        self._unslept = 0.0
        self._recent_writes: deque[float] = deque(maxlen=max(1, self._writes_per_minute))
        # PyGithub's own GithubRetry and request throttle are off: call_with_retry is the one retry
        # layer and writes are paced here through clock.sleep (PyGithub would call time.sleep).
        # a GitHub App: each request carries the installation token of its owner (app.py), set per request
        self.app = app if app is not None or not tracker.as_app else InstallationTokens(
            tracker, stats, policy, user_agent=USER_AGENT)
        self._installation: int | None = None
        self._bearer = _InstallationAuth()
        auth = self._bearer if self.app else Auth.Token(tracker.token().get_secret_value())
        self._github = Github(auth=auth, base_url=tracker.url,
                              per_page=100, timeout=max(1, math.ceil(tracker.timeout)), user_agent=USER_AGENT,
                              verify=tracker.verify_tls, retry=None, seconds_between_requests=None,
                              seconds_between_writes=None, api_version=tracker.api_version, lazy=True)
        self._requester = self._github.requester
        self._count_on_session(tracker)

    def _count_on_session(self, tracker: GithubTrackerSettings) -> None:
        """Mount our timeouts and request counter on PyGithub's requests session, so redirects PyGithub
        follows by itself are counted too. The connection is reached through a private name; the
        fallback (counting in `request`) loses only those redirects."""
        create = getattr(self._requester, "_Requester__createConnection", None)
        session = getattr(create(), "session", None) if create else None
        self._counted_by_session = isinstance(session, requests.Session)
        if self._counted_by_session:
            prepare_session(session, timeout=tracker.timeout, verify=tracker.verify_tls, stats=self.stats)
        else:  # pragma: no cover - only if PyGithub's internals change
            log.warning("%s: PyGithub's session is not reachable; counting requests in the adapter", self.name)

    def close(self) -> None:
        self._github.close()
        if self.app is not None and not self._forked:
            self.app.close()

    _forked = False

    @property
    def graphql_url(self) -> str:
        """PyGithub's GraphQL endpoint for this base URL (https://api.github.com/graphql; GHE: /api/graphql)."""
        return self._requester.graphql_url

    def fork(self) -> GithubTransport:
        """Another transport on its own connection, counting into the same stats: PyGithub's Requester
        keeps one request's state on its connection object, so one Requester serves one thread at a time."""
        fork = GithubTransport(self._tracker, self.stats, self.policy, app=self.app)
        fork._in_flight, fork._forked = self._in_flight, True
        return fork

    # --- requests ----------------------------------------------------------------------------------
    def request(self, verb: str, url: str, *, what: str, params: dict | None = None, headers: dict | None = None,
                body: Any = None, retry: bool = True, budget: bool = False,
                accept: frozenset[int] = frozenset(), write: bool | None = None, rest_rate: bool = True) -> Reply:
        """Send one request (retried per policy unless `retry=False`); statuses in `accept` are returned
        instead of raised. `budget=True` refuses a request that would spend the reserved budget.
        `write` (default: any verb but GET) paces it as a write; `rest_rate=False` keeps its rate-limit
        headers out of the REST budget (GraphQL answers carry the separate points budget's)."""
        secondary_hits, refused = 0, 0

        def once() -> Reply:
            nonlocal secondary_hits, refused
            if self.app is not None:
                token = self.app.token_for(*owner_repo(url))
                self._bearer.value, self._installation = token.value, token.installation
            if budget:
                with self._in_flight.lock:
                    # pages fetched concurrently: the ones still in flight will spend budget too
                    self._check_budget(what, in_flight=self._in_flight.count)
                    self._in_flight.count += 1
            if (verb != "GET") if write is None else write:
                self._pace_write()
            reply_headers: dict[str, str] = {}
            try:
                # a fresh dict each time: PyGithub writes the Authorization header into it
                status, reply_headers, text = self._requester.requestJson(verb, url, params, dict(headers or {}),
                                                                          body)
            except requests.exceptions.RequestException as exc:
                self._count_fallback(verb, None)
                raise RetriableAPIError(self.name, f"{what}: connection failed ({type(exc).__name__})") from None
            except RuntimeError as exc:  # PyGithub refuses a redirect to another host or scheme
                raise FatalAPIError(self.name, f"{what}: {exc}") from None
            finally:
                if budget:
                    with self._in_flight.lock:  # the answer's remaining budget replaces its in-flight share
                        self._note_rate(reply_headers if rest_rate else {})
                        self._in_flight.count -= 1
            self._count_fallback(verb, status)
            if self.app is not None:
                self.app.server.note(reply_headers.get("date"))
                if status == 401 and not refused:  # revoked or expired early: once more with a new token
                    refused += 1
                    self.app.forget(self._installation)
                    raise _TokenRefused()
            with self.stats.lock:
                self.stats.by_endpoint[f"{verb} {endpoint_of(url)}"] += 1
            if rest_rate:
                self._note_rate(reply_headers)
            if status >= 400 and status not in accept:
                error = self._classify(status, reply_headers, text, what, secondary_hits)
                if isinstance(error, RetriableAPIError) and status in (403, 429):
                    secondary_hits += 1
                raise error
            return Reply(status, reply_headers, self._parse(status, text, what))

        def send() -> Reply:
            try:
                return once()
            except _TokenRefused:  # GitHub did nothing with a 401: sending again is safe, writes included
                log.info("%s: %s: the installation token was refused; minting a new one", self.name, what)
                return once()

        if not retry:
            return send()
        return call_with_retry(send, tracker=self.name, stats=self.stats, policy=self.policy, what=what)

    def _count_fallback(self, verb: str, status: int | None) -> None:
        if self._counted_by_session:
            return
        self.stats.requests += 1  # pragma: no cover - see _count_on_session
        if verb == "GET":  # pragma: no cover
            self.stats.reads += 1
        else:  # pragma: no cover
            self.stats.writes += 1
        if status == 304:  # pragma: no cover
            self.stats.not_modified += 1

    def _parse(self, status: int, text: str, what: str) -> Any:
        if status in (204, 304) or not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise FatalAPIError(self.name, f"{what}: GitHub answered {status} with a body that is not JSON "
                                f"({text[:80]!r}...)") from None

    # --- error classes -----------------------------------------------------------------------------
    def _classify(self, status: int, headers: dict[str, str], text: str, what: str,
                  secondary_hits: int) -> Exception:
        message = _message(text)
        if status == 401 and self.app is not None:
            return AuthError(self.name, f"GitHub refused the installation token of GitHub App "
                             f"{self._tracker.app_id} twice (401 {message}); check the app's installation")
        if status == 401:
            return AuthError(self.name, f"GitHub refused the credentials (401 {message}); check that the "
                             f"environment variable {self._token_env} holds a valid, unexpired token")
        if status in (403, 429):
            stated = parse_retry_after(headers.get("retry-after"), self._server_now(headers))
            if headers.get("x-ratelimit-remaining") == "0" and stated is None:
                return RateLimitExhausted(self.name, f"{what}: the primary rate limit is used up "
                                          f"({status}); {self._reset_text(headers)}")
            if stated is not None:
                return RetriableAPIError(self.name, f"{what}: secondary rate limit ({status}), retry after "
                                         f"{stated:.0f} s", retry_after=stated, status=status)
            if status == 429 or any(hint in message.lower() for hint in _SECONDARY_HINTS):
                wait = SECONDARY_MIN_WAIT * 2 ** secondary_hits
                return RetriableAPIError(self.name, f"{what}: secondary rate limit ({status}) without "
                                         f"retry-after; waiting {wait:.0f} s", retry_after=wait, status=status)
            return FatalAPIError(self.name, f"{what}: forbidden (403 {message}); the token lacks access", status=403)
        if status >= 500:
            stated = parse_retry_after(headers.get("retry-after"), self._server_now(headers))
            return RetriableAPIError(self.name, f"{what}: server error {status} {message}".rstrip(),
                                     retry_after=stated, status=status)
        return FatalAPIError(self.name, f"{what}: {status} {message}".rstrip(), status=status)

    # --- rate limits -------------------------------------------------------------------------------
    def _note_rate(self, headers: dict[str, str]) -> None:
        if self.app is not None and self._installation is not None and "x-ratelimit-remaining" in headers:
            self.app.rates[self._installation] = self._rate_of(headers)
            # the run's figure (metrics, summary): the installation with the least left
            low = min(self.app.rates.values(), key=lambda rate: rate[0] if rate[0] is not None else 1 << 30)
            self.stats.rate_remaining, self.stats.rate_limit, self.stats.rate_reset = low
            return
        try:
            if "x-ratelimit-remaining" in headers:
                self.stats.rate_remaining = int(float(headers["x-ratelimit-remaining"]))
            if "x-ratelimit-limit" in headers:
                self.stats.rate_limit = int(float(headers["x-ratelimit-limit"]))
            if "x-ratelimit-reset" in headers:
                self.stats.rate_reset = datetime.fromtimestamp(int(float(headers["x-ratelimit-reset"])), UTC)
        except ValueError:
            log.debug("%s: unreadable rate-limit headers %r", self.name, headers)

    @staticmethod
    def _rate_of(headers: dict[str, str]) -> tuple[int | None, int | None, datetime | None]:
        def number(key: str) -> int | None:
            try:
                return int(float(headers[key])) if key in headers else None
            except ValueError:
                return None
        reset = number("x-ratelimit-reset")
        return (number("x-ratelimit-remaining"), number("x-ratelimit-limit"),
                datetime.fromtimestamp(reset, UTC) if reset is not None else None)

    def _check_budget(self, what: str, in_flight: int = 0) -> None:
        """Stop before a page would take the remaining budget below the share other users keep (a GitHub
        App: the budget of the installation this request spends, each installation has its own)."""
        remaining, limit, reset = self.stats.rate_remaining, self.stats.rate_limit, self.stats.rate_reset
        if self.app is not None and self._installation is not None:
            remaining, limit, reset = self.app.rates.get(self._installation, (None, None, None))
        if remaining is None or not limit:
            return
        if reset is not None and reset <= clock.now():
            return  # a new window has begun since we last heard; the next reply tells us the truth
        floor = (1 - self._budget_share) * limit
        if remaining - in_flight - 1 < floor:
            when = f"it resets at {reset:%Y-%m-%d %H:%M} UTC" if reset else "its reset time is unknown"
            raise RateLimitExhausted(self.name, f"{what}: stopped pulling cleanly with {remaining} of {limit} "
                                     f"requests left (budget_share {self._budget_share:g} keeps {floor:.0f} in "
                                     f"reserve); {when}; the next run continues from the stored cursors")

    def _reset_text(self, headers: dict[str, str]) -> str:
        reset = self.stats.rate_reset
        if reset is None:
            return "the reset time is unknown; the next run tries again"
        wait = max(0, (reset - self._server_now(headers)).total_seconds())
        return f"it resets at {reset:%Y-%m-%d %H:%M} UTC (in {wait / 60:.0f} min); the next run after that continues"

    @staticmethod
    def _server_now(headers: dict[str, str]) -> datetime:
        """The server's clock (Date header) where it sent one: reset times are in its clock."""
        try:
            if headers.get("date"):
                when = parsedate_to_datetime(headers["date"])
                return when if when.tzinfo else when.replace(tzinfo=UTC)
        except (TypeError, ValueError, IndexError):
            pass
        return clock.now()

    # --- write pacing ------------------------------------------------------------------------------
    def _pace_write(self) -> None:
        """At least `write_interval` s between writes and at most `writes_per_minute` a minute, waiting via clock.sleep.
        When that sleep does not really pass time (tests, a pinned demo) the shortfall is credited to a
        virtual clock, so the recorded waits are the ones a real run would make."""
        now = time.monotonic() + self._unslept
        due = now if self._last_write is None else max(now, self._last_write + self._write_interval)
        if self._writes_per_minute and len(self._recent_writes) >= self._writes_per_minute:
            due = max(due, self._recent_writes[0] + 60.0)
        if due > now:
            started = time.monotonic()
            clock.sleep(due - now)
            self._unslept += max(0.0, (due - now) - (time.monotonic() - started))
        self._last_write = due
        self._recent_writes.append(due)


class _TokenRefused(Exception):
    """A 401 to an installation token: the request is sent once more with a freshly minted one."""


class _InstallationAuth(Auth.Token):
    """The Authorization of an App's transport: the installation token of the request being sent."""

    def __init__(self) -> None:
        self.value = ""

    @property
    def token(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return "_InstallationAuth()"


class _InFlight:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0


def endpoint_of(url: str) -> str:
    """`/repos/acme/web/issues/12/labels/x?page=2` -> `/repos/{o}/{r}/issues/{n}/labels/{name}`."""
    path = urlsplit(url).path
    path = re.sub(r"^.*?(/repos/|/repositories/|/user\b)", r"\1", path)
    path = re.sub(r"/repos/[^/]+/[^/]+", "/repos/{o}/{r}", path)
    path = re.sub(r"/labels/[^/]+$", "/labels/{name}", path)
    return re.sub(r"/\d+(?=/|$)", "/{n}", path)


def _message(text: str) -> str:
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return text[:120].strip()
    if isinstance(data, dict):
        return str(data.get("message") or "")[:200]
    return ""
