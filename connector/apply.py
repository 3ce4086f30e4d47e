"""The write journal protocol: a change plan goes to the trackers as planned → sent → confirmed | failed.

Every change is recorded before it is sent and marked after, so a crash mid-apply is resumed after the
next pull (which shows what landed) without duplicate or lost writes.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from connector import clock, progress
from connector.errors import AuthError, RateLimitExhausted, TrackerError
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
        if not outcome.ok:
            log.error("%s: not applying %d change(s): this run's pull of the tracker failed", name, len(changes))
            continue
        adapter = run.adapter(name)
        before = adapter.stats.as_dict()
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


def _write_labels(run: Run, adapter, reconciliation, change_plan, entries, outcome: TrackerOutcome,
                  advance) -> None:
    """Send one tracker's journaled label changes, marking each entry sent -> confirmed | failed."""
    store, name, prefix = run.store, adapter.name, change_plan.prefix
    for entry_id, change in entries:
        advance()
        run.check_leases()  # a lost lease means another run may be writing: stop before this write
        store.journal_mark(entry_id, "sent")
        crash_point("journal-sent")  # recorded as sent, not yet sent
        try:
            result = adapter.push_labels(change)
        except (AuthError, RateLimitExhausted) as exc:
            store.journal_mark(entry_id, "failed", error=str(exc))
            outcome.ok, outcome.error = False, str(exc)
            outcome.writes_failed += 1
            log.error("%s", exc)
            break
        except TrackerError as exc:
            store.journal_mark(entry_id, "failed", error=str(exc))
            outcome.writes_failed += 1
            log.error("%s: %s", change.key, exc)
            continue
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
