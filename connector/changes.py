"""The label-change plan: owned-label diffs against what trackers show now, and the safety threshold.

Pure: computed from a Reconciliation; connector.plan_render renders it, connector.apply makes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from connector.errors import UnsafePlan
from connector.findings import natural_key
from connector.reconcile import Reconciliation, Uid, paused_gc
from connector.values import LabelChange

log = logging.getLogger(__name__)

_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ChangePlan:
    changes: tuple[LabelChange, ...]  # sorted by tracker, then milestone (plan order, none last), then key
    items_in_scope: int  # in-scope issues (pull requests are not counted)
    items_labelled_now: int  # in-scope items carrying at least one owned label now
    milestones: dict[Uid, str | None] = field(default_factory=dict, compare=False)  # change -> its group
    # per tracker: (in-scope items, items carrying an owned label now); a tracker with none labelled is on
    # its first apply even when another tracker is not (its first apply failed, or it was added later)
    by_tracker_counts: dict[str, tuple[int, int]] = field(default_factory=dict, compare=False)
    # (tracker, item key, label): an existing label equal to an owned one only in the tracker's own
    # comparison (GitHub: `Plan:Off-Track` for `plan:off-track`), which the tracker attaches instead
    case_conflicts: tuple[tuple[str, str, str], ...] = field(default=(), compare=False)

    @property
    def empty(self) -> bool:
        return not self.changes

    @property
    def share(self) -> float:
        """Changed items / items in scope (1.0 when changes exist but nothing is in scope)."""
        if not self.changes:
            return 0.0
        return len(self.changes) / self.items_in_scope if self.items_in_scope else 1.0

    @property
    def labels_to_add(self) -> int:
        return sum(len(c.add) for c in self.changes)

    @property
    def labels_to_remove(self) -> int:
        return sum(len(c.remove) for c in self.changes)

    def by_tracker(self) -> dict[str, list[LabelChange]]:
        out: dict[str, list[LabelChange]] = {}
        for change in self.changes:
            out.setdefault(change.tracker, []).append(change)
        return out

    def summary(self) -> str:
        if not self.changes:
            return "No changes. Trackers match the plan."
        return (f"Plan: {_count(self.labels_to_add, 'label')} to add, {self.labels_to_remove} to remove, "
                f"on {_count(len(self.changes), 'item')}.")


def plan_changes(reconciliation: Reconciliation, prefix: str,
                 folds: Mapping[str, Callable[[str], str]] | None = None) -> ChangePlan:
    """Diff each in-scope item's desired owned labels against its current labels; labels outside
    `prefix` never enter a change, and items already right produce none. `folds`: per tracker, how it
    compares label names (its kind's `fold_label`; exact when not given)."""
    if not prefix:
        raise ValueError("the owned label prefix must not be empty: plansync would own every label")
    with paused_gc():
        return _plan_changes(reconciliation, prefix, folds or {})


def _folded_diff(labels, desired: frozenset[str], prefix: str, fold: Callable[[str], str]):
    """(owned labels now, to add, to remove, conflicting names) compared the tracker's way."""
    folded_prefix = fold(prefix)
    owned = {fold(label): label for label in labels or () if fold(label).startswith(folded_prefix)}
    wanted = {fold(label): label for label in desired if fold(label).startswith(folded_prefix)}
    add = frozenset(label for key, label in wanted.items() if key not in owned)
    remove = frozenset(label for key, label in owned.items() if key not in wanted)
    conflicts = tuple(label for key, label in owned.items() if key in wanted and label != wanted[key])
    return frozenset(owned.values()), add, remove, conflicts


def _plan_changes(reconciliation: Reconciliation, prefix: str,
                  folds: Mapping[str, Callable[[str], str]]) -> ChangePlan:
    order = {m.key: n for n, m in enumerate(reconciliation.milestones)}
    last = len(order)
    health = {m.key: m.health.severity for m in reconciliation.milestones}
    membership = reconciliation.membership
    keyed: list[tuple[tuple, LabelChange, str | None]] = []
    in_scope = labelled = 0
    counts: dict[str, list[int]] = {}
    conflicts: list[tuple[str, str, str]] = []
    for uid, desired in reconciliation.desired_labels.items():
        item = reconciliation.items[uid]
        fold = folds.get(item.tracker)
        if fold is None:
            owned = [label for label in item.labels if label.startswith(prefix)] if item.labels else None
            current = frozenset(owned) if owned else _NONE
            wanted = desired if all(label.startswith(prefix) for label in desired) else \
                frozenset(label for label in desired if label.startswith(prefix))
            add, remove = wanted - current, current - wanted
        else:
            current, add, remove, clashes = _folded_diff(item.labels, desired, prefix, fold)
            owned = current
            conflicts.extend((item.tracker, item.key, label) for label in clashes)
        tracker_counts = counts.setdefault(item.tracker, [0, 0])
        if not item.is_pull_request:
            in_scope += 1
            tracker_counts[0] += 1
        if owned:
            labelled += 1
            tracker_counts[1] += 1
        if not add and not remove:
            continue
        keys = membership.get(uid)
        group = (max(keys, key=lambda k: health[k]) if len(keys) > 1 else keys[0]) if keys else None
        change = LabelChange(tracker=item.tracker, item_id=item.id, key=item.key, add=add,
                             remove=remove, reasons=reconciliation.label_reasons.get(uid, ()))
        keyed.append(((item.tracker, order.get(group, last) if group else last, natural_key(item.key), item.id),
                      change, group))
    keyed.sort(key=lambda entry: entry[0])
    plan = ChangePlan(changes=tuple(c for _, c, _ in keyed), items_in_scope=in_scope, items_labelled_now=labelled,
                      milestones={(c.tracker, c.item_id): g for _, c, g in keyed},
                      by_tracker_counts={t: (n, m) for t, (n, m) in counts.items()},
                      case_conflicts=tuple(conflicts))
    if log.isEnabledFor(logging.DEBUG):
        log.debug("change plan: %s", plan.summary())
    return plan


def check_safety(plan: ChangePlan, *, max_share: float, force: bool) -> None:
    """Refuse (UnsafePlan) a plan changing more than `max_share` of the items in scope, unless forced or
    nothing carries an owned label yet (the first apply labels everything once)."""
    if plan.share <= max_share:
        return
    changed, total = len(plan.changes), plan.items_in_scope
    if force:
        log.warning("applying a change to %d of %d items (%.1f %%) above the %.0f %% threshold: --force given",
                    changed, total, plan.share * 100, max_share * 100)
        return
    if plan.items_labelled_now == 0:
        log.info("first apply: no item carries an owned label yet, so the %.0f %% threshold does not apply",
                 max_share * 100)
        return
    first = {t for t, (_, labelled) in plan.by_tracker_counts.items() if labelled == 0}
    if first:
        # a tracker whose first apply has not happened yet (it failed, or the tracker is new) is exempt on
        # its own; the threshold still guards the trackers that are labelled already
        rest = [c for c in plan.changes if c.tracker not in first]
        in_scope = sum(n for t, (n, _) in plan.by_tracker_counts.items() if t not in first)
        if not rest or (in_scope and len(rest) / in_scope <= max_share):
            log.info("first apply on %s: no item there carries an owned label yet, so the %.0f %% threshold "
                     "does not apply to it", ", ".join(sorted(first)), max_share * 100)
            return
        changed, total = len(rest), in_scope
    raise UnsafePlan(f"this apply would change the owned labels of {changed} of {total} items in scope "
                     f"({(changed / total if total else 1.0) * 100:.1f} %), more than the allowed {max_share * 100:.0f} %. "
                     "Review the changes with `plansync plan`; if they are intended (a re-scoped plan, a new "
                     "prefix), rerun with --force.")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
