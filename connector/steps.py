"""The steps a command is made of: pull each tracker into the store, reconcile, apply the label diff
through the write journal, write (and publish) the report. Each tracker's failure stays its own.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

from connector import clock, progress
from connector.errors import (
    AuthError,
    ConfigError,
    RateLimitExhausted,
    StoreError,
    TrackerError,
    UnsafePlan,
)
from connector.faultpoints import crash_point

log = logging.getLogger(__name__)


@dataclass
class TrackerOutcome:
    name: str
    ok: bool = True
    census: bool = False
    items_pulled: int = 0
    error: str | None = None
    stats: dict = field(default_factory=dict)
    writes_ok: int = 0
    writes_failed: int = 0


@dataclass
class RunSummary:
    command: str
    started: float = field(default_factory=time.monotonic)
    started_at: object = None
    trackers: dict[str, TrackerOutcome] = field(default_factory=dict)
    outcome: str = "success"
    error: str | None = None
    changes: int = 0

    def tracker(self, name: str) -> TrackerOutcome:
        return self.trackers.setdefault(name, TrackerOutcome(name))

    @property
    def failed_trackers(self) -> list[str]:
        return [n for n, t in self.trackers.items() if not t.ok]

    def line(self) -> str:
        pulled = sum(t.items_pulled for t in self.trackers.values())
        requests = sum(t.stats.get("requests", 0) for t in self.trackers.values())
        writes = sum(t.writes_ok for t in self.trackers.values())
        duration = time.monotonic() - self.started
        failed = ",".join(self.failed_trackers) or "-"
        return (f"plansync {self.command}: outcome={self.outcome} items_pulled={pulled} requests={requests} "
                f"writes={writes} failed_trackers={failed} duration={duration:.1f}s")


def pull_tracker(settings, declared, store, run_id: int, name: str, *, full: bool, summary: RunSummary) -> None:
    """Pull one tracker into the store; a failure is contained to this tracker."""
    from connector.adapters import make_adapter
    from connector.adapters.base import PullRequest

    outcome = summary.tracker(name)
    tracker = settings.trackers[name]
    scopes = tuple(declared.scopes_for(name))
    adapter = None
    try:
        adapter = make_adapter(tracker, settings)
        census = full or store.sync_count(name) % settings.sync.census_every == 0
        known_ids, known_keys = frozenset(), {}
        if census:
            present = store.items(name)
            known_ids = frozenset(i.id for i in present)
            known_keys = {i.id: i.key for i in present}
        request = PullRequest(scopes=scopes, cursors=store.get_cursors(name), known_ids=known_ids, full=census,
                              known_keys=known_keys)
        log.info("%s: %s pull of %d scope(s)", name, "full" if census else "incremental", len(scopes))
        with progress.status(f"pulling {name} ({'census' if census else 'incremental'})"):
            result = adapter.pull(request)
        saved = store.save_pull(run_id, result, observed_at=clock.now())
        for status in sorted(result.unmapped_statuses):
            log.warning("%s: status %r is not in the mapping; mapped by its category", name, status)
        for note in result.notes:
            log.warning("%s: %s", name, note)
        outcome.census, outcome.items_pulled = census, len(result.all_items())
        outcome.stats = adapter.stats.as_dict()
        store.mark_tracker_synced(run_id, name, ok=True, census=census, requests=outcome.stats)
        log.info("%s: pulled %d item(s): %d new, %d changed, %d gone; %d request(s)", name, outcome.items_pulled,
                 saved.inserted, saved.changed, saved.gone, outcome.stats.get("requests", 0))
    except (TrackerError, StoreError) as exc:
        outcome.ok, outcome.error = False, str(exc)
        if adapter is not None:
            outcome.stats = adapter.stats.as_dict()
        log.error("%s", exc)
        try:
            store.mark_tracker_synced(run_id, name, ok=False, census=False, requests=outcome.stats)
        except StoreError:  # the store itself failed; the run's outcome already says so
            pass
    finally:
        if adapter is not None:
            adapter.close()


def sync_trackers(settings, declared, store, run_id, names, *, full, summary) -> None:
    for name in names:
        pull_tracker(settings, declared, store, run_id, name, full=full, summary=summary)


def reconcile_store(settings, declared, store):
    from connector.reconcile import reconcile

    jql_scopes = [s.id for s in declared.all_scopes() if s.jql is not None]
    return reconcile(
        declared, store.items(), store.scope_members(jql_scopes), store.milestones(),
        store.done_events(since=None), now=clock.now(), prefix=settings.labels.prefix,
        stale_days=settings.reconcile.stale_days, forecast_runs=settings.reconcile.forecast_runs,
        seed=settings.reconcile.seed, forecast_window_days=settings.reconcile.forecast_window_days)


def apply_changes(settings, declared, store, run_id, names, *, force: bool, summary: RunSummary):
    """Reconcile, plan the label diff, and make it through the write journal. Returns the ChangePlan."""
    from connector.adapters import make_adapter
    from connector.changes import check_safety, plan_changes

    # Entries a crashed run left planned or sent were settled by the pull that just ran: the tracker's
    # labels now say whether they landed, and the fresh diff below contains exactly what is still missing.
    interrupted = store.journal_unfinished()
    for entry in interrupted:
        store.journal_mark(entry.id, "superseded")
    reconciliation = reconcile_store(settings, declared, store)
    change_plan = plan_changes(reconciliation, settings.labels.prefix)
    # Changes an interrupted apply had already planned passed its safety check; finishing them is not
    # a new mass change (else a crash during a first apply would make every later run refuse).
    approved = {(e.change.tracker, e.change.item_id, e.change.add, e.change.remove) for e in interrupted}
    unapproved = tuple(c for c in change_plan.changes if (c.tracker, c.item_id, c.add, c.remove) not in approved)
    check_safety(replace(change_plan, changes=unapproved), max_share=settings.apply.max_change_share, force=force)
    summary.changes = len(change_plan.changes)
    by_tracker = change_plan.by_tracker()
    for name in names:
        changes = by_tracker.get(name, [])
        outcome = summary.tracker(name)
        if not changes:
            continue
        if not outcome.ok:
            log.error("%s: not applying %d change(s): this run's pull of the tracker failed", name, len(changes))
            continue
        adapter = make_adapter(settings.trackers[name], settings)
        try:
            entry_ids = store.journal_plan(run_id, list(changes))
            with progress.bar(len(changes), f"labels on {name}") as advance:
                _write_labels(store, adapter, reconciliation, name, zip(entry_ids, changes, strict=True),
                              outcome, advance)
            if outcome.writes_failed:
                outcome.ok = False
                outcome.error = outcome.error or f"{outcome.writes_failed} label write(s) failed"
            for key in ("requests", "reads", "writes", "retries"):
                outcome.stats[key] = outcome.stats.get(key, 0) + adapter.stats.as_dict().get(key, 0)
        finally:
            adapter.close()
    return change_plan, reconciliation


def _write_labels(store, adapter, reconciliation, name, entries, outcome: TrackerOutcome, advance) -> None:
    """Send one tracker's journaled label changes, marking each entry sent -> confirmed | failed."""
    for entry_id, change in entries:
        advance()
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
            item = reconciliation.items.get((name, change.item_id))
            current = set(item.labels) if item else set()
            labels = tuple(sorted((current - change.remove) | change.add))
            store.journal_confirm(entry_id, name, change.item_id, labels, clock.now())
            outcome.writes_ok += 1
            log.info("%s %s: %s", name, change.key, _describe_change(change))
        else:
            store.journal_mark(entry_id, "failed", error=result.error)
            outcome.writes_failed += 1
            log.error("%s %s: write failed: %s", name, change.key, result.error)


