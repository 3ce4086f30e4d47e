"""Running the real `plansync` CLI as a subprocess against a sandbox started by the test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from connector.sandbox.demo import sandbox_env, write_config

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Workspace:
    folder: Path
    sandbox: object
    config: Path
    plan: Path

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLANSYNC_")}
        env.update(sandbox_env(self.sandbox.clock.now()))
        env["PYTHONPATH"] = str(REPO)
        env.update(extra)
        return env

    def cli(self, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "connector", *args]
        if args and args[0] not in ("validate",) and "--config" not in args:
            command += ["--config", str(self.config), "--plan", str(self.plan)]
        return subprocess.run(command, cwd=self.folder, env=self.env(**env), capture_output=True, text=True,
                              timeout=timeout)

    def report_json(self) -> dict:
        proc = self.cli("report", "--format", "json")
        assert proc.returncode == 0, proc.stderr
        return json.loads((self.folder / "reports" / "latest.json").read_text())


def make_workspace(folder: Path, sandbox, plan_text: str, *, store_url: str | None = None, extra: str = "") -> Workspace:
    config = write_config(folder, sandbox, store_url=store_url, extra=extra)
    plan = folder / "plan.toml"
    plan.write_text(plan_text)
    return Workspace(folder, sandbox, config, plan)


def label_writes(sandbox) -> list:
    """Label writes the sandbox received: Jira issue PUTs and bulk edits, GitHub label POST/DELETEs."""
    return [r for r in sandbox.log if r.method in ("PUT", "POST", "DELETE")
            and ("/labels" in r.path or "/bulk/issues/fields" in r.path
                 or ("/rest/api/" in r.path and "/issue/" in r.path and "comment" not in r.path))]


def jira_open(sandbox, project: str) -> list:
    return sorted((i for i in sandbox.state.jira_issues.values()
                   if i.project == project and not i.deleted and i.status in ("To Do", "In Progress")
                   and i.issuetype != "Epic"), key=lambda i: i.id)


def jira_done(sandbox, project: str) -> list:
    return sorted((i for i in sandbox.state.jira_issues.values()
                   if i.project == project and not i.deleted and i.status == "Done"), key=lambda i: i.id)


def github_issues(sandbox, repo: str, state: str, reason: str | None = None) -> list:
    return sorted((i for i in sandbox.state.gh_issues[repo].values()
                   if not i.deleted and not i.is_pr and not i.transferred_to and i.state == state
                   and (reason is None or i.state_reason == reason)
                   and not {"blocked", "in progress"} & set(i.labels)), key=lambda i: i.number)
