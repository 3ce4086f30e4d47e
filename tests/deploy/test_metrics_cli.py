"""--metrics-file end to end: the real `plansync` executable against the sandbox, the file parsed back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from connector.sandbox.demo import GITHUB_TOKEN_ENV, sandbox_tokens, write_config, write_plan

PLANSYNC = Path(sys.executable).parent / "plansync"


def parsed(path: Path) -> dict[tuple[str, frozenset], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(path.read_text()) for s in family.samples}


def plansync(folder: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(PLANSYNC), "--log-format", "json", "--metrics-file", str(folder / "plansync.prom"),
                           *args, "-c", str(folder / "config.toml"), "-p", str(folder / "plan.toml")],
                          env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.e2e
def test_a_failing_tracker_keeps_its_last_success_in_the_metrics_file(sandbox_factory, tmp_path):
    if not PLANSYNC.exists():
        pytest.skip(f"the plansync console script is not installed next to {sys.executable}")
    sandbox = sandbox_factory(seed=3, scale=200)
    write_config(tmp_path, sandbox)
    write_plan(tmp_path, sandbox.org)
    env = {**os.environ, **sandbox_tokens()}

    first = plansync(tmp_path, env, "run")
    assert first.returncode == 0, first.stderr[-2000:]
    metrics = parsed(tmp_path / "plansync.prom")
    github_success = metrics[("plansync_last_success_timestamp_seconds", frozenset({"tracker": "github"}.items()))]
    assert metrics[("plansync_run_outcome", frozenset({"command": "run", "outcome": "success"}.items()))] == 1
    assert metrics[("plansync_items_pulled", frozenset({"tracker": "jira"}.items()))] > 0
    reads = metrics[("plansync_requests_total", frozenset({"tracker": "jira", "kind": "read"}.items()))]
    assert reads > 0

    # GitHub now refuses the token: jira still syncs, github fails, and its last success survives
    second = plansync(tmp_path, {**env, GITHUB_TOKEN_ENV: "a-revoked-token-0000"}, "run")
    assert second.returncode == 1, second.stdout[-2000:]
    metrics = parsed(tmp_path / "plansync.prom")
    assert metrics[("plansync_last_success_timestamp_seconds", frozenset({"tracker": "github"}.items()))] \
        == github_success
    assert metrics[("plansync_tracker_failures", frozenset({"tracker": "github"}.items()))] == 1
    assert metrics[("plansync_tracker_failures", frozenset({"tracker": "jira"}.items()))] == 0
    assert metrics[("plansync_run_outcome", frozenset({"command": "run", "outcome": "success"}.items()))] == 0
    assert metrics[("plansync_run_outcome", frozenset({"command": "run", "outcome": "partial"}.items()))] == 1
    assert metrics[("plansync_requests_total", frozenset({"tracker": "jira", "kind": "read"}.items()))] > reads
    text = (tmp_path / "plansync.prom").read_text()
    assert all(token not in text for token in sandbox_tokens().values())
    assert "a-revoked-token-0000" not in text + second.stdout + second.stderr
