"""Rate-limit citizenship: with a small GitHub budget and a `budget_share`, a run never spends more than
that share (counted in the sandbox log) and stops GitHub cleanly while Jira's work goes on."""

from __future__ import annotations

import pytest

from tests.reliability.harness import assert_no_traceback, failure_lines, record, writes_to


def _spent(sandbox) -> int:
    """Requests that count against GitHub's primary limit (the sandbox's own rule: not 304, not 401)."""
    return sum(1 for r in sandbox.log if r.flavour == "github" and r.status not in (304, 401)
               and r.endpoint_name != "github.rate_limit")


@pytest.mark.parametrize("limit, share", [(20, 0.25), (40, 0.5), (200, 0.8)])
def test_a_run_spends_at_most_its_share_of_the_github_budget(limit, share, workspace):
    ws = workspace(github_rate_limit=limit)
    ws.set_tracker_option("github", f"budget_share = {share}")
    result = ws.main("apply")
    assert_no_traceback(result)
    allowed = int(limit * share)
    assert _spent(ws.sandbox) <= allowed, f"spent {_spent(ws.sandbox)} of {limit} with budget_share {share}"
    assert writes_to(ws.sandbox, "jira") > 0, "Jira's work must go on"
    if result.code == 0:
        outcome = f"completed within budget ({_spent(ws.sandbox)}/{allowed})"
    else:
        assert result.code == 1, str(result)
        lines = failure_lines(result)
        assert len(lines) == 1 and "'github'" in lines[0] and "budget_share" in lines[0], str(result)
        outcome = f"GitHub stopped cleanly at {_spent(ws.sandbox)}/{allowed} requests"
    record(f"rate budget: GitHub limit {limit}, budget_share {share}", outcome, 0)


def test_the_smallest_budget_really_stops_github(workspace):
    """Guards the test above: a budget too small for one pull must end in a clean stop, not a pass."""
    ws = workspace(github_rate_limit=20)
    ws.set_tracker_option("github", "budget_share = 0.25")
    result = ws.main("apply")
    assert result.code == 1 and failure_lines(result), str(result)
