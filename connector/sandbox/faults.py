"""Fault injection rules and the request log/counters of the sandbox.

A rule matches method + path regex (+ flavour), skips its first `after` matches and fires `times` times.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

KINDS = ("status", "latency", "drop", "truncate", "malformed", "expired_token")
GH_SECONDARY = ("You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
                "If you reach out to GitHub Support for help, please include the request ID ")
# Ready-made responses for common faults; `add(preset=...)` fills status, headers and body from these.
PRESETS = {
    "jira_429": (429, {"Retry-After": "5", "RateLimit-Reason": "jira-burst-based", "X-RateLimit-Limit": "100",
                       "X-RateLimit-Remaining": "0", "X-RateLimit-NearLimit": "true"},
                 {"errorMessages": ["Rate limit exceeded."], "errors": {}}),
    "github_secondary": (403, {"Retry-After": "60"},
                         {"message": GH_SECONDARY + "1234:5678:ABCD.", "documentation_url":
                          "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                          "status": "403"}),
    "github_secondary_no_retry_after": (403, {}, {"message": GH_SECONDARY + "1234:5678:ABCD.", "documentation_url":
                                        "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
                                        "#about-secondary-rate-limits", "status": "403"}),
    "github_429": (429, {"Retry-After": "30"}, {"message": "API rate limit exceeded", "status": "429"}),
    "jira_token_revoked": (401, {"WWW-Authenticate": 'Basic realm="protected-by-api-token"'},
                           "Client must be authenticated to access this resource."),
    "github_token_revoked": (401, {}, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest",
                                       "status": "401"}),
    "503": (503, {"Retry-After": "2"}, "<html><body><h1>503 Service Unavailable</h1></body></html>"),
    "502": (502, {}, "<html><body><h1>502 Bad Gateway</h1></body></html>"),
    "500": (500, {}, {"errorMessages": ["Internal server error"], "errors": {}}),
    "expired_token": (400, {}, {"errorMessages": ["The provided next page token is invalid or expired."],
                                "errors": {}}),
}


@dataclass
class FaultRule:
    kind: str = "status"
    method: str | None = None
    path: str = ".*"
    flavour: str | None = None
    status: int = 500
    headers: dict = field(default_factory=dict)
    body: object = None
    latency_ms: float = 0.0
    times: int | None = 1  # None: forever
    after: int = 0
    seen: int = 0
    hits: int = 0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {KINDS}")
        self._rx = re.compile(self.path)

    def body_bytes(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return self.body.encode() if isinstance(self.body, str) else json.dumps(self.body).encode()

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("_rx", None)
        return d


class Faults:
    """The per-sandbox rule list; thread-safe, evaluated once per request."""

    def __init__(self):
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, kind: str = "status", *, preset: str | None = None, **kw) -> FaultRule:
        if preset:
            status, headers, body = PRESETS[preset]
            kw.setdefault("status", status)
            kw.setdefault("headers", dict(headers))
            kw.setdefault("body", body)
        if kind == "expired_token" and "status" not in kw:
            kw["status"], _, kw["body"] = PRESETS["expired_token"]
        rule = FaultRule(kind=kind, **kw)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[FaultRule]:
        return list(self._rules)

    def fire(self, method: str, path: str, flavour: str, has_page_token: bool) -> list[FaultRule]:
        """The rules that hit this request (and count them as spent)."""
        fired = []
        with self._lock:
            for r in self._rules:
                if r.method and r.method.upper() != method:
                    continue
                if r.flavour and r.flavour != flavour:
                    continue
                if not r._rx.search(path):
                    continue
                if r.kind == "expired_token" and not has_page_token:
                    continue
                r.seen += 1
                if r.seen <= r.after or (r.times is not None and r.hits >= r.times):
                    continue
                r.hits += 1
                fired.append(r)
        return fired


class RequestRecord(NamedTuple):
    method: str
    path: str
    query: str
    status: int
    flavour: str
    endpoint_name: str
    at: float  # sandbox clock, epoch seconds


class RequestLog:
    """Every request served, plus counters per endpoint, method, flavour and status (304s apart)."""

    def __init__(self):
        self.records: list[RequestRecord] = []
        self._lock = threading.Lock()

    def add(self, rec: RequestRecord) -> None:
        with self._lock:
            self.records.append(rec)

    def reset(self) -> None:
        with self._lock:
            self.records.clear()

    def count(self, method=None, endpoint=None, flavour=None, status=None) -> int:
        with self._lock:
            return sum(1 for r in self.records
                       if (method is None or r.method == method.upper())
                       and (endpoint is None or r.endpoint_name == endpoint)
                       and (flavour is None or r.flavour == flavour)
                       and (status is None or r.status == status))

    def counts(self) -> dict:
        with self._lock:
            recs = list(self.records)
        return {
            "total": len(recs),
            "by_endpoint": dict(Counter(r.endpoint_name for r in recs)),
            "by_method": dict(Counter(r.method for r in recs)),
            "by_flavour": dict(Counter(r.flavour for r in recs)),
            "by_status": {str(k): v for k, v in Counter(r.status for r in recs).items()},
            "not_modified": sum(1 for r in recs if r.status == 304),
        }
