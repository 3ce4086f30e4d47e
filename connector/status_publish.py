"""Opt-in (`[report] project_status = true`): each plan milestone whose scopes name a tracker project that
can hold status updates gets its health posted there, one update per ISO week, edited on rerun.

Every update goes through the write journal like a label change (planned -> sent -> confirmed | failed),
with an empty label diff and the reason code `status_update`, so `plansync` history shows what was posted.
"""

from __future__ import annotations

import logging

from connector.errors import TrackerError
from connector.report.comment import _rows
from connector.values import LabelChange, LabelReason

log = logging.getLogger(__name__)


def status_marker(milestone: str, week: str) -> str:
    return f"<!-- plansync:project-status {milestone} {week} -->"


def summary_lines(report) -> dict[str, str]:
    """Each milestone's row of the report's summary table, as one plain line."""
    heads = ("", "health", "P50", "P85", "added / finished", "newly blocked")
    out = {}
    for summary, row in zip(report.summary.milestones if report.summary else (), _rows(report), strict=True):
        out[summary.key] = f"{row[0]} — " + "; ".join(f"{h} {c}" for h, c in zip(heads[1:], row[1:], strict=True))
    return out


def describe_statuses(run) -> list[str]:
    """What `run` would post, one line per milestone and tracker, for `plansync plan` (with the health this
    run's reconciliation gives, when there is one)."""
    from importlib import import_module
    from zoneinfo import ZoneInfo

    from connector import clock
    from connector.trackers import registry

    week = clock.now().astimezone(ZoneInfo(run.plan.plan.timezone)).isocalendar()
    label = f"{week.year}-W{week.week:02d}"
    health = {s.key: s.health.value for s in getattr(run.reconciliation, "milestones", ())}
    def publishes(tracker: str) -> bool:  # the kind's adapter can post status updates
        module, _, name = registry.kind(run.settings.trackers[tracker].kind).adapter.partition(":")
        return callable(getattr(getattr(import_module(module), name), "publish_status", None))

    lines = []
    for pm in run.plan.milestones:
        named = [s for s in pm.scope if s.remote and getattr(s, "project", None) and publishes(s.tracker)]
        for ref in dict.fromkeys(f"{s.tracker} {s.project}" for s in named):
            lines.append(f"~ project status update on {ref}: {pm.key} {health.get(pm.key, '?')} for {label} "
                         "(edits this week's update if it exists, else creates it)")
    return lines


def publish_statuses(run, report) -> list[str]:
    """Post every mapped milestone's status; returns one output line per update. A tracker that fails is
    recorded in the run summary (publish_error) and does not stop the others."""
    lines = summary_lines(report)
    sections = {m.key: m for m in report.milestones}
    out: list[str] = []
    failed: set[str] = set()
    for pm in run.plan.milestones:
        section = sections.get(pm.key)
        for tracker in sorted({s.tracker for s in pm.scope} - failed):
            adapter = run.adapter(tracker)
            if section is None or not callable(getattr(adapter, "publish_status", None)):
                continue
            marker = status_marker(pm.key, report.label)
            body = f"{lines.get(pm.key) or pm.title}\n\n{marker}"
            try:
                out += _publish_one(run, adapter, pm, section.health, body, marker, report.label)
            except TrackerError as exc:
                failed.add(tracker)
                log.error("publishing project status failed: %s", exc)
                run.summary.publish_error = str(exc)
    return out


def _publish_one(run, adapter, pm, health: str, body: str, marker: str, week: str) -> list[str]:
    scopes = [s for s in pm.scope if s.tracker == adapter.name]
    reason = LabelReason("status_update", f"{pm.key} {health} ({week}) as the project status update", pm.key)
    change = LabelChange(adapter.name, item_id=f"status:{pm.key}:{week}", key=f"{pm.key} {week}",
                         reasons=(reason,))
    run.check_leases()
    entry = run.store.journal_plan(run.run_id, [change])[0]
    run.store.journal_mark(entry, "sent")
    try:
        done = adapter.publish_status(scopes, marker, health, pm.due, body)
    except TrackerError as exc:
        run.store.journal_mark(entry, "failed", error=str(exc))
        raise
    run.store.journal_mark(entry, "confirmed")
    return [f"project status {ref}: {pm.key} {health} ({how} update {update_id})" for ref, update_id, how in done]
