"""The report model: plain dataclasses built once (build.py) and rendered by every format.

Renderers only read this; nothing here knows Markdown, HTML or JSON. Dates are `date`, instants are
aware UTC `datetime`; text taken from a tracker is stored raw and escaped by each renderer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta


@dataclass(frozen=True)
class ItemRef:
    """One tracker item as the report shows it, with the link into its tracker."""

    tracker: str
    id: str
    key: str
    title: str
    url: str
    status: str
    due: date | None = None
    assignees: tuple[str, ...] = ()
    estimate: float | None = None
    note: str = ""  # why it is listed ("overdue since 2026-11-20", "blocked")
    # assignees as people: the plan's name when declared, else the raw identity (see `known`)
    people: tuple[Person, ...] = ()


@dataclass(frozen=True)
class Person:
    """An assignee as the report shows it: by name from `[people]`, or the raw identity, marked."""

    name: str
    known: bool


@dataclass(frozen=True)
class BurnPoint:
    day: date
    scope: int  # items in the milestone that day (dropped items excluded)
    done: int


@dataclass(frozen=True)
class Progress:
    total: int = 0
    done: int = 0
    dropped: int = 0
    open: int = 0
    blocked: int = 0
    points_total: float = 0.0
    points_done: float = 0.0

    @property
    def percent(self) -> int:
        counted = self.total - self.dropped
        return round(100 * self.done / counted) if counted else 0


@dataclass(frozen=True)
class ForecastView:
    method: str  # "monte-carlo" | "linear" | "none" (whatever reconcile reports)
    p50: date | None
    p85: date | None
    remaining: int
    throughput_per_day: float | None
    p70: date | None = None
    p95: date | None = None
    by_due: tuple[tuple[int, int], ...] = ()  # confidence % -> at least this many done by the due date
    histogram: tuple[tuple[date, int], ...] = ()  # completion date -> sampled futures
    backlog: int = 0  # open items queued up to this milestone (earlier-due milestones first)
    runs: int = 0
    window_start: date | None = None  # throughput window [window_start, today], zero days included
    window_days: int = 0
    zero_days: int = 0
    growth_per_day: float = 0.0  # items added to the milestone per day in the window
    scope_low: int = 0  # remaining scope as a range: open now ...
    scope_high: int = 0  # ... to open now plus the P85 of the growth before finishing
    with_growth: tuple[tuple[int, date], ...] = ()  # percentile -> date if scope keeps growing so

    @property
    def horizon(self) -> date:
        """Dates from here on mean "not within the ten-year horizon"."""
        from connector.forecast import HORIZON_DAYS
        if self.window_start is None:
            return date.max
        return self.window_start + timedelta(days=self.window_days + HORIZON_DAYS - 2)

    def at(self, percentile: int) -> date | None:
        return {50: self.p50, 70: self.p70, 85: self.p85, 95: self.p95}.get(percentile)

    def by_due_at(self, confidence: int) -> int | None:
        return dict(self.by_due).get(confidence)


@dataclass(frozen=True)
class ParentRollup:
    """A parent (epic, parent issue) of some of a milestone's items, with those children's progress."""

    key: str
    parent: ItemRef | None  # None: the parent is not in the store (outside every pulled scope)
    children: int
    done: int
    open: int
    blocked: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.children) if self.children else 0


@dataclass(frozen=True)
class DependencyEdge:
    """Open items of `milestone` blocked by open items of `blocker_milestone` (None: outside the plan)."""

    milestone: str
    blocker_milestone: str | None
    items: int  # blocked items
    blockers: tuple[str, ...]  # the blockers' keys, natural order
    later: bool = False  # the blocker's milestone is due after this one: a dependency risk


@dataclass(frozen=True)
class MilestoneSection:
    key: str
    title: str
    due: date
    owner: str | None
    health: str  # done | on-track | at-risk | off-track
    reasons: tuple[str, ...]
    progress: Progress
    forecast: ForecastView
    burnup: tuple[BurnPoint, ...]
    at_risk: tuple[ItemRef, ...]  # blocked, stale, due after the milestone, dependency risk
    overdue: tuple[ItemRef, ...]
    start: date | None = None
    notes: tuple[str, ...] = ()  # milestone-level findings: date drift against the tracker, dependency risk
    hierarchy: tuple[ParentRollup, ...] = ()  # its items grouped under their parents


@dataclass(frozen=True)
class MilestoneSummary:
    """One milestone's week at a glance: then (the week's start) → now."""

    key: str
    title: str
    due: date
    health_then: str | None  # None: the milestone was not in the plan a week ago
    health_now: str
    p50_then: date | None
    p85_then: date | None
    p50_now: date | None
    p85_now: date | None
    added: int  # items added to its scope this week
    finished: int  # items completed this week
    newly_blocked: tuple[ItemRef, ...]

    @staticmethod
    def _moved(then: date | None, now: date | None) -> int | None:
        return (now - then).days if then and now else None

    @property
    def p50_moved(self) -> int | None:
        """Days the P50 forecast moved (positive: later)."""
        return self._moved(self.p50_then, self.p50_now)

    @property
    def p85_moved(self) -> int | None:
        return self._moved(self.p85_then, self.p85_now)


@dataclass(frozen=True)
class Decision:
    item: ItemRef
    milestone: str
    why: str


@dataclass(frozen=True)
class Summary:
    milestones: tuple[MilestoneSummary, ...]
    decisions: tuple[Decision, ...]  # at most DECISION_LIMIT, chosen by DECISION_RULE


@dataclass(frozen=True)
class TimelineRow:
    """One bar of the milestone timeline: planned window against the forecast band."""

    key: str
    title: str
    start: date  # plan start, or the latest due date of what it depends on
    due: date
    p50: date | None
    p85: date | None
    health: str
    depends_on: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    """One thing that happened this week to an item in the plan."""

    kind: str  # completed | added | removed | slipped | reopened | status
    item: ItemRef
    milestone: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class PlanChange:
    kind: str  # milestone-added | milestone-removed | due-moved | scope-changed | title-changed | ...
    milestone: str | None
    detail: str


@dataclass(frozen=True)
class Workload:
    person: str  # plan.toml people key, or the raw tracker identity when unknown
    name: str
    known: bool  # declared in plan.toml
    open: int
    in_progress: int
    blocked: int
    points: float
    by_tracker: dict[str, int] = field(default_factory=dict)

    @property
    def unassigned(self) -> bool:
        return self.person == UNASSIGNED


@dataclass(frozen=True)
class Freshness:
    tracker: str
    last_good_sync: datetime | None
    age_hours: float | None
    stale: bool
    writes_deferred: int = 0  # label changes the last apply left for a later run (write budget spent)


@dataclass(frozen=True)
class RiskEntry:
    title: str
    milestone: str | None
    likelihood: str
    impact: str
    mitigation: str | None
    owner: str | None


@dataclass(frozen=True)
class Drift:
    """A cross-tracker pair that disagrees (one side done, the other open)."""

    message: str
    item: ItemRef | None
    related: tuple[ItemRef, ...]


@dataclass(frozen=True)
class Report:
    plan_name: str
    objective: str | None
    label: str  # "2026-W48": the ISO week (plan timezone) the report is for
    timezone: str
    as_of: datetime
    period_start: datetime  # "this week" is (period_start, as_of]
    generated_at: datetime
    freshness: tuple[Freshness, ...]
    milestones: tuple[MilestoneSection, ...]
    changes: tuple[Change, ...]
    plan_changes: tuple[PlanChange, ...]
    workload: tuple[Workload, ...]
    unplanned: tuple[ItemRef, ...]
    risks: tuple[RiskEntry, ...]
    drift: tuple[Drift, ...]
    limitations: tuple[str, ...]
    item_count: int = 0
    summary: Summary | None = None
    timeline: tuple[TimelineRow, ...] = ()
    forecast_method: str = ""  # one paragraph: how the forecasts were made (window, runs, seed)
    dependencies: tuple[DependencyEdge, ...] = ()  # item-level blocking between milestones

    @property
    def stale_trackers(self) -> tuple[Freshness, ...]:
        return tuple(f for f in self.freshness if f.stale)

    def changes_of(self, kind: str) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind == kind)


UNASSIGNED = "(unassigned)"
CHANGE_KINDS = ("completed", "added", "removed", "slipped", "reopened", "status")
CHANGE_TITLES = {"completed": "Completed", "added": "Added to scope", "removed": "Removed from scope",
                 "slipped": "Slipped (due date moved later)", "reopened": "Reopened",
                 "status": "Status changes"}

DECISION_LIMIT = 5
DECISION_RULE = ("Needs a decision: open items of milestones that are off track or at risk, blocked or overdue; "
                 "newly blocked first, then blocked, then overdue; worse milestone health first, then the "
                 "earlier-due milestone, then key order; at most five.")
