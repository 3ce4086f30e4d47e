"""Plan review as data: what merging a proposed plan would change — the plan's own edits, each milestone's
items, health and forecast before → after, and the label-change plan the next apply would make.

Pure: built from two plans, their two reconciliations (same store state, same `now`) and change plans;
connector.review_render renders it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from connector.changes import ChangePlan, breaches, guard_line
from connector.findings import natural_key
from connector.model import Plan, PlanMilestone
from connector.reconcile import MilestoneStatus, Reconciliation


@dataclass(frozen=True)
class PlanEdit:
    """One edit of the plan file. `what` is a code (see WHAT); `subject` names the milestone, person,
    risk or header field; `before`/`after` are the old and new values as text (None: absent)."""

    what: str
    subject: str
    before: str | None = None
    after: str | None = None


WHAT = ("plan_changed", "milestone_added", "milestone_removed", "milestone_rekeyed", "milestone_renamed",
        "due_moved", "owner_changed", "depends_changed", "description_changed", "scope_added", "scope_removed",
        "watch_added", "watch_removed", "person_added", "person_removed", "person_changed", "risk_added",
        "risk_removed", "risk_changed")


@dataclass(frozen=True)
class Side:
    """One milestone on one side of the change (absent on that side: the milestone is added or removed)."""

    items: int
    done: int
    health: str
    p50: date | None
    p85: date | None
    forecast: str  # the forecast's method: monte-carlo, linear, none, complete


@dataclass(frozen=True)
class MilestoneEffect:
    key: str  # the proposed key (the current one for a removed milestone)
    title: str
    before: Side | None
    after: Side | None
    entering: tuple[str, ...]  # item keys, natural order
    leaving: tuple[str, ...]
    was: str | None = None  # the current key, when the change re-keys the milestone

    @property
    def changed(self) -> bool:
        return bool(self.entering or self.leaving) or self.before != self.after


@dataclass(frozen=True)
class Review:
    before_source: str  # where the current plan came from: a path, or REF:path
    after_source: str
    edits: tuple[PlanEdit, ...]
    milestones: tuple[MilestoneEffect, ...]  # proposed plan order, removed milestones last
    change_plan: ChangePlan  # the label changes the next apply would make under the proposed plan
    max_share: float
    min_guarded: int
    also_now: int = 0  # of those changes, how many the current plan would make too (news, drift)
    notes: tuple[str, ...] = field(default=())

    @property
    def guarded(self) -> int:
        return len(self.change_plan.guarded())

    @property
    def would_refuse(self) -> bool:
        return breaches(self.guarded, self.change_plan.covered, max_share=self.max_share,
                        min_guarded=self.min_guarded)

    @property
    def guard_line(self) -> str:
        return guard_line(self.guarded, self.change_plan.covered, max_share=self.max_share,
                          min_guarded=self.min_guarded)


def build_review(before: Plan, after: Plan, before_rec: Reconciliation, after_rec: Reconciliation,
                 change_plan: ChangePlan, current_changes: ChangePlan | None, *, before_source: str,
                 after_source: str, max_share: float, min_guarded: int, notes: tuple[str, ...] = ()) -> Review:
    edits, rekeyed = diff_plans(before, after)
    also = 0
    if current_changes is not None:
        now = {(c.tracker, c.item_id, c.add, c.remove) for c in current_changes.changes}
        also = sum(1 for c in change_plan.changes if (c.tracker, c.item_id, c.add, c.remove) in now)
    return Review(before_source, after_source, tuple(edits), milestone_effects(before_rec, after_rec, rekeyed),
                  change_plan, max_share, min_guarded, also, notes)


# --- the plan's own edits ---------------------------------------------------------------------------

def diff_plans(before: Plan, after: Plan) -> tuple[list[PlanEdit], dict[str, str]]:
    """The edits from `before` to `after`, and the milestones re-keyed (new key -> old key): a removed and
    an added milestone with the same non-empty scopes are one milestone whose key changed."""
    edits: list[PlanEdit] = []
    for name in ("name", "timezone", "start", "objective"):
        old, new = getattr(before.plan, name), getattr(after.plan, name)
        if old != new:
            edits.append(PlanEdit("plan_changed", name, _text(old), _text(new)))
    old_ms = {m.key: m for m in before.milestones}
    new_ms = {m.key: m for m in after.milestones}
    removed = [k for k in old_ms if k not in new_ms]
    added = [k for k in new_ms if k not in old_ms]
    rekeyed: dict[str, str] = {}
    for key in added:
        scopes = _scope_ids(new_ms[key])
        match = next((old for old in removed if scopes and _scope_ids(old_ms[old]) == scopes
                      and old not in rekeyed.values()), None)
        if match is not None:
            rekeyed[key] = match
    for key in added:
        if key in rekeyed:
            edits.append(PlanEdit("milestone_rekeyed", key, rekeyed[key], key))
        else:
            m = new_ms[key]
            edits.append(PlanEdit("milestone_added", key, None, f"{m.title}, due {m.due}"))
    for key in removed:
        if key not in rekeyed.values():
            m = old_ms[key]
            edits.append(PlanEdit("milestone_removed", key, f"{m.title}, due {m.due}", None))
    for key, new in new_ms.items():
        old = old_ms.get(rekeyed.get(key, key))
        if old is not None:
            edits += _milestone_edits(key, old, new)
    edits += _scope_list_edits("watch", "", before.watch, after.watch)
    edits += _people_edits(before, after)
    edits += _risk_edits(before, after)
    return edits, rekeyed


def _milestone_edits(key: str, old: PlanMilestone, new: PlanMilestone) -> list[PlanEdit]:
    edits = []
    if old.title != new.title:
        edits.append(PlanEdit("milestone_renamed", key, old.title, new.title))
    if old.due != new.due:
        edits.append(PlanEdit("due_moved", key, str(old.due), str(new.due)))
    if old.owner != new.owner:
        edits.append(PlanEdit("owner_changed", key, old.owner, new.owner))
    if old.depends_on != new.depends_on:
        edits.append(PlanEdit("depends_changed", key, ", ".join(old.depends_on) or None,
                              ", ".join(new.depends_on) or None))
    if (old.description or None) != (new.description or None):
        edits.append(PlanEdit("description_changed", key, old.description, new.description))
    return edits + _scope_list_edits("scope", key, old.scope, new.scope)


def _scope_list_edits(what: str, subject: str, old, new) -> list[PlanEdit]:
    old_ids = {s.id: s for s in old}
    new_ids = {s.id: s for s in new}
    return ([PlanEdit(f"{what}_added", subject, None, s.describe()) for i, s in new_ids.items() if i not in old_ids]
            + [PlanEdit(f"{what}_removed", subject, s.describe(), None) for i, s in old_ids.items()
               if i not in new_ids])


def _people_edits(before: Plan, after: Plan) -> list[PlanEdit]:
    edits = []
    for key in after.people:
        if key not in before.people:
            edits.append(PlanEdit("person_added", key, None, _person(after.people[key])))
        elif before.people[key] != after.people[key]:
            edits.append(PlanEdit("person_changed", key, _person(before.people[key]), _person(after.people[key])))
    edits += [PlanEdit("person_removed", key, _person(p), None) for key, p in before.people.items()
              if key not in after.people]
    return edits


def _person(person) -> str:
    ids = ", ".join(f"{kind} {value}" for kind, value in sorted(person.identities.items()))
    return f"{person.name} ({ids})" if person.name else ids


def _risk_edits(before: Plan, after: Plan) -> list[PlanEdit]:
    old = {r.title: r for r in before.risks}
    new = {r.title: r for r in after.risks}
    edits = []
    for title, risk in new.items():
        if title not in old:
            edits.append(PlanEdit("risk_added", title, None, _risk(risk)))
        elif old[title] != risk:
            edits.append(PlanEdit("risk_changed", title, _risk(old[title]), _risk(risk)))
    edits += [PlanEdit("risk_removed", title, _risk(r), None) for title, r in old.items() if title not in new]
    return edits


def _risk(risk) -> str:
    parts = [f"likelihood {risk.likelihood}", f"impact {risk.impact}"]
    if risk.milestone:
        parts.append(f"milestone {risk.milestone}")
    if risk.owner:
        parts.append(f"owner {risk.owner}")
    if risk.mitigation:
        parts.append(f"mitigation: {risk.mitigation}")
    return ", ".join(parts)


def _scope_ids(milestone: PlanMilestone) -> frozenset[str]:
    return frozenset(s.id for s in milestone.scope)


def _text(value) -> str | None:
    return None if value is None else str(value)


# --- what the items do ------------------------------------------------------------------------------

def milestone_effects(before: Reconciliation, after: Reconciliation,
                      rekeyed: dict[str, str]) -> tuple[MilestoneEffect, ...]:
    """Each milestone's members, health and forecast before → after (a re-keyed milestone is one row)."""
    old = {m.key: m for m in before.milestones}
    keys = {**{uid: i.key for uid, i in before.items.items()}, **{uid: i.key for uid, i in after.items.items()}}
    effects = []
    for new in after.milestones:
        was = rekeyed.get(new.key)
        prior = old.get(was or new.key)
        effects.append(_effect(new.key, new.title, prior, new, keys, was))
    seen = {m.key for m in after.milestones} | set(rekeyed.values())
    effects += [_effect(m.key, m.title, m, None, keys, None) for m in before.milestones if m.key not in seen]
    return tuple(effects)


def _effect(key: str, title: str, prior: MilestoneStatus | None, now: MilestoneStatus | None,
            keys: dict, was: str | None) -> MilestoneEffect:
    old_items = set(prior.items) if prior else set()
    new_items = set(now.items) if now else set()
    return MilestoneEffect(key, title, _side(prior), _side(now), _keys(new_items - old_items, keys),
                           _keys(old_items - new_items, keys), was)


def _side(status: MilestoneStatus | None) -> Side | None:
    if status is None:
        return None
    forecast = status.forecast
    return Side(status.progress.total, status.progress.done, status.health.value, forecast.p50, forecast.p85,
                forecast.method)


def _keys(uids, keys: dict) -> tuple[str, ...]:
    return tuple(sorted((keys.get(uid, uid[1]) for uid in uids), key=natural_key))
