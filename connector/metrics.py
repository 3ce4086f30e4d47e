"""Run metrics in Prometheus text format, written atomically for node_exporter's textfile collector.

The file is rewritten after every run; counters and each tracker's last success are carried over
from the previous file, so a failed run never erases when a tracker last synced successfully.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, write_to_textfile
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families

from connector.errors import ExitCode
from connector.values import Outcome, RequestStats

log = logging.getLogger(__name__)

# Every outcome is written (0 or 1) so an alert on one outcome never sees a missing series.
# "partial" (some trackers failed) and "changes" are the runner's own words for a run's result.
OUTCOMES = tuple(o.value for o in Outcome)
_OUTCOME_BY_EXIT = {ExitCode.OK: "success", ExitCode.FAILED: "failed", ExitCode.BAD_INPUT: "bad_input",
                    ExitCode.CHANGES_PENDING: "changes", ExitCode.LEASE_HELD: "skipped"}
_REQUEST_KINDS = ("read", "write", "not_modified")


def outcome_for_exit_code(code: int) -> str:
    """The `outcome` label for a documented exit code ("failed" for anything unknown)."""
    try:
        return _OUTCOME_BY_EXIT[ExitCode(code)]
    except ValueError:
        return "failed"


@dataclass
class TrackerMetrics:
    """What one tracker cost and produced in this run; `last_success` is None when it did not succeed."""

    items_pulled: int = 0
    requests: int = 0
    reads: int = 0
    writes: int = 0
    not_modified: int = 0
    retries: int = 0
    failures: int = 0
    last_success: datetime | None = None
    writes_deferred: int = 0  # changes left for a later run (write budget spent)

    @classmethod
    def from_stats(cls, stats: RequestStats, *, items_pulled: int = 0, failures: int = 0,
                   last_success: datetime | None = None) -> TrackerMetrics:
        return cls(items_pulled=items_pulled, requests=stats.requests, reads=stats.reads, writes=stats.writes,
                   not_modified=stats.not_modified, retries=stats.retries, failures=failures,
                   last_success=last_success)


@dataclass
class RunMetrics:
    """One command's run. `duration_seconds` defaults to `finished - started`; pass a monotonic one if known."""

    command: str
    outcome: str
    started: datetime
    finished: datetime
    trackers: dict[str, TrackerMetrics] = field(default_factory=dict)
    duration_seconds: float | None = None

    def __post_init__(self) -> None:
        for name, instant in (("started", self.started), ("finished", self.finished)):
            if instant.tzinfo is None:
                raise ValueError(f"RunMetrics.{name} must be timezone-aware")
        if self.duration_seconds is None:
            self.duration_seconds = max(0.0, (self.finished - self.started).total_seconds())


@dataclass
class _Carried:
    """What survives from the previous file: per-tracker last success and cumulative counters."""

    last_success: dict[str, float] = field(default_factory=dict)
    requests: dict[tuple[str, str], float] = field(default_factory=dict)  # (tracker, kind)
    retries: dict[str, float] = field(default_factory=dict)
    writes: dict[str, float] = field(default_factory=dict)


def _read_previous(path: Path) -> _Carried:
    """Parse an earlier metrics file; a missing or unreadable one carries nothing (and never fails a run)."""
    carried = _Carried()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return carried
    except OSError as exc:
        log.warning("cannot read the previous metrics file %s (%s); starting counters afresh", path, exc)
        return carried
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                tracker = sample.labels.get("tracker")
                if tracker is None:
                    continue
                if sample.name == "plansync_last_success_timestamp_seconds":
                    carried.last_success[tracker] = sample.value
                elif sample.name == "plansync_requests_total" and sample.labels.get("kind") in _REQUEST_KINDS:
                    carried.requests[(tracker, sample.labels["kind"])] = sample.value
                elif sample.name == "plansync_retries_total":
                    carried.retries[tracker] = sample.value
                elif sample.name == "plansync_writes_total":
                    carried.writes[tracker] = sample.value
    except ValueError as exc:  # a truncated or hand-edited file
        log.warning("the previous metrics file %s does not parse (%s); starting counters afresh", path, exc)
        return _Carried()
    return carried


