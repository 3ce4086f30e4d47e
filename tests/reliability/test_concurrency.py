"""Five `plansync run` processes started at once on one store (SQLite and PostgreSQL): one works, the
others exit 4 with a clear message, and no label is written twice (the sandbox request log).
"""

from __future__ import annotations

import pytest

from tests.reliability.harness import assert_no_traceback, duplicates, owned_labels, record

RUNS = 5


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_five_runs_at_once_one_works_the_rest_exit_4(engine, workspace, reference_labels, request):
    store_url = request.getfixturevalue("pg_url") if engine == "postgresql" else None
    ws = workspace(store_url)
    # the run holding the lease stays busy long enough for every other process to find it taken
    ws.sandbox.faults.add(kind="latency", latency_ms=4000, path=r"^/jira/rest/api/3/field", times=1)
    processes = [ws.popen("run") for _ in range(RUNS)]
    results = []
    for proc in processes:
        out, err = proc.communicate(timeout=180)
        results.append((proc.returncode, out, err))

    codes = sorted(code for code, _, _ in results)
    assert codes == [0] + [4] * (RUNS - 1), "\n\n".join(f"exit {c}\n{o}\n{e}" for c, o, e in results)
    for code, out, err in results:
        assert "Traceback" not in out + err
        if code == 4:
            assert out.strip().splitlines() == [line for line in out.strip().splitlines()
                                                if line.startswith("plansync: skipped: lease")], out
    assert not duplicates(ws.sandbox), duplicates(ws.sandbox)
    assert owned_labels(ws.sandbox) == reference_labels
    record(f"concurrency: {RUNS} runs at once ({engine})", "1 ran, 4 exited 4 (lease held)", 0)


def test_a_second_run_after_the_first_finished_works_normally(workspace):
    """Guards the test above: the lease is released at the end, so exit 4 really means 'overlapping'."""
    ws = workspace()
    first, second = ws.main("apply"), ws.main("apply")
    assert (first.code, second.code) == (0, 0), f"{first}\n{second}"
    assert_no_traceback(second)
