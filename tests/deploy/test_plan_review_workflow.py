"""deploy/github-actions/plan-review.yml: valid against the workflow schema, triggered and scoped as the
README says, its review step run in a git checkout on the sandbox, and its comment step's find-or-edit
by marker run against the sandbox's comments API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.commands import resolve
from tests.deploy.files import REVIEW_WORKFLOW, WORKFLOW, heredoc, load_workflow, rel, workflow_commands

MARKER = "<!-- plansync:plan-review -->"


def _schema_check(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           *map(str, paths)], capture_output=True, text=True, timeout=120)


def test_both_workflows_validate_against_the_workflow_schema():
    proc = _schema_check(WORKFLOW, REVIEW_WORKFLOW)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(REVIEW_WORKFLOW.read_text().replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest"))
    assert _schema_check(broken).returncode != 0


def _steps() -> dict[str, dict]:
    return {s.get("name", s.get("uses")): s for s in load_workflow(REVIEW_WORKFLOW)["jobs"]["review"]["steps"]}


def test_it_runs_on_plan_pull_requests_only_with_the_least_permissions():
    workflow = load_workflow(REVIEW_WORKFLOW)
    assert set(workflow["on"]) == {"pull_request"}  # never pull_request_target: that would run a fork's plan with secrets
    assert workflow["on"]["pull_request"]["paths"] == ["plan.toml"]
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    job = workflow["jobs"]["review"]
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0  # `git show origin/<base>:plan.toml` needs the base branch
    assert not any("cache/save" in s.get("uses", "") for s in job["steps"])  # the review never saves a store


def test_its_plan_commands_review_against_the_base_branch():
    lines = workflow_commands(REVIEW_WORKFLOW)
    assert len(lines) == 2
    for line in lines:
        command, options = resolve(line.argv)
        assert command == "plan" and options["--against"] == "origin/$BASE_REF"
        assert options["--format"] == "markdown" and options["--log-format"] == "json"
    assert sum("--no-sync" in resolve(line.argv)[1] for line in lines) == 1  # the shared store is only read


def _bash(script: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def checkout(tmp_path, sandbox_factory):
    """A plan repository with `origin/main` holding the plan and the working tree holding the change."""
    from connector.sandbox.demo import sandbox_tokens, write_config, write_plan

    sb = sandbox_factory(seed=3, scale=300)
    write_config(tmp_path, sb)
    plan = write_plan(tmp_path, sb.org)
    git = ["git", "-C", str(tmp_path), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "plan.toml"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "plan"], check=True)
    subprocess.run([*git, "update-ref", "refs/remotes/origin/main", "HEAD"], check=True)
    plan.write_text(plan.read_text().replace('title = "Public beta"', 'title = "Public beta (late)"'))
    output = tmp_path / "github_output"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANSYNC_")}
    env.update(sandbox_tokens(), PLANSYNC_CONFIG="config.toml", PLANSYNC_PLAN="plan.toml", BASE_REF="main",
               PLANSYNC_REVIEW_PULL="1", GITHUB_OUTPUT=str(output), PLANSYNC_NOW=sb.clock.now().isoformat(),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
               PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    return tmp_path, sb, env, output


def test_the_review_step_writes_the_markdown_and_its_exit_code(checkout):
    folder, sb, env, output = checkout
    step = _steps()["Review the plan change"]
    proc = _bash(step["run"], folder, env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    review = (folder / "review.md").read_text()
    assert review.startswith("### plansync plan review: `origin/main:plan.toml` → `plan.toml`")
    assert 'milestone `beta` renamed: "Public beta" → "Public beta (late)"' in review
    assert output.read_text() == "rc=0\n"
    assert not [r for r in sb.log if r.method != "GET"]
    # a malformed change: the comment carries validate's one line, and the step says the exit code
    (folder / "plan.toml").write_text("[plan\n")
    output.write_text("")
    assert _bash(step["run"], folder, env).returncode == 0
    failed = (folder / "review.md").read_text()
    assert "plansync could not review this change (exit 2):" in failed
    assert "plansync: error: plan.toml:1: invalid TOML" in failed
    assert output.read_text() == "rc=2\n"


def _comment_step(folder: Path, sb, body: str, number: int) -> subprocess.CompletedProcess:
    from connector.sandbox.demo import sandbox_tokens

    (folder / "review.md").write_text(body)
    script = heredoc(_steps()["Keep one review comment up to date"]["run"], "PY")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("PLANSYNC_", "GITHUB_"))},
           "GITHUB_API_URL": sb.github_url, "GITHUB_REPOSITORY": "acme/checkout-web", "PR_NUMBER": str(number),
           "GH_TOKEN": sandbox_tokens()["PLANSYNC_SANDBOX_GITHUB_TOKEN"]}
    return subprocess.run([sys.executable, "-", "review.md"], input=script, cwd=folder, env=env, capture_output=True,
                          text=True, timeout=60)


def _pull_request(sb) -> int:
    return next(i.number for i in sb.state.gh_issues["acme/checkout-web"].values() if i.is_pr and not i.deleted)


def _bodies(sb, number: int) -> list[str]:
    return [c["body"] for c in sb.state.gh_issues["acme/checkout-web"][number].comments]


def test_the_comment_is_created_once_then_edited_in_full(tmp_path, sandbox):
    number = _pull_request(sandbox)
    sandbox.add_github_comment("acme/checkout-web", number, "LGTM, but see the review")
    before = len(_bodies(sandbox, number))
    first = _comment_step(tmp_path, sandbox, "review one\nline that goes away\n", number)
    assert first.returncode == 0 and first.stdout.startswith("created review comment"), first.stderr
    second = _comment_step(tmp_path, sandbox, "review two\n", number)
    assert second.returncode == 0 and second.stdout.startswith("edited review comment"), second.stderr
    bodies = _bodies(sandbox, number)
    assert len(bodies) == before + 1 and bodies[0] == "LGTM, but see the review"
    assert bodies[-1] == f"{MARKER}\nreview two\n"  # nothing of the first review is left
    assert not [r for r in sandbox.log if r.method == "DELETE"]


def test_the_marker_is_found_past_the_first_page_and_duplicates_are_superseded(tmp_path, sandbox):
    number = _pull_request(sandbox)
    sandbox.add_github_comment("acme/checkout-web", number, f"{MARKER}\nold review\n")
    for n in range(120):  # a busy pull request: the review comment is on page one, a duplicate on page two
        sandbox.add_github_comment("acme/checkout-web", number, f"comment {n}")
    sandbox.add_github_comment("acme/checkout-web", number, f"{MARKER}\nduplicate from an overlapping run\n")
    proc = _comment_step(tmp_path, sandbox, "fresh review\n", number)
    assert proc.returncode == 0, proc.stderr
    bodies = _bodies(sandbox, number)
    ours = [b for b in bodies if "plansync:plan-review" in b]
    assert ours[0] == f"{MARKER}\nfresh review\n" and ours[1].startswith("<!-- plansync:plan-review superseded -->")
    assert not any("old review" in b or "overlapping run" in b for b in bodies)
    assert len(bodies) == 122


def test_a_review_longer_than_a_comment_is_cut_to_fit(tmp_path, sandbox):
    number = _pull_request(sandbox)
    proc = _comment_step(tmp_path, sandbox, "x" * 70_000, number)
    assert proc.returncode == 0, proc.stderr
    body = _bodies(sandbox, number)[-1]
    assert len(body) <= 65_536 and body.startswith(MARKER) and "cut to fit one comment" in body


def test_the_workflow_is_named_in_the_readme():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert rel(REVIEW_WORKFLOW) in readme
