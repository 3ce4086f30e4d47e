"""The value objects that cross module boundaries: pull specs and results, label changes and their
reasons, write results, request stats. Plain data beside the model: no HTTP, no store, no vendor.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from connector.errors import ExitCode
from connector.model import Cursor, Milestone, Presence, Scope, WorkItem


@dataclass
class RequestStats:
    """API cost of one adapter's work in this run."""

    requests: int = 0  # every HTTP request sent, including retries and 304s
    reads: int = 0
    writes: int = 0
    not_modified: int = 0  # 304 answers (free on GitHub)
    retries: int = 0
    by_endpoint: Counter = field(default_factory=Counter)
    rate_remaining: int | None = None
    rate_limit: int | None = None
    rate_reset: datetime | None = None
    points: int = 0  # GraphQL points spent (the `rateLimit.cost` of each answered query)
    points_remaining: int | None = None  # GraphQL's own primary budget (separate from REST's)
    points_limit: int | None = None
    points_reset: datetime | None = None
    # pages fetched concurrently count from several threads; `+=` on an attribute is not atomic
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def as_dict(self) -> dict:
        out = {"requests": self.requests, "reads": self.reads, "writes": self.writes,
               "not_modified": self.not_modified, "retries": self.retries,
               "rate_remaining": self.rate_remaining}
        if self.points:  # only trackers that spoke GraphQL (GitHub Projects v2) have points to record
            out.update(points=self.points, points_remaining=self.points_remaining)
        return out


@dataclass(frozen=True)
class ScopePull:
    """What one scope's pull returned.

    `complete` is True when `items` is the scope's whole membership (a full pull or census); False when
    it is an incremental delta (items changed since the cursor that match the scope).
    For GitHub the adapter pulls each repo once, so `scope_id` is the repo scope ("github:repo:o/r"
    style ids from `repo_scope_id`), and milestone/label/items scopes are evaluated on the items later.
    """

    scope_id: str
    items: tuple[WorkItem, ...]
    complete: bool
    cursor: Cursor  # the cursor to store once this pull is safely stored


@dataclass(frozen=True)
class Gone:
    """An item the census no longer finds where it was."""

    tracker: str
    id: str
    presence: Presence  # DELETED, MOVED or HIDDEN
    new_key: str | None = None  # moved: the key it has now
    detail: str = ""


@dataclass(frozen=True)
class ScopeFailure:
    """A scope of the plan this pull could not read while the tracker's other scopes were read: its stored
    data is kept as it was (no cursor, membership or presence changes), and its milestones are held."""

    scope_id: str  # the plan scope's id (Scope.id)
    scope: str  # Scope.describe(): how the user wrote it
    error: str  # one line: what the tracker answered


@dataclass(frozen=True)
class PullResult:
    tracker: str
    scopes: tuple[ScopePull, ...]
    milestones: tuple[Milestone, ...] = ()
    census: bool = False  # True: `seen_ids` is every id visible in the tracker's scopes
    seen_ids: frozenset[str] = frozenset()
    gone: tuple[Gone, ...] = ()
    unmapped_statuses: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()  # human-readable warnings worth a log line
    # scopes that failed alone (a repo that is gone, a JQL the tracker rejects); a result with failures is
    # never a census: what a failed scope would have shown cannot be told from what is gone
    failed: tuple[ScopeFailure, ...] = ()

    def all_items(self) -> dict[str, WorkItem]:
        """Items by id, de-duplicated across scopes (the same issue can match several scopes)."""
        out: dict[str, WorkItem] = {}
        for scope in self.scopes:
            for item in scope.items:
                out[item.id] = item
        return out


