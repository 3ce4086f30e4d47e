"""`plansync validate`: the shipped examples pass; every bad input is exit 2 with file, key and no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from connector.cli import main

REPO = Path(__file__).resolve().parent.parent
CONFIG = (REPO / "config.example.toml").read_text()
PLAN = (REPO / "examples" / "plan.toml").read_text()


def run_cli(*args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_shipped_examples_validate(tmp_path):
    code, out, err = run_cli("validate", "--config", str(REPO / "config.example.toml"),
                             "--plan", str(REPO / "examples" / "plan.toml"))
    assert code == 0, err
    assert "OK" in out


def test_shipped_examples_validate_as_a_real_process():
    proc = subprocess.run([sys.executable, "-m", "connector", "validate", "--config", "config.example.toml",
                           "--plan", "examples/plan.toml"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def _write(tmp_path: Path, config: str = CONFIG, plan: str = PLAN, mapping: str | None = None) -> tuple[Path, Path]:
    (tmp_path / "mappings").mkdir(exist_ok=True)
    for name in ("jira.toml", "github.toml"):
        (tmp_path / "mappings" / name).write_text((REPO / "mappings" / name).read_text())
    if mapping is not None:
        (tmp_path / "mappings" / "jira.toml").write_text(mapping)
    (tmp_path / "config.toml").write_text(config)
    (tmp_path / "plan.toml").write_text(plan)
    return tmp_path / "config.toml", tmp_path / "plan.toml"


# (id, which file is bad, config text, plan text, mapping text, expected key fragment, expected message fragment)
CASES = [
    ("config-toml-syntax", "config.toml", CONFIG.replace('prefix = "plan:"', 'prefix = "plan:'), PLAN, None,
     "", "invalid TOML"),
    ("config-unknown-key", "config.toml", CONFIG.replace('[labels]', '[labels]\ncolour = "red"'), PLAN, None,
     "labels.colour", "unknown key"),
    ("config-unknown-section", "config.toml", CONFIG + '\n[telemetry]\nenabled = true\n', PLAN, None,
     "telemetry", "unknown key"),
    ("config-tracker-kind", "config.toml", CONFIG.replace('kind = "github"', 'kind = "bitbucket"'), PLAN, None,
     "trackers.github", "bitbucket"),
    ("config-tracker-no-kind", "config.toml", CONFIG.replace('kind = "github"\n', ''), PLAN, None,
     "trackers.github", "kind"),
    ("config-missing-token-env", "config.toml", CONFIG.replace('token_env = "GITHUB_TOKEN"\n', ''), PLAN, None,
     "trackers.github", "`token_env` is required"),  # a GitHub App needs none: app_id + private_key_env
    ("config-basic-needs-email", "config.toml", CONFIG.replace('email = "plansync-bot@example.com"\n', ''), PLAN,
     None, "trackers.jira", "email"),
    ("config-bad-url", "config.toml", CONFIG.replace('url = "https://api.github.com"', 'url = "api.github.com"'),
     PLAN, None, "trackers.github.url", "http"),
    ("config-bad-deployment", "config.toml", CONFIG.replace('deployment = "cloud"', 'deployment = "onprem"'), PLAN,
     None, "trackers.jira.deployment", "onprem"),
    ("config-bad-store-url", "config.toml", CONFIG.replace('url = "sqlite:///plansync.db"', 'url = "mysql://x"'),
     PLAN, None, "store.url", "postgresql"),
    ("config-share-out-of-range", "config.toml", CONFIG.replace("max_change_share = 0.30", "max_change_share = 3"),
     PLAN, None, "apply.max_change_share", "less than or equal"),
    ("config-token-env-not-a-name", "config.toml", CONFIG.replace('token_env = "GITHUB_TOKEN"', 'token_env = "ghp_abc def"'),
     PLAN, None, "trackers.github.token_env", "NAME of an environment variable"),
    ("config-mapping-missing", "config.toml", CONFIG.replace('mapping = "mappings/jira.toml"', 'mapping = "mappings/nope.toml"'),
     PLAN, None, "trackers.jira.mapping", "mapping file not found"),
    ("plan-toml-syntax", "plan.toml", CONFIG, PLAN.replace('key = "beta"', 'key = beta'), None, "", "invalid TOML"),
    ("plan-unknown-key", "plan.toml", CONFIG, PLAN.replace('owner = "dana"', 'owner = "dana"\ncolour = "red"'), None,
     "milestones[0].colour", "unknown key"),
    ("plan-missing-due", "plan.toml", CONFIG, PLAN.replace('due = 2026-12-01\n', ''), None,
     "milestones[1].due", "required"),
    ("plan-bad-date", "plan.toml", CONFIG, PLAN.replace('due = 2026-12-01', 'due = "first of december"'), None,
     "milestones[1].due", "date"),
    ("plan-duplicate-key", "plan.toml", CONFIG, PLAN.replace('key = "ga"', 'key = "beta"'), None,
     "milestones[2].key", "duplicate milestone key"),
    ("plan-depends-on-unknown", "plan.toml", CONFIG, PLAN.replace('depends_on = ["payments"]', 'depends_on = ["alpha"]'),
     None, "milestones[0].depends_on", "alpha"),
    ("plan-dependency-cycle", "plan.toml", CONFIG,
     PLAN.replace('owner = "omar"\n', 'owner = "omar"\ndepends_on = ["ga"]\n', 1), None, "depends_on", "cycle"),
    ("plan-unknown-tracker", "plan.toml", CONFIG, PLAN.replace('tracker = "github"\n  repo = "acme/payments-api"',
                                                              'tracker = "gitlab"\n  repo = "acme/payments-api"'),
     None, "milestones[1].scope[1].tracker", "unknown tracker"),
    ("plan-jql-on-github", "plan.toml", CONFIG, PLAN.replace('tracker = "jira"\n  jql = \'project = PAY',
                                                            'tracker = "github"\n  jql = \'project = PAY'),
     None, "milestones[1].scope[0].jql", "GitHub"),
    ("plan-repo-on-jira", "plan.toml", CONFIG, PLAN.replace('tracker = "github"\n  repo = "acme/payments-api"',
                                                           'tracker = "jira"\n  repo = "acme/payments-api"'),
     None, "milestones[1].scope[1]", "Jira"),
    ("plan-risk-unknown-milestone", "plan.toml", CONFIG, PLAN.replace('milestone = "payments"\nlikelihood',
                                                                     'milestone = "launch"\nlikelihood'),
     None, "risks[0].milestone", "launch"),
    ("plan-owner-undeclared", "plan.toml", CONFIG, PLAN.replace('owner = "lea"', 'owner = "zoe"'), None,
     "milestones[2].owner", "zoe"),
    ("plan-bad-likelihood", "plan.toml", CONFIG, PLAN.replace('likelihood = "medium"', 'likelihood = "certain"'), None,
     "risks[0].likelihood", "certain"),
    ("plan-bad-timezone", "plan.toml", CONFIG, PLAN.replace('timezone = "Europe/Berlin"', 'timezone = "Mars/Olympus"'),
     None, "plan.timezone", "Mars/Olympus"),
    ("plan-no-name", "plan.toml", CONFIG, PLAN.replace('name = "Checkout revamp"\n', ''), None, "plan.name", "required"),
    ("plan-two-narrowings", "plan.toml", CONFIG, PLAN.replace('milestone = "Beta"', 'milestone = "Beta"\n  label = "beta"'),
     None, "milestones[0].scope[1]", "at most one"),
    ("plan-bad-item-ref", "plan.toml", CONFIG, PLAN.replace('label = "provider-v2"', 'items = ["payments-api 12"]'),
     None, "milestones[1].scope[1].items", "not an issue reference"),
    ("mapping-bad-status", "jira.toml", CONFIG, PLAN,
     (REPO / "mappings" / "jira.toml").read_text().replace('"On Hold" = "blocked"', '"On Hold" = "paused"'),
     "status.On Hold", "paused"),
    ("mapping-unknown-section", "jira.toml", CONFIG, PLAN,
     (REPO / "mappings" / "jira.toml").read_text() + '\n[priorities]\nHigh = "todo"\n', "priorities", "unknown key"),
    ("mapping-syntax", "jira.toml", CONFIG, PLAN, '[status]\n"Blocked" = \n', "", "invalid TOML"),
]


@pytest.mark.parametrize(("bad_file", "config", "plan", "mapping", "key", "message"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_exit_2_with_file_and_key(tmp_path, bad_file, config, plan, mapping, key, message):
    config_path, plan_path = _write(tmp_path, config, plan, mapping)
    code, out, err = run_cli("validate", "--config", str(config_path), "--plan", str(plan_path))
    assert code == 2, (out, err)
    assert "Traceback" not in err and "Traceback" not in out
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err  # one readable line
    assert bad_file in lines[0]
    assert key in lines[0]
    assert message.lower() in lines[0].lower()


def test_syntax_errors_name_the_line(tmp_path):
    config_path, plan_path = _write(tmp_path, plan=PLAN.replace('key = "beta"', 'key = beta'))
    code, _, err = run_cli("validate", "--config", str(config_path), "--plan", str(plan_path))
    line = next(n for n, text in enumerate(PLAN.splitlines(), 1) if text == 'key = "beta"')
    assert code == 2 and f"plan.toml:{line}:" in err


def test_semantic_errors_name_the_line(tmp_path):
    config_path, plan_path = _write(tmp_path, plan=PLAN.replace('owner = "lea"', 'owner = "zoe"'))
    code, _, err = run_cli("validate", "--config", str(config_path), "--plan", str(plan_path))
    line = next(n for n, text in enumerate(PLAN.splitlines(), 1) if text == 'owner = "lea"')
    assert code == 2 and f"plan.toml:{line}: milestones[2].owner" in err


def test_missing_files_are_exit_2(tmp_path):
    code, _, err = run_cli("validate", "--config", str(tmp_path / "nope.toml"), "--plan", str(tmp_path / "p.toml"))
    assert code == 2 and "nope.toml" in err and "not found" in err


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    config_path, plan_path = _write(tmp_path)
    monkeypatch.setenv("PLANSYNC_TRACKERS__GITHUB__URL", "not-a-url")
    code, _, err = run_cli("validate", "--config", str(config_path), "--plan", str(plan_path))
    assert code == 2 and "trackers.github.url" in err


def test_config_and_plan_paths_from_the_environment(tmp_path, monkeypatch):
    config_path, plan_path = _write(tmp_path)
    monkeypatch.setenv("PLANSYNC_CONFIG", str(config_path))
    monkeypatch.setenv("PLANSYNC_PLAN", str(plan_path))
    code, out, err = run_cli("validate")
    assert code == 0, err


def test_usage_error_is_exit_2():
    code, _, _ = run_cli("sync", "--no-such-flag")
    assert code == 2
