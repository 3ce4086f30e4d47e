"""The one retry policy (tenacity) and HTTP plumbing every adapter shares.

Vendor retry layers (jira's ResilientSession, PyGithub's GithubRetry) are switched off where this is
used, so retries are never stacked. Waits go through `connector.clock.sleep`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from connector import clock
from connector.errors import RateLimitExhausted, RetriableAPIError
from connector.values import RequestStats

log = logging.getLogger(__name__)
T = TypeVar("T")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP-date (RFC 9110 allows both)."""
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or clock.now())).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # total tries of one request
    base: float = 1.0  # first backoff (seconds), doubled each try
    max_backoff: float = 60.0
    max_wait: float = 300.0  # a stated wait longer than this fails the tracker cleanly instead


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = min(policy.max_backoff, policy.base * 2 ** (state.attempt_number - 1))
        stated = getattr(exc, "retry_after", None)
        # Retry-After is a minimum, never shortened by our backoff
        return max(backoff, stated) if stated is not None else backoff
    return wait


def call_with_retry(fn: Callable[[], T], *, tracker: str, stats: RequestStats,
                    policy: RetryPolicy = RetryPolicy(), what: str = "request") -> T:
    """Run `fn`, retrying RetriableAPIError per `policy`; every other error propagates at once."""

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        stated = getattr(exc, "retry_after", None)
        if stated is not None and stated > policy.max_wait:
            raise RateLimitExhausted(tracker, f"{what}: the tracker asks to wait {stated:.0f} s "
                                     f"(more than {policy.max_wait:.0f} s); stopping this tracker's work "
                                     "for this run") from None
        with stats.lock:
            stats.retries += 1
        log.warning("%s: %s failed (%s); retry %d in %.1f s", tracker, what, exc,
                    state.attempt_number, state.upcoming_sleep)

    retrying = Retrying(
        retry=retry_if_exception_type(RetriableAPIError),
        stop=stop_after_attempt(policy.attempts),
        wait=_wait(policy),
        sleep=lambda seconds: clock.sleep(seconds),
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(fn)


class Pacer:
    """A per-key request rate that recovers (AIMD): unpaced until the tracker signals a burst limit (a 429),
    then the key's rate halves (multiplicative decrease, never below `floor`) and every success adds `step`
    back (additive increase) until the key's ceiling, where pacing stops. One per tracker, keyed by endpoint.
    """

    def __init__(self, ceiling: float | Callable[[str], float], *, floor: float = 1.0, steps: int = 20,
                 now: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] | None = None) -> None:
        self._ceiling = ceiling if callable(ceiling) else (lambda key, c=float(ceiling): c)
        self.floor, self.steps = floor, steps
        self._now, self._sleep = now, sleep
        self._rate: dict[str, float] = {}
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def rate(self, key: str) -> float | None:
        """Requests a second the key is paced at now; None: unpaced."""
        return self._rate.get(key)

    def wait(self, key: str) -> None:
        with self._lock:  # reserve the next slot, sleep outside the lock
            rate = self._rate.get(key)
            if rate is None:
                return
            now = self._now()
            due = max(now, self._next.get(key, now))
            self._next[key] = due + 1.0 / rate
        if due > now:
            (self._sleep or clock.sleep)(due - now)

    def success(self, key: str) -> None:
        with self._lock:
            rate = self._rate.get(key)
            if rate is None:
                return
            rate += self._ceiling(key) / self.steps
            if rate >= self._ceiling(key):
                self._rate.pop(key, None)
                self._next.pop(key, None)
            else:
                self._rate[key] = rate

    def throttled(self, key: str) -> float:
        with self._lock:
            rate = self._rate[key] = max(self.floor, (self._rate.get(key) or self._ceiling(key)) / 2)
            return rate


class WindowLimit:
    """At most n events per window seconds per key (sliding windows), waiting for a free slot: Jira's
    per-issue write limit (20 per 2 s and 100 per 30 s) and GitHub's content limits (80 a minute)."""

    def __init__(self, limits: tuple[tuple[int, float], ...], *, now: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.limits = tuple((n, w) for n, w in limits if n > 0)
        self._now, self._sleep = now, sleep
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str = "") -> float:
        """Wait until every window allows one more event for `key`, record it; returns the wait."""
        if not self.limits:
            return 0.0
        with self._lock:
            events = self._events.setdefault(key, deque(maxlen=max(n for n, _ in self.limits)))
            now = self._now()
            due = now
            for n, window in self.limits:
                if len(events) >= n:
                    due = max(due, events[-n] + window)
            events.append(due)
        if due > now:
            (self._sleep or clock.sleep)(due - now)
        return due - now


class TimeoutAdapter(HTTPAdapter):
    """Explicit timeouts on every request (requests has none by default)."""

    def __init__(self, timeout: float, **kwargs) -> None:
        self.timeout = timeout
        super().__init__(max_retries=0, **kwargs)

    def send(self, request, **kwargs):  # noqa: ANN001 - requests' signature
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def prepare_session(session: requests.Session, *, timeout: float, verify: bool, stats: RequestStats,
                    pool_size: int = 10) -> requests.Session:
    """Mount explicit timeouts, no transport retries, TLS verification and request counting."""
    adapter = TimeoutAdapter(timeout, pool_connections=pool_size, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.verify = verify

    def count(response: requests.Response, *args, **kwargs) -> None:
        method = response.request.method or "GET"
        with stats.lock:
            stats.requests += 1
            if method in ("GET", "HEAD"):
                stats.reads += 1
            else:
                stats.writes += 1
            if response.status_code == 304:
                stats.not_modified += 1

    session.hooks.setdefault("response", []).append(count)
    return session
