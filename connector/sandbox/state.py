"""In-memory tracker state of the sandbox: compact issue records, indexes and the clock.

Records keep raw values (epoch seconds, ids, names); JSON is rendered on demand by the API modules.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

DEFAULT_NOW = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)


def parse_instant(value: datetime | str | float | int) -> float:
    """Epoch seconds from an aware datetime, an ISO-8601 string or a number."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware one")
    return value.timestamp()


def jira_time(ts: float, tz=None) -> str:
    """Jira's wire format, e.g. 2026-11-20T14:03:11.123+0000, in `tz` (the viewing user's zone) or UTC."""
    dt = datetime.fromtimestamp(ts, tz or UTC)
    off = int(dt.utcoffset().total_seconds()) // 60
    sign, off = ("+", off) if off >= 0 else ("-", -off)
    # formatted by hand: strftime twice per timestamp was a visible share of a 100-issue page
    return (f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}."
            f"{dt.microsecond // 1000:03d}{sign}{off // 60:02d}{off % 60:02d}")


def gh_time(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, num: int) -> str:
    # GitHub's legacy global ids are base64("<len>:<Type><id>"), e.g. MDU6SXNzdWU0NjUzNzU3.
    raw = f"{len(kind):02d}:{kind}{num}"
    return base64.b64encode(raw.encode()).decode()


class Clock:
    """The sandbox's own instant: fixed unless set or advanced, so data stays reproducible."""

    def __init__(self, now: datetime | str | float | None = None):
        self._t = parse_instant(now if now is not None else DEFAULT_NOW)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._t, UTC)

    def ts(self) -> float:
        return self._t

    def set(self, when: datetime | str | float) -> datetime:
        self._t = parse_instant(when)
        return self.now()

    def advance(self, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime:
        self._t += timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds).total_seconds()
        return self.now()


@dataclass(slots=True)
class JiraIssue:
    id: int
    key: str
    project: str
    issuetype: str
    summary: str
    description: str
    status: str
    reporter: int
    created: float
    updated: float
    assignee: int | None = None
    resolution: str | None = None
    resolved: float | None = None
    labels: list[str] = field(default_factory=list)
    fix_versions: list[int] = field(default_factory=list)
    sprints: list[int] = field(default_factory=list)
    parent: int | None = None  # epic's issue id
    duedate: str | None = None
    story_points: float | None = None
    # (epoch, author person index, [(field, from, fromString, to, toString), ...])
    history: list[tuple] = field(default_factory=list)
    comments: list[dict] = field(default_factory=list)
    remote_links: list[str] = field(default_factory=list)
    old_keys: list[str] = field(default_factory=list)
    deleted: bool = False
    blocked_by: list[int] = field(default_factory=list)  # ids of issues that block this one (Blocks links)
    blocks: list[int] = field(default_factory=list)  # the other side of the same links


@dataclass(slots=True)
class GithubIssue:
    id: int
    repo: str
    number: int
    title: str
    body: str
    user: int
    state: str
    created_at: float
    updated_at: float
    state_reason: str | None = None
    closed_at: float | None = None
    labels: list[str] = field(default_factory=list)
    assignees: list[int] = field(default_factory=list)
    milestone: int | None = None
    comments: list[dict] = field(default_factory=list)
    is_pr: bool = False
    locked: bool = False
    deleted: bool = False
    transferred_to: tuple[str, int] | None = None
    history: list[tuple] = field(default_factory=list)
    issue_type: str | None = None  # an org issue type ("Bug"), None where the repo has none set
    parent: tuple[str, int] | None = None  # (repo, number) of the parent issue
    sub_issues: list[tuple[str, int]] = field(default_factory=list)
    blocked_by: list[tuple[str, int]] = field(default_factory=list)
    blocking: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class State:
    """Everything the fake trackers serve; guarded by `lock`, versioned for the caches."""

    people: list[dict]
    projects: dict[str, dict]  # key -> {id, key, name, versions[], board, sprints[]}
    versions: dict[int, dict]
    sprints: dict[int, dict]
    boards: dict[int, dict]
    repos: dict[str, dict]  # full_name -> {id, name, milestones{number: {...}}, labels{name: {...}}}
    jira_issues: dict[int, JiraIssue] = field(default_factory=dict)
    jira_keys: dict[str, int] = field(default_factory=dict)  # current and historical keys -> id
    gh_issues: dict[str, dict[int, GithubIssue]] = field(default_factory=dict)
    links: list[dict] = field(default_factory=list)
    next_jira_id: int = 10000
    next_gh_id: int = 3_000_000_000
    next_comment_id: int = 50000
    version: int = 0
    render_tz: object = None  # Jira renders timestamps in the requesting user's profile zone
    lock: threading.RLock = field(default_factory=threading.RLock)

    def bump(self) -> None:
        self.version += 1

    def live_jira(self):
        return (i for i in self.jira_issues.values() if not i.deleted)

    def jira_by_key(self, key_or_id: str) -> JiraIssue | None:
        iid = int(key_or_id) if key_or_id.isdigit() else self.jira_keys.get(key_or_id.upper())
        issue = self.jira_issues.get(iid) if iid is not None else None
        return issue

    def person_by_account(self, account_id: str) -> int | None:
        for idx, p in enumerate(self.people):
            if account_id in (p["jira_account_id"], p["email"], p["display_name"], p["key"]):
                return idx
        return None
