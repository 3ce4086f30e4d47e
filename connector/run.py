"""One run: its inputs, its typed context (`Run`) and the frame every tracker-touching command shares.

The frame checks inputs and tokens first (exit 2), takes the leases (exit 4 when held), opens a run
row, and always finishes it: the row, the summary line and the metrics are written however the body
ends (a tracker failure, a refusal, a user error raised mid-run, an interrupt).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from connector import clock
from connector.errors import ConfigError, LeaseHeld, PlansyncError, StoreError
from connector.model import Plan
from connector.plan_file import load_plan
from connector.settings import Settings, load_settings
from connector.trackers import registry
from connector.values import Outcome

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
    writes_deferred: int = 0  # changes left for a later run: this run's write budget was spent
    current: bool = False  # its data in the store is this run's (the pull worked)
    pulled: bool = False  # this run tried to pull it
    failed_scopes: dict[str, str] = field(default_factory=dict)  # scope id -> why (the rest was pulled)


@dataclass
class RunSummary:
    command: str
    started: float = field(default_factory=time.monotonic)
    started_at: datetime | None = None
    trackers: dict[str, TrackerOutcome] = field(default_factory=dict)
    outcome: Outcome = Outcome.SUCCESS
    error: str | None = None
    changes: int = 0
    publish_error: str | None = None
    stale: dict[str, str] = field(default_factory=dict)  # trackers not pulled this run whose data is not current
    report_error: str | None = None

    def tracker(self, name: str) -> TrackerOutcome:
        return self.trackers.setdefault(name, TrackerOutcome(name))

    @property
    def failed_trackers(self) -> list[str]:
        return [n for n, t in self.trackers.items() if not t.ok]

    def settle(self) -> Outcome:
        """The outcome once the work is done: a success with a failed tracker or publish is partial."""
        if self.outcome is Outcome.SUCCESS and (self.failed_trackers or self.publish_error or self.stale
                                                or self.report_error):
            self.outcome = Outcome.PARTIAL
        return self.outcome

    def line(self) -> str:
        pulled = sum(t.items_pulled for t in self.trackers.values())
        requests = sum(t.stats.get("requests", 0) for t in self.trackers.values())
        writes = sum(t.writes_ok for t in self.trackers.values())
        deferred = sum(t.writes_deferred for t in self.trackers.values())
        duration = time.monotonic() - self.started
        failed = ",".join(dict.fromkeys([*self.failed_trackers, *self.stale])) or "-"
        return (f"plansync {self.command}: outcome={self.outcome} items_pulled={pulled} requests={requests} "
                f"writes={writes} deferred={deferred} failed_trackers={failed} duration={duration:.1f}s")

    def problems(self) -> list[str]:
        """One line per failed tracker (and a failed publish), for the end of the output."""
        lines = [f"plansync: tracker {n!r} failed: {self.trackers[n].error}" for n in self.failed_trackers]
        lines += [f"plansync: tracker {n!r} is not current: {why}; labels of its milestones were held"
                  for n, why in self.stale.items() if n not in self.failed_trackers]
        if self.report_error:
            lines.append(f"plansync: writing the report failed: {self.report_error}")
        if self.publish_error:
            lines.append(f"plansync: publishing the report failed: {self.publish_error}")
        return lines


class Inputs(NamedTuple):
    """Config, each tracker's mapping (parsed once per run) and the plan."""

    settings: Settings
    mappings: dict[str, Any]
    plan: Plan | None


def load_inputs(config: Path | None, plan: Path | None, *, need_plan: bool = True) -> Inputs:
    """Config, every tracker's mapping and (optionally) the plan; ConfigError on the first problem."""
    clock.pinned()  # a bad PLANSYNC_NOW is exit 2 before anything starts
    settings = load_settings(config)
    mappings = {}
    for name, tracker in settings.trackers.items():
        if tracker.mapping is not None and not tracker.mapping.is_file():
            raise ConfigError(f"mapping file not found: {tracker.mapping}", file=str(settings.path),
                              key=f"trackers.{name}.mapping")
        mappings[name] = registry.kind(tracker.kind).load_mapping(tracker.mapping)
    declared = load_plan(plan, settings) if need_plan else None
    return Inputs(settings, mappings, declared)


