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
from pathlib import Path

from connector import clock, steps
from connector.errors import (
    ConfigError,
    ExitCode,
    LeaseHeld,
    PlansyncError,
    StoreError,
)
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


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _open_store(settings: Settings):
    from connector.store import Store

    conf = settings.store  # auto_migrate off: an old schema is an error until `plansync store upgrade`
    return Store.open(conf.url, migrate=conf.auto_migrate, require_current=not conf.auto_migrate,
                      migrate_wait=conf.migrate_wait_seconds)


def _prune_step(store, settings: Settings) -> None:
    """Retention (DESIGN section 12): one bounded prune step at the end of each `run`. A failure here
    is logged, not fatal: the run's own work is done and the next run prunes again."""
    try:
        counts = store.prune(settings.store.keep_days, clock.now(), batch=settings.store.prune_batch)
    except StoreError as exc:
        log.error("retention: %s", exc)
        return
    log.info("retention: pruned %s", counts.as_dict())


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


def _finish(store, run_id, summary: steps.RunSummary, metrics_file: Path | None) -> int:
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


def _write_metrics(path: Path, summary: steps.RunSummary) -> None:
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
    summary = steps.RunSummary(command, started_at=clock.now())
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
        steps.sync_trackers(settings, declared, store, run_id, names, full=full, summary=summary)

    return _with_run("sync", config, plan, trackers=trackers, leases=_sync_leases, body=body,
                     metrics_file=metrics_file)


def plan(config, plan, *, as_json=False, detailed_exitcode=False, sync_first=True) -> int:
    from connector.changes import plan_changes, render_json, render_text

    settings, _, declared = load_inputs(config, plan)
    names = _select(settings, None)
    if sync_first:
        _check_tokens(settings, names)
    store = _open_store(settings)
    summary = steps.RunSummary("plan", started_at=clock.now())
    try:
        with ExitStack() as stack:
            if sync_first:
                _leases(stack, store, [f"sync:{n}" for n in names], _holder(), settings.lease.ttl_seconds)
                run_id = store.begin_run("plan", names)
                steps.sync_trackers(settings, declared, store, run_id, names, full=False, summary=summary)
                store.finish_run(run_id, "partial" if summary.failed_trackers else "success",
                                 requests={n: t.stats for n, t in summary.trackers.items()})
            reconciliation = steps.reconcile_store(settings, declared, store)
            change_plan = plan_changes(reconciliation, settings.labels.prefix)
        publish = steps.publish_description(settings, declared)
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


def apply(config, plan, *, trackers=None, force=False, sync_first=True, metrics_file=None) -> int:
    # an interrupted apply is always resumed after a pull: the tracker says which writes landed
    def leases(names, store):
        return ["apply"] + (_sync_leases(names) if sync_first or steps.needs_resume(store) else [])

    def body(settings, declared, store, run_id, names, summary):
        if sync_first or steps.needs_resume(store):
            steps.sync_trackers(settings, declared, store, run_id, names, full=False, summary=summary)
        steps.apply_guarded(settings, declared, store, run_id, names, force=force, summary=summary)

    return _with_run("apply", config, plan, trackers=trackers, leases=leases, body=body, metrics_file=metrics_file)


def report(config, plan, *, week=None, as_of=None, formats="", out=None) -> int:
    settings, _, declared = load_inputs(config, plan)
    if week and as_of:
        raise ConfigError("give --week or --as-of, not both", key="--week")
    store = _open_store(settings)
    try:
        paths = steps.write_reports(settings, declared, store, week=week, as_of=as_of, formats=formats, out=out)
    finally:
        store.close()
    for fmt, path in paths.items():
        print(f"report ({fmt}): {path}")
    return int(ExitCode.OK)


def run(config, plan, *, force=False, full=False, metrics_file=None) -> int:
    """sync + apply + report under the leases: the one command cron calls."""
    def body(settings, declared, store, run_id, names, summary):
        steps.sync_trackers(settings, declared, store, run_id, names, full=full, summary=summary)
        steps.apply_guarded(settings, declared, store, run_id, names, force=force, summary=summary)
        for fmt, path in steps.write_reports(settings, declared, store, publish=True).items():
            print(f"report ({fmt}): {path}")
        _prune_step(store, settings)  # RETENTION HOOK (issue #21): rewire into the Run pipeline's last step

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
