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


def apply_changes(run: Run, *, force: bool):
    """Reconcile, plan the label diff, check the threshold, and make it tracker by tracker."""
    from connector.changes import check_safety
    from connector.pipeline import plan_changes, reconcile

    store = run.store
    # Entries a crashed run left planned or sent were settled by the pull that just ran: the tracker's
    # labels now say whether they landed, and the fresh diff below contains exactly what is still missing.
    interrupted = store.journal_unfinished()
    for entry in interrupted:
        store.journal_mark(entry.id, "superseded")
    reconciliation = reconcile(run)
    change_plan = plan_changes(run)
    # Changes an interrupted apply had already planned passed its safety check; finishing them is not
    # a new mass change (else a crash during a first apply would make every later run refuse).
    approved = {(e.change.tracker, e.change.item_id, e.change.add, e.change.remove) for e in interrupted}
    unapproved = tuple(c for c in change_plan.changes if (c.tracker, c.item_id, c.add, c.remove) not in approved)
    check_safety(replace(change_plan, changes=unapproved), max_share=run.settings.apply.max_change_share, force=force)
    run.summary.changes = len(change_plan.changes)
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
            _write_labels(run, adapter, reconciliation, name, zip(entry_ids, changes, strict=True), outcome, advance)
        if outcome.writes_failed:
            outcome.ok = False
            outcome.error = outcome.error or f"{outcome.writes_failed} label write(s) failed"
        after = adapter.stats.as_dict()
        for key in ("requests", "reads", "writes", "retries"):
            outcome.stats[key] = outcome.stats.get(key, 0) + after.get(key, 0) - before.get(key, 0)
    return change_plan


def _write_labels(run: Run, adapter, reconciliation, name, entries, outcome: TrackerOutcome, advance) -> None:
    """Send one tracker's journaled label changes, marking each entry sent -> confirmed | failed."""
    store = run.store
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
            store.journal_confirm(entry_id, name, change.item_id, labels, clock.now())
            outcome.writes_ok += 1
            log.info("%s %s: %s", name, change.key, describe_change(change))
        else:
            store.journal_mark(entry_id, "failed", error=result.error)
            outcome.writes_failed += 1
            log.error("%s %s: write failed: %s", name, change.key, result.error)


def describe_change(change) -> str:
    parts = [f"+{label}" for label in sorted(change.add)] + [f"-{label}" for label in sorted(change.remove)]
    return " ".join(parts)
