"""Store + reconcile → the report model, for now or any past week, reproducibly from the store's history.

Reconcile runs at the report's instant with the plan then in force; the week's start is rebuilt from
the recorded history (items rewound, membership re-evaluated for the plan as declared then).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from connector import clock
from connector.errors import ConfigError
from connector.forecast import forecast_with_growth
from connector.model import Plan, WorkItem
from connector.report import sections
from connector.report.hierarchy import dependency_edges, rollups
from connector.report.history import burnups, changes_by_item, membership_at, rewind, same_scopes
from connector.report.model import BurnPoint, ForecastView, MilestoneSection, Person, Progress, Report
from connector.report.summary import summarize, timeline
from connector.settings import Settings
from connector.trackers import registry

log = logging.getLogger(__name__)


def week_bounds(week: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """`2026-W48` → [Monday 00:00, next Monday 00:00) in the plan's timezone, as aware UTC."""
    try:
        year, number = week.upper().split("-W")
        monday = date.fromisocalendar(int(year), int(number), 1)
    except ValueError:
        raise ConfigError(f"--week {week!r}: expected an ISO week like 2026-W48") from None
    start = datetime.combine(monday, time(), tzinfo=tz)
    return start.astimezone(UTC), (start + timedelta(days=7)).astimezone(UTC)


def iso_week(instant: datetime, tz: ZoneInfo) -> str:
    year, number, _ = instant.astimezone(tz).isocalendar()
    return f"{year}-W{number:02d}"


def _default_reconciler() -> Callable:
    from connector.reconcile import reconcile  # imported late: reconcile imports the store

    return reconcile


MILESTONE_NOTE_KINDS = ("milestone-date-drift", "dependency-risk")