def _describe_change(change) -> str:
    parts = [f"+{label}" for label in sorted(change.add)] + [f"-{label}" for label in sorted(change.remove)]
    return " ".join(parts)


def needs_resume(store) -> bool:
    return bool(store.journal_unfinished())


def publish_description(settings, declared) -> str | None:
    """The comment `run` would post, shown by `plan` like any other change (None when publishing is off)."""
    from connector.report import describe_publish

    if settings.report.publish is None:
        return None
    week = clock.now().astimezone(_zone(declared)).isocalendar()
    return describe_publish(settings.report.publish, f"{week.year}-W{week.week:02d}")


def _zone(declared):
    from zoneinfo import ZoneInfo

    return ZoneInfo(declared.plan.timezone)


def apply_guarded(settings, declared, store, run_id, names, *, force: bool, summary: RunSummary) -> None:
    """_apply, with a refusal by the safety threshold turned into a failed run that says why."""
    try:
        apply_changes(settings, declared, store, run_id, names, force=force, summary=summary)
    except UnsafePlan as exc:
        summary.outcome, summary.error = "failed", str(exc)
        print(f"plansync: refused: {exc}")


def write_reports(settings, declared, store, *, week=None, as_of=None, formats="", out=None, publish=False):
    from connector.report import build_report, write_report

    chosen = tuple(f.strip() for f in formats.split(",") if f.strip()) if formats else settings.report.formats
    for fmt in chosen:
        if fmt not in ("md", "html", "json"):
            raise ConfigError(f"unknown report format {fmt!r}; expected md, html or json", key="--format")
    when = parse_instant(as_of) if as_of else None
    report = build_report(store, declared, settings, week=week, as_of=when)
    paths = write_report(report, out or settings.report.out_dir, chosen)
    if publish and settings.report.publish is not None:
        _publish(settings, report)
    return paths


def _publish(settings, report) -> None:
    from connector.adapters import make_adapter
    from connector.report import publish_report

    target = settings.report.publish
    adapter = make_adapter(settings.tracker(target.tracker), settings)
    try:
        publish_report(adapter, target, report, report.label)  # the summary, in the tracker's own format
    except TrackerError as exc:
        log.error("publishing the report failed: %s", exc)
    finally:
        adapter.close()


def parse_instant(text: str):
    from datetime import UTC, datetime

    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"expected a date or instant like 2026-11-20 or 2026-11-20T18:00:00Z, got {text!r}",
                          key="--as-of") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
