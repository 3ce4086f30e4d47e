"""Burn-up series from the store's history: each item's past states rebuilt from its recorded changes.

One `items_as_of` per chart point would cost a full table read per day; instead the as-of state is
walked backwards through `store.changes`, and every item contributes a few (instant, +/-1) events.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta, tzinfo
from itertools import accumulate

from connector.model import Plan, PlanMilestone, Presence, Scope, Status, Uid, WorkItem
from connector.report.model import BurnPoint

log = logging.getLogger(__name__)


_TUPLE_FIELDS = {"milestones", "labels", "assignees", "links"}
_REBUILT = {"status", "milestones", "labels", "presence", "key", "due", "estimate", "assignees"}


def change_time(change) -> datetime:
    """When a change happened: the tracker's own time where it said, else when we observed it."""
    return getattr(change, "changed_at", None) or change.observed_at


def _parse(field: str, text: str | None):
    if field in _TUPLE_FIELDS:
        return tuple(json.loads(text)) if text else ()
    if field == "status":
        return Status(text)
    if field == "presence":
        return Presence(text)
    if field == "due":
        return date.fromisoformat(text) if text else None
    if field == "estimate":
        return float(text) if text else None
    return text


def undo(item: WorkItem, change) -> WorkItem:
    """The item as it was before `change` (unparseable history is skipped, never fatal)."""
    if change.field not in _REBUILT:
        return item
    try:
        return replace(item, **{change.field: _parse(change.field, change.old)})
    except (ValueError, TypeError, json.JSONDecodeError):
        log.debug("unreadable history value for %s %s; ignored", change.field, change.item_id)
        return item


def versions(item: WorkItem, changes: list) -> list[tuple[datetime | None, WorkItem]]:
    """[(since, state)] oldest first; the first `since` is None (the item as first seen / created)."""
    # a first sighting (status with no old value) is when the store met the item, not a change of it
    ordered = sorted((c for c in changes if c.old is not None or c.field != "status"), key=change_time)
    if not ordered:
        return [(None, item)]
    states: list[tuple[datetime | None, WorkItem]] = []
    state = item
    for change in reversed(ordered):
        states.append((change_time(change), state))
        state = undo(state, change)
    states.append((None, state))
    states.reverse()
    return states


def changes_by_item(changes: Iterable) -> dict[Uid, list]:
    """Recorded changes per item, without first sightings (the store meeting an item is no change)."""
    grouped: dict[Uid, list] = defaultdict(list)
    for change in changes:
        if change.old is None and change.field == "status":
            continue
        grouped[(change.tracker, change.item_id)].append(change)
    return grouped


def scope_matches(scope: Scope, item: WorkItem, members: Mapping[str, frozenset[Uid]]) -> bool:
    """Whether `item` (in some past state) is in `scope`: the scope's own rule, as reconcile uses it.

    Scopes plansync evaluates are exact for past weeks; scopes the tracker evaluates (JQL) can only use
    the membership the store holds now (the pull's answer), which the report states.
    """
    if scope.tracker != item.tracker:
        return False
    if scope.remote:
        return item.uid in members.get(scope.id, frozenset())
    return scope.matches(item)


def in_milestone(milestone: PlanMilestone, item: WorkItem, members: Mapping[str, frozenset[Uid]]) -> bool:
    return any(scope_matches(s, item, members) for s in milestone.scope)


def _counts(item: WorkItem) -> bool:
    """Dropped items, pull requests and vanished items are not scope in a burn-up."""
    return not item.is_pull_request and item.presence is Presence.PRESENT and item.status is not Status.DROPPED


