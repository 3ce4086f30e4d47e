"""The run-metrics file: parsed back with prometheus-client's own parser, carried across runs, atomic."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from connector.errors import ExitCode
from connector.metrics import OUTCOMES, RunMetrics, TrackerMetrics, outcome_for_exit_code, write_metrics
from connector.values import RequestStats

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
EXPECTED_FAMILIES = {
    "plansync_last_run_timestamp_seconds", "plansync_run_duration_seconds", "plansync_run_outcome",
    "plansync_last_success_timestamp_seconds", "plansync_requests", "plansync_retries", "plansync_writes",
    "plansync_items_pulled", "plansync_tracker_failures", "plansync_writes_deferred",
}


def samples(path: Path) -> dict[tuple[str, frozenset], float]:
    """{(sample name, labels): value} from the file, through the official parser."""
    parsed = {}
    for family in text_string_to_metric_families(path.read_text(encoding="utf-8")):
        for sample in family.samples:
            parsed[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return parsed


def value(parsed: dict, name: str, **labels: str) -> float:
    return parsed[(name, frozenset(labels.items()))]


def good_run(start: datetime = T0, *, jira_reads: int = 40, github_not_modified: int = 3) -> RunMetrics:
    return RunMetrics(
        command="run", outcome="success", started=start, finished=start + timedelta(seconds=42.5),
        trackers={
            "jira": TrackerMetrics(items_pulled=120, requests=jira_reads + 5 + 2, reads=jira_reads, writes=5,
                                      retries=2, last_success=start + timedelta(seconds=30)),
            "github": TrackerMetrics(items_pulled=80, requests=20, reads=17, writes=0,
                                        not_modified=github_not_modified, last_success=start + timedelta(seconds=40)),
        })


def test_a_successful_run_writes_every_metric_with_its_values(tmp_path):
    path = tmp_path / "plansync.prom"
    write_metrics(path, good_run())
    parsed = samples(path)

    families = {f.name for f in text_string_to_metric_families(path.read_text())}
    assert families == EXPECTED_FAMILIES
    assert value(parsed, "plansync_last_run_timestamp_seconds", command="run") == (T0 + timedelta(seconds=42.5)).timestamp()
    assert value(parsed, "plansync_run_duration_seconds", command="run") == 42.5
    assert value(parsed, "plansync_run_outcome", command="run", outcome="success") == 1
    for other in set(OUTCOMES) - {"success"}:
        assert value(parsed, "plansync_run_outcome", command="run", outcome=other) == 0
    assert value(parsed, "plansync_last_success_timestamp_seconds", tracker="jira") == (T0 + timedelta(seconds=30)).timestamp()
    assert value(parsed, "plansync_requests_total", tracker="jira", kind="read") == 40
    assert value(parsed, "plansync_requests_total", tracker="jira", kind="write") == 5
    assert value(parsed, "plansync_requests_total", tracker="github", kind="not_modified") == 3
    assert value(parsed, "plansync_retries_total", tracker="jira") == 2
    assert value(parsed, "plansync_writes_total", tracker="jira") == 5
    assert value(parsed, "plansync_items_pulled", tracker="github") == 80
    assert value(parsed, "plansync_tracker_failures", tracker="github") == 0
    assert value(parsed, "plansync_writes_deferred", tracker="github") == 0
    # counters carry no _created samples: the file must be stable apart from the run's own numbers
    assert not any(name.endswith("_created") for name, _ in parsed)


def test_a_failed_run_keeps_the_last_success_and_marks_the_failure(tmp_path):
    path = tmp_path / "plansync.prom"
    write_metrics(path, good_run())
    later = T0 + timedelta(minutes=10)
    failed = RunMetrics(command="run", outcome=outcome_for_exit_code(ExitCode.FAILED), started=later,
                        finished=later + timedelta(seconds=5), trackers={
                            "jira": TrackerMetrics(requests=3, reads=3, retries=3, failures=1),
                            "github": TrackerMetrics(items_pulled=2, requests=4, reads=4,
                                                        last_success=later + timedelta(seconds=4)),
                        })
    write_metrics(path, failed)
    parsed = samples(path)

    # jira failed: its last success is still the one from the earlier run
    assert value(parsed, "plansync_last_success_timestamp_seconds", tracker="jira") == (T0 + timedelta(seconds=30)).timestamp()
    # github succeeded this time: its timestamp moves on
    assert value(parsed, "plansync_last_success_timestamp_seconds", tracker="github") == (later + timedelta(seconds=4)).timestamp()
    assert value(parsed, "plansync_run_outcome", command="run", outcome="failed") == 1
    assert value(parsed, "plansync_run_outcome", command="run", outcome="success") == 0
    assert value(parsed, "plansync_tracker_failures", tracker="jira") == 1
    assert value(parsed, "plansync_last_run_timestamp_seconds", command="run") == (later + timedelta(seconds=5)).timestamp()


def test_counters_accumulate_across_runs_and_gauges_describe_the_last_run(tmp_path):
    path = tmp_path / "plansync.prom"
    write_metrics(path, good_run(jira_reads=40))
    write_metrics(path, good_run(T0 + timedelta(minutes=10), jira_reads=7, github_not_modified=17))
    parsed = samples(path)
    assert value(parsed, "plansync_requests_total", tracker="jira", kind="read") == 47
    assert value(parsed, "plansync_requests_total", tracker="github", kind="not_modified") == 20
    assert value(parsed, "plansync_writes_total", tracker="jira") == 10
    assert value(parsed, "plansync_retries_total", tracker="jira") == 4
    assert value(parsed, "plansync_items_pulled", tracker="jira") == 120  # a gauge: not summed


def test_a_run_touching_one_tracker_keeps_the_other_trackers_history(tmp_path):
    path = tmp_path / "plansync.prom"
    write_metrics(path, good_run())
    later = T0 + timedelta(minutes=10)
    write_metrics(path, RunMetrics(command="sync", outcome="success", started=later, finished=later + timedelta(seconds=1),
                                   trackers={"jira": TrackerMetrics(reads=1, requests=1, last_success=later)}))
    parsed = samples(path)
    assert value(parsed, "plansync_last_success_timestamp_seconds", tracker="github") == (T0 + timedelta(seconds=40)).timestamp()
    assert value(parsed, "plansync_requests_total", tracker="github", kind="read") == 17
    assert ("plansync_items_pulled", frozenset({"tracker": "github"}.items())) not in parsed
    assert value(parsed, "plansync_run_outcome", command="sync", outcome="success") == 1


def test_previous_can_name_another_file_and_a_corrupt_one_is_ignored(tmp_path):
    earlier = tmp_path / "earlier.prom"
    write_metrics(earlier, good_run())
    path = tmp_path / "plansync.prom"
    path.write_text("plansync_requests_total{tracker=\"jira\" 12\n")  # truncated by hand
    later = T0 + timedelta(minutes=10)
    failed = RunMetrics(command="run", outcome="failed", started=later, finished=later,
                        trackers={"jira": TrackerMetrics(failures=1)})

    write_metrics(path, failed)  # the corrupt file itself: nothing carried, and no exception
    assert ("plansync_last_success_timestamp_seconds", frozenset({"tracker": "jira"}.items())) not in samples(path)

    write_metrics(path, failed, previous=earlier)
    assert value(samples(path), "plansync_last_success_timestamp_seconds", tracker="jira") == (T0 + timedelta(seconds=30)).timestamp()


def test_the_file_is_replaced_atomically_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "plansync.prom"
    write_metrics(path, good_run())
    renames: list[tuple[str, str]] = []
    real_rename = os.rename

    def recording_rename(src, dst):
        renames.append((str(src), str(dst)))
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", recording_rename)
    monkeypatch.setattr(os, "replace", recording_rename)
    write_metrics(path, good_run(T0 + timedelta(minutes=10)))
    assert len(renames) == 1
    src, dst = renames[0]
    assert dst == str(path) and Path(src).parent == tmp_path and not src.endswith(".prom")
    # only the file itself and the (non-.prom, so ignored by node_exporter) lock file remain
    assert sorted(p.name for p in tmp_path.iterdir()) == [".plansync.prom.lock", "plansync.prom"]


def test_an_unwritable_folder_raises_oserror(tmp_path):
    with pytest.raises(OSError):
        write_metrics(tmp_path / "missing-folder" / "plansync.prom", good_run())


def test_run_metrics_from_request_stats_and_exit_codes():
    stats = RequestStats(requests=9, reads=6, writes=2, not_modified=1, retries=3)
    tracker = TrackerMetrics.from_stats(stats, items_pulled=4, failures=0, last_success=T0)
    assert (tracker.requests, tracker.reads, tracker.writes, tracker.not_modified, tracker.retries,
            tracker.items_pulled, tracker.last_success) == (9, 6, 2, 1, 3, 4, T0)
    assert [outcome_for_exit_code(code) for code in ExitCode] == ["success", "failed", "bad_input", "changes", "skipped"]
    assert set(outcome_for_exit_code(code) for code in ExitCode) <= set(OUTCOMES)
    assert outcome_for_exit_code(137) == "failed"
    assert RunMetrics("run", "success", T0, T0 + timedelta(seconds=2)).duration_seconds == 2
    with pytest.raises(ValueError, match="timezone-aware"):
        RunMetrics("run", "success", datetime(2026, 1, 1), datetime(2026, 1, 1))


def test_no_token_reaches_the_metrics_file(tmp_path, monkeypatch):
    from connector.trackers.jira.config import JiraTrackerSettings

    monkeypatch.setenv("JIRA_API_TOKEN", "jira-secret-token-value-1234")
    tracker = JiraTrackerSettings(kind="jira", url="https://example.atlassian.net", token_env="JIRA_API_TOKEN",
                                  email="bot@example.com")
    tracker._name = "jira"
    tracker.token()  # the token is live in this process, as it is during a real run
    path = tmp_path / "plansync.prom"
    write_metrics(path, good_run())
    text = path.read_text()
    assert "jira-secret-token-value-1234" not in text
    assert {f.name for f in text_string_to_metric_families(text)} == EXPECTED_FAMILIES
