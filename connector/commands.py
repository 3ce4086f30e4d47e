"""The commands as compositions of pipeline steps. Each returns a `Result` (exit code and the lines to
print); connector.cli does the printing. Everything a user can get wrong is checked before any
network call or write (exit 2).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from connector import clock, pipeline
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


def _plan_result(run: Run, detailed_exitcode: bool) -> Result:
    """How `plan` (and a review) ends: skipped, failed, changes pending (with --detailed-exitcode) or OK."""
    if run.summary.outcome is Outcome.SKIPPED:
        return _result(run)
    run.output.extend(run.summary.problems())
    if run.summary.settle() is not Outcome.SUCCESS:
        return Result(int(ExitCode.FAILED), run.output, run)
    if detailed_exitcode and run.change_plan is not None and run.change_plan.changes:
        return Result(int(ExitCode.CHANGES_PENDING), run.output, run)
    return Result(int(ExitCode.OK), run.output, run)


def validate(config: Path | None, plan: Path | None) -> Result:
    pinned = clock.pinned()  # a bad PLANSYNC_NOW is exit 2 here, not a traceback later
    inputs = load_inputs(config, plan)
    settings, declared = inputs.settings, inputs.plan
    scopes = declared.all_scopes()
    lines = [f"config  {settings.path}: {len(settings.trackers)} tracker(s): "
             + ", ".join(f"{n} ({t.kind})" for n, t in settings.trackers.items())]
    lines += [f"mapping {name}: {mapping.source}" for name, mapping in inputs.mappings.items()]
    lines.append(f"plan    {declared.plan.name!r}: {len(declared.milestones)} milestone(s), {len(scopes)} scope(s), "
                 f"{len(declared.people)} people, {len(declared.risks)} risk(s)")
    for name, tracker in settings.trackers.items():
        note = getattr(tracker, "url_note", lambda: None)()
        if note:
            lines.append(f"warning {name}: url {tracker.url}: {note}")
        if not os.environ.get(tracker.secret_env, "").strip():
            lines.append(f"note    {name}: environment variable {tracker.secret_env} is not set; "
                         "commands that reach the tracker will refuse to start")
    if pinned is not None:
        lines.append(f"note    PLANSYNC_NOW pins the clock to {pinned.isoformat()}; apply and run refuse to write "
                     "unless PLANSYNC_ALLOW_PINNED_NOW=1")
    lines.append("OK")
    return Result(int(ExitCode.OK), lines)


def sync(config, plan, *, trackers=None, full=False, metrics_file=None) -> Result:
    inputs = load_inputs(config, plan)
    names = select_trackers(inputs.settings, trackers)
    check_tokens(inputs.settings, names)
    return _result(execute("sync", inputs, names, lambda store: sync_leases(names),
                           lambda run: pipeline.pull(run, full=full), metrics_file=metrics_file))


def plan(config, plan, *, as_json=False, detailed_exitcode=False, sync_first=True) -> Result:
    from connector.apply import would_defer
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
        deferred = would_defer(run, change_plan)
        for name, count in deferred.items():
            run.summary.tracker(name).writes_deferred = count
        if as_json:
            run.output.append(render_json(change_plan, **limits, deferred=deferred))
            return
        run.output.append(render_text(change_plan, run.reconciliation, **limits))
        for name, count in deferred.items():
            run.output.append(f"{name}: {count} of these change(s) would be deferred to a later run (the write "
                              "budget of one run is spent before them); deferred={count}")
        for hold in (run.holds or {}).values():
            run.output.append(f"held: milestone {hold.milestone}: {hold.reason}; its labels are left as they are")
        publish = pipeline.publish_description(run.settings, run.plan)
        if publish:
            run.output.append(publish)
        if run.settings.report.project_status:
            from connector.status_publish import describe_statuses

            run.output.extend(describe_statuses(run))

    run = execute("plan", inputs, names, lambda store: sync_leases(names) if sync_first else [], body,
                  record=sync_first, announce=False)
    return _plan_result(run, detailed_exitcode)


def apply(config, plan, *, trackers=None, force=False, sync_first=True, migrate_prefix=False,
          metrics_file=None) -> Result:
    clock.check_writes_allowed()
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

    run = execute("report", inputs, [], lambda store: [], body, record=False)
    if run.summary.report_error:
        return Result(int(ExitCode.FAILED), run.output + run.summary.problems(), run)
    return _result(run)


def run(config, plan, *, force=False, full=False, metrics_file=None) -> Result:
    """sync + apply + report under the leases: the one command cron calls."""
    clock.check_writes_allowed()
    inputs = load_inputs(config, plan)
    names = select_trackers(inputs.settings, None)
    check_tokens(inputs.settings, names)

    def body(run: Run) -> None:
        pipeline.pull(run, full=full)
        pipeline.apply(run, force=force)
        pipeline.reconcile(run)  # the report's, when apply stopped before reconciling
        pipeline.write_reports(run, publish=True)
        pipeline.prune(run)  # retention: one bounded step per run

    return _result(execute("run", inputs, names, lambda store: ["apply", *sync_leases(names)], body,
                           metrics_file=metrics_file))


def doctor(config, plan) -> Result:
    """Credentials, permissions and reachability of every tracker, and the store; exit 1 if any fails."""
    inputs = load_inputs(config, plan, need_plan=False)
    settings = inputs.settings
    declared = _plan_if_present(plan, settings)
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
                zone = f", timezone {identity.timezone}" if identity.timezone else ""
                lines.append(f"ok    {name}: {tracker.url} as {identity.user} ({identity.deployment}{zone}) "
                             f"{identity.detail}".rstrip())
                # optional adapter capability: whether its writes can be kept from emailing watchers
                quiet = getattr(adapter, "notification_check", None)
                if quiet is not None:
                    lines.append(f"      {name}: {quiet()}")
                failures += _check_scopes(adapter, name, declared, lines)
                failures += _check_permissions(adapter, name, declared, settings, lines)
            finally:
                adapter.close()
        except ConfigError:
            raise
        except PlansyncError as exc:
            failures += 1
            lines.append(f"FAIL  {name}: {exc}")
    return Result(int(ExitCode.FAILED if failures else ExitCode.OK), lines)


def _plan_if_present(plan, settings):
    """doctor checks the plan's scopes when there is a plan to read (a broken one is validate's job)."""
    from connector.plan_file import load_plan

    try:
        return load_plan(plan, settings)
    except ConfigError:
        return None


def _check_scopes(adapter, name: str, declared, lines: list[str]) -> int:
    """Per scope where the kind can check one alone (`check_scopes`); returns the number that failed."""
    check = getattr(adapter, "check_scopes", None)
    if declared is None or check is None:
        return 0
    failed = 0
    for scope, problem in check(tuple(declared.scopes_for(name))):
        failed += problem is not None
        lines.append(f"FAIL  {name} {scope}: {problem}" if problem else f"ok    {name} {scope}")
    return failed


def _check_permissions(adapter, name: str, declared, settings, lines: list[str]) -> int:
    """Each permission plansync needs there (`permission_checks`, an optional capability); missing
    required ones count as failures."""
    check = getattr(adapter, "permission_checks", None)
    if check is None:
        return 0
    publish = settings.report.publish
    issue = publish.issue if publish is not None and publish.tracker == name else None
    found = check(tuple(declared.scopes_for(name)) if declared is not None else (), issue)
    lines += [f"{'FAIL' if p.fails else 'perm':<5} {name}: {p.line()}" for p in found]
    return sum(p.fails for p in found)


def review(config, plan, *, proposed: Path | None = None, against: str | None = None, fmt: str = "text",
           detailed_exitcode: bool = False, sync_first: bool = True) -> Result:
    """What merging a plan change would do, without writing to any tracker: the current plan (`--plan`, or
    the plan at git ref `against`) and the proposed one (`proposed`, or `--plan`) reconciled against the
    same store state at the same instant. The store is pulled for the current plan's scopes (as `plan`
    does); scopes only the proposed plan has are read into memory and never stored."""
    from connector import clock
    from connector.review import build_review
    from connector.review_render import render_review_json, render_review_markdown, render_review_text
    from connector.review_source import load_plan_at, plan_path

    if fmt not in ("text", "markdown", "json"):
        raise ConfigError(f"unknown format {fmt!r}; expected text, markdown or json", key="--format")
    if (proposed is None) == (against is None):
        raise ConfigError("give --proposed FILE or --against REF, not both", key="--against")
    inputs = load_inputs(config, plan)
    if against is not None:
        before, before_source = load_plan_at(against, plan, inputs.settings)
        after, after_source = inputs.plan, str(plan_path(plan))
        inputs = inputs._replace(plan=before)
    else:
        from connector.plan_file import load_plan

        before, before_source = inputs.plan, str(plan_path(plan))
        after, after_source = load_plan(proposed, inputs.settings), str(proposed)
    known = {s.id for s in before.all_scopes()}
    unpulled = [s for s in after.all_scopes() if s.id not in known]
    names = select_trackers(inputs.settings, None)
    check_tokens(inputs.settings, (names if sync_first else []) + sorted({s.tracker for s in unpulled}))
    limits = {"max_share": inputs.settings.apply.max_change_share,
              "min_guarded": inputs.settings.apply.min_guarded_changes}
    found: list = []

    def body(run: Run) -> None:
        from connector.changes import plan_changes as diff

        if sync_first:
            pipeline.pull(run, full=False)
        extra = pipeline.pull_unstored(run, unpulled) if unpulled else None
        now = clock.now()  # one instant for both sides
        current = pipeline.reconcile_plan(run, before, now=now)
        future = pipeline.reconcile_plan(run, after, now=now, unstored=extra)
        prefix, records, recorded = run.settings.labels.prefix, run.store.label_records(), run.store.recorded_trackers()
        hold = {n: "this run's read of the tracker failed" for n in run.summary.failed_trackers}
        folds = {name: registry.kind(t.kind).fold_label for name, t in run.settings.trackers.items()}
        run.change_plan = diff(future, prefix, records, recorded, hold=hold, folds=folds)
        notes = tuple(f"scope {s.describe()} is new: read for this review, not stored" for s in unpulled)
        found.append(build_review(before, after, current, future, run.change_plan, diff(current, prefix, records,
                                  recorded, hold=hold, folds=folds), before_source=before_source, after_source=after_source,
                                  notes=notes, **limits))
        if fmt == "json":
            run.output.append(render_review_json(found[0]))
        elif fmt == "markdown":
            run.output.append(render_review_markdown(found[0], future))
        else:
            run.output.append(render_review_text(found[0], future))

    run = execute("plan", inputs, names, lambda store: sync_leases(names) if sync_first else [], body,
                  record=sync_first, announce=False)
    return _plan_result(run, detailed_exitcode)