@dataclass(frozen=True)
class PullSpec:
    """What the caller asks an adapter to pull (named so it is not taken for a GitHub pull request)."""

    scopes: tuple[Scope, ...]
    cursors: dict[str, Cursor]  # by scope id (as returned in ScopePull.scope_id)
    known_ids: frozenset[str] = frozenset()  # ids the store holds as present (for the census)
    full: bool = False  # a census: full pull of every scope + deletion/move detection
    # census: the stored key of each known id, for trackers that look a vanished item up by key (GitHub)
    known_keys: dict[str, str] = field(default_factory=dict)
    # ids of the milestone scopes (not watch scopes): where a tracker pays per item for blockers (GitHub), it
    # reads them only for items of these; None: for every item
    planned: frozenset[str] | None = None
    # census: each stored item's (updated, blockers), so an unchanged blocked item is not read again (GitHub)
    known_blockers: dict = field(default_factory=dict, compare=False, repr=False)
    # the store's cache of this tracker's metadata (connector.store.metadata.MetadataCache), None: no cache
    metadata: Any = field(default=None, compare=False, repr=False)
    # census: the `created` instants of each scope's stored members (by scope id), so a tracker whose pages
    # form one sequential chain can split a large scope into created-date ranges walked side by side (Jira
    # Cloud); a hint only: the ranges always cover every instant, so a wrong hint costs time, never items
    known_created: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class LabelReason:
    """Why an item should carry (or shed) owned labels: a code for programs, a sentence for people.

    Codes: `health` (the milestone's health; `milestone` names it), `overdue`, `unplanned`, `closed`,
    `pull_request`, `left_scope`.
    """

    code: str
    text: str
    milestone: str | None = None

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class LabelChange:
    """One item's owned-label diff. Value object: equal changes are the same change."""

    tracker: str
    item_id: str
    key: str
    add: frozenset[str] = frozenset()
    remove: frozenset[str] = frozenset()
    reasons: tuple[LabelReason, ...] = ()
    cause: str = ""  # health | status | overdue | scope | drift (connector.changes.CAUSES)

    @property
    def empty(self) -> bool:
        return not self.add and not self.remove

    def labels_after(self, current: tuple[str, ...] | frozenset[str]) -> tuple[str, ...]:
        """The labels an item carrying `current` has once this change is made."""
        return tuple(sorted((set(current) - self.remove) | self.add))


@dataclass(frozen=True)
class LabelRecord:
    """What this store last confirmed on one item: its owned labels (written by plansync, or adopted on
    the tracker's first apply), where it stood in the plan then, and the owned prefix in force."""

    tracker: str
    item_id: str
    labels: frozenset[str]
    placement: tuple[str, ...]  # milestone keys (sorted), ("(watch)",) for unplanned work, () out of scope
    is_open: bool
    prefix: str
    legacy: frozenset[str] = frozenset()  # labels it wrote under an earlier prefix, left on the item


@dataclass(frozen=True)
class WriteResult:
    change: LabelChange
    ok: bool
    requests: int
    error: str | None = None
    labels: tuple[str, ...] | None = None  # every label the item carries now, where the answer says so


@dataclass(frozen=True)
class Identity:
    """What `doctor` reports about a tracker connection."""

    tracker: str
    user: str
    deployment: str  # cloud | server | github.com | enterprise
    timezone: str | None = None
    detail: str = ""


class Outcome(StrEnum):
    """How a command ended: the word in the summary line, the runs table and the metrics."""

    SUCCESS = "success"
    PARTIAL = "partial"  # some trackers (or the report's publishing) failed, the rest worked
    CHANGES = "changes"  # `plan --detailed-exitcode` found changes
    FAILED = "failed"
    BAD_INPUT = "bad_input"
    SKIPPED = "skipped"  # another run holds the lease

    @property
    def exit_code(self) -> ExitCode:
        return _EXIT[self]


_EXIT = {Outcome.SUCCESS: ExitCode.OK, Outcome.PARTIAL: ExitCode.FAILED, Outcome.CHANGES: ExitCode.CHANGES_PENDING,
         Outcome.FAILED: ExitCode.FAILED, Outcome.BAD_INPUT: ExitCode.BAD_INPUT, Outcome.SKIPPED: ExitCode.LEASE_HELD}
