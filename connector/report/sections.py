"""The report's sections, each a small pure function of reconcile results, items and the plan."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, tzinfo

from connector.findings import natural_key
from connector.model import Plan, PlanMilestone, Status, WorkItem
from connector.report.history import change_time
from connector.report.model import (
    UNASSIGNED,
    Change,
    Drift,
    Freshness,
    ItemRef,
    Person,
    PlanChange,
    RiskEntry,
    Workload,
)

Uid = tuple[str, str]
AT_RISK_KINDS = ("blocked", "stale", "due-after-milestone", "dependency-risk")


class Refs:
    """Turns uids (or WorkItems) into ItemRefs, preferring the item's state at the report's instant."""

    def __init__(self, end: dict[Uid, WorkItem], start: dict[Uid, WorkItem], people=None) -> None:
        self.end, self.start = end, start
        self.people = people  # (tracker, identity) -> report Person; None: identities as they are

    def ordered(self, uids) -> list[Uid]:
        """Uids in the order a reader expects: by tracker, then by key with numbers compared as numbers."""
        def order(uid):
            item = self.get(uid)
            return (uid[0], natural_key(item.key) if item else (), uid[1])
        return sorted(uids, key=order)

    def get(self, uid) -> WorkItem | None:
        if isinstance(uid, WorkItem):
            return uid
        uid = tuple(uid)
        return self.end.get(uid) or self.start.get(uid)

    def item(self, uid, note: str = "") -> ItemRef | None:
        w = self.get(uid)
        if w is None:
            return None
        return ItemRef(tracker=w.tracker, id=w.id, key=w.key, title=w.title, url=w.url,
                       status=str(w.status), due=w.due, assignees=w.assignees, estimate=w.estimate,
                       note=note, people=tuple(self.people(w.tracker, a) for a in w.assignees) if self.people
                       else tuple(Person(a, False) for a in w.assignees))


def _uid(value) -> Uid | None:
    if value is None:
        return None
    if isinstance(value, WorkItem):
        return value.uid
    return tuple(value)


def findings_by_milestone(rec) -> dict[str | None, list]:
    """Item findings grouped by the milestone they name (None: none named)."""
    grouped: dict[str | None, list] = defaultdict(list)
    for f in rec.findings:
        if f.item is not None and f.kind in ("overdue", *AT_RISK_KINDS):
            grouped[f.milestone].append(f)
    return grouped


def milestone_items(key: str, status, rec, ref: Refs, instant: datetime, tz: tzinfo, grouped=None):
    """(at-risk, overdue) items of one milestone, each with why it is listed."""
    members = set(status.items) if status else set()
    today = instant.astimezone(tz).date()
    notes: dict[str, dict[Uid, str]] = defaultdict(dict)
    grouped = grouped if grouped is not None else findings_by_milestone(rec)
    for f in [*grouped.get(key, ()), *grouped.get(None, ())]:
        uid = _uid(f.item)
        if f.milestone is None and uid not in members:
            continue
        bucket = "overdue" if f.kind == "overdue" else "at_risk" if f.kind in AT_RISK_KINDS else None
        if bucket:
            previous = notes[bucket].get(uid)
            notes[bucket][uid] = f"{previous}; {f.message}" if previous else f.message
    due = _milestone_due(rec, key)
    for uid in members:
        item = ref.end.get(uid)
        if item is None or not item.is_open or item.is_pull_request:
            continue
        if item.status is Status.BLOCKED:
            notes["at_risk"].setdefault(uid, "blocked")
        if item.due and item.due < today:
            notes["overdue"].setdefault(uid, f"due {item.due.isoformat()}")
        elif due and due < today:
            notes["overdue"].setdefault(uid, f"milestone due {due.isoformat()}")
    return (_refs(notes["at_risk"], ref), _refs(notes["overdue"], ref))


def _milestone_due(rec, key: str):
    for status in rec.milestones:
        if status.key == key:
            return status.due
    return None


def _refs(notes: dict[Uid, str], ref: Refs) -> tuple[ItemRef, ...]:
    out = [ref.item(uid, note) for uid, note in notes.items()]
    return tuple(sorted((r for r in out if r), key=lambda r: (r.tracker, natural_key(r.key))))


def week_changes(start_membership, end_membership, ref: Refs, history, since: datetime,
                 until: datetime, changed: set[Uid] | None = None) -> tuple[Change, ...]:
    """Completed, added, removed, slipped, reopened and status changes between the week's start and end."""
    out: list[Change] = []
    # an item whose fields and milestones are the same at both ends has nothing to report
    moved = {uid for uid in start_membership.keys() | end_membership.keys()
             if start_membership.get(uid) != end_membership.get(uid)}
    touched = {uid for uid in changed if uid in start_membership or uid in end_membership} if changed is not None \
        else start_membership.keys() | end_membership.keys()
    for uid in ref.ordered(moved | touched):
        before, after = ref.start.get(uid), ref.end.get(uid)
        now_in, was_in = set(end_membership.get(uid, ())), set(start_membership.get(uid, ()))
        where = ", ".join(sorted(now_in or was_in)) or None
        if after is not None and after.is_pull_request:
            continue
        if after is not None and after.status is Status.DONE and _finished_within(before, after, since, until):
            out.append(Change("completed", ref.item(uid), where))
        if after is not None and after.is_open and before is not None and not before.status.is_open:
            out.append(Change("reopened", ref.item(uid), where, f"{before.status} → {after.status}"))
        if after is not None and before is not None and after.due and before.due and after.due > before.due:
            out.append(Change("slipped", ref.item(uid), where,
                              f"due {before.due.isoformat()} → {after.due.isoformat()}"))
        for key in sorted(now_in - was_in):
            out.append(Change("added", ref.item(uid), key))
        for key in sorted(was_in - now_in):
            out.append(Change("removed", ref.item(uid), key))
        for change in history.get(uid, ()):
            # old None is the store's first sighting of the item, not a change of status
            if change.field == "status" and change.old is not None and since < change_time(change) <= until:
                out.append(Change("status", ref.item(uid), where, f"{change.old} → {change.new}"))
    return tuple(c for c in out if c.item is not None)


