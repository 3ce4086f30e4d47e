"""The commands' work: load and check inputs, then sync, reconcile, apply and report.

Everything a user can get wrong is checked before any network call or write (exit 2).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from connector import clock, progress
from connector.errors import (
    AuthError,
    ConfigError,
    ExitCode,
    LeaseHeld,
    PlansyncError,
    RateLimitExhausted,
    StoreError,
    TrackerError,
    UnsafePlan,
)
from connector.faultpoints import crash_point
from connector.mapping import load_mapping
from connector.plan_file import load_plan
from connector.settings import Settings, load_settings

log = logging.getLogger(__name__)


def load_inputs(config: Path | None, plan: Path | None, *, need_plan: bool = True):
    """Config, every tracker's mapping and (optionally) the plan; ConfigError on the first problem."""
    settings = load_settings(config)
    mappings = {}
    for name, tracker in settings.trackers.items():
        if tracker.mapping is not None and not tracker.mapping.is_file():
            raise ConfigError(f"mapping file not found: {tracker.mapping}", file=str(settings.path),
                              key=f"trackers.{name}.mapping")
        mappings[name] = load_mapping(tracker.kind, tracker.mapping)
    declared = load_plan(plan, settings) if need_plan else None
    return settings, mappings, declared


def validate(config: Path | None, plan: Path | None) -> int:
    settings, mappings, declared = load_inputs(config, plan)
    scopes = declared.all_scopes()
    print(f"config  {settings.path}: {len(settings.trackers)} tracker(s): "
          + ", ".join(f"{n} ({t.kind})" for n, t in settings.trackers.items()))
    for name, mapping in mappings.items():
        print(f"mapping {name}: {mapping.source}")
    print(f"plan    {declared.plan.name!r}: {len(declared.milestones)} milestone(s), {len(scopes)} scope(s), "
          f"{len(declared.people)} people, {len(declared.risks)} risk(s)")
    for name, tracker in settings.trackers.items():
        if not os.environ.get(tracker.token_env, "").strip():
            print(f"note    {name}: environment variable {tracker.token_env} is not set; "
                  "commands that reach the tracker will refuse to start")
    print("OK")
    return int(ExitCode.OK)


# --- the commands that reach trackers -----------------------------------------------------------


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


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _open_store(settings: Settings):
    from connector.store import Store

    return Store.open(settings.store.url)


def _select(settings: Settings, trackers: list[str] | None) -> list[str]:
    names = list(trackers or settings.trackers)
    for name in names:
        settings.tracker(name)  # ConfigError naming the known trackers
    return names


def _check_tokens(settings: Settings, names: list[str]) -> None:
    """Every token variable is read before any network call: an unset one is exit 2, not a failed run."""
    for name in names:
        settings.trackers[name].token()


def _leases(stack: ExitStack, store, names: list[str], holder: str, ttl: float) -> None:
    for name in sorted(names):
        _release_if_holder_died(store, name)
        stack.enter_context(store.lease(name, holder=holder, ttl=ttl))


def _release_if_holder_died(store, name: str) -> None:
    """A lease held by a process of THIS host that no longer exists is released at once: a crashed
    run on the same machine must not block the next one until expiry. Other hosts wait for expiry."""
    held = store.lease_holder(name)
    if held is None:
        return
    holder = held[0]
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        log.warning("lease %r was held by %s, which no longer runs on this host; taking it over", name, holder)
        store.release_lease(name, holder)
    except PermissionError:  # alive, owned by another user
        return


def _pull(settings, declared, store, run_id: int, name: str, *, full: bool, summary: RunSummary) -> None:
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
                              **({"known_keys": known_keys} if "known_keys" in PullRequest.__dataclass_fields__ else {}))
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


def _sync(settings, declared, store, run_id, names, *, full, summary) -> None:
    for name in names:
        _pull(settings, declared, store, run_id, name, full=full, summary=summary)


