"""Reconcile the declared plan with observed items: membership, progress, forecast, health, findings, labels.

Pure: no I/O, no store, no HTTP. The rules are stated exactly in README.md ("How plansync decides").
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from connector.dependencies import backlogs, item_dependency_risk, mark_blocked, open_blockers
from connector.findings import (
    Finding,
    cross_tracker_drift,
    dependency_risk,
    item_findings,
    key_list,
    milestone_date_drift,
    natural_key,
    sort_findings,
)
from connector.forecast import THROUGHPUT_WINDOW_DAYS, Forecast, daily_throughput, forecast_backlogs
from connector.model import Milestone, Plan, Presence, Scope, Status, Uid, WorkItem
from connector.values import LabelReason

__all__ = ["Finding", "Forecast", "Health", "MilestoneStatus", "Progress", "Reconciliation", "Uid", "reconcile",
           "natural_key"]

log = logging.getLogger(__name__)


class Health(StrEnum):
    DONE = "done"
    ON_TRACK = "on-track"
    AT_RISK = "at-risk"
    OFF_TRACK = "off-track"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Health.DONE: 0, Health.ON_TRACK: 1, Health.AT_RISK: 2, Health.OFF_TRACK: 3}
# every item reconcile looks at is present, so "open" is a status test (cheaper than WorkItem.is_open)
_OPEN = frozenset(s for s in Status if s.is_open)
NO_ITEMS = "no items in scope"
NO_THROUGHPUT = "no completed work yet to forecast from"
OVERDUE_REASON = "overdue: "  # how the text of an overdue label reason starts
LEFT_SCOPE = LabelReason("left_scope", "in no milestone or watch scope any more")


@dataclass(frozen=True)
class Progress:
    total: int  # member issues (pull requests never count)
    done: int
    dropped: int
    open: int
    blocked: int
    points_total: float  # estimates of every member that is not dropped
    points_done: float


@dataclass(frozen=True)
class MilestoneStatus:
    key: str
    title: str
    due: date
    owner: str | None
    health: Health
    reasons: tuple[str, ...]  # why the health is what it is; most severe first
    progress: Progress
    forecast: Forecast
    items: tuple[Uid, ...]  # member issues, by tracker then natural key order


@dataclass(frozen=True)
class Reconciliation:
    as_of: datetime
    milestones: tuple[MilestoneStatus, ...]  # in plan order
    findings: tuple[Finding, ...]  # deterministic order (see findings.sort_findings)
    membership: dict[Uid, tuple[str, ...]]  # item -> plan milestone keys it belongs to (plan order)
    unplanned: frozenset[Uid]  # in a watch scope, in no milestone (open or not)
    desired_labels: dict[Uid, frozenset[str]]  # owned labels each in-scope item should carry
    items: dict[Uid, WorkItem]  # the items considered: present ones in any scope (pull requests included)
    label_reasons: dict[Uid, tuple[LabelReason, ...]] = field(default_factory=dict)  # why desired_labels is so
    today: date | None = None  # `as_of` as a date in the plan's timezone
    throughput: tuple[int, ...] = ()  # items finished as done per day, oldest first (the forecast's input)
    blockers: dict = field(default_factory=dict)  # open item -> its open blockers (dependencies.OpenBlocker)

    def milestone(self, key: str) -> MilestoneStatus:
        return next(m for m in self.milestones if m.key == key)

    def primary_milestone(self, uid: Uid) -> str | None:
        """The milestone that drives an item's health label: the worst, ties broken by plan order."""
        keys = self.membership.get(uid)
        if not keys:
            return None
        health = {m.key: m.health.severity for m in self.milestones}
        return max(keys, key=lambda k: health[k]) if len(keys) > 1 else keys[0]


