"""Parsers for every kind of file under deploy/, and the plansync command lines each one runs."""

from __future__ import annotations

import configparser
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.deploy.commands import DEPLOY, REPO, CommandLine, from_exec_form, from_shell_script

DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "docker-compose.yml"
CRONTAB = DEPLOY / "cron" / "plansync.cron"
SERVICE = DEPLOY / "systemd" / "plansync.service"
TIMER = DEPLOY / "systemd" / "plansync.timer"
KUBERNETES = DEPLOY / "kubernetes"
WORKFLOW = DEPLOY / "github-actions" / "plansync.yml"
REVIEW_WORKFLOW = DEPLOY / "github-actions" / "plan-review.yml"
WORKFLOWS = (WORKFLOW, REVIEW_WORKFLOW)


def rel(path: Path) -> str:
    return str(path.relative_to(REPO))


# --- Dockerfile -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str
    line: int

    def exec_form(self) -> list[str]:
        """["a", "b"] from a JSON-array (exec form) instruction; shell form is split like sh would."""
        text = self.value.strip()
        return json.loads(text) if text.startswith("[") else ["/bin/sh", "-c", text]


def parse_dockerfile(path: Path = DOCKERFILE) -> list[Instruction]:
    """Instructions in order, continuation lines joined, comments dropped."""
    instructions: list[Instruction] = []
    pending, start = "", 0
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        pending += stripped
        keyword, _, value = pending.partition(" ")
        instructions.append(Instruction(keyword.upper(), value.strip(), start))
        pending = ""
    assert not pending, f"{rel(path)}: the last instruction ends in a line continuation"
    return instructions


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    last_from = max(i for i, ins in enumerate(instructions) if ins.keyword == "FROM")
    return instructions[last_from:]


def dockerfile_env(instructions: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword == "ENV":
            for token in shlex.split(ins.value):
                name, _, value = token.partition("=")
                env[name] = value
    return env


def dockerfile_commands() -> list[CommandLine]:
    stage = final_stage(parse_dockerfile())
    entrypoint = [ins for ins in stage if ins.keyword == "ENTRYPOINT"][-1].exec_form()
    cmd = [ins for ins in stage if ins.keyword == "CMD"][-1].exec_form()
    return from_exec_form(entrypoint, cmd, f"{rel(DOCKERFILE)} ENTRYPOINT+CMD")


# --- compose ---------------------------------------------------------------------------------------

def load_compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def compose_commands() -> list[CommandLine]:
    stage = final_stage(parse_dockerfile())
    image_entrypoint = [ins for ins in stage if ins.keyword == "ENTRYPOINT"][-1].exec_form()
    image_cmd = [ins for ins in stage if ins.keyword == "CMD"][-1].exec_form()
    found: list[CommandLine] = []
    for name, service in load_compose()["services"].items():
        if "build" not in service:
            continue  # postgres: not ours
        entrypoint = service.get("entrypoint", image_entrypoint)
        command = service.get("command", image_cmd)
        entrypoint = shlex.split(entrypoint) if isinstance(entrypoint, str) else entrypoint
        command = shlex.split(command) if isinstance(command, str) else command
        found += from_exec_form(entrypoint, command, f"{rel(COMPOSE)} service {name}")
    return found


# --- crontab ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CronEntry:
    schedule: tuple[str, str, str, str, str]
    command: str
    line: int


def parse_crontab(path: Path = CRONTAB) -> tuple[dict[str, str], list[CronEntry]]:
    """(environment assignments, schedule lines) of a user crontab (five time fields, no user field)."""
    env: dict[str, str] = {}
    entries: list[CronEntry] = []
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head = line.split(None, 1)[0]
        if "=" in head and not head[0].isdigit() and not head.startswith(("*", "@")):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
            continue
        fields = line.split(None, 5)
        assert len(fields) == 6, f"{rel(path)}:{number}: expected five time fields and a command"
        entries.append(CronEntry(tuple(fields[:5]), fields[5], number))
    return env, entries


def crontab_commands() -> list[CommandLine]:
    _, entries = parse_crontab()
    found: list[CommandLine] = []
    for entry in entries:
        found += from_shell_script(entry.command, f"{rel(CRONTAB)}:{entry.line}")
    return found


# --- systemd ---------------------------------------------------------------------------------------

def parse_unit(path: Path) -> configparser.ConfigParser:
    # strict: a key given twice in one section is an error here (systemd would silently merge or override)
    parser = configparser.ConfigParser(interpolation=None, strict=True, empty_lines_in_values=False)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text(), source=str(path))
    return parser