def _finished_within(before: WorkItem | None, after: WorkItem, since: datetime, until: datetime) -> bool:
    """Done now and not at the week's start; an item first seen this week counts only if the tracker
    says it was resolved this week (the first sync of an old project completes nothing)."""
    if before is not None:
        return before.status is not Status.DONE
    return after.resolved is not None and since < after.resolved <= until


def freshness(store, trackers: list[str], now: datetime, stale_after_hours: float) -> tuple[Freshness, ...]:
    out = []
    for name in trackers:
        last = store.last_good_sync(name)
        age = (now - last).total_seconds() / 3600 if last else None
        out.append(Freshness(name, last, round(age, 1) if age is not None else None,
                             stale=age is None or age > stale_after_hours, writes_deferred=_deferred(store, name)))
    return tuple(out)


def _deferred(store, tracker: str) -> int:
    """What the latest run that wrote to `tracker` left for later (0 when it finished its work)."""
    for run in store.runs(limit=20):
        counts = (run.get("counts") or {}).get(tracker) or {}
        if "writes_deferred" in counts:
            return int(counts["writes_deferred"] or 0)
    return 0


def plan_changes(old: Plan, new: Plan) -> tuple[PlanChange, ...]:
    """What the plan's authors changed since the week's start: milestones, dates, scope, objective."""
    out: list[PlanChange] = []
    if old.plan.objective != new.plan.objective:
        out.append(PlanChange("objective-changed", None, f"objective is now: {new.plan.objective or '(none)'}"))
    before = {m.key: m for m in old.milestones}
    after = {m.key: m for m in new.milestones}
    for key in after.keys() - before.keys():
        out.append(PlanChange("milestone-added", key, f"{after[key].title}, due {after[key].due.isoformat()}"))
    for key in before.keys() - after.keys():
        out.append(PlanChange("milestone-removed", key, f"{before[key].title} (was due {before[key].due.isoformat()})"))
    for key in sorted(after.keys() & before.keys()):
        out.extend(_milestone_diff(before[key], after[key]))
    old_risks = {r.title for r in old.risks}
    new_risks = {r.title for r in new.risks}
    out.extend(PlanChange("risk-added", None, t) for t in sorted(new_risks - old_risks))
    out.extend(PlanChange("risk-removed", None, t) for t in sorted(old_risks - new_risks))
    return tuple(sorted(out, key=lambda c: (c.milestone or "", c.kind)))


