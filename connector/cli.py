"""The commands: parse arguments, call connector.commands, print, exit with a documented code. No logic here."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from connector.errors import PlansyncError
from connector.logs import redact, setup_logging

log = logging.getLogger(__name__)

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Keep a declared execution plan and the team's trackers honest with each other.")
sandbox_app = typer.Typer(add_completion=False, no_args_is_help=True, help="The built-in sandbox trackers.")
app.add_typer(sandbox_app, name="sandbox")
store_app = typer.Typer(add_completion=False, no_args_is_help=True,
                        help="The store: size and contents, retention, schema upgrades.")
app.add_typer(store_app, name="store")

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="config.toml (default ./config.toml or $PLANSYNC_CONFIG)")]
PlanOpt = Annotated[Path | None, typer.Option("--plan", "-p", help="plan.toml (default ./plan.toml or $PLANSYNC_PLAN)")]
TrackerOpt = Annotated[list[str] | None, typer.Option("--tracker", "-t", help="only this tracker (repeatable)")]


class _Globals:
    metrics_file: Path | None = None


@app.callback()
def _global(
    log_format: Annotated[str, typer.Option("--log-format", help="text or json")] = "text",
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning, error")] = "info",
    metrics_file: Annotated[Path | None, typer.Option("--metrics-file", help="write run metrics here in Prometheus text format (node_exporter textfile collector)")] = None,
) -> None:
    if log_format not in ("text", "json"):
        raise typer.BadParameter("expected text or json", param_hint="--log-format")
    if log_level.lower() not in ("debug", "info", "warning", "error"):
        raise typer.BadParameter("expected debug, info, warning or error", param_hint="--log-level")
    setup_logging(log_format, log_level.lower())
    _Globals.metrics_file = metrics_file


def _commands():
    from connector import commands

    return commands


def _done(result) -> None:
    """Print what a command has to say, and exit with its documented code."""
    for line in result.lines:
        typer.echo("\n".join(one_line(part) for part in line.split("\n")))
    raise typer.Exit(result.code)


@app.command()
def validate(config: ConfigOpt = None, plan: PlanOpt = None) -> None:
    """Check config, plan and mappings offline (exit 0, or 2 with the problem)."""
    _done(_commands().validate(config, plan))


@app.command()
def doctor(config: ConfigOpt = None, plan: PlanOpt = None) -> None:
    """Check credentials, permissions and reachability of every tracker."""
    _done(_commands().doctor(config, plan))


@app.command()
def sync(config: ConfigOpt = None, plan: PlanOpt = None, tracker: TrackerOpt = None,
         full: Annotated[bool, typer.Option("--full", help="a complete census: detect deleted and moved items")] = False) -> None:
    """Pull the trackers into the store (incremental; --full for a census)."""
    _done(_commands().sync(config, plan, trackers=tracker, full=full, metrics_file=_Globals.metrics_file))


@app.command("plan")
def plan_cmd(config: ConfigOpt = None, plan: PlanOpt = None,
             as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
             detailed_exitcode: Annotated[bool, typer.Option("--detailed-exitcode", help="exit 3 when there are changes")] = False,
             no_sync: Annotated[bool, typer.Option("--no-sync", help="use the store as is; do not pull first")] = False,
             proposed: Annotated[Path | None, typer.Option("--proposed", help="review a proposed plan file against --plan: what merging it would do")] = None,
             against: Annotated[str | None, typer.Option("--against", help="review --plan against the plan file at this git ref, e.g. origin/main")] = None,
             fmt: Annotated[str | None, typer.Option("--format", help="text, json, or (for a review) markdown")] = None) -> None:
    """Reconcile and print the label changes apply would make (with --proposed or --against: a plan review)."""
    if proposed is not None or against is not None:
        if as_json and fmt not in (None, "json"):
            raise typer.BadParameter("--json and --format disagree", param_hint="--format")
        _done(_commands().review(config, plan, proposed=proposed, against=against,
                                 fmt="json" if as_json else (fmt or "text"), detailed_exitcode=detailed_exitcode,
                                 sync_first=not no_sync))
    if fmt not in (None, "text", "json"):
        raise typer.BadParameter("markdown is for a plan review (--proposed or --against); expected text or json",
                                 param_hint="--format")
    _done(_commands().plan(config, plan, as_json=as_json or fmt == "json", detailed_exitcode=detailed_exitcode,
                           sync_first=not no_sync))


@app.command()
def apply(config: ConfigOpt = None, plan: PlanOpt = None, tracker: TrackerOpt = None,
          force: Annotated[bool, typer.Option("--force", help="apply even above the safety threshold")] = False,
          no_sync: Annotated[bool, typer.Option("--no-sync", help="use the store as is; do not pull first")] = False,
          migrate_prefix: Annotated[bool, typer.Option("--migrate-prefix", help="move the labels plansync wrote under an earlier labels.prefix to the current one")] = False) -> None:
    """Make exactly the planned label changes (idempotent: a second run makes none)."""
    _done(_commands().apply(config, plan, trackers=tracker, force=force, sync_first=not no_sync,
                            migrate_prefix=migrate_prefix, metrics_file=_Globals.metrics_file))


@app.command()
def report(config: ConfigOpt = None, plan: PlanOpt = None,
           week: Annotated[str | None, typer.Option("--week", help="ISO week, e.g. 2026-W48")] = None,
           as_of: Annotated[str | None, typer.Option("--as-of", help="an instant or date, e.g. 2026-11-20")] = None,
           fmt: Annotated[str, typer.Option("--format", help="comma list of md, html, json")] = "",
           out: Annotated[Path | None, typer.Option("--out", help="output folder (default [report] out_dir)")] = None) -> None:
    """Write the consolidated weekly report."""
    _done(_commands().report(config, plan, week=week, as_of=as_of, formats=fmt, out=out))


@app.command()
def run(config: ConfigOpt = None, plan: PlanOpt = None,
        force: Annotated[bool, typer.Option("--force", help="apply even above the safety threshold")] = False,
        full: Annotated[bool, typer.Option("--full", help="make this run's pull a full census")] = False) -> None:
    """sync + apply + report under the lease: the one command cron calls."""
    _done(_commands().run(config, plan, force=force, full=full, metrics_file=_Globals.metrics_file))


@app.command()
def demo(directory: Annotated[Path, typer.Option("--dir", help="working folder for the demo")] = Path("demo"),
         scale: Annotated[int, typer.Option("--scale", help="issues in the sandbox")] = 1500,
         seed: Annotated[int, typer.Option("--seed")] = 7) -> None:
    """Start the sandbox trackers, seed them, and run the whole flow twice a simulated week apart."""
    from connector.sandbox import demo as demo_module

    raise typer.Exit(demo_module.run_demo(directory, scale=scale, seed=seed, say=typer.echo))


@sandbox_app.command("serve")
def sandbox_serve(port: Annotated[int, typer.Option("--port")] = 8700,
                  seed: Annotated[int, typer.Option("--seed")] = 1,
                  scale: Annotated[int, typer.Option("--scale")] = 2000) -> None:
    """Serve the Jira- and GitHub-compatible sandbox on 127.0.0.1 until interrupted."""
    from connector.sandbox.server import serve

    serve(port=port, seed=seed, scale=scale, say=lambda line: typer.echo(line))


def _store_settings(config: Path | None):
    from connector.settings import load_settings

    return load_settings(config).store


def _mib(n: int | None) -> str:
    return "unknown" if n is None else f"{n / 1024 / 1024:,.1f} MiB"


@store_app.command("info")
def store_info(config: ConfigOpt = None,
               as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False) -> None:
    """Size, row counts, oldest data and schema version (reads only; migrates nothing)."""
    import json
    from dataclasses import asdict

    from connector.store import Store

    conf = _store_settings(config)
    with Store.open(conf.url, migrate=False) as store:
        info = store.info()
    if as_json:
        print(json.dumps({**asdict(info), "keep_days": conf.keep_days}, default=str, indent=2))
        return
    print(f"store    {info.url} ({info.engine})")
    state = "current" if info.schema == info.head else f"this plansync needs {info.head}: run `plansync store upgrade`"
    print(f"schema   {info.schema or 'empty'} ({state})")
    print(f"size     {_mib(info.size_bytes)}")
    for name, count in info.rows.items():
        extra = f"  {_mib(info.table_bytes[name])}" if name in info.table_bytes else ""
        print(f"rows     {name:<15} {count:>12,}{extra}")
    for label, when in info.oldest.items():
        print(f"oldest   {label:<15} {when.isoformat(timespec='seconds') if when else '-'}")
    print(f"keep     {conf.keep_days} days of full history"
          + (f"; versions before {info.thinned_before[:10]} thinned to one per item per day"
             if info.thinned_before else ""))


@store_app.command("prune")
def store_prune(config: ConfigOpt = None,
                keep_days: Annotated[int | None, typer.Option("--keep-days", min=1, help="default [store] keep_days")] = None) -> None:
    """Apply retention now, to the end (`run` does it a batch at a time)."""
    from connector import clock
    from connector.store import Store

    conf = _store_settings(config)
    with Store.open(conf.url, migrate=conf.auto_migrate, require_current=not conf.auto_migrate,
                    migrate_wait=conf.migrate_wait_seconds) as store:
        counts = store.prune_all(keep_days or conf.keep_days, clock.now(), batch=conf.prune_batch)
    print(f"pruned: {counts.versions:,} item versions merged, {counts.runs:,} runs ({counts.syncs:,} tracker syncs), "
          f"{counts.journal:,} journal entries; full history kept for {keep_days or conf.keep_days} days")


@store_app.command("upgrade")
def store_upgrade(config: ConfigOpt = None) -> None:
    """Migrate the schema to this plansync's version, one migrator at a time (exit 4 if another holds it)."""
    from connector.errors import ExitCode
    from connector.store import Store
    from connector.store.engine import MigrationLocked, head_revision

    conf = _store_settings(config)
    with Store.open(conf.url, migrate=False) as store:
        before = store.schema_revision()
        try:
            migrated = store.upgrade(wait=conf.migrate_wait_seconds)
        except MigrationLocked as exc:
            print(f"plansync: skipped: {exc}")
            raise typer.Exit(int(ExitCode.LEASE_HELD)) from None
        after = store.schema_revision()
    if migrated:
        print(f"store schema upgraded from {before or 'empty'} to {after}")
    else:
        print(f"store schema is current ({after or head_revision()})")


