"""The write journal protocol: a change plan goes to the trackers as planned → sent → confirmed | failed.

Every change is recorded before it is sent and marked after, so a crash mid-apply is resumed after the
next pull (which shows what landed) without duplicate or lost writes.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from connector import clock, progress
from connector.errors import AuthError, ConfigError, RateLimitExhausted, TrackerError
from connector.faultpoints import crash_point
from connector.run import Run, TrackerOutcome

log = logging.getLogger(__name__)


def apply_changes(run: Run, *, force: bool, migrate_prefix: bool = False):
    """Reconcile, plan the label diff, check the threshold, and make it tracker by tracker."""
    from connector.changes import check_safety
    from connector.pipeline import plan_changes, reconcile

    store, settings = run.store, run.settings
    # Entries a crashed run left planned or sent were settled by the pull that just ran: the tracker's
    # labels now say whether they landed, and the fresh diff below contains exactly what is still missing.
    interrupted = store.journal_unfinished()
    for entry in interrupted:
        store.journal_mark(entry.id, "superseded")
    reconciliation = reconcile(run)
    change_plan = plan_changes(run, migrate_prefix=migrate_prefix)
    # Changes an interrupted apply had already planned passed its safety check; finishing them is not
    # a new mass change (else a crash during a first apply would make every later run refuse).
    exempt = frozenset((e.change.tracker, e.change.item_id, e.change.add, e.change.remove) for e in interrupted)
    check_safety(change_plan, max_share=settings.apply.max_change_share,
                 min_guarded=settings.apply.min_guarded_changes, force=force, exempt=exempt)
    run.summary.changes = len(change_plan.changes)
    applied = [n for n in run.names if run.summary.tracker(n).ok]
    # adoption on a first apply, and the records of items that are right already, before any write: a
    # crash below then resumes against the same starting point
    store.save_label_records([r for r in change_plan.baseline if r.tracker in applied], clock.now())
    for name, count in sorted(change_plan.adopted.items()):
        if name in applied:
            run.output.append(f"{name}: adopting {count} item(s) already labelled by an earlier installation")
    by_tracker = change_plan.by_tracker()
    for name in run.names:
        changes = by_tracker.get(name, [])
        outcome = run.summary.tracker(name)
        if not changes:
            continue
        if not outcome.ok and not outcome.failed_scopes:  # scopes that failed alone: their milestones are held
            log.error("%s: not applying %d change(s): this run's pull of the tracker failed", name, len(changes))
            continue
        adapter = run.adapter(name)
        before = adapter.stats.as_dict()
        changes, deferred = _within_budget(run, adapter, list(changes))
        if deferred:
            outcome.writes_deferred = len(deferred)
            run.output.append(f"{name}: {len(deferred)} change(s) deferred to the next run (this run's write "
                              "budget is spent); the next run continues")
            log.warning("%s: %d change(s) deferred: the write budget of this run is spent", name, len(deferred))
        if not changes:
            continue
        entry_ids = store.journal_plan(run.run_id, list(changes))
        with progress.bar(len(changes), f"labels on {name}") as advance:
            _write_labels(run, adapter, reconciliation, change_plan, zip(entry_ids, changes, strict=True), outcome,
                          advance)
        if outcome.writes_failed:
            outcome.ok = False
            outcome.error = outcome.error or f"{outcome.writes_failed} label write(s) failed"
        after = adapter.stats.as_dict()
        for key in ("requests", "reads", "writes", "retries"):
            outcome.stats[key] = outcome.stats.get(key, 0) + after.get(key, 0) - before.get(key, 0)
    return change_plan


def would_defer(run: Run, change_plan) -> dict[str, int]:
    """For `plan`: per tracker, the changes an apply now would leave for a later run (its write budget:
    the journal's last hour and, after a pull, the primary limit the pull left)."""
    out: dict[str, int] = {}
    for name, changes in sorted(change_plan.by_tracker().items()):
        if not changes or not run.summary.tracker(name).ok:
            continue
        try:
            adapter = run.adapter(name)
        except (TrackerError, ConfigError) as exc:  # plan --no-sync without a token: the budget is not known
            log.debug("%s: write budget unknown (%s)", name, exc)
            continue
        deferred = _within_budget(run, adapter, list(changes))[1]
        if deferred:
            out[name] = len(deferred)
    return out


def _within_budget(run: Run, adapter, changes: list) -> tuple[list, list]:
    """The changes that fit this run's write budget, and those deferred (never journaled: the next run's
    diff holds them again, so a crash cannot lose or double them). Adapters without `write_budget` have none."""
    budget_of = getattr(adapter, "write_budget", None)
    if budget_of is None:
        return changes, []
    cost = adapter.write_cost
    spent = sum(cost(e.change) for e in run.store.journal_since(adapter.name, clock.now() - timedelta(hours=1)))
    budget = budget_of(spent)
    if budget is None:
        return changes, []
    taken, used = [], 0
    for n, change in enumerate(changes):
        if used + cost(change) > budget:
            return taken, changes[n:]
        taken.append(change)
        used += cost(change)
    return taken, []


def _write_labels(run: Run, adapter, reconciliation, change_plan, entries, outcome: TrackerOutcome,
                  advance) -> None:
    """Send one tracker's journaled label changes, marking each entry sent -> confirmed | failed.

    An adapter with `push_labels_grouped(changes, sending)` sends several changes per request; it calls
    `sending(batch)` before each request, and each batch's entries are marked sent then (the lease is
    checked first), so the journal is exactly what the per-item path would hold at that moment.
    """
    store = run.store
    entries = list(entries)
    ids = {change.item_id: entry_id for entry_id, change in entries}  # one change per item
    sent: set[str] = set()

    def sending(batch) -> None:
        run.check_leases()  # a lost lease means another run may be writing: stop before this write
        for change in batch:
            store.journal_mark(ids[change.item_id], "sent")
            sent.add(change.item_id)
        crash_point("journal-sent")  # recorded as sent, not yet sent

    grouped = getattr(adapter, "push_labels_grouped", None)
    if grouped is not None:
        results = grouped([change for _, change in entries], sending)
    else:
        results = _one_by_one(adapter, [change for _, change in entries], sending)
    settled: set[str] = set()
    try:
        for result in results:
            advance()
            settled.add(result.change.item_id)
            _settle(run, adapter, reconciliation, change_plan, ids[result.change.item_id], result, outcome)
    except TrackerError as exc:  # auth, budget, or a batch the tracker refused: this tracker stops here
        for change_id in sent - settled:
            store.journal_mark(ids[change_id], "failed", error=str(exc))
            outcome.writes_failed += 1
        outcome.ok, outcome.error = False, str(exc)
        log.error("%s", exc)


def _one_by_one(adapter, changes, sending):
    for change in changes:
        sending([change])
        yield _push_one(adapter, change)


def _push_one(adapter, change):
    from connector.values import WriteResult

    try:
        return adapter.push_labels(change)
    except (AuthError, RateLimitExhausted):
        raise
    except TrackerError as exc:
        return WriteResult(change, ok=False, requests=0, error=str(exc))


def _settle(run: Run, adapter, reconciliation, change_plan, entry_id, result, outcome: TrackerOutcome) -> None:
    store, name, prefix, change = run.store, adapter.name, change_plan.prefix, result.change
    if result.ok:
        crash_point("write-sent")  # the tracker has it, the journal does not know yet
        if result.labels is not None:
            labels = tuple(sorted(result.labels))
        else:
            item = reconciliation.items.get((name, change.item_id))
            labels = change.labels_after(item.labels if item else ())
        record = change_plan.records.get((name, change.item_id))
        if record is not None:  # what this store now knows it confirmed on the item
            record = replace(record, labels=frozenset(label for label in labels if label.startswith(prefix)))
        store.journal_confirm(entry_id, name, change.item_id, labels, clock.now(), record=record)
        outcome.writes_ok += 1
        log.info("%s %s: %s", name, change.key, describe_change(change))
    else:
        store.journal_mark(entry_id, "failed", error=result.error)
        outcome.writes_failed += 1
        log.error("%s %s: write failed: %s", name, change.key, result.error)


def describe_change(change) -> str:
    parts = [f"+{label}" for label in sorted(change.add)] + [f"-{label}" for label in sorted(change.remove)]
    return " ".join(parts)