def build_report(store, plan: Plan, settings: Settings, *, week: str | None = None,
                 as_of: datetime | None = None, now: datetime | None = None,
                 reconciler: Callable | None = None, reconciliation=None, holds=None) -> Report:
    """The report for `week` (ISO, plan timezone), or as of an instant, or now.

    A week's report is as of the end of that week, or now if that is earlier; "this week" is the
    seven days up to that instant (for `--week`: from the week's Monday 00:00). `reconciliation` is the
    current run's (for the current week only): it is used as is instead of reconciling again. `holds`:
    the run's held milestones (connector.holds), shown with their last confirmed health and marked.
    """
    if week and as_of:
        raise ConfigError("give either --week or --as-of, not both")
    reconcile = reconciler or _default_reconciler()
    tz = ZoneInfo(plan.plan.timezone)
    now = (now or clock.now()).astimezone(UTC)
    if week:
        period_start, week_end = week_bounds(week, tz)
        instant = min(week_end, now)
        label = week.upper()
    else:
        instant = (as_of or now).astimezone(UTC)
        period_start = instant - timedelta(days=7)
        label = iso_week(instant, tz)
    if instant < period_start:
        raise ConfigError(f"--week {week}: that week has not started yet")
    historical = instant < now - timedelta(minutes=1)
    end_plan = (store.plan_as_of(instant) if historical else None) or plan
    start_plan = store.plan_as_of(period_start) or end_plan

    trackers = sorted(set(settings.trackers) | {s.tracker for s in end_plan.all_scopes()})
    kinds = {name: t.kind for name, t in settings.trackers.items()}
    members = store.scope_members()
    milestones = store.milestones()
    done_events = [e for e in store.done_events() if e[2] <= instant]

    def run(p: Plan, items: list[WorkItem], at: datetime):
        return reconcile(p, items, members, milestones, [e for e in done_events if e[2] <= at], now=at,
                         prefix=settings.labels.prefix, stale_days=settings.reconcile.stale_days,
                         forecast_runs=settings.reconcile.forecast_runs, seed=settings.reconcile.seed,
                         forecast_window_days=settings.reconcile.forecast_window_days)

    end_items = store.items_as_of(instant)
    current = reconciliation is not None and not historical and week is None and as_of is None
    end_rec = reconciliation if current else run(end_plan, end_items, instant)
    items = {i.uid: i for i in end_items}

    history_start = datetime.combine(end_plan.plan.start, time(), tzinfo=tz).astimezone(UTC) \
        if end_plan.plan.start else instant - timedelta(days=56)
    # store.changes is half-open [since, until); items_as_of includes what was observed at `instant`
    raw_changes = store.changes(min(history_start, period_start), instant + timedelta(microseconds=1))
    history = changes_by_item(raw_changes)
    # items with history but absent at the instant (deleted, hidden, moved away): few, read one by one
    vanished = {uid: w for uid in history if uid not in items and (w := store.item(*uid)) is not None}
    start_items, changed = rewind(items, raw_changes, period_start, vanished.get)
    start_membership = membership_at(start_plan, start_items, end_rec.membership, changed, members,
                                     reuse=same_scopes(start_plan, end_plan))
    start_rec = run(start_plan, list(start_items.values()), period_start)  # "then", for the summary
    # rows and summaries show items as reconciled (an open blocker makes an item blocked); history, rewinds
    # and burn-ups keep the stored items
    shown = {**items, **{u: i for u, i in end_rec.items.items() if u in items}}
    start_shown = {**start_items, **{u: i for u, i in start_rec.items.items() if u in start_items}}
    ref = sections.Refs(shown, start_shown, people=_people(end_plan, kinds))
    first_day = end_plan.plan.start or (instant - timedelta(days=56)).astimezone(tz).date()
    last_day = instant.astimezone(tz).date()

    done_at: dict = {}
    for tracker, item_id, at in done_events:
        done_at.setdefault((tracker, item_id), []).append(at)
    candidates = _burnup_candidates(items.values(), end_rec.membership, history) + list(vanished.values())
    charts = burnups(end_plan.milestones, candidates,
                     history, members, end_rec.membership, first=first_day, last=last_day, tz=tz,
                     done_at=done_at)
    grouped = sections.findings_by_milestone(end_rec)
    sections_out = []
    holds = holds or {}
    by_key = {(i.tracker, i.key.casefold()): i for i in items.values()}  # parents of the roll-ups
    for pm, status in _milestone_statuses(end_plan, end_rec):
        hold = holds.get(pm.key)
        health = str(getattr(status.health, "value", status.health)) if status else "on-track"
        at_risk, overdue = sections.milestone_items(pm.key, status, end_rec, ref, instant, tz, grouped)
        sections_out.append(MilestoneSection(
            key=pm.key, title=pm.title, due=pm.due, owner=pm.owner,
            health=hold.last_health if hold and hold.last_health else health,
            reasons=tuple(status.reasons) if status else (),
            progress=_progress(status), burnup=charts[pm.key],
            forecast=_forecast(status, end_rec, charts[pm.key], settings),
            at_risk=at_risk, overdue=overdue, start=first_day,
            hierarchy=rollups(status.items, end_rec.items, by_key, ref) if status else (),
            notes=((hold.note,) if hold else ()) + tuple(
                f.message for f in end_rec.findings
                if f.item is None and f.milestone == pm.key and f.kind in MILESTONE_NOTE_KINDS)))

    changes = sections.week_changes(start_membership, end_rec.membership, ref, history, period_start, instant,
                                    changed)
    sections_out = tuple(sections_out)
    summary = summarize(sections_out, start_rec, changes, end_rec, start_shown, shown, ref)
    limitations = [note for kind in sorted(set(kinds.values())) for note in registry.kind(kind).report_notes]
    limitations.append("Tracker milestones (versions, sprints, milestones) are as of the latest pull.")
    return Report(
        plan_name=end_plan.plan.name, objective=end_plan.plan.objective, label=label,
        timezone=end_plan.plan.timezone, as_of=instant, period_start=period_start, generated_at=now,
        freshness=sections.freshness(store, trackers, now, settings.sync.stale_after_hours),
        milestones=sections_out, changes=changes, summary=summary,
        timeline=timeline(end_plan, sections_out, first_day), dependencies=dependency_edges(end_plan, end_rec),
        forecast_method=forecast_method(end_rec, settings),
        plan_changes=sections.plan_changes(start_plan, end_plan),
        workload=sections.workload(end_plan, end_rec, shown, kinds),
        unplanned=tuple(ref.item(u, "in a watch scope, in no milestone")
                        for u in ref.ordered(u for u in end_rec.unplanned if u in items)),
        risks=sections.risks(end_plan), drift=sections.drift(end_rec, ref),
        limitations=tuple(limitations), item_count=len(end_items))