def _reconcile(settings, declared, store):
    from connector.reconcile import reconcile

    jql_scopes = [s.id for s in declared.all_scopes() if s.jql is not None]
    return reconcile(
        declared, store.items(), store.scope_members(jql_scopes), store.milestones(),
        store.done_events(since=None), now=clock.now(), prefix=settings.labels.prefix,
        stale_days=settings.reconcile.stale_days, forecast_runs=settings.reconcile.forecast_runs,
        seed=settings.reconcile.seed)


def _finish(store, run_id, summary: RunSummary, metrics_file: Path | None) -> int:
    if summary.outcome == "success" and summary.failed_trackers:
        summary.outcome = "partial"
    code = ExitCode.OK if summary.outcome in ("success", "changes") else ExitCode.FAILED
    if store is not None and run_id is not None:
        try:
            store.finish_run(run_id, summary.outcome, counts={n: {"items_pulled": t.items_pulled, "writes": t.writes_ok,
                                                                  "write_failures": t.writes_failed}
                                                              for n, t in summary.trackers.items()},
                             requests={n: t.stats for n, t in summary.trackers.items()}, error=summary.error)
        except StoreError as exc:
            log.error("%s", exc)
            code = ExitCode.FAILED
    log.info("%s", summary.line(), extra={"summary": {"outcome": summary.outcome}})
    print(summary.line())
    if metrics_file is not None:
        _write_metrics(metrics_file, summary)
    for name in summary.failed_trackers:
        print(f"plansync: tracker {name!r} failed: {summary.trackers[name].error}")
    return int(code)


def _write_metrics(path: Path, summary: RunSummary) -> None:
    try:
        from connector.metrics import RunMetrics, TrackerMetrics, write_metrics
    except ImportError:  # pragma: no cover - metrics module ships with deploy support
        log.warning("metrics support is not installed; --metrics-file ignored")
        return
    now = clock.now()
    metrics = RunMetrics(
        command=summary.command, outcome=summary.outcome, started=summary.started_at or now, finished=now,
        duration_seconds=time.monotonic() - summary.started,
        trackers={n: TrackerMetrics(items_pulled=t.items_pulled, requests=t.stats.get("requests", 0),
                                    reads=t.stats.get("reads", 0), writes=t.stats.get("writes", 0),
                                    not_modified=t.stats.get("not_modified", 0), retries=t.stats.get("retries", 0),
                                    failures=0 if t.ok else 1, last_success=now if t.ok else None)
                  for n, t in summary.trackers.items()})
    try:
        write_metrics(path, metrics, previous=path if path.exists() else None)
    except OSError as exc:  # a monitoring problem must not turn a good run into a failed one
        log.error("could not write the metrics file %s: %s", path, exc.strerror or exc)


def _with_run(command: str, config, plan, *, trackers, leases, body, metrics_file) -> int:
    """The frame every tracker-touching command shares: inputs and tokens checked first (exit 2), the
    leases (exit 4 when held), a run row, the plan snapshot, the summary line and metrics at the end."""
    settings, _, declared = load_inputs(config, plan)
    names = _select(settings, trackers)
    _check_tokens(settings, names)
    store = _open_store(settings)
    summary = RunSummary(command, started_at=clock.now())
    run_id = None
    try:
        with ExitStack() as stack:
            _leases(stack, store, leases(names, store), _holder(), settings.lease.ttl_seconds)
            run_id = store.begin_run(command, names)
            store.save_plan_snapshot(run_id, declared, clock.now())
            body(settings, declared, store, run_id, names, summary)
        return _finish(store, run_id, summary, metrics_file)
    except LeaseHeld as exc:
        print(f"plansync: skipped: {exc}")
        return int(ExitCode.LEASE_HELD)
    finally:
        store.close()


def _sync_leases(names: list[str], store=None) -> list[str]:
    return [f"sync:{n}" for n in names]


def sync(config, plan, *, trackers=None, full=False, metrics_file=None) -> int:
    def body(settings, declared, store, run_id, names, summary):
        _sync(settings, declared, store, run_id, names, full=full, summary=summary)

    return _with_run("sync", config, plan, trackers=trackers, leases=_sync_leases, body=body,
                     metrics_file=metrics_file)