@dataclass
class Run:
    """Everything one command works with: one adapter per tracker for the whole run (its caches and
    request stats kept), the leases it holds, and what the pipeline has computed so far."""

    command: str
    inputs: Inputs
    store: Any  # connector.store.Store (not imported here: the store pulls in SQLAlchemy)
    names: list[str]
    summary: RunSummary
    run_id: int | None = None
    leases: list[Any] = field(default_factory=list)
    reconciliation: Any = None  # connector.reconcile.Reconciliation, once reconciled
    change_plan: Any = None  # connector.changes.ChangePlan, once planned
    holds: Any = None  # milestone key -> connector.holds.Hold, once computed (pipeline.held)
    stale: dict[str, str] = field(default_factory=dict)  # trackers whose data is not current: name -> why
    output: list[str] = field(default_factory=list)  # lines for the CLI to print
    adapters: dict[str, Any] = field(default_factory=dict)
    adapters_built: int = 0
    reconciled: int = 0

    @property
    def settings(self) -> Settings:
        return self.inputs.settings

    @property
    def plan(self) -> Plan:
        assert self.inputs.plan is not None
        return self.inputs.plan

    def adapter(self, name: str):
        """The tracker's adapter, built on first use and kept for the rest of the run."""
        adapter = self.adapters.get(name)
        if adapter is None:
            tracker = self.settings.tracker(name)
            adapter = registry.make_adapter(tracker, self.settings, mapping=self.inputs.mappings.get(name))
            self.adapters[name] = adapter
            self.adapters_built += 1
        return adapter

    def check_leases(self) -> None:
        """Before a write: stop (LeaseHeld) if a lease was lost, e.g. taken over after a long stall."""
        for lease in self.leases:
            lease.check()

    def close(self) -> None:
        for adapter in self.adapters.values():
            adapter.close()
        self.adapters.clear()


def holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def open_store(settings: Settings):
    from connector.store import Store

    conf = settings.store  # auto_migrate off: an old schema is an error until `plansync store upgrade`
    return Store.open(conf.url, migrate=conf.auto_migrate, require_current=not conf.auto_migrate,
                      migrate_wait=conf.migrate_wait_seconds)


def select_trackers(settings: Settings, trackers: list[str] | None) -> list[str]:
    names = list(trackers or settings.trackers)
    for name in names:
        settings.tracker(name)  # ConfigError naming the known trackers
    return names


def check_tokens(settings: Settings, names: list[str]) -> None:
    """Every token variable is read before any network call: an unset one is exit 2, not a failed run."""
    for name in names:
        settings.trackers[name].token()


def sync_leases(names: list[str]) -> list[str]:
    return [f"sync:{n}" for n in names]


def _release_if_holder_died(store, name: str) -> None:
    """A lease held by a process of THIS host that no longer exists is released at once: a crashed
    run on the same machine must not block the next one until expiry. Other hosts wait for expiry."""
    held = store.lease_holder(name)
    if held is None:
        return
    holder_name = held[0]
    host, _, rest = holder_name.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        log.warning("lease %r was held by %s, which no longer runs on this host; taking it over", name, holder_name)
        store.release_lease(name, holder_name)
    except PermissionError:  # alive, owned by another user
        return


@contextmanager
def _held(run: Run, names: list[str]) -> Iterator[None]:
    """Hold every named lease (sorted, so two runs never wait on each other crosswise) as objects the
    run checks before each write."""
    me = holder()
    with ExitStack() as stack:
        for name in sorted(names):
            _release_if_holder_died(run.store, name)
            run.leases.append(stack.enter_context(run.store.lease(name, holder=me,
                                                                  ttl=run.settings.lease.ttl_seconds)))
        try:
            yield
        finally:
            run.leases.clear()


def check_binding(store, inputs: Inputs, *, claim: bool) -> None:
    """A store serves one plan (`store.namespace`, default the plan's name): a second plan on it is exit 2
    before anything is pulled or written. `claim` binds a store that serves none yet."""
    if inputs.plan is None:
        return
    namespace = inputs.settings.store.namespace or inputs.plan.plan.name
    bound = store.bind(namespace) if claim else store.binding()
    if bound is not None and bound != namespace:
        key = "store.namespace" if inputs.settings.store.namespace else "store.url"
        raise ConfigError(f"this store serves the plan {bound!r}, not {namespace!r}: two plans cannot share a "
                          "store (each would take the other's items for out of scope). Give this plan its own "
                          f"store.url; if it is the same plan renamed, set store.namespace = {bound!r}",
                          file=str(inputs.settings.path), key=key)