def burnups(milestones: Iterable[PlanMilestone], items: Iterable[WorkItem], history: Mapping[Uid, list],
            members: Mapping[str, frozenset[Uid]], membership: Mapping[Uid, tuple[str, ...]], *,
            first: date, last: date, tz: tzinfo,
            done_at: Mapping[Uid, list[datetime]] | None = None) -> dict[str, tuple[BurnPoint, ...]]:
    """Scope and done per day (plan timezone) from `first` through `last` for every milestone.

    An item without recorded changes has had the same fields all along, so its milestones are today's
    (`membership`, from reconcile) from its creation on; only changed items are re-evaluated per state.
    `done_at` (from store.done_events) dates items that were already done when first stored.
    """
    milestones = list(milestones)
    done_at = done_at or {}
    days = max((last - first).days + 1, 0)
    scope_delta = {m.key: [0] * (days + 1) for m in milestones}  # slot `days`: after the chart
    done_delta = {m.key: [0] * (days + 1) for m in milestones}
    local_day: dict[date, int] = {}

    def bucket(instant: datetime) -> int:
        day = instant.astimezone(tz).date()
        index = local_day.get(day)
        if index is None:
            index = local_day[day] = min(max((day - first).days, 0), days)
        return index

    for item in items:
        past = versions(item, history.get(item.uid, ()))
        if len(past) == 1:
            keys = membership.get(item.uid, ()) if _counts(item) else ()
            if keys:
                scope_at = bucket(item.created)
                done_index = bucket(_first_done(item, done_at, None)) if item.status is Status.DONE else None
                for key in keys:
                    scope_delta[key][scope_at] += 1
                    if done_index is not None:
                        done_delta[key][done_index] += 1
            continue
        for m in milestones:
            prev_in = prev_done = 0
            for position, (since, state) in enumerate(past):
                now_in = int(_counts(state) and in_milestone(m, state, members))
                now_done = int(now_in and state.status is Status.DONE)
                if position == 0:
                    scope_delta[m.key][bucket(state.created)] += now_in
                    if now_done:  # done before any recorded change: from when it was finished
                        done_delta[m.key][bucket(_first_done(state, done_at, past[1][0]))] += 1
                else:
                    index = bucket(since)
                    scope_delta[m.key][index] += now_in - prev_in
                    done_delta[m.key][index] += now_done - prev_done
                prev_in, prev_done = now_in, now_done
    out = {}
    for m in milestones:
        scope = list(accumulate(scope_delta[m.key][:days]))
        done = list(accumulate(done_delta[m.key][:days]))
        out[m.key] = tuple(BurnPoint(first + timedelta(days=i), scope[i], done[i]) for i in range(days))
    return out


def _first_done(item: WorkItem, done_at: Mapping[Uid, list[datetime]], until: datetime | None) -> datetime:
    known = [t for t in done_at.get(item.uid, ()) if until is None or t <= until]
    finished = min(known) if known else item.resolved or item.created
    return max(finished, item.created)


def rewind(end_items: Mapping[Uid, WorkItem], raw_changes: Iterable, since: datetime,
           gone: Callable[[Uid], WorkItem | None]) -> tuple[dict[Uid, WorkItem], set[Uid]]:
    """(items as the store held them at `since`, uids changed after it), from the items at the report's
    instant undone through every change observed after `since`: one table read instead of two.

    An item first seen after `since` did not exist then; one that vanished since (not in `end_items`) is
    fetched with `gone` and rewound the same way.
    """
    later: dict[Uid, list] = defaultdict(list)
    met_later: set[Uid] = set()
    for change in raw_changes:
        if change.observed_at <= since:
            continue
        uid = (change.tracker, change.item_id)
        if change.old is None and change.field == "status":
            met_later.add(uid)
        else:
            later[uid].append(change)
    out: dict[Uid, WorkItem] = {}
    for uid in set(end_items) | set(later):
        item = end_items.get(uid) or (gone(uid) if uid not in met_later else None)
        if item is None or uid in met_later:
            continue
        for change in sorted(later.get(uid, ()), key=lambda c: c.observed_at, reverse=True):
            item = undo(item, change)
        if item.presence is Presence.PRESENT:
            out[uid] = item
    return out, set(later) | met_later


def membership_at(plan: Plan, items: Mapping[Uid, WorkItem], known: Mapping[Uid, tuple[str, ...]],
                  changed: set[Uid], members: Mapping[str, frozenset[Uid]], *,
                  reuse: bool) -> dict[Uid, tuple[str, ...]]:
    """Plan milestones each item belonged to (pull requests never do), as reconcile would place them.

    With `reuse` (the plan's scopes are the same as for `known`), an unchanged item keeps `known`'s
    answer and only changed items are evaluated again.
    """
    out: dict[Uid, tuple[str, ...]] = {}
    for uid, item in items.items():
        if item.is_pull_request:
            continue
        if reuse and uid not in changed:
            keys = known.get(uid, ())
        else:
            keys = tuple(m.key for m in plan.milestones if in_milestone(m, item, members))
        if keys:
            out[uid] = keys
    return out


def same_scopes(a: Plan, b: Plan) -> bool:
    def shape(p: Plan):
        return [(m.key, sorted(s.id for s in m.scope)) for m in p.milestones]
    return shape(a) == shape(b)