def _apply(settings, declared, store, run_id, names, *, force: bool, summary: RunSummary):
    """Reconcile, plan the label diff, and make it through the write journal. Returns the ChangePlan."""
    from connector.adapters import make_adapter
    from connector.changes import check_safety, plan_changes

    # Entries a crashed run left planned or sent were settled by the pull that just ran: the tracker's
    # labels now say whether they landed, and the fresh diff below contains exactly what is still missing.
    interrupted = store.journal_unfinished()
    for entry in interrupted:
        store.journal_mark(entry.id, "superseded")
    reconciliation = _reconcile(settings, declared, store)
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
            store.journal_mark(entry_id, "confirmed")
            item = reconciliation.items.get((name, change.item_id))
            current = set(item.labels) if item else set()
            labels = tuple(sorted((current - change.remove) | change.add))
            store.set_item_labels(name, change.item_id, labels, clock.now())
            outcome.writes_ok += 1
            log.info("%s %s: %s", name, change.key, _describe_change(change))
        else:
            store.journal_mark(entry_id, "failed", error=result.error)
            outcome.writes_failed += 1
            log.error("%s %s: write failed: %s", name, change.key, result.error)


def _describe_change(change) -> str:
    parts = [f"+{label}" for label in sorted(change.add)] + [f"-{label}" for label in sorted(change.remove)]
    return " ".join(parts)


def _needs_resume(store) -> bool:
    return bool(store.journal_unfinished())


def plan(config, plan, *, as_json=False, detailed_exitcode=False, sync_first=True) -> int:
    from connector.changes import plan_changes, render_json, render_text

    settings, _, declared = load_inputs(config, plan)
    names = _select(settings, None)
    if sync_first:
        _check_tokens(settings, names)
    store = _open_store(settings)
    summary = RunSummary("plan", started_at=clock.now())
    try:
        with ExitStack() as stack:
            if sync_first:
                _leases(stack, store, [f"sync:{n}" for n in names], _holder(), settings.lease.ttl_seconds)
                run_id = store.begin_run("plan", names)
                _sync(settings, declared, store, run_id, names, full=False, summary=summary)
                store.finish_run(run_id, "partial" if summary.failed_trackers else "success",
                                 requests={n: t.stats for n, t in summary.trackers.items()})
            reconciliation = _reconcile(settings, declared, store)
            change_plan = plan_changes(reconciliation, settings.labels.prefix)
        publish = _publish_description(settings, declared)
        if as_json:
            print(render_json(change_plan))
        else:
            print(render_text(change_plan, reconciliation))
            if publish:
                print(publish)
        for name in summary.failed_trackers:
            print(f"plansync: tracker {name!r} failed: {summary.trackers[name].error}")
        if summary.failed_trackers:
            return int(ExitCode.FAILED)
        if detailed_exitcode and change_plan.changes:
            return int(ExitCode.CHANGES_PENDING)
        return int(ExitCode.OK)
    except LeaseHeld as exc:
        print(f"plansync: skipped: {exc}")
        return int(ExitCode.LEASE_HELD)
    finally:
        store.close()


def _publish_description(settings, declared) -> str | None:
    """The comment `run` would post, shown by `plan` like any other change (None when publishing is off)."""
    from connector.report import describe_publish

    if settings.report.publish is None:
        return None
    week = clock.now().astimezone(_zone(declared)).isocalendar()
    return describe_publish(settings.report.publish, f"{week.year}-W{week.week:02d}")


def _zone(declared):
    from zoneinfo import ZoneInfo

    return ZoneInfo(declared.plan.timezone)


def apply(config, plan, *, trackers=None, force=False, sync_first=True, metrics_file=None) -> int:
    # an interrupted apply is always resumed after a pull: the tracker says which writes landed
    def leases(names, store):
        return ["apply"] + (_sync_leases(names) if sync_first or _needs_resume(store) else [])

    def body(settings, declared, store, run_id, names, summary):
        if sync_first or _needs_resume(store):
            _sync(settings, declared, store, run_id, names, full=False, summary=summary)
        _apply_guarded(settings, declared, store, run_id, names, force=force, summary=summary)

    return _with_run("apply", config, plan, trackers=trackers, leases=leases, body=body, metrics_file=metrics_file)


