"""`plansync doctor` lists each permission plansync needs per tracker as granted / missing / unknown with the
fix, read-only and cheap: one GET /mypermissions per Jira project, headers and tokens GitHub already gives."""

from __future__ import annotations

import pytest

from connector.sandbox import github_app
from connector.sandbox.demo import write_plan
from connector.sandbox.jira_bulk import citizenship
from tests.access.configs import as_github_app
from tests.e2e.helpers import make_workspace

pytestmark = pytest.mark.e2e


@pytest.fixture
def workspace(tmp_path, sandbox_factory):
    sb = sandbox_factory(seed=3, scale=300)
    return make_workspace(tmp_path, sb, write_plan(tmp_path, sb.org).read_text())


def perms(stdout: str, tracker: str) -> dict[str, str]:
    out = {}
    for line in stdout.splitlines():
        head, _, rest = line.partition(f" {tracker}: ")
        if head.strip() in ("perm", "FAIL") and rest:
            need = rest[:22].strip()
            out[need] = rest[22:].split()[0]
    return out


def test_doctor_lists_every_permission_granted_and_writes_nothing(workspace):
    sb = workspace.sandbox
    proc = workspace.cli("doctor", PLANSYNC_REPORT__PUBLISH__TRACKER="jira", PLANSYNC_REPORT__PUBLISH__ISSUE="CHK-1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert perms(proc.stdout, "jira") == {"read issues": "granted", "write labels": "granted", "bulk edit": "granted",
                                          "suppress notifications": "granted", "comment on CHK-1": "granted"}
    assert perms(proc.stdout, "github") == {"read issues": "granted", "write labels": "granted"}
    assert [r for r in sb.log if r.method != "GET"] == []  # read-only
    projects = {line.split("(")[1].split(")")[0] for line in proc.stdout.splitlines() if "read issues" in line
                and " jira: " in line}
    assert sb.count(endpoint="jira.mypermissions") == len(next(iter(projects)).split(", ")) + 1  # + notifications


def test_a_missing_permission_is_named_with_its_fix(workspace):
    sb = workspace.sandbox
    citizenship(sb).denied["*"] = {"EDIT_ISSUES"}
    citizenship(sb).bulk_permission = False
    proc = workspace.cli("doctor")
    assert proc.returncode == 1, proc.stdout
    fail = [line for line in proc.stdout.splitlines() if line.startswith("FAIL  jira: write labels")]
    assert len(fail) == 1 and "missing" in fail[0] and "fix: grant the account Edit Issues" in fail[0]
    bulk = [line for line in proc.stdout.splitlines() if " jira: bulk edit" in line]
    assert bulk[0].startswith("perm") and "missing" in bulk[0] and "Make bulk changes" in bulk[0]  # optional


def test_a_classic_token_without_repo_scope_is_missing(workspace):
    workspace.sandbox.github_token_scopes = "read:org"
    proc = workspace.cli("doctor")
    assert proc.returncode == 1
    assert perms(proc.stdout, "github")["write labels"] == "missing"
    assert "fix: create a token with the repo scope" in proc.stdout


def test_a_fine_grained_token_reads_exactly_and_says_write_is_unknown(workspace):
    workspace.sandbox.github_token_scopes = None  # fine-grained tokens send no X-OAuth-Scopes
    proc = workspace.cli("doctor")
    assert proc.returncode == 0, proc.stdout  # unknown is not a failure
    assert perms(proc.stdout, "github") == {"read issues": "granted", "write labels": "unknown"}
    assert "Issues: Read and write" in proc.stdout
    assert workspace.sandbox.count(endpoint="github.issues_list") == len(workspace.sandbox.state.repos)


def test_a_github_app_with_read_only_issues(workspace):
    github_app.app_state(workspace.sandbox).permissions = {"issues": "read", "metadata": "read"}
    proc = workspace.cli("doctor", **as_github_app(workspace.config))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert perms(proc.stdout, "github") == {"read issues": "granted", "write labels": "missing"}
    assert "Issues: Read and write, then accept the new permissions on its installation on acme" in proc.stdout
