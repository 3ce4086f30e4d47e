"""Every plansync command line any deploy file runs exists in the CLI, with options that exist too."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.deploy.commands import DEPLOY, REPO, CommandLine, UnknownCommandLine, resolve, run_help
from tests.deploy.files import (
    REVIEW_WORKFLOW,
    WORKFLOW,
    all_command_lines,
    compose_commands,
    crontab_commands,
    dockerfile_commands,
    kubernetes_commands,
    systemd_commands,
    workflow_commands,
)

COMMAND_LINES = all_command_lines()


@pytest.mark.parametrize("line", COMMAND_LINES, ids=str)
def test_the_command_line_resolves_against_the_cli(line: CommandLine, monkeypatch):
    command, _ = resolve(line.argv)
    assert command in {"run", "sync", "apply", "report", "validate", "plan"}, f"{line}: unexpected command {command!r}"
    output = run_help(line.argv, monkeypatch)
    assert command.split()[-1] in output


def test_each_file_runs_the_commands_it_is_meant_to():
    """Guards the extraction itself: a parser that found nothing would make the test above vacuous."""
    def commands(lines):
        return Counter(resolve(line.argv)[0] for line in lines)

    assert commands(dockerfile_commands()) == {"run": 1}
    assert commands(compose_commands()) == {"sync": 2, "apply": 1, "report": 1, "run": 1}
    assert commands(crontab_commands()) == {"run": 1}
    assert commands(systemd_commands()) == {"run": 1}
    assert commands(kubernetes_commands()) == {"sync": 2, "apply": 1, "report": 1}
    assert commands(workflow_commands(WORKFLOW)) == {"validate": 1, "run": 2}  # with and without --full
    assert commands(workflow_commands(REVIEW_WORKFLOW)) == {"plan": 2}  # with a private store, and the shared one


def test_unattended_runs_log_json_and_sync_jobs_name_their_tracker():
    for line in COMMAND_LINES:
        command, options = resolve(line.argv)
        if command != "validate" and "Dockerfile" not in line.source and "service plansync" not in line.source:
            assert options.get("--log-format") == "json", f"{line}: unattended runs should log JSON"
        if command == "sync":
            assert options.get("--tracker") in {"jira", "github"}, f"{line}: one pull job per tracker"
        if command == "apply":
            assert "--no-sync" in options, f"{line}: the pull jobs own the reads; apply must not pull again"
    single_machine = crontab_commands() + systemd_commands()
    assert all(resolve(line.argv)[1].get("--metrics-file", "").endswith(".prom") for line in single_machine)


@pytest.mark.parametrize("argv, problem", [
    (("sync", "--bogus"), "no option '--bogus'"),
    (("synk",), "no command 'synk'"),
    (("sync", "--tracker"), "--tracker needs a value"),
    (("sync", "--log-format", "json"), "no option '--log-format'"),  # global options go before the command
    (("--log-format", "xml", "run"), "--log-format must be one of"),
    (("report", "extra"), "unexpected argument 'extra'"),
    (("run", "--full=yes"), "takes no value"),
    ((), "no command given"),
])
def test_the_checker_rejects_what_the_cli_rejects(argv, problem):
    with pytest.raises(UnknownCommandLine, match=problem):
        resolve(argv)


def test_the_cli_itself_rejects_an_unknown_option(monkeypatch):
    with pytest.raises(UnknownCommandLine, match="exited 2"):
        run_help(("--log-format", "json", "sync", "--no-such-option"), monkeypatch)


def test_every_deploy_file_is_checked_by_some_test():
    """A new file under deploy/ must be added to a parser here, or this test names it."""
    checked = {
        "Dockerfile", "docker-compose.yml", "bin/plansync-job",
        "cron/plansync.cron", "cron/plansync-with-env",
        "systemd/plansync.service", "systemd/plansync.timer",
        "github-actions/plansync.yml", "github-actions/plan-review.yml",
        # checked by tests/deploy/test_gitlab_examples.py (the README there is the how-to)
        "examples/gitlab/config.toml", "examples/gitlab/cronjob-sync-gitlab.yaml", "examples/gitlab/README.md",
    }
    present = {str(p.relative_to(DEPLOY)) for p in DEPLOY.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    kubernetes = {p for p in present if p.startswith("kubernetes/")}
    assert present - kubernetes == checked, "add the new deploy file to a test"
    # kubernetes/: manifests are validated one by one, config files loaded by the real loaders
    unchecked = {p for p in kubernetes if not p.endswith((".yaml", ".toml"))}
    assert not unchecked
    assert (REPO / ".dockerignore").is_file()


def test_the_deploy_docs_name_real_files_and_real_commands(monkeypatch):
    import re

    docs = (REPO / "README.md").read_text()  # the deployment sections live in the README
    for path in set(re.findall(r"\bdeploy/[\w./-]+\w", docs)):
        if "{" not in path:
            assert (REPO / path).exists(), f"README.md names {path}, which does not exist"
    documented = re.findall(r"`(plansync (?:--[\w-]+ \S+ )*(?:run|sync|apply|report|plan|validate|doctor)\b[^`]*)`", docs)
    assert len(documented) >= 3
    for text in documented:
        argv = tuple(text.split()[1:])
        if "ARGS" not in text and "FILE" not in text and "[" not in text:  # synopses are not command lines
            resolve(argv)
