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