class _ScopeIndex:
    """Present items indexed for evaluating scopes: each scope's own rule (`Scope.matches`), asked only of
    the items of the container it names, or answered from a name index where the scope hints at one."""

    def __init__(self, present: Mapping[Uid, WorkItem]) -> None:
        self.present = present
        self.by_container: dict[tuple[str, str], list[tuple[Uid, WorkItem]]] = {}
        self.by_tracker: dict[str, list[tuple[Uid, WorkItem]]] = {}
        self._by_name: dict[tuple[str, str, str], dict[str, list[tuple[Uid, WorkItem]]]] = {}
        for uid, item in present.items():
            pair = (uid, item)
            self.by_container.setdefault((item.tracker, item.container.casefold()), []).append(pair)
            self.by_tracker.setdefault(item.tracker, []).append(pair)
        self._cache: dict[str, list[tuple[Uid, WorkItem]]] = {}

    def hits(self, scope: Scope, members: Mapping[str, frozenset[Uid]]) -> list[tuple[Uid, WorkItem]]:
        """Present items a scope names (pull requests included; callers decide what they count for)."""
        cached = self._cache.get(scope.id)
        if cached is not None:
            return cached
        if scope.remote:
            present, tracker = self.present, scope.tracker
            found = [(uid, item) for uid in members.get(scope.id, ())
                     if (item := present.get(uid)) is not None and item.tracker == tracker]
        else:
            container = scope.container()
            pool = (self.by_container.get((scope.tracker, container.casefold()), []) if container is not None
                    else self.by_tracker.get(scope.tracker, []))
            hint = scope.index_hint()
            if hint is not None:
                index = self._named(scope.tracker, container, hint[0], pool)
                candidates = [pair for name in sorted(hint[1]) for pair in index.get(name, ())]
                seen: set[Uid] = set()
                candidates = [p for p in candidates if not (p[0] in seen or seen.add(p[0]))]
            else:
                candidates = pool
            found = [pair for pair in candidates if scope.matches(pair[1])]
        if scope.type is not None:
            found = [pair for pair in found if scope.admits(pair[1])]
        self._cache[scope.id] = found
        return found

    def _named(self, tracker: str, container: str | None, attribute: str, pool: list[tuple[Uid, WorkItem]]
               ) -> dict[str, list[tuple[Uid, WorkItem]]]:
        """A container's items by key, milestone or label (case-folded), built once for all its scopes."""
        where = (tracker, (container or "").casefold(), attribute)
        found = self._by_name.get(where)
        if found is None:
            found = {}
            for pair in pool:
                names = (pair[1].key,) if attribute == "key" else getattr(pair[1], attribute)
                if names:
                    for name in {n.casefold() for n in names}:
                        found.setdefault(name, []).append(pair)
            self._by_name[where] = found
        return found


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building acyclic structures over 100,000 items.

    Every few hundred new tuples the collector would otherwise rescan the whole (large, live) heap,
    which costs about a third of the run time; nothing built here is cyclic, so nothing is lost.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def reconcile(plan: Plan, items: Iterable[WorkItem], members: Mapping[str, frozenset[Uid]],
              milestones: Iterable[Milestone], done_events: Iterable[tuple[str, str, datetime]], *,
              now: datetime, prefix: str = "plan:", stale_days: int = 14, forecast_runs: int = 2000,
              seed: int = 0, forecast_window_days: int | None = THROUGHPUT_WINDOW_DAYS,
              blocking_trackers: frozenset[str] | None = None) -> Reconciliation:
    """Evaluate the plan against the observed items; see README.md ("How plansync decides") for every rule."""
    if now.tzinfo is None:
        raise ValueError("reconcile needs a timezone-aware `now` (UTC inside the program)")
    with paused_gc():
        return _reconcile(plan, items, members, milestones, done_events, now=now, prefix=prefix,
                          stale_days=stale_days, forecast_runs=forecast_runs, seed=seed,
                          forecast_window_days=forecast_window_days, blocking_trackers=blocking_trackers)


