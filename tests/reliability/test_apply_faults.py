"""Faults while applying: label writes failing after some succeeded, SIGKILL at seeded crash points of a
real `plansync apply` process, and SIGKILL of a whole `plansync run` at a seeded request. The next run
converges to exactly the fault-free labels, writing none twice.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import time

import pytest

from tests.reliability.harness import (
    assert_no_traceback,
    duplicates,
    failure_lines,
    owned_labels,
    record,
)

JIRA_LABEL_PUT = dict(method="PUT", path=r"^/jira/rest/api/3/issue/[^/]+$")
GITHUB_LABEL_POST = dict(method="POST", path=r"^/github/repos/[^/]+/[^/]+/issues/\d+/labels$")
CRASH_POINTS = ("journal-sent", "write-sent")
FAST_SEEDS = range(6)
SOAK_SEEDS = range(100, 160)


def _converged(ws, reference_labels) -> None:
    from connector.store import Store

    settled = ws.main("plan", "--detailed-exitcode")
    assert settled.code == 0, f"a fresh plan after sync still shows changes\n{settled}"
    assert owned_labels(ws.sandbox) == reference_labels
    assert not duplicates(ws.sandbox), duplicates(ws.sandbox)
    with sqlite3.connect(ws.folder / "plansync.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with Store.open(ws.store_url) as store:
        assert not store.journal_unfinished(), "the write journal still has entries planned or sent"


@pytest.mark.parametrize("tracker, where, preset, after", [
    ("jira", JIRA_LABEL_PUT, "500", 5),
    ("github", GITHUB_LABEL_POST, "502", 3),
    ("jira", JIRA_LABEL_PUT, "jira_token_revoked", 4),
    ("github", GITHUB_LABEL_POST, "github_token_revoked", 2),
], ids=["jira-5xx", "github-5xx", "jira-401", "github-401"])
def test_writes_failing_after_some_succeeded_are_finished_by_the_next_run(tracker, where, preset, after, workspace,
                                                                         reference_labels):
    ws = workspace()
    assert ws.main("sync").code == 0
    rule = ws.sandbox.faults.add(preset=preset, after=after, times=None, **where)
    failed = ws.main("apply")
    ws.sandbox.faults.clear()

    assert rule.hits >= 1
    assert_no_traceback(failed)
    assert failed.code == 1, str(failed)
    lines = failure_lines(failed)
    assert len(lines) == 1 and f"'{tracker}'" in lines[0], str(failed)
    landed = owned_labels(ws.sandbox)
    assert landed and landed != reference_labels, "the fault should leave the apply half done"
    assert all(reference_labels.get(key) == labels for key, labels in landed.items()), "a wrong label landed"

    again = ws.main("apply")  # sync + apply: `run` adds only the report, tested elsewhere
    assert again.code == 0, str(again)
    _converged(ws, reference_labels)
    record(f"apply: {tracker} {'401' if 'revoked' in preset else '5xx'} after {after} writes",
           "tracker failed cleanly; next run converged", 0)


def _crash_case(seed: int, workspace, reference_labels) -> None:
    choose = random.Random(seed)
    point, nth = choose.choice(CRASH_POINTS), choose.randint(1, 20)
    ws = workspace()
    assert ws.main("sync").code == 0
    crashed = ws.cli("apply", "--no-sync", env={"PLANSYNC_CRASH_AT": f"{point}:{nth}"})
    assert crashed.code == -signal.SIGKILL, f"expected SIGKILL at {point}:{nth}\n{crashed}"
    landed = owned_labels(ws.sandbox)
    # the journal marks a write sent before the request: a kill there has sent nth-1 writes, after it nth
    assert len(landed) <= nth
    assert all(reference_labels.get(key) == labels for key, labels in landed.items())

    again = ws.main("apply")  # sync + apply: `run` adds only the report, tested elsewhere
    assert again.code == 0, f"the run after a SIGKILL at {point}:{nth} failed\n{again}"
    _converged(ws, reference_labels)
    record(f"SIGKILL at {point}", f"killed at write {nth}; next run converged", 0)


@pytest.mark.parametrize("seed", FAST_SEEDS)
def test_sigkill_mid_apply_then_apply_converges_without_duplicate_writes(seed, workspace, reference_labels):
    _crash_case(seed, workspace, reference_labels)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SOAK_SEEDS)
def test_sigkill_mid_apply_soak(seed, workspace, reference_labels):
    _crash_case(seed, workspace, reference_labels)


def _kill_at_request(seed: int, workspace, reference_labels, run_requests: int) -> None:
    """SIGKILL a whole `plansync run` from outside when the sandbox has served its k-th request: during
    the pull, between the trackers, mid-apply, or while the report is written. k is drawn from the
    requests a clean run makes (the last two excepted, so the run cannot finish first)."""
    assert run_requests > 3, "a clean run makes almost no requests: the case would prove nothing"
    k = random.Random(seed).randint(1, run_requests - 2)
    ws = workspace()
    proc = ws.popen("run")
    while proc.poll() is None and len(ws.sandbox.log) < k:
        time.sleep(0.002)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"the run ended before request {k}: exit {proc.returncode}\n{err}"
    landed = owned_labels(ws.sandbox)
    assert all(reference_labels.get(key) == labels for key, labels in landed.items())

    again = ws.main("run")
    assert again.code == 0, f"the run after a SIGKILL at request {k} failed\n{again}"
    _converged(ws, reference_labels)
    record("SIGKILL of `run` at a random request", f"killed at request {k}; next run converged", 0)


@pytest.mark.parametrize("seed", range(3))
def test_sigkill_of_a_run_at_a_random_request_then_run_converges(seed, workspace, reference_labels, run_requests):
    _kill_at_request(seed, workspace, reference_labels, run_requests)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(200, 240))
def test_sigkill_of_a_run_at_a_random_request_soak(seed, workspace, reference_labels, run_requests):
    _kill_at_request(seed, workspace, reference_labels, run_requests)
