"""The label-change plan: owned-label diffs against what trackers show now, each with its cause, and the
safety threshold that guards against surprises (scope, drift), not against news (health, status, overdue).

Pure: computed from a Reconciliation and the store's label records; connector.plan_render renders it,
connector.apply makes it. The rules are stated in README.md ("The change plan and the safety threshold").
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from connector.errors import UnsafePlan
from connector.findings import natural_key
from connector.reconcile import Reconciliation, Uid, paused_gc
from connector.values import LabelChange, LabelRecord

log = logging.getLogger(__name__)

_NONE: frozenset[str] = frozenset()


CAUSES = ("health", "status", "overdue", "scope", "drift")
GUARDED = frozenset({"scope", "drift"})
WATCH = "(watch)"  # the placement of unplanned work: in a watch scope, in no milestone


@dataclass(frozen=True)
class PrefixChange:
    """Owned labels this store wrote under an earlier `labels.prefix`, still on the trackers."""

    old: tuple[str, ...]  # the earlier prefixes
    items: int  # items still carrying labels written with one of them
    labels: Counter = field(default_factory=Counter, compare=False)  # label -> items
    migrating: bool = False  # `apply --migrate-prefix`: this plan moves them


@dataclass(frozen=True)
class ChangePlan:
    changes: tuple[LabelChange, ...]  # sorted by tracker, then milestone (plan order, none last), then key
    items_in_scope: int  # issues in scope now or leaving it (pull requests are not counted)
    items_labelled_now: int  # in-scope items carrying at least one owned label now
    milestones: dict[Uid, str | None] = field(default_factory=dict, compare=False)  # change -> its group
    covered: int = 0  # the items the plan covers: issues in scope now plus those leaving scope
    first_trackers: frozenset[str] = frozenset()  # trackers this store never confirmed a label on
    adopted: dict[str, int] = field(default_factory=dict, compare=False)  # first-apply tracker -> labelled items
    records: dict[Uid, LabelRecord] = field(default_factory=dict, compare=False)  # what a confirmed write records
    baseline: tuple[LabelRecord, ...] = ()  # records to keep without a write (adoption; items already right)
    prefix_change: PrefixChange | None = None
    left_alone: dict[Uid, str] = field(default_factory=dict, compare=False)  # held back, and why
    prefix: str = ""
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

    def guarded(self, exempt: frozenset[tuple] = frozenset()) -> list[LabelChange]:
        """Changes the threshold counts: guarded causes, on trackers past their first apply, minus
        `exempt` (changes an interrupted apply had planned: resumed, they are not counted twice)."""
        return [c for c in self.changes if c.cause in GUARDED and c.tracker not in self.first_trackers
                and _identity(c) not in exempt]

    def summary(self) -> str:
        if not self.changes:
            return "No changes. Trackers match the plan."
        return (f"Plan: {_count(self.labels_to_add, 'label')} to add, {self.labels_to_remove} to remove, "
                f"on {_count(len(self.changes), 'item')}.")


def _identity(change: LabelChange) -> tuple:
    return (change.tracker, change.item_id, change.add, change.remove)


def placement_of(uid: Uid, reconciliation: Reconciliation) -> tuple[str, ...]:
    keys = reconciliation.membership.get(uid)
    if keys:
        return tuple(sorted(keys))
    return (WATCH,) if uid in reconciliation.unplanned else ()


def plan_changes(reconciliation: Reconciliation, prefix: str, records: Mapping[Uid, LabelRecord] | None = None,
                 recorded_trackers: frozenset[str] | None = None, *, migrate_prefix: bool = False,
                 hold: Mapping[str, str] | None = None,
                 folds: Mapping[str, Callable[[str], str]] | None = None) -> ChangePlan:
    """Diff each in-scope item's desired owned labels against its current labels, and give each change
    its cause from `records` (what this store last confirmed on the item). Labels outside `prefix`
    never enter a change (but labels this store wrote under an earlier prefix leave with
    `migrate_prefix`), and items already right produce none. `hold`: trackers whose changes are held
    back this run (their data is not current), with why. `recorded_trackers` (default: the trackers of
    `records`) are past their first apply; every other tracker is on it (a fresh store: all of them).
    `folds`: per tracker, how it compares label names (its kind's `fold_label`; exact when not given)."""
    if not prefix:
        raise ValueError("the owned label prefix must not be empty: plansync would own every label")
    records = records or {}
    if recorded_trackers is None:
        recorded_trackers = frozenset(t for t, _ in records)
    with paused_gc():
        return _plan_changes(reconciliation, prefix, records, recorded_trackers, migrate_prefix, hold or {},
                             folds or {})


def _folded_diff(labels, desired: frozenset[str], prefix: str, fold: Callable[[str], str]):
    """(owned labels now, wanted, to add, to remove, conflicting names) compared the tracker's way."""
    folded_prefix = fold(prefix)
    owned = {fold(label): label for label in labels or () if fold(label).startswith(folded_prefix)}
    wanted = {fold(label): label for label in desired if fold(label).startswith(folded_prefix)}
    add = frozenset(label for key, label in wanted.items() if key not in owned)
    remove = frozenset(label for key, label in owned.items() if key not in wanted)
    conflicts = tuple(label for key, label in owned.items() if key in wanted and label != wanted[key])
    return frozenset(owned.values()), frozenset(wanted.values()), add, remove, conflicts


def _plan_changes(reconciliation: Reconciliation, prefix: str, records: Mapping[Uid, LabelRecord],
                  recorded: frozenset[str], migrate: bool, hold: Mapping[str, str],
                  folds: Mapping[str, Callable[[str], str]]) -> ChangePlan:
    order = {m.key: n for n, m in enumerate(reconciliation.milestones)}
    last = len(order)
    health = {m.key: m.health.severity for m in reconciliation.milestones}
    membership = reconciliation.membership
    keyed: list[tuple[tuple, LabelChange, str | None]] = []
    labelled = covered = 0
    first: set[str] = set()
    adopted: Counter = Counter()
    after: dict[Uid, LabelRecord] = {}
    baseline: list[LabelRecord] = []
    old_labels: Counter = Counter()
    old_prefixes: set[str] = set()
    old_items = 0
    left_alone: dict[Uid, str] = {}
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
            current, wanted, add, remove, clashes = _folded_diff(item.labels, desired, prefix, fold)
            owned = current
            conflicts.extend((item.tracker, item.key, label) for label in clashes)
        placement = placement_of(uid, reconciliation)
        if not item.is_pull_request:
            covered += 1
        if owned:
            labelled += 1
        is_first = item.tracker not in recorded
        if is_first:
            first.add(item.tracker)
            if owned:
                adopted[item.tracker] += 1
        record = records.get(uid)
        stale: frozenset[str] = _NONE  # labels this store wrote under an earlier prefix, still there
        if record is not None and (record.legacy or record.prefix != prefix):
            carried = record.legacy | (record.labels if record.prefix != prefix else _NONE)
            stale = frozenset(label for label in carried if label in item.labels)
            if stale:
                old_items += 1
                old_prefixes.add(record.prefix if record.prefix != prefix else "an earlier prefix")
                old_labels.update(stale)
        remove_old = stale if migrate else _NONE
        now_record = LabelRecord(item.tracker, item.id, wanted, placement, item.status.is_open, prefix,
                                 _NONE if migrate else stale)
        if not add and not remove and not remove_old:
            if record != now_record and not item.is_pull_request:
                baseline.append(now_record)  # already right: the record follows (adoption, a new placement)
            continue
        if item.tracker in hold:
            left_alone[uid] = hold[item.tracker]
            continue
        if is_first and record is None:
            # the tracker's first apply: its labels now are adopted as this store's starting point
            # (an owned label means the item was open when it was labelled)
            record = LabelRecord(item.tracker, item.id, current, placement, item.status.is_open or bool(current),
                                 prefix)
            baseline.append(record)
        keys = membership.get(uid)
        group = (max(keys, key=lambda k: health[k]) if len(keys) > 1 else keys[0]) if keys else None
        change = LabelChange(tracker=item.tracker, item_id=item.id, key=item.key, add=add,
                             remove=remove | remove_old, reasons=reconciliation.label_reasons.get(uid, ()),
                             cause="drift" if item.is_pull_request else  # nobody plans a pull request
                             cause_of(record, current, wanted, placement, item.status.is_open, prefix, fold))
        after[uid] = now_record
        keyed.append(((item.tracker, order.get(group, last) if group else last, natural_key(item.key), item.id),
                      change, group))
    keyed.sort(key=lambda entry: entry[0])
    prefix_change = PrefixChange(tuple(sorted(old_prefixes)), old_items, old_labels, migrate) if old_items else None
    plan = ChangePlan(changes=tuple(c for _, c, _ in keyed), items_in_scope=covered, items_labelled_now=labelled,
                      milestones={(c.tracker, c.item_id): g for _, c, g in keyed}, covered=covered,
                      first_trackers=frozenset(first), adopted=dict(adopted), records=after,
                      baseline=tuple(baseline), prefix_change=prefix_change, left_alone=left_alone, prefix=prefix,
                      case_conflicts=tuple(conflicts))
    if log.isEnabledFor(logging.DEBUG):
        log.debug("change plan: %s", plan.summary())
    return plan


def cause_of(record: LabelRecord | None, current: frozenset[str], wanted: frozenset[str],
             placement: tuple[str, ...], is_open: bool, prefix: str, fold: Callable[[str], str] | None = None) -> str:
    """Why an item's owned labels change, against what this store last confirmed on it (README has the
    table); label names are compared the tracker's way (`fold`)."""
    def norm(labels) -> frozenset[str]:
        return frozenset(map(fold, labels)) if fold else frozenset(labels)

    if record is None:
        # never confirmed by this store: owned labels on it came from elsewhere; none means it is new here
        return "drift" if current else "scope"
    if record.prefix != prefix or norm(record.labels) != norm(current):
        return "drift"
    if record.placement != placement:
        return "scope"
    if record.is_open != is_open:
        return "status"
    flag = norm({f"{prefix}overdue"})
    if (norm(current) - flag) != (norm(wanted) - flag):
        return "health"
    return "overdue"


def check_safety(plan: ChangePlan, *, max_share: float, min_guarded: int = 10, force: bool = False,
                 exempt: frozenset[tuple] = frozenset()) -> None:
    """Refuse (UnsafePlan) when the guarded changes exceed both `min_guarded` and `max_share` of the items
    the plan covers, unless forced or migrating the prefix on purpose."""
    guarded = plan.guarded(exempt)
    if plan.prefix_change is not None and plan.prefix_change.migrating:
        # moving labels from the old prefix is what the user asked for: not a surprise
        guarded = [c for c in guarded if not any(not label.startswith(plan.prefix) for label in c.remove)]
    if not breaches(len(guarded), plan.covered, max_share=max_share, min_guarded=min_guarded):
        return
    line = guard_line(len(guarded), plan.covered, max_share=max_share, min_guarded=min_guarded)
    if force:
        log.warning("applying above the safety threshold (%s): --force given", line)
        return
    groups = "; ".join(f"{text} ({n})" for text, n in biggest_groups(plan, guarded))
    advice = ("Review the changes with `plansync plan`; if they are intended (a re-scoped plan), rerun with "
              "--force.")
    if plan.prefix_change is not None and not plan.prefix_change.migrating:
        advice = (f"The owned label prefix changed (was {', '.join(map(repr, plan.prefix_change.old))}): rerun "
                  "with --migrate-prefix to move the labels plansync wrote, or --force to add the new ones and "
                  "leave the old ones.")
    raise UnsafePlan(f"{line}: {len(guarded)} guarded change(s) (scope, drift) are more than "
                     f"{min_guarded} and more than {max_share * 100:.0f} % of the {plan.covered} items covered. "
                     f"Biggest: {groups}. {advice}")


def breaches(guarded: int, covered: int, *, max_share: float, min_guarded: int) -> bool:
    share = guarded / covered if covered else (1.0 if guarded else 0.0)
    return guarded > min_guarded and share > max_share


def guard_line(guarded: int, covered: int, *, max_share: float, min_guarded: int) -> str:
    share = guarded / covered * 100 if covered else (100.0 if guarded else 0.0)
    return (f"guarded: {guarded} of {covered} items, {share:.1f} %, "
            f"limit {max_share * 100:.0f} % and {min_guarded}")


def biggest_groups(plan: ChangePlan, guarded: list[LabelChange], limit: int = 3) -> list[tuple[str, int]]:
    """The largest groups of guarded changes, in words: which milestone lost or gained items, which
    labels drifted."""
    groups: Counter = Counter()
    for change in guarded:
        record = plan.records.get((change.tracker, change.item_id))
        if change.cause == "scope":
            now = record.placement if record else ()
            groups[f"{change.tracker}: {'entering ' + ', '.join(now) if now else 'leaving every scope'}"] += 1
        else:
            labels = sorted(change.add | change.remove)
            groups[f"{change.tracker}: owned labels differ from what plansync last wrote ({', '.join(labels)})"] += 1
    return groups.most_common(limit)


def without(plan: ChangePlan, keep: frozenset[tuple]) -> ChangePlan:
    """The plan with only the changes whose identity is in `keep` (for a partial apply)."""
    return replace(plan, changes=tuple(c for c in plan.changes if _identity(c) in keep))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
