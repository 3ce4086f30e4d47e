"""The steps of a run, each over the `Run` context: pull → reconcile → plan changes → apply → report.

Each tracker's failure stays its own. A run reconciles once: the labels it writes and the report it
writes come from the same reconciliation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from connector import clock, progress
from connector.errors import ConfigError, StoreError, TrackerError, UnsafePlan
from connector.run import Run
from connector.store.metadata import MetadataCache
from connector.trackers import registry
from connector.values import Outcome, PullSpec

log = logging.getLogger(__name__)


def pull(run: Run, *, full: bool) -> None:
    for name in run.names:
        pull_tracker(run, name, full=full)


def pull_tracker(run: Run, name: str, *, full: bool) -> None:
    """Pull one tracker into the store; a failure is contained to this tracker."""
    store, settings = run.store, run.settings
    outcome = run.summary.tracker(name)
    scopes = tuple(run.plan.scopes_for(name))
    outcome.pulled = True
    adapter = None
    try:
        adapter = run.adapter(name)
        census = full or store.sync_count(name) % settings.sync.census_every == 0
        known_ids, known_keys, known_blockers, known_created = frozenset(), {}, {}, {}
        if census:
            present = store.items(name)
            known_ids = frozenset(i.id for i in present)
            known_keys = {i.id: i.key for i in present}
            known_blockers = {i.id: (i.updated, i.blocked_by) for i in present if i.blocked_by}
            created = {i.id: i.created for i in present}
            known_created = {sid: tuple(sorted(created[i] for t, i in members if t == name and i in created))
                             for sid, members in store.scope_members([s.id for s in scopes]).items()}
        metadata = MetadataCache(store, name, now=clock.now(), census=census,
                                 ttl=timedelta(hours=settings.sync.metadata_ttl_hours))
        spec = PullSpec(scopes=scopes, cursors=store.get_cursors(name), known_ids=known_ids, full=census,
                        known_keys=known_keys, metadata=metadata, known_blockers=known_blockers,
                        known_created=known_created,
                        planned=frozenset(s.id for m in run.plan.milestones for s in m.scope))
        log.info("%s: %s pull of %d scope(s)", name, "full" if census else "incremental", len(scopes))
        with progress.status(f"pulling {name} ({'census' if census else 'incremental'})"):
            result = adapter.pull(spec)
        saved = store.save_pull(run.run_id, result, observed_at=clock.now())
        metadata.flush()  # after the pull it came with is stored
        for status in sorted(result.unmapped_statuses):
            log.warning("%s: status %r is not named in the mapping; it was mapped by the mapping's rule for "
                        "its category or state", name, status)
        for note in result.notes:
            log.warning("%s: %s", name, note)
        outcome.census, outcome.items_pulled, outcome.current = result.census, len(result.all_items()), True
        outcome.stats = adapter.stats.as_dict()
        if result.failed:  # the other scopes are current; these keep their stored data, their milestones held
            outcome.failed_scopes = {f.scope_id: f"scope {f.scope} of tracker {name!r} failed this run ({f.error})"
                                     for f in result.failed}
            outcome.ok = False
            outcome.error = "; ".join(f"scope {f.scope}: {f.error}" for f in result.failed)
            for failure in result.failed:
                log.error("%s: scope %s failed, the tracker's other scopes were pulled: %s", name, failure.scope,
                          failure.error)
        # a pull with a failed scope is not a good sync: freshness and the census cadence wait for a whole one
        store.mark_tracker_synced(run.run_id, name, ok=not result.failed, census=result.census,
                                  requests=outcome.stats)
        log.info("%s: pulled %d item(s): %d new, %d changed, %d gone; %d request(s)", name, outcome.items_pulled,
                 saved.inserted, saved.changed, saved.gone, outcome.stats.get("requests", 0))
    except (TrackerError, StoreError) as exc:
        outcome.ok, outcome.error = False, str(exc)
        if adapter is not None:
            outcome.stats = adapter.stats.as_dict()
        log.error("%s", exc)
        try:
            store.mark_tracker_synced(run.run_id, name, ok=False, census=False, requests=outcome.stats)
        except StoreError:  # the store itself failed; the run's outcome already says so
            pass


def reconcile(run: Run):
    """Reconcile the plan with the store's items, once per run (later steps reuse the result)."""
    if run.reconciliation is None:
        run.reconciliation = reconcile_plan(run, run.plan, now=clock.now())
        run.reconciled += 1
    return run.reconciliation