def systemd_commands() -> list[CommandLine]:
    service = parse_unit(SERVICE)
    found: list[CommandLine] = []
    for key in ("ExecStartPre", "ExecStart", "ExecStartPost", "ExecStop"):
        if service.has_option("Service", key):
            found += from_shell_script(service["Service"][key].lstrip("-@:+!"), f"{rel(SERVICE)} {key}")
    return found


# --- Kubernetes ------------------------------------------------------------------------------------

def load_kustomization() -> dict:
    return yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())


def kubernetes_documents(*, include_examples: bool = True) -> list[tuple[Path, dict]]:
    """Every manifest in deploy/kubernetes (kustomization.yaml itself is not a cluster object)."""
    docs: list[tuple[Path, dict]] = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        if path.name == "kustomization.yaml" or (not include_examples and ".example." in path.name):
            continue
        docs += [(path, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def pod_specs() -> list[tuple[Path, dict, dict]]:
    """(file, CronJob, its pod spec) for every CronJob."""
    return [(path, doc, doc["spec"]["jobTemplate"]["spec"]["template"]["spec"])
            for path, doc in kubernetes_documents() if doc["kind"] == "CronJob"]


def kubernetes_commands() -> list[CommandLine]:
    stage = final_stage(parse_dockerfile())
    image_entrypoint = [ins for ins in stage if ins.keyword == "ENTRYPOINT"][-1].exec_form()
    image_cmd = [ins for ins in stage if ins.keyword == "CMD"][-1].exec_form()
    found: list[CommandLine] = []
    for path, cronjob, spec in pod_specs():
        for container in spec.get("initContainers", []) + spec["containers"]:
            # Kubernetes semantics: `command` replaces ENTRYPOINT, `args` replaces CMD
            entrypoint = container.get("command", image_entrypoint)
            args = container.get("args", image_cmd if "command" not in container else [])
            found += from_exec_form(entrypoint, args,
                                    f"{rel(path)} {cronjob['metadata']['name']}/{container['name']}")
    return found


# --- GitHub Actions --------------------------------------------------------------------------------

def load_workflow(path: Path = WORKFLOW) -> dict:
    workflow = yaml.safe_load(path.read_text())
    if True in workflow:  # YAML 1.1 reads the bare key `on` as a boolean
        workflow["on"] = workflow.pop(True)
    return workflow


_HEREDOC = re.compile(r"<<-?\s*'?(\w+)'?[^\n]*\n.*?^\s*\1\s*$", re.DOTALL | re.MULTILINE)


def without_heredocs(script: str) -> str:
    """A step's shell with the bodies of here-documents dropped (they are another language's code)."""
    return _HEREDOC.sub("", script)


def heredoc(script: str, name: str) -> str:
    """The body of the here-document `<<'NAME'` in a step's shell, dedented."""
    import textwrap

    found = re.search(rf"<<-?\s*'?{name}'?[^\n]*\n(.*?)^\s*{name}\s*$", script, re.DOTALL | re.MULTILINE)
    assert found, f"no here-document {name}"
    return textwrap.dedent(found.group(1))


def workflow_commands(path: Path | None = None) -> list[CommandLine]:
    found: list[CommandLine] = []
    for each in (path,) if path else WORKFLOWS:
        for job_name, job in load_workflow(each)["jobs"].items():
            for index, step in enumerate(job["steps"]):
                if "run" in step:
                    found += from_shell_script(without_heredocs(step["run"]),
                                               f"{rel(each)} {job_name} step {index} ({step.get('name', '')})")
    return found


def all_command_lines() -> list[CommandLine]:
    return (dockerfile_commands() + compose_commands() + crontab_commands() + systemd_commands()
            + kubernetes_commands() + workflow_commands())