def _milestone_statuses(plan: Plan, rec):
    by_key = {s.key: s for s in rec.milestones}
    return [(pm, by_key.get(pm.key)) for pm in plan.milestones]


def _burnup_candidates(all_items, membership, history) -> list[WorkItem]:
    """Items that are or were in a milestone: today's members plus anything that changed (and may
    have left since); an item never changed and in no milestone now never was in one."""
    return [i for i in all_items if i.uid in membership or i.uid in history]


def _progress(status) -> Progress:
    p = getattr(status, "progress", None)
    if p is None:
        return Progress()
    return Progress(total=p.total, done=p.done, dropped=p.dropped, open=p.open, blocked=p.blocked,
                    points_total=float(p.points_total or 0), points_done=float(p.points_done or 0))


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    return value.date()


def _people(plan: Plan, kinds: dict[str, str]) -> Callable[[str, str], Person]:
    """Tracker identity → the plan's person by name, or the identity as it is, marked unknown."""
    cache: dict[tuple[str, str], Person] = {}

    def resolve(tracker: str, who: str) -> Person:
        key = (tracker, who)
        if key not in cache:
            person = plan.person_for(kinds.get(tracker, tracker), who)
            cache[key] = Person(plan.people[person].name or person, True) if person else Person(who, False)
        return cache[key]
    return resolve


def forecast_method(rec, settings: Settings) -> str:
    daily = tuple(getattr(rec, "throughput", ()) or ())
    today = getattr(rec, "today", None)
    if not daily or today is None:
        return "No throughput history yet: nothing to forecast from."
    start = today - timedelta(days=len(daily) - 1)
    zero = sum(1 for d in daily if d == 0)
    return (f"Monte Carlo over daily item throughput: {settings.reconcile.forecast_runs:,} futures "
            f"(seed {settings.reconcile.seed}), each day drawn from the {len(daily)} observed days "
            f"{start.isoformat()} to {today.isoformat()} ({sum(daily)} items finished; {zero} days with none, "
            f"counted). Window: the last {settings.reconcile.forecast_window_days} days, never before the plan's "
            "start. Items are counted, not points; a milestone's forecast covers its open items plus those of "
            "milestones due no later. \"How many by the due date\" at 85 % means 85 % of the futures finish "
            "that many or more. Fewer than 14 observed days: a straight-line projection instead.")


def _growth(burnup: tuple[BurnPoint, ...], days: int) -> list[int]:
    """Items added to the milestone per day over the last `days` days (net growth, never negative)."""
    scope = [p.scope for p in burnup]
    added = [max(0, b - a) for a, b in zip(scope, scope[1:], strict=False)]
    return added[-days:] if days else []


def _forecast(status, rec, burnup: tuple[BurnPoint, ...], settings: Settings) -> ForecastView:
    f = getattr(status, "forecast", None)
    if f is None:
        return ForecastView("none", None, None, 0, None)
    daily = tuple(getattr(rec, "throughput", ()) or ())
    today = getattr(rec, "today", None)
    remaining, backlog = int(f.remaining or 0), int(getattr(f, "backlog", 0) or 0)
    growth = forecast_with_growth(daily, _growth(burnup, len(daily)), backlog, today=today,
                                  runs=settings.reconcile.forecast_runs, seed=settings.reconcile.seed,
                                  remaining=remaining, until=_as_date(f.p85)) if today is not None and remaining else None
    return ForecastView(method=str(f.method), p50=_as_date(f.p50), p85=_as_date(f.p85), remaining=remaining,
                        throughput_per_day=getattr(f, "throughput_per_day", None),
                        p70=_as_date(getattr(f, "p70", None)), p95=_as_date(getattr(f, "p95", None)),
                        by_due=tuple(getattr(f, "by_due", ())), histogram=tuple(getattr(f, "histogram", ())),
                        backlog=backlog, runs=int(getattr(f, "runs", 0) or 0),
                        window_start=today - timedelta(days=len(daily) - 1) if daily and today else None,
                        window_days=len(daily), zero_days=int(getattr(f, "zero_days", 0) or 0),
                        growth_per_day=round(growth.growth_per_day, 3) if growth else 0.0,
                        scope_low=growth.scope_low if growth else remaining,
                        scope_high=growth.scope_high if growth else remaining,
                        with_growth=growth.dates if growth else ())