def _milestone_diff(a: PlanMilestone, b: PlanMilestone) -> list[PlanChange]:
    out = []
    if a.due != b.due:
        word = "later" if b.due > a.due else "earlier"
        out.append(PlanChange("due-moved", b.key, f"due {a.due.isoformat()} → {b.due.isoformat()} ({word})"))
    if a.title != b.title:
        out.append(PlanChange("title-changed", b.key, f"{a.title} → {b.title}"))
    if a.owner != b.owner:
        out.append(PlanChange("owner-changed", b.key, f"owner {a.owner or '-'} → {b.owner or '-'}"))
    old_scopes = {s.id: s for s in a.scope}
    new_scopes = {s.id: s for s in b.scope}
    for sid in sorted(new_scopes.keys() - old_scopes.keys()):
        out.append(PlanChange("scope-changed", b.key, f"scope added: {new_scopes[sid].describe()}"))
    for sid in sorted(old_scopes.keys() - new_scopes.keys()):
        out.append(PlanChange("scope-changed", b.key, f"scope removed: {old_scopes[sid].describe()}"))
    if set(a.depends_on) != set(b.depends_on):
        out.append(PlanChange("dependencies-changed", b.key,
                              f"depends on {', '.join(a.depends_on) or '-'} → {', '.join(b.depends_on) or '-'}"))
    return out


def workload(plan: Plan, rec, items: dict[Uid, WorkItem], kinds: dict[str, str]) -> tuple[Workload, ...]:
    """Open planned and unplanned work per person across trackers; identities not in plan.toml apart."""
    counts: dict[tuple[bool, str], dict] = {}
    uids = set(map(tuple, rec.membership)) | set(map(tuple, rec.unplanned))
    known_people: dict[tuple[str, str], str | None] = {}

    def person_for(kind: str, who: str) -> str | None:
        key = (kind, who)
        if key not in known_people:
            known_people[key] = plan.person_for(kind, who)
        return known_people[key]

    for uid in uids:
        item = items.get(uid)
        if item is None or not item.is_open or item.is_pull_request:
            continue
        people = set()
        for who in item.assignees or ("",):
            person = person_for(kinds.get(item.tracker, item.tracker), who) if who else None
            people.add((True, person) if person else (False, who or UNASSIGNED))
        for known, person in people:
            row = counts.setdefault((known, person), {"open": 0, "in_progress": 0, "blocked": 0,
                                                      "points": 0.0, "by_tracker": defaultdict(int)})
            row["open"] += 1
            row["in_progress"] += item.status is Status.IN_PROGRESS
            row["blocked"] += item.status is Status.BLOCKED
            row["points"] += item.estimate or 0.0
            row["by_tracker"][item.tracker] += 1
    for key in plan.people:  # declared people with nothing open still appear (zero is an answer)
        counts.setdefault((True, key), {"open": 0, "in_progress": 0, "blocked": 0, "points": 0.0,
                                        "by_tracker": {}})
    rows = [Workload(person=person, name=(plan.people[person].name or person) if known else person,
                     known=known, open=c["open"], in_progress=c["in_progress"], blocked=c["blocked"],
                     points=c["points"], by_tracker=dict(sorted(c["by_tracker"].items())))
            for (known, person), c in counts.items()]
    return tuple(sorted(rows, key=lambda w: (not w.known, -w.open, w.person)))


def risks(plan: Plan) -> tuple[RiskEntry, ...]:
    return tuple(RiskEntry(r.title, r.milestone, r.likelihood, r.impact, r.mitigation, r.owner)
                 for r in plan.risks)


def drift(rec, ref: Refs) -> tuple[Drift, ...]:
    out = []
    for f in rec.findings:
        if f.kind != "cross-tracker-drift":
            continue
        pairs = () if f.related is None else (f.related,) if isinstance(f.related[0], str) else f.related
        related = tuple(r for r in (ref.item(u) for u in pairs) if r)
        out.append(Drift(f.message, ref.item(f.item) if f.item is not None else None, related))
    return tuple(out)
