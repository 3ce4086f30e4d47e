"""The bot identities end to end, the real CLI against the sandbox: a full `run` as a Jira Cloud service
account through the API gateway, a full `run` as a GitHub App whose installation token expires mid-run,
`doctor` on both, and the one-line failures of each bad setup."""

from __future__ import annotations

import json

import pytest

from connector.sandbox import github_app
from connector.sandbox.demo import write_plan
from connector.sandbox.jira_access import CLOUD_ID, SCOPED_TOKEN
from tests.access.configs import APP_KEY_ENV, as_github_app, via_gateway
from tests.e2e.helpers import label_writes, make_workspace

pytestmark = pytest.mark.e2e


@pytest.fixture
def workspace(tmp_path, sandbox_factory):
    sb = sandbox_factory(seed=3, scale=300)
    return make_workspace(tmp_path, sb, write_plan(tmp_path, sb.org).read_text())


def test_a_full_run_through_the_gateway_with_a_scoped_token(workspace):
    sb = workspace.sandbox
    env = via_gateway(workspace.config, sb)
    proc = workspace.cli("run", **env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    jira = [r for r in sb.log if r.flavour == "cloud"]
    assert jira and all(r.path.startswith(f"/ex/jira/{CLOUD_ID}/") for r in jira)
    assert not [r for r in sb.log if r.status == 401]
    assert [w for w in label_writes(sb) if w.path.startswith("/ex/jira/")]  # labels written through it
    plan = workspace.cli("plan", "--json", "--no-sync", **env)
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["changes"] == []  # the run applied everything
    assert SCOPED_TOKEN not in proc.stdout + proc.stderr + plan.stdout + plan.stderr
    # browse links in the report keep the site
    links = [line for path in (workspace.folder / "reports").rglob("*.md") for line in path.read_text().splitlines()
             if "/browse/" in line]
    assert links and all(sb.jira_url + "/browse/" in line for line in links)
    assert not any("/ex/jira/" in line for line in links)


def test_a_scoped_token_without_cloud_id_is_one_line_naming_the_tracker(workspace):
    env = via_gateway(workspace.config, workspace.sandbox, cloud_id=False)
    proc = workspace.cli("run", **env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if "tracker 'jira'" in line]
    assert lines and all("cloud_id" in line and "gateway" in line for line in lines)
    doctor = workspace.cli("doctor", **env)
    assert doctor.returncode == 1
    fail = [line for line in doctor.stdout.splitlines() if line.startswith("FAIL  jira")]
    assert len(fail) == 1 and f'cloud_id = "{CLOUD_ID}"' in fail[0], doctor.stdout


def test_a_full_run_as_a_github_app_whose_token_expires_mid_run(workspace):
    sb = workspace.sandbox
    state = github_app.app_state(sb)
    state.token_lifetime = 600  # ten minutes of sandbox time
    sb.tick_seconds = 20  # each API request takes 20 s of it: the run outlives its first token
    env = as_github_app(workspace.config)
    proc = workspace.cli("run", **env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(state.minted) >= 2, (state.minted, sb.clock.now())
    assert sb.clock.ts() > state.minted[0][1] + 600  # the first token expired during the run
    assert state.refused == [] and not [r for r in sb.log if r.status == 401]
    assert [w for w in label_writes(sb) if w.flavour == "github"]
    assert sb.count(endpoint="github.repo_installation") == 1  # one owner, looked up once


def test_doctor_as_a_github_app(workspace):
    env = as_github_app(workspace.config)
    proc = workspace.cli("doctor", **env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{github_app.APP_SLUG}[bot] (GitHub App {github_app.APP_ID})" in proc.stdout


def test_a_malformed_pem_is_exit_2_before_any_request(workspace):
    env = as_github_app(workspace.config, key="-----BEGIN RSA PRIVATE KEY-----\nnot base64\n-----END RSA PRIVATE KEY-----")
    proc = workspace.cli("run", **env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if APP_KEY_ENV in line]
    assert len(errors) == 1 and "private key" in errors[0] and "not base64" not in proc.stderr
    assert workspace.sandbox.log == []


def test_an_app_not_installed_on_a_repo_of_the_plan(workspace):
    sb = workspace.sandbox
    repo = sorted(sb.state.repos)[0]
    github_app.app_state(sb).uninstalled.add(repo)
    env = as_github_app(workspace.config)
    proc = workspace.cli("run", **env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if f"not installed on {repo}" in line]
    assert lines and all("tracker 'github'" in line for line in lines), proc.stdout + proc.stderr


def test_validate_names_the_key_variable_of_an_app(workspace):
    env = as_github_app(workspace.config)
    proc = workspace.cli("validate", "--config", str(workspace.config), "--plan", str(workspace.plan),
                         **(env | {APP_KEY_ENV: ""}))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"note    github: environment variable {APP_KEY_ENV} is not set" in proc.stdout
    assert workspace.sandbox.log == []