def one_line(text: str) -> str:
    """Untrusted text (a key from a user's file, a tracker's message) escaped to one printable line:
    control characters and line or paragraph separators would split it or drive the terminal."""
    if text.isprintable():
        return text
    # bidi controls (U+202E ...) are not printable either: shown escaped, they cannot reorder the line
    return "".join(ch if ch.isprintable() or ch == "\t" else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


def main(argv: list[str] | None = None) -> None:
    """Entry point: every user-caused error is one line on stderr and a documented exit code.

    Usage errors are reported by typer itself (exit 2); our own errors carry their exit code.
    """
    previous = signal.signal(signal.SIGTERM, _terminate) if _main_thread() else None
    try:
        app(args=argv, prog_name="plansync")
    except PlansyncError as exc:
        print(f"plansync: error: {one_line(redact(str(exc)))}", file=sys.stderr)
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        _interrupted()
    except SystemExit as exc:
        if exc.code == 130:  # typer turns a KeyboardInterrupt (ours from SIGTERM too) into Exit(130)
            _interrupted()
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler stopping the job): handled like Ctrl-C, so the run finishes its row and
    releases its leases at once instead of leaving them held until they expire."""


_terminated = False


def _interrupted() -> None:
    if _terminated:
        print("plansync: terminated", file=sys.stderr)
        sys.exit(128 + signal.SIGTERM)
    print("plansync: interrupted", file=sys.stderr)
    sys.exit(130)


def _terminate(signum, frame) -> None:
    global _terminated
    _terminated = True
    raise Terminated()


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