def reconcile_plan(run: Run, declared, *, now, unstored: Unstored | None = None):
    """Reconcile any plan with the store's items (plus `unstored`: what a review read of scopes the store
    has never pulled), without keeping the result on the run."""
    from connector.reconcile import reconcile as reconcile_items

    settings, store = run.settings, run.store
    remote = [s.id for s in declared.all_scopes() if s.remote]
    items, members, milestones = store.items(), store.scope_members(remote), store.milestones()
    if unstored is not None:
        known = {i.uid for i in items}
        items += [i for uid, i in unstored.items.items() if uid not in known]
        members.update({sid: uids for sid, uids in unstored.members.items() if sid in remote})
        milestones += list(unstored.milestones)
    return reconcile_items(
        declared, items, members, milestones, store.done_events(since=None), now=now,
        prefix=settings.labels.prefix, stale_days=settings.reconcile.stale_days,
        forecast_runs=settings.reconcile.forecast_runs, seed=settings.reconcile.seed,
        forecast_window_days=settings.reconcile.forecast_window_days, blocking_trackers=blocking_trackers(run))


def blocking_trackers(run: Run) -> frozenset[str]:
    """Trackers whose mapping lets an open blocker make an item `blocked` (`open_blocker_blocks`)."""
    return frozenset(name for name, mapping in run.inputs.mappings.items()
                     if getattr(mapping, "open_blocker_blocks", True))


@dataclass
class Unstored:
    """Items, scope membership and tracker milestones read for a review, held in memory only."""

    items: dict = field(default_factory=dict)
    members: dict = field(default_factory=dict)
    milestones: list = field(default_factory=list)


def pull_unstored(run: Run, scopes) -> Unstored:
    """Read `scopes` in full into memory and store nothing of it (no items, cursors or membership): a plan
    review must not change what the scheduled apply sees. A tracker's failure stays its own."""
    out = Unstored()
    for name in sorted({s.tracker for s in scopes}):
        mine = tuple(s for s in scopes if s.tracker == name)
        outcome = run.summary.tracker(name)
        try:
            adapter = run.adapter(name)
            with progress.status(f"reading {len(mine)} proposed scope(s) of {name}"):
                result = adapter.pull(PullSpec(scopes=mine, cursors={}))
            outcome.stats = adapter.stats.as_dict()
        except TrackerError as exc:
            outcome.ok, outcome.error = False, str(exc)
            log.error("%s", exc)
            continue
        for scope in result.scopes:
            out.members[scope.scope_id] = frozenset(item.uid for item in scope.items)
        out.items.update({item.uid: item for item in result.all_items().values()})
        out.milestones += result.milestones
        log.info("%s: read %d item(s) of %d proposed scope(s), not stored", name, len(result.all_items()), len(mine))
    return out


def held(run: Run):
    """Milestones fed by a tracker (or a remote scope) whose data is not current this run: milestone key
    -> connector.holds.Hold; computed once per run, after the pulls."""
    from connector.holds import holds, stale_trackers

    if run.holds is None:
        pulled = {n: (t.current, t.error) for n, t in run.summary.trackers.items() if t.pulled}
        run.stale = stale_trackers(run.plan, pulled, run.store.last_sync_ok)
        failed = {sid: why for t in run.summary.trackers.values() for sid, why in t.failed_scopes.items()}
        run.holds = holds(run.plan, run.stale, lambda t: set(run.store.get_cursors(t)), run.settings.labels.prefix,
                          reconcile(run), failed=failed)
    return run.holds


def plan_changes(run: Run, *, migrate_prefix: bool = False):
    """The label diff with a cause per change, from what the store last confirmed on each item, without
    changes to items of held milestones or of trackers not current (their labels keep their last
    confirmed state: source isolation)."""
    from connector.changes import plan_changes as diff
    from connector.holds import hold_changes

    if run.change_plan is None:
        holding = held(run)
        folds = {name: registry.kind(t.kind).fold_label for name, t in run.settings.trackers.items()}
        planned = diff(reconcile(run), run.settings.labels.prefix, run.store.label_records(),
                       run.store.recorded_trackers(), migrate_prefix=migrate_prefix, folds=folds)
        run.change_plan, dropped = hold_changes(planned, run.reconciliation, holding, run.stale)
        for tracker, key, label in run.change_plan.case_conflicts[:20]:
            log.warning("%s %s: carries %r, which the tracker treats as plansync's own label in another case; "
                        "rename or delete that label in the tracker", tracker, key, label)
        for hold in holding.values():
            log.warning("milestone %s: labels held: %s", hold.milestone, hold.reason)
        if dropped:
            log.warning("held %d label change(s) of items fed by a tracker that is not current", dropped)
        # a tracker not pulled by this run whose last pull failed: the run says so and exits 1
        run.summary.stale.update({n: why for n, why in run.stale.items()
                                 if not getattr(run.summary.trackers.get(n), "pulled", False)})
    return run.change_plan


