"""Findings: the per-item and per-milestone facts a reconciliation reports (pure).

Each rule is stated exactly in README.md ("How plansync decides") ("Findings"); the wording of messages is for humans.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from connector.model import Milestone, Plan, Status, Uid, WorkItem

KINDS = ("overdue", "due-after-milestone", "blocked", "stale", "unplanned", "cross-tracker-drift",
         "milestone-date-drift", "dependency-risk")
_KIND_ORDER = {kind: n for n, kind in enumerate(KINDS)}
_DIGITS = re.compile(r"(\d+)")
_PREFIX_NUMBER = re.compile(r"(\D+)(\d+)\Z")
_OPEN = frozenset(s for s in Status if s.is_open)


@dataclass(frozen=True)
class Finding:
    kind: str  # one of KINDS
    message: str
    item: Uid | None = None
    milestone: str | None = None
    related: Uid | None = None


@lru_cache(maxsize=1 << 18)  # the same keys are sorted several times per run (milestones, findings, changes)
def natural_key(text: str) -> tuple:
    """Sort "CHK-2" before "CHK-12" and "acme/web#7" before "acme/web#10"."""
    # flat (kind, number, text) triples: flat tuples compare much faster than nested ones
    simple = _PREFIX_NUMBER.match(text)
    if simple:  # the usual "CHK-12" / "owner/repo#7": same result as the general split, faster
        return (1, 0, simple[1].casefold(), 0, int(simple[2]), "")
    out: list = []
    for part in _DIGITS.split(text):
        if part:
            out += (0, int(part), "") if part.isdigit() else (1, 0, part.casefold())
    return tuple(out)


def sort_findings(findings: Iterable[Finding], plan: Plan, items: Mapping[Uid, WorkItem]) -> tuple[Finding, ...]:
    """Deterministic order: kind (as in KINDS), milestone (plan order, none last), tracker, key."""
    order = {m.key: n for n, m in enumerate(plan.milestones)}
    last = len(order)

    def key(f: Finding) -> tuple:
        item = items.get(f.item) if f.item else None
        related = items.get(f.related) if f.related else None
        return (_KIND_ORDER.get(f.kind, len(KINDS)), order.get(f.milestone, last) if f.milestone else last,
                item.tracker if item else "", natural_key(item.key) if item else (),
                natural_key(related.key) if related else (), f.message)

    return tuple(sorted(findings, key=key))


def key_list(items: Iterable[WorkItem], limit: int = 5) -> str:
    """"acme/web#7, CHK-12, CHK-19" (by tracker, then key) — at most `limit` keys, then "and N more"."""
    items = list(items)
    first = heapq.nsmallest(limit, items, key=lambda i: (i.tracker,) + natural_key(i.key))
    shown = ", ".join(i.key for i in first)
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def item_findings(considered: Mapping[Uid, WorkItem], membership: Mapping[Uid, tuple[str, ...]],
                  unplanned: Iterable[Uid], overdue: Mapping[Uid, tuple[str | None, str]], plan: Plan, *,
                  now: datetime, stale_days: int, blocked_by: Mapping[Uid, tuple] | None = None) -> list[Finding]:
    """overdue, due-after-milestone, blocked, stale and unplanned findings for in-scope issues (`blocked_by`:
    the open blockers of items that have some, see connector.dependencies)."""
    blocked_by = blocked_by or {}
    dues = {m.key: m.due for m in plan.milestones}
    out: list[Finding] = []
    for uid, (milestone, why) in overdue.items():
        out.append(Finding("overdue", f"{considered[uid].key} is overdue: {why}", uid, milestone))
    stale_before = now - timedelta(days=stale_days)
    open_statuses = _OPEN
    blocked, in_progress = Status.BLOCKED, Status.IN_PROGRESS
    for uid, item in considered.items():
        if item.is_pull_request or item.status not in open_statuses:
            continue
        keys = membership.get(uid, ())
        first = keys[0] if keys else None
        if item.due is not None:
            for key in keys:
                if item.due > dues[key]:
                    out.append(Finding("due-after-milestone", f"{item.key} is due {item.due}, after milestone "
                                       f"{key}'s due date {dues[key]}", uid, key))
        if item.status is blocked:
            by = blocked_by.get(uid)
            why = f"by {', '.join(b.key for b in by[:3])}{' and more' if len(by) > 3 else ''}" if by else \
                item.raw_status
            out.append(Finding("blocked", f"{item.key} is blocked ({why})", uid, first))
        elif item.status is in_progress and item.updated <= stale_before:
            idle = (now - item.updated).days
            out.append(Finding("stale", f"{item.key} is in progress with no update for {idle} days "
                               f"(since {item.updated.date()})", uid, first))
    for uid in unplanned:
        item = considered[uid]
        if item.is_open:
            out.append(Finding("unplanned", f"{item.key} is open work in a watch scope but in no plan milestone",
                               uid, None))
    return out


def milestone_date_drift(plan: Plan, milestones: Iterable[Milestone]) -> list[Finding]:
    """Tracker milestones a scope names (`Scope.named_milestones`) whose date differs from the plan's."""
    by_name: dict[tuple[str, str, str], list[Milestone]] = {}
    for ms in milestones:
        kind = "milestone" if ms.kind == "milestone" else ms.kind
        by_name.setdefault((ms.tracker, kind, ms.name.casefold()), []).append(ms)
    out: list[Finding] = []
    seen: set[tuple[str, str, str]] = set()
    for pm in plan.milestones:
        for scope in pm.scope:
            candidates: list[Milestone] = []
            for kind, name, containers in scope.named_milestones():
                candidates += [ms for ms in by_name.get((scope.tracker, kind, name.casefold()), [])
                               if not containers or ms.container.casefold() in containers]
            for ms in candidates:
                if ms.due is None or ms.due == pm.due or (pm.key, ms.tracker, ms.id) in seen:
                    continue
                seen.add((pm.key, ms.tracker, ms.id))
                what = "milestone" if ms.kind == "milestone" else "version"
                days = (ms.due - pm.due).days
                direction = f"{days} days later" if days > 0 else f"{-days} days earlier"
                out.append(Finding("milestone-date-drift",
                                   f"{ms.tracker} {what} {ms.name!r} in {ms.container} is due {ms.due}, "
                                   f"{direction} than plan milestone {pm.key} ({pm.due})", None, pm.key))
    return out