def _reconcile(plan: Plan, items: Iterable[WorkItem], members: Mapping[str, frozenset[Uid]],
               milestones: Iterable[Milestone], done_events: Iterable[tuple[str, str, datetime]], *,
               now: datetime, prefix: str, stale_days: int, forecast_runs: int, seed: int,
               forecast_window_days: int | None, blocking_trackers: frozenset[str] | None) -> Reconciliation:
    tz = ZoneInfo(plan.plan.timezone)
    today = now.astimezone(tz).date()
    present = {(item.tracker, item.id): item for item in items if item.presence is Presence.PRESENT}
    blockers = open_blockers(present)  # open item -> its open blockers (connector/dependencies.py)
    mark_blocked(present, blockers, blocking_trackers)
    index = _ScopeIndex(present)

    in_scope: dict[Uid, WorkItem] = {}
    membership_lists: dict[Uid, list[str]] = {}
    member_items: dict[str, list[WorkItem]] = {}
    for pm in plan.milestones:
        mine: dict[Uid, WorkItem] = {}
        for scope in pm.scope:
            for uid, item in index.hits(scope, members):
                in_scope[uid] = item
                if not item.is_pull_request:
                    mine[uid] = item
        member_items[pm.key] = list(mine.values())
        for uid in mine:
            membership_lists.setdefault(uid, []).append(pm.key)
    membership = {uid: tuple(keys) for uid, keys in membership_lists.items()}
    unplanned_set: set[Uid] = set()
    for scope in plan.watch:
        for uid, item in index.hits(scope, members):
            in_scope[uid] = item
            if not item.is_pull_request and uid not in membership:
                unplanned_set.add(uid)

    dues = {pm.key: pm.due for pm in plan.milestones}
    overdue = _overdue(in_scope, membership, unplanned_set, dues, today)
    progress = {key: _progress(member_items[key]) for key in member_items}

    finished = _finish_times(member_items, done_events)
    throughput = daily_throughput(finished, today=today, tz=tz, start=plan.plan.start,
                                  window_days=forecast_window_days)
    forecasts = forecast_backlogs(backlogs(plan, member_items, blockers), {k: p.open for k, p in progress.items()},
                                  throughput, today=today,
                                  runs=forecast_runs, seed=seed, dues={pm.key: pm.due for pm in plan.milestones})

    statuses: list[MilestoneStatus] = []
    for pm in plan.milestones:
        health, reasons = _health(pm.due, member_items[pm.key], progress[pm.key], forecasts[pm.key], overdue, today)
        ordered = sorted(member_items[pm.key], key=lambda i: (i.tracker,) + natural_key(i.key))
        uids = tuple((i.tracker, i.id) for i in ordered)
        statuses.append(MilestoneStatus(pm.key, pm.title, pm.due, pm.owner, health, reasons, progress[pm.key],
                                        forecasts[pm.key], uids))
    health_of = {s.key: s.health for s in statuses}

    desired, label_reasons = _desired_labels(in_scope, membership, unplanned_set, overdue, statuses, prefix)
    # An item that left every scope (re-planned, moved to another project) still carries the labels we
    # gave it; they are ours, so take them back rather than leave a stale "at-risk" behind forever.
    left_scope = {uid: item for uid, item in present.items()
                  if uid not in desired and item.labels and item.owned_labels(prefix)}
    for uid in left_scope:
        desired[uid], label_reasons[uid] = frozenset(), (LEFT_SCOPE,)

    findings = item_findings(in_scope, membership, unplanned_set, overdue, plan, now=now, stale_days=stale_days,
                             blocked_by=blockers)
    findings += milestone_date_drift(plan, milestones)
    findings += cross_tracker_drift(present, in_scope, membership)
    findings += dependency_risk(plan, health_of, {k: f.p50 for k, f in forecasts.items()})
    findings += item_dependency_risk(plan, member_items, membership, blockers)

    log.debug("reconciled %d items in scope, %d milestones, %d findings", len(in_scope), len(statuses),
              len(findings))
    return Reconciliation(as_of=now, milestones=tuple(statuses), findings=sort_findings(findings, plan, present),
                          membership=membership, unplanned=frozenset(unplanned_set), desired_labels=desired,
                          items={**in_scope, **left_scope} if left_scope else in_scope,
                          label_reasons=label_reasons, today=today, throughput=throughput.daily, blockers=blockers)


def _overdue(in_scope: Mapping[Uid, WorkItem], membership: Mapping[Uid, tuple[str, ...]], unplanned: set[Uid],
             dues: Mapping[str, date], today: date) -> dict[Uid, tuple[str | None, str]]:
    """Open issues past their own due date or a milestone's: uid -> (milestone or None, why)."""
    out: dict[Uid, tuple[str | None, str]] = {}
    for uid, item in in_scope.items():
        if item.status not in _OPEN or item.is_pull_request:
            continue
        keys = membership.get(uid, ())
        if not keys and uid not in unplanned:
            continue
        passed = [k for k in keys if dues[k] < today]
        if passed:
            first = min(passed, key=lambda k: dues[k])
            out[uid] = (first, f"past milestone {first}'s due date {dues[first]}")
        elif item.due is not None and item.due < today:
            out[uid] = (keys[0] if keys else None, f"past its due date {item.due}")
    return out


def _progress(items: list[WorkItem]) -> Progress:
    done = dropped = blocked = 0
    points_total = points_done = 0.0
    for item in items:
        status = item.status
        if status is Status.DROPPED:
            dropped += 1
            continue
        points = item.estimate or 0.0
        points_total += points
        if status is Status.DONE:
            done += 1
            points_done += points
        elif status is Status.BLOCKED:
            blocked += 1
    total = len(items)
    return Progress(total, done, dropped, total - done - dropped, blocked, points_total, points_done)