class _RunCollector:
    """A one-shot collector: the families for one run, merged with what the previous file carried."""

    def __init__(self, metrics: RunMetrics, carried: _Carried) -> None:
        self.metrics, self.carried = metrics, carried

    def collect(self) -> Iterator[Metric]:
        m, carried = self.metrics, self.carried
        run = m.trackers
        names = sorted(set(run) | set(carried.last_success) | {t for t, _ in carried.requests}
                       | set(carried.retries) | set(carried.writes))

        last_run = GaugeMetricFamily("plansync_last_run_timestamp_seconds",
                                     "When the last plansync run finished (Unix time).", labels=["command"])
        last_run.add_metric([m.command], m.finished.timestamp())
        yield last_run

        duration = GaugeMetricFamily("plansync_run_duration_seconds", "Wall time of the last run.",
                                     labels=["command"])
        duration.add_metric([m.command], float(m.duration_seconds or 0.0))
        yield duration

        outcome = GaugeMetricFamily("plansync_run_outcome", "1 for the last run's outcome, 0 for the others.",
                                    labels=["command", "outcome"])
        for name in OUTCOMES + ((m.outcome,) if m.outcome not in OUTCOMES else ()):
            outcome.add_metric([m.command, name], 1.0 if name == m.outcome else 0.0)
        yield outcome

        success = GaugeMetricFamily("plansync_last_success_timestamp_seconds",
                                    "When each tracker last synced successfully (Unix time).", labels=["tracker"])
        for tracker in names:
            this = run.get(tracker)
            if this is not None and this.last_success is not None:
                success.add_metric([tracker], this.last_success.timestamp())
            elif tracker in carried.last_success:
                success.add_metric([tracker], carried.last_success[tracker])
        yield success

        requests = CounterMetricFamily("plansync_requests", "HTTP requests sent to each tracker, all runs.",
                                       labels=["tracker", "kind"])
        retries = CounterMetricFamily("plansync_retries", "Requests retried, all runs.", labels=["tracker"])
        writes = CounterMetricFamily("plansync_writes", "Label writes sent, all runs.", labels=["tracker"])
        for tracker in names:
            this = run.get(tracker) or TrackerMetrics()
            now = {"read": this.reads, "write": this.writes, "not_modified": this.not_modified}
            for kind in _REQUEST_KINDS:
                requests.add_metric([tracker, kind], carried.requests.get((tracker, kind), 0.0) + now[kind])
            retries.add_metric([tracker], carried.retries.get(tracker, 0.0) + this.retries)
            writes.add_metric([tracker], carried.writes.get(tracker, 0.0) + this.writes)
        yield requests
        yield retries
        yield writes

        # per-run gauges describe only the trackers this run touched
        pulled = GaugeMetricFamily("plansync_items_pulled", "Items pulled in the last run.", labels=["tracker"])
        failures = GaugeMetricFamily("plansync_tracker_failures", "Failures of each tracker in the last run.",
                                     labels=["tracker"])
        deferred = GaugeMetricFamily("plansync_writes_deferred", "Label changes the last run left for the next "
                                     "(its write budget was spent).", labels=["tracker"])
        for tracker in sorted(run):
            pulled.add_metric([tracker], run[tracker].items_pulled)
            failures.add_metric([tracker], run[tracker].failures)
            deferred.add_metric([tracker], run[tracker].writes_deferred)
        yield pulled
        yield failures
        yield deferred


def write_metrics(path: Path, metrics: RunMetrics, *, previous: Path | None = None) -> None:
    """Write `metrics` to `path` (temp file in the same folder, then rename: readers never see half a file).

    `previous` is the file to carry counters and last-success times from; it defaults to `path` itself.
    Raises OSError when the folder is not writable; callers log it rather than fail the run.
    """
    path = Path(path)
    with _exclusive(path):
        carried = _read_previous(Path(previous) if previous is not None else path)
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_RunCollector(metrics, carried))
        write_to_textfile(str(path), registry)
    log.debug("run metrics written to %s", path)


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Serialise read-modify-write between plansync processes sharing one metrics file.

    Two commands finishing together (e.g. `sync --tracker jira` and `sync --tracker github` on one
    host) would otherwise each write back the other's stale last-success time. The lock file does not
    end in .prom, so node_exporter ignores it.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX: no lock, same as before
        yield
        return
    with open(path.with_name(f".{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

