"""The crontab, the systemd units and the GitHub Actions workflow, parsed and checked."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.deploy.files import CRONTAB, SERVICE, TIMER, WORKFLOW, load_workflow, parse_crontab, parse_unit

CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")
CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def cron_minutes(field: str) -> set[int]:
    """The minutes a crontab minute field fires on (enough cron syntax for our files)."""
    minutes: set[int] = set()
    for part in field.split(","):
        base, _, step = part.partition("/")
        low, high = (0, 59) if base == "*" else (int(base.split("-")[0]), int(base.split("-")[-1]))
        minutes |= set(range(low, high + 1, int(step or 1)))
    return minutes


# --- cron --------------------------------------------------------------------------------------------

def test_the_crontab_line_runs_every_ten_minutes_with_output_to_a_log():
    env, entries = parse_crontab()
    assert len(entries) == 1
    entry = entries[0]
    for field, (low, high) in zip(entry.schedule, CRON_RANGES, strict=True):
        assert CRON_FIELD.match(field), field
        assert all(low <= int(n) <= high for n in re.findall(r"\d+", field.split("/")[0]))
    assert cron_minutes(entry.schedule[0]) == set(range(0, 60, 10)) and entry.schedule[1:] == ("*",) * 4
    assert re.search(r">>\s*/var/log/plansync/\S+\.log 2>&1$", entry.command)
    assert "flock" not in entry.command  # the lease in the store does the locking
    assert env["PLANSYNC_CONFIG"] == "/etc/plansync/config.toml" and env["PLANSYNC_PLAN"] == "/etc/plansync/plan.toml"
    assert not [name for name in env if "TOKEN" in name]  # tokens come from the env file, never the crontab


def test_the_cron_field_check_rejects_nonsense():
    assert not CRON_FIELD.match("*/x") and not CRON_FIELD.match("every 10") and CRON_FIELD.match("5-59/10")
    assert cron_minutes("5-59/10") == {5, 15, 25, 35, 45, 55}


# --- systemd -------------------------------------------------------------------------------------------

def test_the_service_is_a_hardened_oneshot_that_treats_exit_4_as_success():
    service = parse_unit(SERVICE)["Service"]
    assert service["Type"] == "oneshot"
    assert "4" in service["SuccessExitStatus"].split()
    assert service["User"] == "plansync" and service["User"] != "root"
    assert service["EnvironmentFile"].lstrip("-") == "/etc/plansync/plansync.env"
    assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
    writable = service["ReadWritePaths"].split()
    assert "/var/lib/plansync" in writable
    assert any(p.lstrip("-") == "/var/lib/node_exporter/textfile_collector" for p in writable)
    assert "--metrics-file /var/lib/node_exporter/textfile_collector/" in service["ExecStart"]
    environment = dict(pair.split("=", 1) for pair in service["Environment"].split())
    assert environment["PLANSYNC_CONFIG"] == "/etc/plansync/config.toml"
    assert not [k for k in service if "TOKEN" in service[k]]


def test_the_timer_fires_every_ten_minutes_persistently_with_jitter():
    timer = parse_unit(TIMER)
    assert timer["Timer"]["OnCalendar"] == "*:0/10"
    assert timer["Timer"]["Persistent"] == "true"
    assert int(timer["Timer"]["RandomizedDelaySec"]) > 0
    assert timer["Timer"]["Unit"] == SERVICE.name
    assert timer["Install"]["WantedBy"] == "timers.target"


@pytest.fixture
def systemd_analyze():
    path = shutil.which("systemd-analyze")
    if path is None:
        pytest.skip("systemd-analyze is not installed on this machine")
    return path


def test_systemd_analyze_accepts_the_units_and_the_calendar(systemd_analyze, tmp_path):
    calendar = subprocess.run([systemd_analyze, "calendar", "--iterations=7", parse_unit(TIMER)["Timer"]["OnCalendar"]],
                              capture_output=True, text=True)
    assert calendar.returncode == 0, calendar.stderr
    assert "Normalized form: *-*-* *:00/10:00" in calendar.stdout
    elapses = re.findall(r"(?:Next elapse|Iter\. #\d+): \w+ [\d-]+ \d\d:(\d\d):(\d\d)", calendar.stdout)
    assert len(elapses) == 7 and all(int(m) % 10 == 0 and s == "00" for m, s in elapses)
    # verify needs ExecStart to exist: point it at a stand-in executable, keep every other line as shipped
    stand_in = shutil.which("true")
    (tmp_path / SERVICE.name).write_text(SERVICE.read_text().replace("/opt/plansync/bin/plansync", stand_in))
    (tmp_path / TIMER.name).write_text(TIMER.read_text())
    verify = subprocess.run([systemd_analyze, "verify", str(tmp_path / SERVICE.name), str(tmp_path / TIMER.name)],
                            capture_output=True, text=True)
    assert verify.returncode == 0 and verify.stderr.strip() == "", verify.stderr


def test_systemd_analyze_would_catch_a_misspelt_key(systemd_analyze, tmp_path):
    broken = SERVICE.read_text().replace("/opt/plansync/bin/plansync", shutil.which("true"))
    (tmp_path / SERVICE.name).write_text(broken.replace("NoNewPrivileges=", "NoNewPrivilege="))
    verify = subprocess.run([systemd_analyze, "verify", str(tmp_path / SERVICE.name)], capture_output=True, text=True)
    assert "Unknown key" in verify.stderr


# --- GitHub Actions -------------------------------------------------------------------------------------

def steps() -> list[dict]:
    return load_workflow()["jobs"]["plansync"]["steps"]


def test_the_workflow_is_scheduled_and_dispatchable():
    workflow = load_workflow()
    triggers = workflow["on"]
    assert {"schedule", "workflow_dispatch"} <= set(triggers)
    for entry in triggers["schedule"]:
        fields = entry["cron"].split()
        assert len(fields) == 5 and all(CRON_FIELD.match(f) for f in fields)
        assert min(b - a for a, b in zip(sorted(cron_minutes(fields[0])), sorted(cron_minutes(fields[0]))[1:],
                                         strict=False)) >= 5  # GitHub runs schedules at most every 5 minutes
    assert workflow["concurrency"]["cancel-in-progress"] is False  # never kill a run mid-apply
    assert workflow["permissions"] == {"contents": "read"}


def test_the_workflow_installs_plansync_runs_it_and_uploads_the_report():
    job = load_workflow()["jobs"]["plansync"]
    uses = [s["uses"].split("@")[0] for s in steps() if "uses" in s]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"]
    assert "actions/upload-artifact" in uses
    assert any("pip install" in s.get("run", "") for s in steps())
    upload = next(s for s in steps() if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and "reports/" in upload["with"]["path"]
    assert job["env"]["PLANSYNC_REPORT__OUT_DIR"].endswith("/reports")
    run_step = next(s for s in steps() if re.search(r"^\s*plansync .*\brun\b", s.get("run", ""), re.M))
    assert "-eq 4" in run_step["run"]  # a held lease is a skip, not a failed workflow


def test_the_workflow_takes_tokens_and_the_store_url_from_secrets():
    env = load_workflow()["jobs"]["plansync"]["env"]
    for name in ("JIRA_API_TOKEN", "GITHUB_TOKEN", "PLANSYNC_STORE__URL"):
        assert re.fullmatch(r"\$\{\{ secrets\.[A-Z_]+ \}\}", env[name]), name
    assert not env["GITHUB_TOKEN"].startswith("${{ secrets.GITHUB_")  # repository secrets may not be named GITHUB_*
    # the SQLite fallback: cache restored before the run and saved after it, even when the run failed
    names = [s.get("uses", "").split("@")[0] for s in steps()]
    restore, save = names.index("actions/cache/restore"), names.index("actions/cache/save")
    run_index = next(i for i, s in enumerate(steps()) if s.get("name") == "plansync run")
    assert restore < run_index < save
    assert steps()[save]["if"].startswith("always()")
    assert steps()[save]["with"]["key"] == steps()[restore]["with"]["key"]
    assert "PostgreSQL" in WORKFLOW.read_text() and "evicted" in WORKFLOW.read_text()  # the trade-off is explained


def test_the_crontab_and_units_are_plain_text_without_secrets():
    for path in (CRONTAB, SERVICE, TIMER, WORKFLOW):
        text = path.read_text()
        assert not re.search(r"(ghp_|github_pat_|ATATT)[A-Za-z0-9_]{10,}", text), path
