"""GitHub GraphQL through PyGithub's Requester (its `graphql_url`, the endpoint `Requester.graphql_query`
posts to), sent by the REST transport so it shares our one retry layer, error classes and secondary-limit
handling. Documents are constants with every value passed as a variable; GraphQL points (`rateLimit`) are
accounted separately from the REST budget, and a page that would cut into the reserve is not sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from connector import clock
from connector.errors import AuthError, FatalAPIError, RateLimitExhausted, RetriableAPIError
from connector.http import call_with_retry
from connector.trackers.github.http import GithubTransport
from connector.trackers.github.normalize import parse_time

log = logging.getLogger(__name__)

# asked in every query: the cost of the query and what is left of the hour's points
RATE_FIELDS = "rateLimit { cost limit remaining resetAt }"


@dataclass(frozen=True)
class Answer:
    """One GraphQL answer: `data`, and the errors GitHub returned beside it (type, message, path)."""

    data: dict
    errors: tuple[dict, ...] = ()

    def error_of(self, kind: str) -> dict | None:
        return next((e for e in self.errors if e.get("type") == kind), None)


class GraphqlClient:
    """Runs queries and mutations for one adapter; counts points in the adapter's RequestStats."""

    def __init__(self, transport: GithubTransport, *, budget_share: float) -> None:
        self.http, self.stats, self.name = transport, transport.stats, transport.name
        self.budget_share = budget_share

    def query(self, document: str, variables: dict[str, Any], *, what: str, expect_cost: int = 1,
              mutation: bool = False) -> Answer:
        """Send one document (retried per policy; a mutation that creates something is sent once: a retry
        after a lost answer would create it twice). Errors of type NOT_FOUND come back in the Answer for
        the caller to name; any other error fails the tracker."""
        if not mutation:
            self._check_points(what, expect_cost)
        body = {"query": document, "variables": variables}

        def once() -> Answer:
            writes_before = self.stats.writes
            try:
                reply = self.http.request("POST", self.http.graphql_url, body=body, what=what, retry=False,
                                          write=mutation, rest_rate=False,
                                          headers={"Accept": "application/json"})
            finally:
                if not mutation:  # a query is a read, whatever its HTTP verb (serial: no other write between)
                    with self.stats.lock:
                        moved = self.stats.writes - writes_before
                        self.stats.writes -= moved
                        self.stats.reads += moved
            return self._answer(reply.data, what)

        if mutation:
            return once()
        return call_with_retry(once, tracker=self.name, stats=self.stats, policy=self.http.policy, what=what)

    # --- answers and their errors ------------------------------------------------------------------
    def _answer(self, payload: Any, what: str) -> Answer:
        if not isinstance(payload, dict):
            raise FatalAPIError(self.name, f"{what}: GraphQL answered without a JSON object")
        data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
        self._note_points(data.get("rateLimit"))
        errors = tuple(e for e in payload.get("errors") or () if isinstance(e, dict))
        for error in errors:
            kind, message = str(error.get("type") or ""), str(error.get("message") or "")[:200]
            if kind == "RATE_LIMITED" or "rate limit" in message.lower():
                if "secondary" in message.lower():
                    raise RetriableAPIError(self.name, f"{what}: GraphQL secondary rate limit ({message})",
                                            retry_after=60.0, status=200)
                raise RateLimitExhausted(self.name, f"{what}: the GraphQL points budget is used up "
                                         f"({message}); {self._reset_text()}")
            if kind in ("FORBIDDEN", "INSUFFICIENT_SCOPES"):
                raise AuthError(self.name, f"{what}: the token may not read this ({kind}: {message}); a classic "
                                "token needs the read:project scope (project to publish status updates)")
            if kind == "NOT_FOUND":
                continue
            if kind in ("SERVICE_UNAVAILABLE", "INTERNAL", "TIMEOUT") or "something went wrong" in message.lower():
                raise RetriableAPIError(self.name, f"{what}: GraphQL error {kind or '?'}: {message}", status=200)
            raise FatalAPIError(self.name, f"{what}: GraphQL error {kind or '?'}: {message}")
        if not data and not errors:
            raise FatalAPIError(self.name, f"{what}: GraphQL answered with neither data nor errors")
        return Answer(data, errors)

    # --- points ------------------------------------------------------------------------------------
    def _note_points(self, rate: Any) -> None:
        if not isinstance(rate, dict):
            return
        with self.stats.lock:
            try:
                self.stats.points += int(rate.get("cost") or 0)
                if rate.get("remaining") is not None:
                    self.stats.points_remaining = int(rate["remaining"])
                if rate.get("limit") is not None:
                    self.stats.points_limit = int(rate["limit"])
            except (TypeError, ValueError):
                log.debug("%s: unreadable rateLimit %r", self.name, rate)
            self.stats.points_reset = parse_time(rate.get("resetAt")) or self.stats.points_reset

    def _check_points(self, what: str, cost: int) -> None:
        """Stop before a query would take the points left below the share other users keep."""
        remaining, limit, reset = self.stats.points_remaining, self.stats.points_limit, self.stats.points_reset
        if remaining is None or not limit or (reset is not None and reset <= clock.now()):
            return
        floor = (1 - self.budget_share) * limit
        if remaining - cost < floor:
            raise RateLimitExhausted(self.name, f"{what}: stopped cleanly with {remaining} of {limit} GraphQL "
                                     f"points left (budget_share {self.budget_share:g} keeps {floor:.0f} in "
                                     f"reserve); {self._reset_text()}")

    def _reset_text(self) -> str:
        reset = self.stats.points_reset
        if reset is None:
            return "the reset time is unknown; the next run tries again"
        return f"it resets at {reset:%Y-%m-%d %H:%M} UTC; the next run after that continues"
