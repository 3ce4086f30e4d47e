"""Issue #17 through the real CLI (subprocesses against the sandbox): two plans on one store (item 3), a
report that cannot be written (item 4), a pinned clock and writes (item 8), and from item 10: doctor per
repository, SIGTERM releasing the leases, a SQLite store in a missing folder, bidi controls in `plan`."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from connector.sandbox.demo import write_plan
from tests.e2e.helpers import REPO, label_writes, make_workspace

pytestmark = pytest.mark.e2e


@pytest.fixture
def workspace(tmp_path, sandbox_factory):
    sb = sandbox_factory(seed=3, scale=300)
    return make_workspace(tmp_path, sb, write_plan(tmp_path, sb.org).read_text())


def test_a_store_serves_one_plan_and_a_rename_is_kept_by_its_namespace(workspace):
    assert workspace.cli("sync").returncode == 0
    text = workspace.plan.read_text()
    workspace.plan.write_text(text.replace('name = "Checkout revamp (sandbox)"', 'name = "Checkout v2"', 1))
    workspace.sandbox.reset_counts()
    refused = workspace.cli("run", "--force")
    assert refused.returncode == 2, refused.stderr
    assert "store.namespace = 'Checkout revamp (sandbox)'" in refused.stderr and "Traceback" not in refused.stderr
    assert workspace.sandbox.log == []
    # the same plan renamed: the namespace keeps the binding
    config = workspace.config.read_text().replace("[store]\n", '[store]\nnamespace = "Checkout revamp (sandbox)"\n', 1)
    workspace.config.write_text(config)
    assert workspace.cli("sync").returncode == 0


def test_an_unwritable_report_folder_finishes_the_run_with_exit_1(workspace):
    blocker = workspace.folder / "reports"
    blocker.write_text("a file where the report folder should be\n")
    metrics = workspace.folder / "plansync.prom"
    proc = subprocess.run([sys.executable, "-m", "connector", "--metrics-file", str(metrics), "run", "--config",
                           str(workspace.config), "--plan", str(workspace.plan)], cwd=workspace.folder,
                          env=workspace.env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "plansync: writing the report failed:" in proc.stdout and "outcome=partial" in proc.stdout
    assert label_writes(workspace.sandbox)  # the labels were written before
    assert 'plansync_run_outcome{command="run",outcome="partial"} 1' in metrics.read_text()
    with sqlite3.connect(workspace.folder / "plansync.db") as conn:
        assert conn.execute("SELECT outcome, finished IS NOT NULL FROM runs ORDER BY id DESC").fetchone() == \
            ("partial", 1)
    report = workspace.cli("report")
    assert report.returncode == 1 and "writing the report failed" in report.stdout and "Traceback" not in report.stderr


def test_writes_with_a_pinned_clock_are_refused_unless_allowed(workspace):
    for command in ("apply", "run"):
        proc = workspace.cli(command, PLANSYNC_ALLOW_PINNED_NOW="")
        assert proc.returncode == 2, proc.stderr
        assert "PLANSYNC_NOW" in proc.stderr and "PLANSYNC_ALLOW_PINNED_NOW=1" in proc.stderr
    assert workspace.sandbox.log == []
    assert workspace.cli("plan", PLANSYNC_ALLOW_PINNED_NOW="").returncode == 0  # reading is fine
    bad = workspace.cli("sync", PLANSYNC_NOW="9999-12-31")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_doctor_checks_every_repository_on_its_own(workspace):
    plan = workspace.plan.read_text()
    workspace.plan.write_text(plan.replace('repo = "acme/infra"', 'repo = "acme/no-such-repo"', 1))
    proc = workspace.cli("doctor")
    assert proc.returncode == 1, proc.stdout
    assert "FAIL  github acme/no-such-repo: not found, or not visible to this token (404)" in proc.stdout
    assert "ok    github acme/checkout-web" in proc.stdout  # one bad repository fails only itself


def test_doctor_checks_every_jira_scope_on_its_own(workspace):
    plan = workspace.plan.read_text()
    bad = 'project = OPS AND fixVersion = "Beta"'
    workspace.plan.write_text(plan.replace(bad, bad + " AND (", 1))
    proc = workspace.cli("doctor")
    assert proc.returncode == 1, proc.stdout
    failed = [line for line in proc.stdout.splitlines() if line.startswith("FAIL  jira")]
    assert len(failed) == 1 and "fixVersion" in failed[0] and "400" in failed[0], proc.stdout
    assert 'ok    jira jira: project = CHK AND fixVersion = "Alpha"' in proc.stdout  # the others still checked


def test_doctor_explains_a_url_that_is_not_an_api_root(workspace):
    config = workspace.config.read_text().replace(workspace.sandbox.github_url, workspace.sandbox.url + "/nothing")
    workspace.config.write_text(config)
    proc = workspace.cli("doctor")
    assert proc.returncode == 1
    assert "not a GitHub API root" in proc.stdout


@pytest.mark.parametrize("signum, code, said", [(signal.SIGTERM, 128 + signal.SIGTERM, "plansync: terminated"),
                                                (signal.SIGINT, 130, "plansync: interrupted")])
def test_sigterm_and_ctrl_c_finish_the_run_and_release_the_leases(workspace, signum, code, said):
    # every answer takes 1.5 s, so the signal surely arrives while the run is still working
    rule = workspace.sandbox.faults.add("latency", latency_ms=1500, times=None)
    proc = subprocess.Popen([sys.executable, "-m", "connector", "run", "--config", str(workspace.config), "--plan",
                             str(workspace.plan)], cwd=workspace.folder, env=workspace.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not workspace.sandbox.log and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    workspace.sandbox.faults.clear()
    assert rule.hits >= 1
    assert proc.returncode == code, out + err
    assert said in err and "Traceback" not in err
    with sqlite3.connect(workspace.folder / "plansync.db") as conn:
        assert conn.execute("SELECT count(*) FROM leases").fetchone() == (0,)
        assert conn.execute("SELECT outcome FROM runs ORDER BY id DESC").fetchone() == ("failed",)
    assert workspace.cli("run").returncode == 0  # no lease left behind: the next run is not skipped


def test_a_sqlite_store_in_a_missing_folder_names_the_folder(workspace):
    config = workspace.config.read_text()
    url_line = next(line for line in config.splitlines() if line.startswith("url = \"sqlite"))
    missing = workspace.folder / "no" / "such" / "dir"
    workspace.config.write_text(config.replace(url_line, f'url = "sqlite:///{missing}/plansync.db"', 1))
    proc = workspace.cli("sync")
    assert proc.returncode == 1, proc.stderr
    assert f"the folder {missing} does not exist" in proc.stderr


def test_bidi_controls_in_tracker_text_are_escaped_in_plan_output(workspace):
    sb = workspace.sandbox
    issue = next(i for i in sorted(sb.state.gh_issues["acme/checkout-web"].values(), key=lambda i: i.number)
                 if i.state == "open" and not i.is_pr)
    sb.update_github_issue("acme/checkout-web", issue.number, title="fix \u202ekcehc\u202c the checkout")
    proc = workspace.cli("plan")
    assert "\u202e" not in proc.stdout + proc.stderr
    as_json = workspace.cli("plan", "--json", "--no-sync")
    json.loads(as_json.stdout)  # escaping keeps the JSON valid


def test_json_logs_stay_json_with_library_warnings(workspace):
    proc = subprocess.run([sys.executable, "-W", "always", "-c",
                           "import warnings, sys; from connector.cli import main; "
                           "sys.argv[0] = 'plansync'; "
                           "import connector.logs as l; l.setup_logging('json', 'info'); "
                           "warnings.warn('a library warning'); "
                           "main(['--log-format', 'json', 'validate', '--config', sys.argv[1], '--plan', sys.argv[2]])",
                           str(workspace.config), str(workspace.plan)], cwd=REPO, env={**workspace.env(),
                                                                                       **dict(os.environ)},
                          capture_output=True, text=True, timeout=60)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith("{") for line in lines), proc.stderr
    assert any("a library warning" in json.loads(line)["message"] for line in lines)
