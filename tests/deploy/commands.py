"""Reading the plansync command lines out of deploy files, and checking them against the real CLI.

A command line is checked twice: resolved by hand against the typer app's registered commands and
options (so an unknown option or a missing value is named precisely), then run through typer's
CliRunner with `--help` appended, with the commands replaced so that nothing can actually execute.
"""

from __future__ import annotations

import logging
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from typer.main import get_command
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
# the executables that take plansync's own arguments (the wrappers pass them through unchanged)
PLANSYNC_EXECUTABLES = {"plansync", "plansync-job"}
# what may stand before the plansync executable on a shell line: these run their arguments as given
PASS_THROUGH = {"exec", "env", "plansync-with-env"}
LOG_FORMATS = {"text", "json"}
LOG_LEVELS = {"debug", "info", "warning", "error"}


@dataclass(frozen=True)
class CommandLine:
    source: str  # "deploy/… : where" for the failure message
    argv: tuple[str, ...]  # the arguments after the plansync executable

    def __str__(self) -> str:
        return f"{self.source}: plansync {shlex.join(self.argv)}"


class UnknownCommandLine(AssertionError):
    pass


def _options(command) -> dict[str, object]:
    return {opt: param for param in command.params if type(param).__name__.endswith("Option")
            for opt in (*param.opts, *param.secondary_opts)}


def _consume_options(argv: list[str], at: int, command, where: str, used: dict[str, str | None]) -> int:
    """Consume the options of `command` from argv[at:]; returns the index of the first non-option."""
    known = _options(command)
    while at < len(argv) and argv[at].startswith("-"):
        token = argv[at]
        name, eq, inline = token.partition("=")
        if name not in known:
            raise UnknownCommandLine(f"{where}: no option {name!r}; known: {sorted(known)}")
        param = known[name]
        if param.is_flag:
            if eq:
                raise UnknownCommandLine(f"{where}: {name} is a flag and takes no value")
            used[name] = None
            at += 1
            continue
        if eq:
            used[name] = inline
            at += 1
            continue
        if at + 1 >= len(argv) or argv[at + 1].startswith("-"):
            raise UnknownCommandLine(f"{where}: {name} needs a value")
        used[name] = argv[at + 1]
        at += 2
    return at


def resolve(argv: tuple[str, ...]) -> tuple[str, dict[str, str | None]]:
    """('sync', {'--log-format': 'json', '--tracker': 'jira'}) or UnknownCommandLine naming the problem."""
    from connector.cli import app

    where = shlex.join(argv)
    args = list(argv)
    group = get_command(app)
    used: dict[str, str | None] = {}
    at = _consume_options(args, 0, group, where, used)
    path: list[str] = []
    command = group
    while hasattr(command, "commands"):
        if at >= len(args):
            raise UnknownCommandLine(f"{where}: no command given")
        if args[at] not in command.commands:
            raise UnknownCommandLine(f"{where}: no command {args[at]!r}; known: {sorted(command.commands)}")
        path.append(args[at])
        command = command.commands[args[at]]
        at += 1
        at = _consume_options(args, at, command, where, used)
    if at != len(args):
        raise UnknownCommandLine(f"{where}: unexpected argument {args[at]!r} (commands take options only)")
    if used.get("--log-format", "text") not in LOG_FORMATS:
        raise UnknownCommandLine(f"{where}: --log-format must be one of {sorted(LOG_FORMATS)}")
    if used.get("--log-level", "info").lower() not in LOG_LEVELS:
        raise UnknownCommandLine(f"{where}: --log-level must be one of {sorted(LOG_LEVELS)}")
    return " ".join(path), used


def run_help(argv: tuple[str, ...], monkeypatch) -> str:
    """Run the real CLI on `argv --help`; the commands are replaced so none can do anything."""
    import connector.cli as cli

    def no_runner():
        raise AssertionError(f"`plansync {shlex.join(argv)} --help` reached the commands")

    monkeypatch.setattr(cli, "_commands", no_runner)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        result = CliRunner().invoke(cli.app, [*argv, "--help"], catch_exceptions=False)
    finally:  # the group callback installs a log handler on CliRunner's temporary stderr
        root.handlers[:] = handlers
        root.setLevel(level)
    if result.exit_code != 0 or "Usage" not in result.output:
        raise UnknownCommandLine(f"plansync {shlex.join(argv)} --help exited {result.exit_code}: {result.output}")
    return result.output


# --- extraction from each kind of file ------------------------------------------------------------

_REDIRECT = re.compile(r"^(\d?>>?|\d?<|&>|\d>&\d|>&\d)")
# GitHub expressions that add a flag only when an input is set: `${{ inputs.full && '--full' || '' }}`
_GH_FLAG_EXPR = re.compile(r"\$\{\{\s*[\w.]+\s*&&\s*'([^']*)'\s*\|\|\s*''\s*\}\}")


def from_argv(tokens: list[str], source: str) -> list[CommandLine]:
    """The plansync command in a tokenized shell command (after env assignments and wrappers)."""
    for index, token in enumerate(tokens):
        if Path(token).name in PLANSYNC_EXECUTABLES:
            args: list[str] = []
            for arg in tokens[index + 1:]:
                if _REDIRECT.match(arg) or arg in ("|", "||", "&&", ";"):
                    break
                args.append(arg)
            return [CommandLine(source, tuple(args))]
    return []


def from_shell_script(script: str, source: str) -> list[CommandLine]:
    """Every plansync command in a shell script, one per line (continuations joined)."""
    script = script.replace("\\\n", " ")
    found: list[CommandLine] = []
    for number, line in enumerate(script.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        variants = {_GH_FLAG_EXPR.sub(lambda m: m.group(1), line), _GH_FLAG_EXPR.sub("", line)}
        for variant in sorted(variants):
            tokens = shlex.split(variant, comments=True)
            while tokens and (Path(tokens[0]).name in PASS_THROUGH or re.match(r"^[A-Za-z_]\w*=", tokens[0])):
                tokens = tokens[1:]
            if tokens and Path(tokens[0]).name in PLANSYNC_EXECUTABLES:
                found += from_argv(tokens, f"{source} line {number}")
    return found


def from_exec_form(entrypoint: list[str], command: list[str], source: str) -> list[CommandLine]:
    """An exec-form entrypoint + command (Dockerfile, compose, Kubernetes command + args)."""
    return from_argv([*entrypoint, *command], source)
