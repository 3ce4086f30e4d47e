"""The commands as compositions of pipeline steps. Each returns a `Result` (exit code and the lines to
print); connector.cli does the printing. Everything a user can get wrong is checked before any
network call or write (exit 2).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from connector import pipeline
from connector.errors import ConfigError, ExitCode, PlansyncError
from connector.run import (
    Run,
    check_tokens,
    execute,
    load_inputs,
    open_store,
    select_trackers,
    sync_leases,
)
from connector.trackers import registry
from connector.values import Outcome


@dataclass
class Result:
    code: int
    lines: list[str] = field(default_factory=list)
    run: Run | None = None  # the run behind it, for tests and embedding programs


def _result(run: Run) -> Result:
    return Result(int(run.summary.outcome.exit_code), run.output, run)


def validate(config: Path | None, plan: Path | None) -> Result:
    inputs = load_inputs(config, plan)
    settings, declared = inputs.settings, inputs.plan
    scopes = declared.all_scopes()
    lines = [f"config  {settings.path}: {len(settings.trackers)} tracker(s): "
             + ", ".join(f"{n} ({t.kind})" for n, t in settings.trackers.items())]
    lines += [f"mapping {name}: {mapping.source}" for name, mapping in inputs.mappings.items()]
    lines.append(f"plan    {declared.plan.name!r}: {len(declared.milestones)} milestone(s), {len(scopes)} scope(s), "
                 f"{len(declared.people)} people, {len(declared.risks)} risk(s)")
    for name, tracker in settings.trackers.items():
        if not os.environ.get(tracker.token_env, "").strip():
            lines.append(f"note    {name}: environment variable {tracker.token_env} is not set; "
                         "commands that reach the tracker will refuse to start")
    lines.append("OK")
    return Result(int(ExitCode.OK), lines)


def sync(config, plan, *, trackers=None, full=False, metrics_file=None) -> Result:
    inputs = load_inputs(config, plan)
    names = select_trackers(inputs.settings, trackers)
    check_tokens(inputs.settings, names)
    return _result(execute("sync", inputs, names, lambda store: sync_leases(names),
                           lambda run: pipeline.pull(run, full=full), metrics_file=metrics_file))


def plan(config, plan, *, as_json=False, detailed_exitcode=False, sync_first=True) -> Result:
    from connector.plan_render import render_json, render_text

    inputs = load_inputs(config, plan)
    names = select_trackers(inputs.settings, None)
    if sync_first:
        check_tokens(inputs.settings, names)

    def body(run: Run) -> None:
        if sync_first:
            pipeline.pull(run, full=False)
        change_plan = pipeline.plan_changes(run)
        apply_settings = run.settings.apply
        limits = {"max_share": apply_settings.max_change_share, "min_guarded": apply_settings.min_guarded_changes}
        if as_json:
            run.output.append(render_json(change_plan, **limits))
            return
        run.output.append(render_text(change_plan, run.reconciliation, **limits))
        publish = pipeline.publish_description(run.settings, run.plan)
        if publish:
            run.output.append(publish)

    run = execute("plan", inputs, names, lambda store: sync_leases(names) if sync_first else [], body,
                  record=sync_first, announce=False)
    if run.summary.outcome is Outcome.SKIPPED:
        return _result(run)
    run.output.extend(run.summary.problems())
    if run.summary.settle() is not Outcome.SUCCESS:
        return Result(int(ExitCode.FAILED), run.output, run)
    if detailed_exitcode and run.change_plan is not None and run.change_plan.changes:
        return Result(int(ExitCode.CHANGES_PENDING), run.output, run)
    return Result(int(ExitCode.OK), run.output, run)


def apply(config, plan, *, trackers=None, force=False, sync_first=True, migrate_prefix=False,
          metrics_file=None) -> Result:
    inputs = load_inputs(config, plan)
    names = select_trackers(inputs.settings, trackers)
    check_tokens(inputs.settings, names)
    resume: list[bool] = []

    # an interrupted apply is always resumed after a pull: the tracker says which writes landed
    def leases(store) -> list[str]:
        resume.append(sync_first or pipeline.needs_resume(store))
        return ["apply"] + (sync_leases(names) if resume[0] else [])

    def body(run: Run) -> None:
        if resume[0]:
            pipeline.pull(run, full=False)
        pipeline.apply(run, force=force, migrate_prefix=migrate_prefix)

    return _result(execute("apply", inputs, names, leases, body, metrics_file=metrics_file))


def report(config, plan, *, week=None, as_of=None, formats="", out=None) -> Result:
    inputs = load_inputs(config, plan)
    if week and as_of:
        raise ConfigError("give --week or --as-of, not both", key="--week")
    pipeline.report_formats(formats, inputs.settings.report.formats)  # a bad --format is exit 2 up front

    def body(run: Run) -> None:
        pipeline.write_reports(run, week=week, as_of=as_of, formats=formats, out=out)

    return _result(execute("report", inputs, [], lambda store: [], body, record=False))


def run(config, plan, *, force=False, full=False, metrics_file=None) -> Result:
    """sync + apply + report under the leases: the one command cron calls."""
    inputs = load_inputs(config, plan)
    names = select_trackers(inputs.settings, None)
    check_tokens(inputs.settings, names)

    def body(run: Run) -> None:
        pipeline.pull(run, full=full)
        pipeline.apply(run, force=force)
        pipeline.reconcile(run)  # the report's, when apply stopped before reconciling
        pipeline.write_reports(run, publish=True)

    return _result(execute("run", inputs, names, lambda store: ["apply", *sync_leases(names)], body,
                           metrics_file=metrics_file))


def doctor(config, plan) -> Result:
    """Credentials, permissions and reachability of every tracker, and the store; exit 1 if any fails."""
    inputs = load_inputs(config, plan, need_plan=False)
    settings = inputs.settings
    failures = 0
    lines: list[str] = []
    try:
        store = open_store(settings)
        lines.append(f"ok    store: {store.url_for_display}")
        store.close()
    except PlansyncError as exc:
        failures += 1
        lines.append(f"FAIL  store: {exc}")
    for name, tracker in settings.trackers.items():
        try:
            tracker.token()
            adapter = registry.make_adapter(tracker, settings, mapping=inputs.mappings[name])
            try:
                identity = adapter.check()
                # optional adapter capability: whether its writes can be kept from emailing watchers
                quiet = getattr(adapter, "notification_check", None)
                notes = [quiet()] if quiet is not None else []
            finally:
                adapter.close()
            zone = f", timezone {identity.timezone}" if identity.timezone else ""
            lines.append(f"ok    {name}: {tracker.url} as {identity.user} ({identity.deployment}{zone}) "
                         f"{identity.detail}".rstrip())
            lines += [f"      {name}: {note}" for note in notes]
        except ConfigError:
            raise
        except PlansyncError as exc:
            failures += 1
            lines.append(f"FAIL  {name}: {exc}")
    return Result(int(ExitCode.FAILED if failures else ExitCode.OK), lines)