def _apply_guarded(settings, declared, store, run_id, names, *, force: bool, summary: RunSummary) -> None:
    """_apply, with a refusal by the safety threshold turned into a failed run that says why."""
    try:
        _apply(settings, declared, store, run_id, names, force=force, summary=summary)
    except UnsafePlan as exc:
        summary.outcome, summary.error = "failed", str(exc)
        print(f"plansync: refused: {exc}")


def _report(settings, declared, store, *, week=None, as_of=None, formats="", out=None, publish=False):
    from connector.report import build_report, write_report

    chosen = tuple(f.strip() for f in formats.split(",") if f.strip()) if formats else settings.report.formats
    for fmt in chosen:
        if fmt not in ("md", "html", "json"):
            raise ConfigError(f"unknown report format {fmt!r}; expected md, html or json", key="--format")
    when = _parse_instant(as_of) if as_of else None
    report = build_report(store, declared, settings, week=week, as_of=when)
    paths = write_report(report, out or settings.report.out_dir, chosen)
    if publish and settings.report.publish is not None:
        _publish(settings, report)
    return paths


def _publish(settings, report) -> None:
    from connector.adapters import make_adapter
    from connector.report import publish_report, render_markdown

    target = settings.report.publish
    adapter = make_adapter(settings.tracker(target.tracker), settings)
    try:
        publish_report(adapter, target, render_markdown(report), report.label)
    except TrackerError as exc:
        log.error("publishing the report failed: %s", exc)
    finally:
        adapter.close()


def _parse_instant(text: str):
    from datetime import UTC, datetime

    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"expected a date or instant like 2026-11-20 or 2026-11-20T18:00:00Z, got {text!r}",
                          key="--as-of") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def report(config, plan, *, week=None, as_of=None, formats="", out=None) -> int:
    settings, _, declared = load_inputs(config, plan)
    if week and as_of:
        raise ConfigError("give --week or --as-of, not both", key="--week")
    store = _open_store(settings)
    try:
        paths = _report(settings, declared, store, week=week, as_of=as_of, formats=formats, out=out)
    finally:
        store.close()
    for fmt, path in paths.items():
        print(f"report ({fmt}): {path}")
    return int(ExitCode.OK)


def run(config, plan, *, force=False, full=False, metrics_file=None) -> int:
    """sync + apply + report under the leases: the one command cron calls."""
    def body(settings, declared, store, run_id, names, summary):
        _sync(settings, declared, store, run_id, names, full=full, summary=summary)
        _apply_guarded(settings, declared, store, run_id, names, force=force, summary=summary)
        for fmt, path in _report(settings, declared, store, publish=True).items():
            print(f"report ({fmt}): {path}")

    return _with_run("run", config, plan, trackers=None, leases=lambda names, store: ["apply", *_sync_leases(names)],
                     body=body, metrics_file=metrics_file)


def doctor(config, plan) -> int:
    """Credentials, permissions and reachability of every tracker, and the store; exit 1 if any fails."""
    from connector.adapters import make_adapter

    settings, _, _ = load_inputs(config, plan, need_plan=False)
    failures = 0
    try:
        store = _open_store(settings)
        print(f"ok    store: {store.url_for_display}")
        store.close()
    except PlansyncError as exc:
        failures += 1
        print(f"FAIL  store: {exc}")
    for name, tracker in settings.trackers.items():
        try:
            tracker.token()
            adapter = make_adapter(tracker, settings)
            try:
                identity = adapter.check()
            finally:
                adapter.close()
            zone = f", timezone {identity.timezone}" if identity.timezone else ""
            print(f"ok    {name}: {tracker.url} as {identity.user} ({identity.deployment}{zone}) {identity.detail}".rstrip())
        except ConfigError:
            raise
        except PlansyncError as exc:
            failures += 1
            print(f"FAIL  {name}: {exc}")
    return int(ExitCode.FAILED if failures else ExitCode.OK)
