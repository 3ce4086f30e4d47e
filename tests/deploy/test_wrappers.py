"""The two shell wrappers, run for real with a stand-in `plansync` that exits as told."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
from pathlib import Path

import pytest

from tests.deploy.commands import DEPLOY

JOB = DEPLOY / "bin" / "plansync-job"
WITH_ENV = DEPLOY / "cron" / "plansync-with-env"


def fake_plansync(folder: Path, body: str) -> Path:
    path = folder / "plansync"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def run_job(tmp_path: Path, exit_code: int, *args: str) -> subprocess.CompletedProcess:
    fake = fake_plansync(tmp_path, f'printf "%s\\n" "$@" > "{tmp_path}/argv"\nexit {exit_code}')
    return subprocess.run([str(JOB), *args], env={**os.environ, "PLANSYNC_BIN": str(fake)},
                          capture_output=True, text=True, timeout=30)


def test_the_wrappers_are_executable_posix_shell():
    for script in (JOB, WITH_ENV):
        assert os.access(script, os.X_OK), f"{script} must be executable (git keeps the mode)"
        assert script.read_text().startswith("#!/bin/sh\n")
        assert subprocess.run(["sh", "-n", str(script)], capture_output=True).returncode == 0


@pytest.mark.parametrize("plansync_exit, reported", [(0, 0), (1, 1), (2, 2), (3, 3), (4, 0)])
def test_plansync_job_reports_a_held_lease_as_success_and_passes_the_rest_through(tmp_path, plansync_exit, reported):
    result = run_job(tmp_path, plansync_exit, "--log-format", "json", "sync", "--tracker", "jira")
    assert result.returncode == reported
    assert ("lease" in result.stderr) == (plansync_exit == 4)


def test_plansync_job_passes_arguments_verbatim(tmp_path):
    run_job(tmp_path, 0, "report", "--out", "/var/lib/plansync/my reports", "--format", "md,html")
    assert (tmp_path / "argv").read_text().splitlines() == ["report", "--out", "/var/lib/plansync/my reports",
                                                            "--format", "md,html"]


# the image's /bin/sh is dash; bash is what many hosts call sh. `wait` differs between them.
SHELLS = [shell for shell in ("dash", "bash") if shutil.which(shell)]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("on_term, expected", [("exit 7", 7), ("trap - TERM; kill -TERM $$", 128 + signal.SIGTERM)])
def test_plansync_job_forwards_sigterm_and_returns_plansyncs_own_exit_status(tmp_path, shell, on_term, expected):
    ready = tmp_path / "ready"
    os.mkfifo(ready)
    # the stand-in says it is ready through a FIFO (no polling), then blocks until it is told to stop
    fake = fake_plansync(tmp_path, f'''sleep 600 &
s=$!
trap 'kill $s; echo stopped > "{tmp_path}/stopped"; {on_term}' TERM
echo ready > "{ready}"
wait $s''')
    job = subprocess.Popen([shell, str(JOB), "run"], env={**os.environ, "PLANSYNC_BIN": str(fake)},
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with open(ready) as fifo:
            assert fifo.read().strip() == "ready"
        job.send_signal(signal.SIGTERM)
        assert job.wait(timeout=30) == expected
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
    assert (tmp_path / "stopped").read_text().strip() == "stopped"


def test_plansync_with_env_loads_the_env_file_and_execs_the_command(tmp_path):
    env_file = tmp_path / "plansync.env"
    env_file.write_text("JIRA_API_TOKEN=jira-token-from-file\nGITHUB_TOKEN='gh token with spaces'\n")
    env = {"PATH": os.environ["PATH"], "PLANSYNC_ENV_FILE": str(env_file)}
    result = subprocess.run([str(WITH_ENV), "sh", "-c", 'printf "%s|%s" "$JIRA_API_TOKEN" "$GITHUB_TOKEN"; exit 4'],
                            env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 4  # exec: plansync's exit code is cron's (which ignores it)
    assert result.stdout == "jira-token-from-file|gh token with spaces"
    assert "jira-token-from-file" not in result.stderr


def test_plansync_with_env_without_the_file_says_so_and_still_runs(tmp_path):
    env = {"PATH": os.environ["PATH"], "PLANSYNC_ENV_FILE": str(tmp_path / "missing.env")}
    result = subprocess.run([str(WITH_ENV), "sh", "-c", "echo ran"], env=env, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0 and result.stdout == "ran\n"
    assert "missing.env" in result.stderr