def cross_tracker_drift(present: Mapping[Uid, WorkItem], in_scope: Iterable[Uid],
                        membership: Mapping[Uid, tuple[str, ...]]) -> list[Finding]:
    """Issues in two trackers linked by a key mention where one side is finished and the other open.

    A link is found from either side (`links` holds the other's key); at least one side must be in scope.
    Pull requests are development activity, not planned work, and take no part.
    """
    by_key: dict[str, WorkItem] = {}
    for item in present.values():
        if not item.is_pull_request:
            by_key.setdefault(item.key.casefold(), item)
    pairs: set[tuple[Uid, Uid]] = set()
    scoped = set(in_scope)
    for item in present.values():
        if not item.links or item.is_pull_request:
            continue
        for ref in item.links:
            other = by_key.get(ref.casefold())
            if other is None or other.tracker == item.tracker:
                continue
            if item.uid not in scoped and other.uid not in scoped:
                continue
            pairs.add(tuple(sorted((item.uid, other.uid))))  # type: ignore[arg-type]
    out: list[Finding] = []
    for a_uid, b_uid in pairs:
        a, b = present[a_uid], present[b_uid]
        if a.is_open == b.is_open:
            continue
        open_item, closed = (a, b) if a.is_open else (b, a)
        keys = membership.get(open_item.uid) or membership.get(closed.uid) or (None,)
        out.append(Finding("cross-tracker-drift",
                           f"{open_item.key} ({open_item.tracker}) is {open_item.status.value} but the linked "
                           f"{closed.key} ({closed.tracker}) is {closed.status.value}",
                           open_item.uid, keys[0], closed.uid))
    return out


def dependency_risk(plan: Plan, health: Mapping[str, str], forecast_p50: Mapping[str, date | None]) -> list[Finding]:
    """A milestone due before one it depends on, or depending on one that is off-track."""
    by_key = {m.key: m for m in plan.milestones}
    out: list[Finding] = []
    for pm in plan.milestones:
        if health[pm.key] == "done":
            continue
        for dep_key in pm.depends_on:
            dep = by_key[dep_key]
            if health[dep_key] == "done":
                continue
            if dep.due > pm.due:
                out.append(Finding("dependency-risk", f"milestone {pm.key} (due {pm.due}) depends on {dep_key}, "
                                   f"which is due later ({dep.due})", None, pm.key))
            elif health[dep_key] == "off-track":
                p50 = forecast_p50.get(dep_key)
                extra = f", forecast P50 {p50}" if p50 else ""
                out.append(Finding("dependency-risk", f"milestone {pm.key} (due {pm.due}) depends on {dep_key}, "
                                   f"which is off-track (due {dep.due}{extra})", None, pm.key))
    return out
