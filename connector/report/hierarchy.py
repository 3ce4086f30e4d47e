"""The report's hierarchy roll-up (a milestone's items under their parents) and the dependency picture
between milestones (which milestones' items block which), built from one reconciliation."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from connector.findings import natural_key
from connector.model import Status, Uid, WorkItem
from connector.report.model import DependencyEdge, ParentRollup

OUTSIDE = "(outside the plan)"


def rollups(member_uids, rec_items: Mapping[Uid, WorkItem], by_key: Mapping[tuple[str, str], WorkItem],
            ref) -> tuple[ParentRollup, ...]:
    """Parents of a milestone's items (epics, parent issues), each with its member children's progress."""
    groups: dict[tuple[str, str], list[WorkItem]] = defaultdict(list)
    for uid in member_uids:
        item = rec_items.get(tuple(uid))
        if item is not None and item.parent:
            groups[(item.tracker, item.parent)].append(item)
    out = []
    for (tracker, key), children in sorted(groups.items(), key=lambda g: (g[0][0], natural_key(g[0][1]))):
        parent = by_key.get((tracker, key.casefold()))
        done = sum(1 for c in children if c.status is Status.DONE)
        dropped = sum(1 for c in children if c.status is Status.DROPPED)
        out.append(ParentRollup(key=key, parent=ref.item(parent) if parent is not None else None,
                                children=len(children) - dropped, done=done,
                                open=len(children) - done - dropped,
                                blocked=sum(1 for c in children if c.status is Status.BLOCKED)))
    return tuple(out)


def dependency_edges(plan, rec) -> tuple[DependencyEdge, ...]:
    """Milestone -> blocker's milestone edges from the open blockers of each milestone's open items."""
    dues = {m.key: m.due for m in plan.milestones}
    blockers = rec.blockers
    edges: dict[tuple[str, str | None], tuple[set[Uid], set[str]]] = {}
    for status in rec.milestones:
        for uid in status.items:
            for blocker in blockers.get(tuple(uid), ()):
                where = rec.membership.get(blocker.uid, ()) or (None,)
                for other in where:
                    if other == status.key:
                        continue
                    blocked, keys = edges.setdefault((status.key, other), (set(), set()))
                    blocked.add(tuple(uid))
                    keys.add(blocker.key)
    order = {m.key: n for n, m in enumerate(plan.milestones)}
    return tuple(DependencyEdge(milestone=a, blocker_milestone=b, items=len(blocked),
                                blockers=tuple(sorted(keys, key=natural_key)),
                                later=b is not None and dues[b] > dues[a])
                 for (a, b), (blocked, keys) in sorted(edges.items(), key=lambda e: (
                     order[e[0][0]], order.get(e[0][1], len(order)))))