def apply(run: Run, *, force: bool, migrate_prefix: bool = False) -> None:
    """Plan the label diff and make it through the write journal; a refusal by the safety threshold is
    a failed run that says why (the report is still written)."""
    from connector.apply import apply_changes

    try:
        apply_changes(run, force=force, migrate_prefix=migrate_prefix)
    except UnsafePlan as exc:
        run.summary.outcome, run.summary.error = Outcome.FAILED, str(exc)
        run.output.append(f"plansync: refused: {exc}")


def prune(run: Run) -> None:
    """Retention (DESIGN section 12): one bounded prune step at the end of each `run`. A failure here is
    logged, not fatal: the run's own work is done and the next run prunes again."""
    conf = run.settings.store
    try:
        counts = run.store.prune(conf.keep_days, clock.now(), batch=conf.prune_batch)
    except StoreError as exc:
        log.error("retention: %s", exc)
        return
    log.info("retention: pruned %s", counts.as_dict())


def needs_resume(store) -> bool:
    return bool(store.journal_unfinished())


def report_formats(formats: str, default: tuple[str, ...]) -> tuple[str, ...]:
    chosen = tuple(f.strip() for f in formats.split(",") if f.strip()) if formats else default
    for fmt in chosen:
        if fmt not in ("md", "html", "json"):
            raise ConfigError(f"unknown report format {fmt!r}; expected md, html or json", key="--format")
    return chosen


def write_reports(run: Run, *, week=None, as_of=None, formats: str = "", out=None, publish: bool = False) -> dict:
    """Build and write the report; the current week's comes from this run's reconciliation."""
    from connector.report import build_report, write_report

    chosen = report_formats(formats, run.settings.report.formats)
    when = parse_instant(as_of) if as_of else None
    # the current week's report holds what this run held (a standalone `report` asks the store)
    holding = held(run) if week is None and when is None else None
    current = run.reconciliation if holding is not None else None
    report = build_report(run.store, run.plan, run.settings, week=week, as_of=when, reconciliation=current,
                          holds=holding)
    folder = out or run.settings.report.out_dir
    try:
        paths = write_report(report, folder, chosen)
    except OSError as exc:  # unwritable or full: the run still finishes (row, summary line, metrics)
        run.summary.report_error = f"{exc.filename or folder}: {exc.strerror or exc}"
        log.error("writing the report failed: %s", run.summary.report_error)
        return {}
    for fmt, path in paths.items():
        run.output.append(f"report ({fmt}): {path}")
    if publish and run.settings.report.publish is not None:
        _publish(run, report)
    if publish and run.settings.report.project_status:
        from connector.status_publish import publish_statuses

        run.output.extend(publish_statuses(run, report))
    return paths


def _publish(run: Run, report) -> None:
    from connector.report import publish_report

    target = run.settings.report.publish
    try:
        run.check_leases()
        # the summary, in the tracker's own format
        publish_report(run.adapter(target.tracker), target, report, report.label)
    except TrackerError as exc:
        log.error("publishing the report failed: %s", exc)
        run.summary.publish_error = str(exc)


def publish_description(settings, declared) -> str | None:
    """The comment `run` would post, shown by `plan` like any other change (None when publishing is off)."""
    from zoneinfo import ZoneInfo

    from connector.report import describe_publish

    if settings.report.publish is None:
        return None
    week = clock.now().astimezone(ZoneInfo(declared.plan.timezone)).isocalendar()
    return describe_publish(settings.report.publish, f"{week.year}-W{week.week:02d}")


def parse_instant(text: str):
    from datetime import UTC, datetime

    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"expected a date or instant like 2026-11-20 or 2026-11-20T18:00:00Z, got {text!r}",
                          key="--as-of") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