def _finish_times(member_items: Mapping[str, list[WorkItem]],
                  done_events: Iterable[tuple[str, str, datetime]]) -> list[datetime]:
    """One instant per milestone member that is done now: the latest it became done (events or `resolved`)."""
    latest: dict[Uid, datetime | None] = {}
    for items in member_items.values():
        for item in items:
            if item.status is Status.DONE:
                latest[(item.tracker, item.id)] = item.resolved
    for tracker, item_id, when in done_events:
        uid = (tracker, item_id)
        if uid in latest:
            known = latest[uid]
            if known is None or when > known:
                latest[uid] = when
    return [when for when in latest.values() if when is not None]


def _health(due: date, items: list[WorkItem], progress: Progress, forecast: Forecast,
            overdue: Mapping[Uid, tuple[str | None, str]], today: date) -> tuple[Health, tuple[str, ...]]:
    if progress.total == 0:
        return Health.AT_RISK, (NO_ITEMS,)
    if progress.open == 0:
        return Health.DONE, (f"all {progress.total} items done or dropped",)
    off: list[str] = []
    risk: list[str] = []
    if due < today:
        off.append(f"the due date {due} has passed with {_count(progress.open, 'item')} open")
    if forecast.p50 is not None and forecast.p50 > due:
        off.append(f"P50 forecast {forecast.p50} is after the due date {due}")
    if forecast.p85 is not None and forecast.p85 > due and not (forecast.p50 and forecast.p50 > due):
        risk.append(f"P85 forecast {forecast.p85} is after the due date {due}")
    if forecast.method == "none":
        risk.append(NO_THROUGHPUT)
    blocked = [i for i in items if i.status is Status.BLOCKED]
    if blocked:
        risk.append(f"{_count(len(blocked), 'item')} blocked: {key_list(blocked)}")
    late = [i for i in items if i.uid in overdue]
    if late and due >= today:  # when the milestone itself is late, every open item is and that is said above
        risk.append(f"{_count(len(late), 'item')} overdue: {key_list(late)}")
    if off:
        return Health.OFF_TRACK, tuple(off + risk)
    if risk:
        return Health.AT_RISK, tuple(risk)
    if forecast.p85 is not None:
        return Health.ON_TRACK, (f"P85 forecast {forecast.p85} is on or before the due date {due}",)
    return Health.ON_TRACK, ("no rule for at-risk or off-track applies",)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _desired_labels(in_scope: Mapping[Uid, WorkItem], membership: Mapping[Uid, tuple[str, ...]],
                    unplanned: set[Uid], overdue: Mapping[Uid, tuple[str | None, str]],
                    statuses: Iterable[MilestoneStatus], prefix: str
                    ) -> tuple[dict[Uid, frozenset[str]], dict[Uid, tuple[LabelReason, ...]]]:
    by_key = {s.key: s for s in statuses}
    health_label = {key: frozenset({f"{prefix}{s.health.value}"}) for key, s in by_key.items()}
    health_reason = {key: LabelReason("health", f"milestone {key} is {s.health.value}: {'; '.join(s.reasons)}", key)
                     for key, s in by_key.items()}
    unplanned_label = frozenset({f"{prefix}unplanned"})
    overdue_label = f"{prefix}overdue"
    none: frozenset[str] = frozenset()
    pr_reason = (LabelReason("pull_request", "a pull request is development activity, never planned work: "
                                             "it carries no owned labels"),)
    closed_reason = {Status.DONE: (LabelReason("closed", "done: owned labels are for open work only"),),
                     Status.DROPPED: (LabelReason("closed", "dropped: owned labels are for open work only"),)}
    unplanned_reason = (LabelReason("unplanned", "in a watch scope but in no plan milestone"),)
    desired: dict[Uid, frozenset[str]] = {}
    reasons: dict[Uid, tuple[LabelReason, ...]] = {}
    for uid, item in in_scope.items():
        if item.is_pull_request:
            desired[uid], reasons[uid] = none, pr_reason
            continue
        if item.status not in _OPEN:
            desired[uid], reasons[uid] = none, closed_reason[item.status]
            continue
        keys = membership.get(uid)
        if keys:
            worst = max(keys, key=lambda k: by_key[k].health.severity) if len(keys) > 1 else keys[0]
            labels, why = health_label[worst], (health_reason[worst],)
        elif uid in unplanned:
            labels, why = unplanned_label, unplanned_reason
        else:  # only pull requests reach here, excluded above; kept for safety
            desired[uid], reasons[uid] = none, ()
            continue
        late = overdue.get(uid)
        if late is not None:
            labels, why = labels | {overdue_label}, why + (LabelReason("overdue", f"{OVERDUE_REASON}{late[1]}"),)
        desired[uid], reasons[uid] = labels, why
    return desired, reasons
