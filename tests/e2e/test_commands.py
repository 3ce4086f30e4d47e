"""The other commands end to end on the sandbox: doctor, plan's exit codes and JSON, sync --tracker,
isolation of a failing tracker, report publishing, JSON logs, and the demo's report."""

from __future__ import annotations

import json

import pytest

from connector.sandbox.demo import write_plan
from tests.e2e.helpers import label_writes, make_workspace

pytestmark = pytest.mark.e2e


@pytest.fixture
def workspace(tmp_path, sandbox_factory):
    sb = sandbox_factory(seed=3, scale=300)
    return make_workspace(tmp_path, sb, write_plan(tmp_path, sb.org).read_text())


def test_doctor_reports_each_tracker(workspace):
    ok = workspace.cli("doctor")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "ok    jira:" in ok.stdout and "ok    github:" in ok.stdout
    bad = workspace.cli("doctor", PLANSYNC_SANDBOX_GITHUB_TOKEN="ghp_revoked0000")
    assert bad.returncode == 1
    assert "FAIL  github" in bad.stdout and "ghp_revoked0000" not in bad.stdout + bad.stderr


def test_an_unset_token_is_exit_2_before_any_request(workspace):
    proc = workspace.cli("sync", PLANSYNC_SANDBOX_JIRA_TOKEN="")
    assert proc.returncode == 2
    assert "PLANSYNC_SANDBOX_JIRA_TOKEN" in proc.stderr and "trackers.jira.token_env" in proc.stderr
    assert workspace.sandbox.log == []


def test_plan_detailed_exitcode_and_json(workspace):
    pending = workspace.cli("plan", "--detailed-exitcode")
    assert pending.returncode == 3, pending.stdout + pending.stderr
    assert "+ plan:" in pending.stdout
    as_json = workspace.cli("plan", "--json", "--no-sync")
    assert as_json.returncode == 0
    data = json.loads(as_json.stdout)
    assert data["changes"] and all(label.startswith("plan:") for c in data["changes"] for label in c["add"])
    assert label_writes(workspace.sandbox) == []  # plan never writes


def test_sync_of_one_tracker_touches_only_that_tracker(workspace):
    proc = workspace.cli("sync", "--tracker", "github")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert workspace.sandbox.count(flavour="github") > 0
    assert workspace.sandbox.count(flavour="cloud") == 0


def test_a_failing_tracker_does_not_stop_the_other(workspace):
    sb = workspace.sandbox
    proc = workspace.cli("run", PLANSYNC_SANDBOX_GITHUB_TOKEN="ghp_revoked0000")
    assert proc.returncode == 1
    assert "tracker 'github'" in proc.stdout + proc.stderr
    writes = label_writes(sb)
    assert writes and all(r.flavour == "cloud" for r in writes)  # Jira's labels were still written
    assert (workspace.folder / "reports" / "latest.html").is_file()  # and the report still came out


def test_publishing_the_report_is_one_comment_per_week(tmp_path, sandbox_factory):
    sb = sandbox_factory(seed=3, scale=300)
    ws = make_workspace(tmp_path, sb, write_plan(tmp_path, sb.org).read_text(),
                        extra='\n[report.publish]\ntracker = "github"\nissue = "acme/checkout-web#1"\n')
    plan = ws.cli("plan")
    assert "comment on github acme/checkout-web#1" in plan.stdout
    for _ in range(2):
        proc = ws.cli("run")
        assert proc.returncode == 0, proc.stdout + proc.stderr
    comments = [c for c in sb.github_issue("acme/checkout-web", 1).comments if "plansync:weekly-report" in c["body"]]
    assert len(comments) == 1
    assert sb.count(method="PATCH") == 1  # the rerun edited that week's comment


def test_json_logs_and_a_summary_line(workspace):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "connector", "--log-format", "json", "sync", "--config",
                           str(workspace.config), "--plan", str(workspace.plan)], cwd=workspace.folder,
                          env=workspace.env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stderr.splitlines() if line.strip()]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any("outcome=success" in r["message"] for r in records)


def test_the_demo_report_has_every_section_with_content(tmp_path):
    from connector.sandbox.demo import run_demo
    from connector.sandbox.validation import PROCESS
    from tests.fixtures.sandbox import VALIDATE

    checked = PROCESS.responses
    # validating: an OpenAPI violation in the demo's exchanges fails this test (tests/fixtures/sandbox.py)
    assert run_demo(tmp_path / "demo", scale=600, seed=7, validate=VALIDATE) == 0
    assert PROCESS.responses > checked or not VALIDATE  # the demo's exchanges were validated
    report = json.loads((tmp_path / "demo" / "reports" / "latest.json").read_text())
    for section in ("milestones", "changes", "plan_changes", "workload", "unplanned", "risks", "drift",
                    "freshness"):
        assert report[section], f"the demo report's {section} section is empty"
    assert report["objective"]
    healths = {m["health"] for m in report["milestones"]}
    assert {"done", "off-track"} <= healths
