"""Item-level dependencies in reconcile (pure): who blocks whom now, `blocked` from an open blocker, the
`dependency-risk` findings of blocked items, and the forecast backlogs that finish blockers first.

A blocker's state is its own stored state when the store holds it (fresher than the link, which was read
with the blocked item), else the state the link showed. Blockers are in the blocked item's tracker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from connector.findings import Finding
from connector.model import Plan, Status, Uid, WorkItem

_OPEN = frozenset(s for s in Status if s.is_open)


@dataclass(frozen=True)
class OpenBlocker:
    uid: Uid
    key: str
    item: WorkItem | None  # None: not in the store (outside every scope plansync pulls)


def open_blockers(present: Mapping[Uid, WorkItem]) -> dict[Uid, tuple[OpenBlocker, ...]]:
    """For each open item with at least one open blocker: those blockers (each once, link order)."""
    out: dict[Uid, tuple[OpenBlocker, ...]] = {}
    for uid, item in present.items():
        if not item.blocked_by or item.status not in _OPEN or item.is_pull_request:
            continue
        found: dict[Uid, OpenBlocker] = {}
        for blocker in item.blocked_by:
            other_uid = (item.tracker, blocker.id)
            other = present.get(other_uid)
            is_open = other.status in _OPEN if other is not None else blocker.open
            if is_open and other_uid != uid:
                found.setdefault(other_uid, OpenBlocker(other_uid, other.key if other else blocker.key, other))
        if found:
            out[uid] = tuple(found.values())
    return out


def mark_blocked(present: dict[Uid, WorkItem], blockers: Mapping[Uid, tuple[OpenBlocker, ...]],
                 trackers: frozenset[str] | None) -> None:
    """An open item with an open blocker is `blocked`, in the trackers whose mapping says so (None: all)."""
    for uid in blockers:
        item = present[uid]
        if item.status is not Status.BLOCKED and (trackers is None or item.tracker in trackers):
            present[uid] = replace(item, status=Status.BLOCKED)


def item_dependency_risk(plan: Plan, member_items: Mapping[str, list[WorkItem]],
                         membership: Mapping[Uid, tuple[str, ...]],
                         blockers: Mapping[Uid, tuple[OpenBlocker, ...]]) -> list[Finding]:
    """A milestone's open item blocked by an open item of a milestone due later, or by one in no milestone."""
    dues: dict[str, date] = {m.key: m.due for m in plan.milestones}
    out: list[Finding] = []
    for pm in plan.milestones:
        for item in member_items[pm.key]:
            for blocker in blockers.get(item.uid, ()):
                where = membership.get(blocker.uid, ())
                if not where:
                    out.append(Finding("dependency-risk", f"{item.key} (milestone {pm.key}, due {pm.due}) is "
                                       f"blocked by {blocker.key}, which is outside the plan", item.uid, pm.key,
                                       blocker.uid))
                    continue
                if pm.key in where:
                    continue
                later = [k for k in where if dues[k] > pm.due]
                if later and len(later) == len(where):
                    first = min(later, key=lambda k: dues[k])
                    out.append(Finding("dependency-risk", f"{item.key} (milestone {pm.key}, due {pm.due}) is "
                                       f"blocked by {blocker.key} of milestone {first}, due later ({dues[first]})",
                                       item.uid, pm.key, blocker.uid))
    return out


def backlogs(plan: Plan, member_items: Mapping[str, list[WorkItem]],
             blockers: Mapping[Uid, Iterable[OpenBlocker]] | None = None) -> dict[str, int]:
    """Open items queued up to and including each milestone, working milestones in due-date order.

    Shared throughput goes to the earliest-due milestone first (ties: plan order), so a milestone's
    forecast covers its own open items plus those of every milestone due no later; an item in several
    milestones is counted once. A blocked item cannot finish before its blockers, so its open blockers
    (and theirs, transitively) are queued with it, wherever they are planned.
    """
    blockers = blockers or {}
    order = sorted(range(len(plan.milestones)), key=lambda n: (plan.milestones[n].due, n))
    queued: set[Uid] = set()
    out: dict[str, int] = {}
    for n in order:
        key = plan.milestones[n].key
        if not blockers:  # the usual case: nothing to pull forward
            queued.update((i.tracker, i.id) for i in member_items[key] if i.status in _OPEN)
            out[key] = len(queued)
            continue
        todo = [i.uid for i in member_items[key] if i.status in _OPEN]
        while todo:
            uid = todo.pop()
            if uid in queued:
                continue
            queued.add(uid)
            todo += [b.uid for b in blockers.get(uid, ()) if b.uid not in queued]
        out[key] = len(queued)
    return out
