"""The Monday summary and the milestone timeline: pure functions of the built sections and both weeks'
reconciliations. Every number here is counted from the same rows the detailed sections show."""

from __future__ import annotations

from datetime import date

from connector.model import Plan, Status
from connector.report.model import (
    DECISION_LIMIT,
    Change,
    Decision,
    ItemRef,
    MilestoneSection,
    MilestoneSummary,
    Summary,
    TimelineRow,
)

_SEVERITY = {"off-track": 0, "at-risk": 1, "on-track": 2, "done": 3}


def milestone_keys(change: Change) -> tuple[str, ...]:
    """The milestones a change row names (completed rows may name several, comma-separated)."""
    return tuple(k for k in (change.milestone or "").split(", ") if k)


def summarize(sections: tuple[MilestoneSection, ...], start_rec, changes: tuple[Change, ...], end_rec,
              start_items: dict, end_items: dict, ref) -> Summary:
    """Per milestone then → now, and the few items that most need a decision (model.DECISION_RULE)."""
    then = {s.key: s for s in start_rec.milestones} if start_rec is not None else {}
    now = {s.key: s for s in end_rec.milestones}
    rows = []
    for m in sections:
        before = then.get(m.key)
        members = now[m.key].items if m.key in now else ()
        newly = [uid for uid in members
                 if (item := end_items.get(uid)) is not None and item.status is Status.BLOCKED
                 and not item.is_pull_request
                 and ((old := start_items.get(uid)) is None or old.status is not Status.BLOCKED)]
        rows.append(MilestoneSummary(
            key=m.key, title=m.title, due=m.due,
            health_then=_health(before) if before is not None else None, health_now=m.health,
            p50_then=_day(before.forecast.p50) if before else None,
            p85_then=_day(before.forecast.p85) if before else None,
            p50_now=m.forecast.p50, p85_now=m.forecast.p85,
            added=sum(1 for c in changes if c.kind == "added" and c.milestone == m.key),
            finished=sum(1 for c in changes if c.kind == "completed" and m.key in milestone_keys(c)),
            newly_blocked=tuple(r for r in (ref.item(u, "newly blocked") for u in ref.ordered(newly)) if r)))
    return Summary(tuple(rows), decisions(sections, rows))


def decisions(sections: tuple[MilestoneSection, ...], rows: list[MilestoneSummary]) -> tuple[Decision, ...]:
    """Open items of off-track or at-risk milestones that are blocked or overdue, ranked: newly blocked,
    blocked, overdue; then worse milestone health, earlier due date, plan order; at most five, each once."""
    newly = {(r.key, i.tracker, i.id) for r in rows for i in r.newly_blocked}
    ranked = []
    for order, m in enumerate(sections):
        if m.health not in ("off-track", "at-risk"):
            continue
        seen = set()
        for rank, pool in ((1, m.at_risk), (2, m.overdue)):
            for item in pool:
                blocked = item.status == str(Status.BLOCKED)
                if rank == 1 and not blocked:
                    continue  # stale or late-dated items are at risk, but nobody is stuck on them yet
                uid = (item.tracker, item.id)
                if uid in seen:
                    continue
                seen.add(uid)
                first = 0 if (m.key, *uid) in newly else 1 if blocked else 2
                # the note repeats "X is blocked" for blocked items: say only what adds to the category
                extra = item.note if item.note and (first == 2 or "is blocked" not in item.note) else ""
                why = ("newly blocked" if first == 0 else "blocked" if first == 1 else "overdue") \
                    + (f": {extra}" if extra and extra != "blocked" else "")
                ranked.append(((first, _SEVERITY.get(m.health, 9), m.due, order), item, m.key, why))
    ranked.sort(key=lambda r: r[0])
    out, taken = [], set()
    for _, item, key, why in ranked:
        if (item.tracker, item.id) in taken:
            continue
        taken.add((item.tracker, item.id))
        out.append(Decision(item, key, why))
        if len(out) == DECISION_LIMIT:
            break
    return tuple(out)


def timeline(plan: Plan, sections: tuple[MilestoneSection, ...], first_day: date) -> tuple[TimelineRow, ...]:
    """Each milestone's planned window: from the plan's start, or from the latest due date among the
    milestones it depends on, to its own due date; with the forecast P50–P85 band."""
    dues = {m.key: m.due for m in plan.milestones}
    deps = {m.key: tuple(d for d in m.depends_on if d in dues) for m in plan.milestones}
    out = []
    for s in sections:
        start = max((dues[d] for d in deps.get(s.key, ())), default=plan.plan.start or first_day)
        out.append(TimelineRow(s.key, s.title, min(start, s.due), s.due, s.forecast.p50, s.forecast.p85,
                               s.health, deps.get(s.key, ())))
    return tuple(out)


def _health(status) -> str:
    return str(getattr(status.health, "value", status.health))


def _day(value) -> date | None:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def decision_refs(summary: Summary) -> tuple[ItemRef, ...]:
    return tuple(d.item for d in summary.decisions)
