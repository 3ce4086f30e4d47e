"""Forecast: throughput bucketing, Monte Carlo reproducibility and sense, linear and no-history fallbacks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from connector.forecast import HORIZON_DAYS, Throughput, daily_throughput, forecast_backlogs
from connector.model import Status
from connector.reconcile import NO_THROUGHPUT, Health, reconcile
from connector.trackers.jira.scopes import JiraScope
from tests.test_reconcile_builders import JIRA_SCOPE, NOW, jira, members_for, milestone, plan

TODAY = date(2026, 11, 26)
BERLIN = ZoneInfo("Europe/Berlin")


def _forecast(daily, backlog=20, remaining=None, runs=2000, seed=0):
    result = forecast_backlogs({"m": backlog}, {"m": backlog if remaining is None else remaining},
                               Throughput(tuple(daily), TODAY - timedelta(days=len(daily) - 1)),
                               today=TODAY, runs=runs, seed=seed)
    return result["m"]


def test_throughput_buckets_by_day_in_the_plan_timezone_within_the_window():
    finished = [datetime(2026, 11, 25, 23, 30, tzinfo=UTC),  # already the 26th in Berlin
                datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
                datetime(2026, 11, 19, 12, 0, tzinfo=UTC),  # before the window
                datetime(2026, 11, 28, 12, 0, tzinfo=UTC)]  # a tracker clock ahead of ours: counted today
    t = daily_throughput(finished, today=TODAY, tz=BERLIN, start=date(2026, 11, 20))
    assert t.first_day == date(2026, 11, 20)
    assert t.daily == (0, 0, 0, 0, 0, 1, 2)
    assert daily_throughput([], today=TODAY, tz=BERLIN, start=None).days == 56
    assert daily_throughput([], today=TODAY, tz=BERLIN, start=date(2026, 12, 1)).days == 0


def test_constant_throughput_forecasts_exactly():
    f = _forecast([2] * 30, backlog=20)
    assert f.method == "monte-carlo"
    # day 1 is today: 2 a day finishes 20 items at the end of day 10
    assert f.p50 == f.p85 == TODAY + timedelta(days=9)
    assert f.throughput_per_day == 2.0 and f.samples == 30 and f.remaining == 20


def test_monte_carlo_is_reproducible_for_a_seed_and_p85_not_before_p50():
    daily = [0, 0, 1, 5, 0, 2, 3, 0, 1, 0, 0, 7, 1, 0, 2, 0, 0, 4, 1, 0]
    first, again = _forecast(daily, seed=7), _forecast(daily, seed=7)
    assert first == again
    assert first.p50 is not None and first.p85 is not None and first.p85 >= first.p50
    # mean 1.35/day: 20 items take about 15 days; the spread puts P85 clearly later
    assert TODAY + timedelta(days=10) <= first.p50 <= TODAY + timedelta(days=20)
    assert first.p85 > first.p50
    seeds = {_forecast(daily, seed=s, runs=50).p85 for s in range(10)}
    assert len(seeds) > 1  # the seed does drive the sampling


def test_short_history_uses_a_linear_projection():
    f = _forecast([1, 0, 2, 1, 1], backlog=9)  # 5 days < 14: mean 1.0 → 9 days
    assert f.method == "linear"
    assert f.p50 == f.p85 == TODAY + timedelta(days=8)


def test_no_throughput_and_complete():
    none = _forecast([0] * 30, backlog=5)
    assert (none.method, none.p50, none.p85, none.remaining) == ("none", None, None, 5)
    complete = _forecast([1] * 30, backlog=0, remaining=0)
    assert (complete.method, complete.p50, complete.remaining) == ("complete", None, 0)


def test_far_futures_stop_at_the_horizon():
    daily = [0] * 99 + [1]
    f = _forecast(daily, backlog=100, runs=200)
    assert f.beyond_horizon and f.p85 == TODAY + timedelta(days=HORIZON_DAYS - 1)
    slow_linear = _forecast([0, 0, 0, 1], backlog=10_000)
    assert slow_linear.beyond_horizon and slow_linear.p50 == TODAY + timedelta(days=HORIZON_DAYS - 1)


def _reconcile_with(items, the_plan, events=(), **kw):
    jira_keys = [i.key for i in items if i.tracker == "jira"]
    members = members_for(items, *((s, jira_keys) for m in the_plan.milestones for s in m.scope if s.remote))
    return reconcile(the_plan, items, members, (), events, now=NOW, **kw)


def test_no_completed_work_is_at_risk_never_off_track_by_forecast():
    rec = _reconcile_with([jira(1), jira(2)], plan(milestone(scope=(JIRA_SCOPE,)), watch=()))
    beta = rec.milestone("beta")
    assert beta.forecast.method == "none"
    assert beta.health is Health.AT_RISK and beta.reasons == (NO_THROUGHPUT,)


def test_plan_started_recently_forecasts_linearly_in_reconcile():
    done = [jira(10 + n, Status.DONE, resolved=NOW - timedelta(days=n)) for n in range(4)]
    the_plan = plan(milestone(scope=(JIRA_SCOPE,)), watch=(), start=date(2026, 11, 23))
    rec = _reconcile_with([jira(1), jira(2), *done], the_plan)
    f = rec.milestone("beta").forecast
    assert f.method == "linear" and f.samples == 4 and f.throughput_per_day == 1.0
    assert f.p50 == date(2026, 11, 27)


def test_done_events_count_once_per_item_and_reopened_items_do_not_count():
    the_plan = plan(milestone(scope=(JIRA_SCOPE,)), watch=(), start=date(2026, 11, 1))
    done_no_resolved = jira(10, Status.DONE, resolved=None)
    reopened = jira(11, Status.TODO)
    events = [("jira", done_no_resolved.id, NOW - timedelta(days=3)),
              ("jira", done_no_resolved.id, NOW - timedelta(days=1)),  # done again later: the latest counts
              ("jira", reopened.id, NOW - timedelta(days=2)),
              ("jira", "unknown", NOW - timedelta(days=2))]
    rec = _reconcile_with([jira(1), done_no_resolved, reopened], the_plan, events)
    assert sum(rec.throughput) == 1 and rec.throughput[-2] == 1


def test_earlier_milestones_are_queued_ahead_of_later_ones():
    alpha = milestone("alpha", due=date(2026, 12, 1), scope=(JiraScope(tracker="jira", items=("CHK-1", "CHK-2")),))
    beta = milestone("beta", due=date(2026, 12, 20),
                     scope=(JiraScope(tracker="jira", items=("CHK-2", "CHK-3", "CHK-4")),))
    done = [jira(10 + n, Status.DONE, resolved=NOW - timedelta(days=n)) for n in range(30)]
    history = JiraScope(tracker="jira", items=tuple(i.key for i in done))
    past = milestone("past", due=date(2026, 11, 25), scope=(history,))
    rec = _reconcile_with([jira(1), jira(2), jira(3), jira(4), *done], plan(beta, alpha, past, watch=()))
    assert rec.milestone("alpha").forecast.backlog == 2
    assert rec.milestone("beta").forecast.backlog == 4  # CHK-2 shared: counted once
    assert rec.milestone("beta").forecast.remaining == 3
    assert rec.milestone("past").forecast.method == "complete"
    # throughput is 30 items over the 53 days since the plan's start
    assert rec.milestone("beta").forecast.samples == 53 and sum(rec.throughput) == 30


def test_forecast_properties_hold_for_any_history():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.integers(0, 6), min_size=1, max_size=60), st.integers(1, 400), st.integers(0, 2**32 - 1))
    def check(daily, backlog, seed):
        f = _forecast(daily, backlog=backlog, runs=200, seed=seed)
        assert f == _forecast(daily, backlog=backlog, runs=200, seed=seed)
        if sum(daily) == 0:
            assert f.method == "none" and f.p50 is None
            return
        assert f.method == ("linear" if len(daily) < 14 else "monte-carlo")
        assert TODAY <= f.p50 <= f.p85 <= TODAY + timedelta(days=HORIZON_DAYS - 1)
        # no future can beat drawing the best observed day every day
        fastest = -(-backlog // max(daily))
        assert f.p50 >= TODAY + timedelta(days=fastest - 1)

    check()


def _forecast_due(daily, backlog, due, remaining=None, runs=2000, seed=0):
    result = forecast_backlogs({"m": backlog}, {"m": backlog if remaining is None else remaining},
                               Throughput(tuple(daily), TODAY - timedelta(days=len(daily) - 1)),
                               today=TODAY, runs=runs, seed=seed, dues={"m": due})
    return result["m"]


def test_constant_throughput_answers_both_questions_exactly():
    f = _forecast_due([2] * 30, backlog=20, due=TODAY + timedelta(days=4))
    # every sampled future finishes 2 a day: all percentiles are the same day, the 10th
    assert f.p50 == f.p70 == f.p85 == f.p95 == TODAY + timedelta(days=9)
    assert f.histogram == ((TODAY + timedelta(days=9), 2000),)
    # today through the due date is 5 days: 10 items at every confidence
    assert f.by_due == ((50, 10), (70, 10), (85, 10), (95, 10))
    assert f.runs == 2000 and f.zero_days == 0


def test_how_many_counts_only_the_milestones_own_items_after_earlier_work():
    # 30 queued, 12 of them this milestone's: the first 18 finished belong to earlier milestones
    f = _forecast_due([2] * 30, backlog=30, remaining=12, due=TODAY + timedelta(days=11))
    assert f.by_due_at(85) == 12 * 2 - 18  # 24 done in 12 days, 6 of them its own
    past = _forecast_due([2] * 30, backlog=30, remaining=12, due=TODAY - timedelta(days=1))
    assert past.by_due_at(85) == 0


def test_how_many_reads_n_or_more_at_the_stated_confidence():
    daily = [0, 1, 0, 3, 0, 0, 2, 1, 0, 4, 0, 1, 0, 0, 2, 0, 1, 0, 0, 5]
    f = _forecast_due(daily, backlog=500, due=TODAY + timedelta(days=29))
    counts = dict(f.by_due)
    assert counts[95] <= counts[85] <= counts[70] <= counts[50]  # more confidence, fewer promised
    assert f.zero_days == 11 and f.p50 <= f.p70 <= f.p85 <= f.p95
    assert sum(n for _, n in f.histogram) == 2000


def test_a_zero_throughput_history_promises_nothing():
    f = _forecast_due([0] * 40, backlog=8, due=TODAY + timedelta(days=30))
    assert f.method == "none" and f.p50 is None and f.p95 is None
    assert f.by_due == ((50, 0), (70, 0), (85, 0), (95, 0)) and f.zero_days == 40


def test_adding_p70_p95_and_how_many_leaves_p50_p85_unchanged():
    daily = [0, 0, 1, 5, 0, 2, 3, 0, 1, 0, 0, 7, 1, 0, 2, 0, 0, 4, 1, 0]
    plain, with_due = _forecast(daily, seed=7), _forecast_due(daily, 20, TODAY + timedelta(days=9), seed=7)
    assert (plain.p50, plain.p85) == (with_due.p50, with_due.p85)


def test_the_window_keeps_the_recent_days_and_never_reaches_before_the_start():
    finished = [datetime(2026, 11, 1, 12, tzinfo=UTC), datetime(2026, 11, 25, 12, tzinfo=UTC)]
    recent = daily_throughput(finished, today=TODAY, tz=BERLIN, start=date(2026, 1, 5), window_days=7)
    assert recent.first_day == date(2026, 11, 20) and recent.daily == (0, 0, 0, 0, 0, 1, 0)
    young = daily_throughput(finished, today=TODAY, tz=BERLIN, start=date(2026, 11, 24), window_days=84)
    assert young.first_day == date(2026, 11, 24) and young.days == 3


def test_a_growing_scope_pushes_the_date_out_and_widens_the_range():
    from connector.forecast import forecast_with_growth

    # 3 finished and 1 added every day: net 2 a day, so 20 open take 10 days instead of 7; by the
    # fixed-scope P85 date (day 7) the history adds 7 more, so the scope is 20 to 27
    g = forecast_with_growth([3] * 30, [1] * 30, 20, today=TODAY, runs=500, seed=1,
                             until=TODAY + timedelta(days=6))
    assert g.growth_per_day == 1.0
    assert dict(g.dates) == {c: TODAY + timedelta(days=9) for c in (50, 70, 85, 95)}
    assert (g.scope_low, g.scope_high) == (20, 27)
    flat = forecast_with_growth([3] * 30, [0] * 30, 21, today=TODAY, runs=500, seed=1)
    assert dict(flat.dates)[85] == TODAY + timedelta(days=6) and flat.scope_high == 21
    stuck = forecast_with_growth([0] * 30, [1] * 30, 5, today=TODAY, runs=100, seed=1)
    assert stuck.dates == () and stuck.scope_low == stuck.scope_high == 5


def test_p85_is_met_in_80_to_90_percent_of_generated_projects():
    """Calibration: projects whose future throughput comes from the same process as their 12-week past."""
    import numpy as np

    rng = np.random.default_rng(2026)
    projects, met, counted = 400, 0, 0
    for n in range(projects):
        rate = rng.uniform(0.3, 4.0)
        # bursty teams: a day's throughput is Poisson with a rate that itself varies day to day
        def days(k, rate=rate):
            return rng.poisson(rng.gamma(2.0, rate / 2.0, size=k))
        past = days(84)
        if past.sum() == 0:
            continue
        backlog = int(rng.integers(10, 120))
        f = _forecast(list(past), backlog=backlog, runs=1000, seed=n)
        future = np.cumsum(days(3660))
        actual = int(np.argmax(future >= backlog))  # day index 0 is today
        met += actual <= (f.p85 - TODAY).days
        counted += 1
    share = met / counted
    assert counted > 390
    assert 0.80 <= share <= 0.90, share
