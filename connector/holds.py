"""Source isolation: a milestone fed by a tracker whose data is not current keeps its labels this run.

Pure. A tracker is current when this run pulled it successfully, or (not pulled this run) when its
last recorded pull succeeded; a remote scope (JQL) never pulled has no members yet and is not current
either, nor is a scope that failed alone this run (a repository gone, a JQL rejected) while the rest
of its tracker was pulled. A milestone with such a scope is *held*: no item in it changes labels on
any tracker, and the report shows its last confirmed health, marked as not current.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from connector.model import Plan


@dataclass(frozen=True)
class Hold:
    milestone: str
    reason: str  # one line: which tracker or scope is not current, and why
    trackers: tuple[str, ...]
    last_health: str | None = None  # the health its items' labels last confirmed (None: unknown)

    @property
    def note(self) -> str:
        kept = f"the last confirmed health ({self.last_health}) is shown" if self.last_health else \
            "the health shown is computed without that data"
        return f"Not current: {self.reason}; its labels were left as they were and {kept}."


def stale_trackers(plan: Plan, pulled: Mapping[str, tuple[bool, str | None]],
                   last_sync_ok: Callable[[str], bool | None]) -> dict[str, str]:
    """Trackers feeding the plan whose data is not this run's: name -> why. `pulled`: the trackers this
    run pulled, name -> (worked, error)."""
    out: dict[str, str] = {}
    for name in dict.fromkeys(s.tracker for s in plan.all_scopes()):
        if name in pulled:
            worked, error = pulled[name]
            if not worked:
                out[name] = f"this run's pull of tracker {name!r} failed ({error or 'no detail'})"
            continue
        last = last_sync_ok(name)
        if last is None:
            out[name] = f"tracker {name!r} has never been pulled"
        elif not last:
            out[name] = f"the last pull of tracker {name!r} failed"
    return out


def holds(plan: Plan, stale: Mapping[str, str], pulled_scopes: Callable[[str], set[str]], prefix: str,
          reconciliation=None, failed: Mapping[str, str] | None = None) -> dict[str, Hold]:
    """The milestones held this run, by key. `pulled_scopes(tracker)`: the scope ids it has pulled;
    `failed`: scope id -> why, for scopes that failed alone while the rest of their tracker was pulled."""
    known: dict[str, set[str]] = {}
    out: dict[str, Hold] = {}
    failed = failed or {}
    for milestone in plan.milestones:
        reasons, trackers = [], []
        for scope in milestone.scope:
            if scope.tracker in stale:
                if scope.tracker not in trackers:
                    reasons.append(stale[scope.tracker])
                    trackers.append(scope.tracker)
                continue
            if scope.id in failed:
                reasons.append(failed[scope.id])
                trackers.append(scope.tracker)
                continue
            if scope.remote:
                ids = known.setdefault(scope.tracker, pulled_scopes(scope.tracker))
                if scope.id not in ids:
                    reasons.append(f"scope {scope.describe()} of tracker {scope.tracker!r} has not been pulled yet")
                    trackers.append(scope.tracker)
        if reasons:
            out[milestone.key] = Hold(milestone.key, "; ".join(reasons), tuple(dict.fromkeys(trackers)),
                                      _last_health(milestone.key, reconciliation, prefix, stale))
    return out


def _last_health(key: str, reconciliation, prefix: str, stale: Mapping[str, str]) -> str | None:
    """The health label most of the milestone's own items (in no other milestone, on a current tracker)
    carry: what the last apply confirmed."""
    if reconciliation is None:
        return None
    names = {f"{prefix}{h}": h for h in ("done", "on-track", "at-risk", "off-track")}
    seen: Counter[str] = Counter()
    for uid, keys in reconciliation.membership.items():
        if keys != (key,) or uid[0] in stale:
            continue
        for label in reconciliation.items[uid].labels or ():
            if label in names:
                seen[names[label]] += 1
    return seen.most_common(1)[0][0] if seen else None


def hold_changes(change_plan, reconciliation, held: Mapping[str, Hold], stale: Mapping[str, str]):
    """The change plan without any change to an item of a held milestone or of a stale tracker."""
    if not held and not stale:
        return change_plan, 0
    kept = []
    for change in change_plan.changes:
        uid = (change.tracker, change.item_id)
        if change.tracker in stale or any(k in held for k in reconciliation.membership.get(uid, ())):
            continue
        kept.append(change)
    dropped = len(change_plan.changes) - len(kept)
    milestones = {uid: g for uid, g in change_plan.milestones.items() if g not in held}
    return replace(change_plan, changes=tuple(kept), milestones=milestones), dropped