def execute(command: str, inputs: Inputs, names: list[str], leases: Callable[[Any], list[str]],
            body: Callable[[Run], None], *, record: bool = True, announce: bool = True,
            metrics_file: Path | None = None) -> Run:
    """Run `body` under the leases `leases(store)` names, with a run row (when `record`), and always
    finish: the outcome settled, the row closed, the summary line and the metrics written. A user error
    raised inside the body is re-raised after the finish, so it still gets its own exit code."""
    store = open_store(inputs.settings)
    try:
        check_binding(store, inputs, claim=record)
    except BaseException:
        store.close()
        raise
    run = Run(command, inputs, store, names, RunSummary(command, started_at=clock.now()))
    pending: BaseException | None = None
    try:
        try:
            with _held(run, leases(store)):
                if record:
                    run.run_id = store.begin_run(command, names)
                    if inputs.plan is not None:
                        store.save_plan_snapshot(run.run_id, inputs.plan, clock.now())
                try:
                    body(run)
                except LeaseHeld as exc:  # lost while working: stop writing, the run failed
                    run.summary.outcome, run.summary.error = Outcome.FAILED, str(exc)
                    run.output.append(f"plansync: stopped: {exc}")
                except (PlansyncError, KeyboardInterrupt) as exc:
                    run.summary.outcome = Outcome.FAILED
                    run.summary.error = str(exc) if isinstance(exc, PlansyncError) else "interrupted"
                    pending = exc
        except LeaseHeld as exc:  # not acquired: nothing was done
            run.summary.outcome = Outcome.SKIPPED
            run.output.append(f"plansync: skipped: {exc}")
            return run
        if record:
            finish(run, metrics_file, announce=announce)
    finally:
        run.close()
        store.close()
    if pending is not None:
        raise pending
    return run


def finish(run: Run, metrics_file: Path | None, *, announce: bool = True) -> None:
    """Close the run row, print the summary line (`announce`), write the metrics; a store fault here
    fails the run."""
    summary = run.summary
    summary.settle()
    if run.run_id is not None:
        try:
            run.store.finish_run(run.run_id, summary.outcome if summary.outcome in ("success", "partial", "failed",
                                                                                     "skipped") else "success",
                                 counts={n: {"items_pulled": t.items_pulled, "writes": t.writes_ok,
                                             "write_failures": t.writes_failed,
                                             "writes_deferred": t.writes_deferred} for n, t in summary.trackers.items()},
                                 requests={n: t.stats for n, t in summary.trackers.items()}, error=summary.error)
        except StoreError as exc:
            log.error("%s", exc)
            summary.outcome = Outcome.FAILED
    if not announce:
        return
    log.info("%s", summary.line(), extra={"summary": {"outcome": str(summary.outcome)}})
    run.output.append(summary.line())
    if metrics_file is not None:
        write_run_metrics(metrics_file, summary)
    run.output.extend(summary.problems())


def write_run_metrics(path: Path, summary: RunSummary) -> None:
    from connector.metrics import RunMetrics, TrackerMetrics, write_metrics

    now = clock.now()
    metrics = RunMetrics(
        command=summary.command, outcome=str(summary.outcome), started=summary.started_at or now, finished=now,
        duration_seconds=time.monotonic() - summary.started,
        trackers={n: TrackerMetrics(items_pulled=t.items_pulled, requests=t.stats.get("requests", 0),
                                    reads=t.stats.get("reads", 0), writes=t.stats.get("writes", 0),
                                    not_modified=t.stats.get("not_modified", 0), retries=t.stats.get("retries", 0),
                                    failures=0 if t.ok else 1, last_success=now if t.ok else None,
                                    writes_deferred=t.writes_deferred)
                  for n, t in summary.trackers.items()})
    try:
        write_metrics(path, metrics, previous=path if path.exists() else None)
    except OSError as exc:  # a monitoring problem must not turn a good run into a failed one
        log.error("could not write the metrics file %s: %s", path, exc.strerror or exc)
