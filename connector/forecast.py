"""Throughput-based completion forecasts for plan milestones (pure; numpy for the Monte Carlo).

Counts items, not points. The exact rules are in README.md ("How plansync decides") ("Forecast").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

import numpy as np

PERCENTILES = (50, 70, 85, 95)  # the "when" answers: P50 is a coin toss, P85 the usual commitment
MIN_SAMPLED_DAYS = 14  # shorter history: linear projection instead of sampling
DEFAULT_WINDOW_DAYS = 56  # history window when the plan declares no start and no window is given
THROUGHPUT_WINDOW_DAYS = 84  # the default throughput window: the last 12 weeks (never before plan.start)
HORIZON_DAYS = 3660  # forecasts further out than ten years are reported as ten years
_CHUNK_DAYS = 64
_MAX_CHUNK_DAYS = 512


@dataclass(frozen=True)
class Forecast:
    """When a milestone's remaining open items are expected to be finished."""

    method: str  # "monte-carlo" | "linear" | "none" (no throughput yet) | "complete"
    p50: date | None
    p85: date | None
    remaining: int  # the milestone's own open items
    throughput_per_day: float  # mean items finished as done per day across the plan
    samples: int  # observed days the throughput was measured over
    backlog: int = 0  # open items queued up to and including this milestone (see README.md ("How plansync decides"))
    beyond_horizon: bool = False  # the forecast hit the ten-year horizon; p50/p85 are that horizon
    p70: date | None = None
    p95: date | None = None
    # "how many by the due date": confidence % -> at least this many of the milestone's own open items
    by_due: tuple[tuple[int, int], ...] = ()
    histogram: tuple[tuple[date, int], ...] = ()  # completion date -> sampled futures finishing that day
    runs: int = 0  # sampled futures (0: not sampled)
    zero_days: int = 0  # observed days with nothing finished (counted: they are part of the rate)

    def by_due_at(self, confidence: int) -> int | None:
        return dict(self.by_due).get(confidence)


@dataclass(frozen=True)
class Throughput:
    """Items finished as done per calendar day (plan timezone), oldest day first, today last."""

    daily: tuple[int, ...]
    first_day: date | None

    @property
    def days(self) -> int:
        return len(self.daily)

    @property
    def total(self) -> int:
        return sum(self.daily)

    @property
    def mean(self) -> float:
        return self.total / self.days if self.daily else 0.0


def daily_throughput(finished: Iterable[datetime], *, today: date, tz: tzinfo,
                     start: date | None, window_days: int | None = None) -> Throughput:
    """Bucket finish instants into days from `start` (or the last 8 weeks) through `today`, in `tz`.

    `window_days` keeps only the most recent days (never before `start`): old pace says little.
    """
    first = start if start is not None else today - timedelta(days=(window_days or DEFAULT_WINDOW_DAYS) - 1)
    if window_days is not None:
        first = max(first, today - timedelta(days=window_days - 1))
    if first > today:
        return Throughput((), None)
    counts = [0] * ((today - first).days + 1)
    for when in finished:
        day = when.astimezone(tz).date()
        if first <= day <= today:
            counts[(day - first).days] += 1
        elif day > today:  # clock skew between a tracker and us: it happened, count it as today
            counts[-1] += 1
    return Throughput(tuple(counts), first)


def forecast_backlogs(backlogs: Mapping[str, int], remaining: Mapping[str, int], throughput: Throughput, *,
                      today: date, runs: int, seed: int,
                      dues: Mapping[str, date] | None = None) -> dict[str, Forecast]:
    """Forecast every milestone at once; all milestones share the same sampled futures, so it is cheap.

    With `dues`, each forecast also answers how many of its own items will be done by its due date.
    """
    mean = throughput.mean
    dues = dues or {}
    zero_days = sum(1 for d in throughput.daily if d == 0)
    out: dict[str, Forecast] = {}
    pending = {key: b for key, b in backlogs.items() if remaining.get(key, 0) > 0}
    for key in backlogs.keys() - pending.keys():
        out[key] = Forecast("complete", None, None, 0, mean, throughput.days, backlog=0)
    if not pending:
        return out
    if throughput.total == 0:
        for key, backlog in pending.items():
            out[key] = Forecast("none", None, None, remaining[key], 0.0, throughput.days, backlog=backlog,
                                by_due=tuple((c, 0) for c in PERCENTILES) if key in dues else (),
                                zero_days=zero_days)
        return out
    if throughput.days < MIN_SAMPLED_DAYS:
        for key, backlog in pending.items():
            days = math.ceil(backlog / mean)
            when = today + timedelta(days=min(days, HORIZON_DAYS) - 1)
            by_due = ()
            if key in dues:
                own = int(_own_done(math.floor(mean * _days_until(today, dues[key])), backlog, remaining[key]))
                by_due = tuple((c, own) for c in PERCENTILES)
            out[key] = Forecast("linear", when, when, remaining[key], mean, throughput.days, backlog=backlog,
                                beyond_horizon=days > HORIZON_DAYS, p70=when, p95=when, by_due=by_due,
                                zero_days=zero_days)
        return out
    needs = sorted(set(pending.values()))
    daily = np.asarray(throughput.daily, dtype=np.int64)
    days_needed = _sample_days_needed(daily, needs, runs, seed)
    horizons = {key: _days_until(today, dues[key]) for key in pending if key in dues}
    done_by = _sample_done_by(daily, sorted(set(horizons.values())), runs, seed)
    for key, backlog in pending.items():
        days = days_needed[backlog]
        at = {c: int(np.quantile(days, c / 100, method="higher")) for c in PERCENTILES}
        by_due = ()
        if key in horizons:
            own = _own_done(done_by[horizons[key]], backlog, remaining[key])
            # "85 %: N or more" is the 15th percentile of the sampled counts
            by_due = tuple((c, int(np.quantile(own, 1 - c / 100, method="lower"))) for c in PERCENTILES)
        finish, counts = np.unique(days, return_counts=True)
        out[key] = Forecast("monte-carlo", today + timedelta(days=at[50] - 1), today + timedelta(days=at[85] - 1),
                            remaining[key], mean, throughput.days, backlog=backlog,
                            beyond_horizon=at[85] >= HORIZON_DAYS,
                            p70=today + timedelta(days=at[70] - 1), p95=today + timedelta(days=at[95] - 1),
                            by_due=by_due, runs=max(1, runs), zero_days=zero_days,
                            histogram=tuple((today + timedelta(days=int(d) - 1), int(n))
                                            for d, n in zip(finish, counts, strict=True)))
    return out


def _days_until(today: date, due: date) -> int:
    """Working days left including today and the due date itself (0 when the due date has passed)."""
    return max(0, (due - today).days + 1)


def _own_done(done, backlog: int, remaining: int):
    """Of `done` items finished from the queue, how many are this milestone's own: earlier-due work
    (backlog - remaining) is finished first, and no more than `remaining` can be done."""
    return np.clip(np.asarray(done) - (backlog - remaining), 0, remaining)


def _sample_done_by(daily: np.ndarray, horizons: Sequence[int], runs: int, seed: int) -> dict[int, np.ndarray]:
    """Items done within each horizon (days from today) in each of `runs` futures.

    A separate random stream from the "when" sampling, so adding this answer left P50/P85 as they were.
    """
    runs = max(1, runs)
    out = {0: np.zeros(runs, dtype=np.int64)}
    wanted = [h for h in horizons if h > 0]
    if not wanted:
        return out
    rng = np.random.default_rng([seed, 1])
    total = np.zeros(runs, dtype=np.int64)
    day = 0
    for horizon in wanted:  # ascending: each step only samples the days added since the last horizon
        horizon = min(horizon, HORIZON_DAYS)
        while day < horizon:
            width = min(_MAX_CHUNK_DAYS, horizon - day)
            total = total + rng.choice(daily, size=(runs, width)).sum(axis=1)
            day += width
        out[horizon] = total.copy()
    for horizon in horizons:
        out.setdefault(horizon, out[min(horizon, HORIZON_DAYS)])
    return out


@dataclass(frozen=True)
class GrowthForecast:
    """The "when" answer again with the scope growing as the history shows, and the scope it ends at."""

    growth_per_day: float  # mean items added to the milestone per day over the window
    scope_low: int  # the milestone's open items now
    scope_high: int  # those plus the P85 of the items the history adds by the fixed-scope P85 date
    dates: tuple[tuple[int, date], ...]  # percentile -> date; empty when no throughput
    beyond_horizon: bool = False


def forecast_with_growth(daily: Sequence[int], added: Sequence[int], backlog: int, *, today: date,
                         runs: int, seed: int, remaining: int | None = None,
                         until: date | None = None) -> GrowthForecast:
    """Monte Carlo over observed days drawn as pairs (finished, added that day), so a busy week's
    discovered work travels with its throughput; a future is done when finished >= backlog + added.

    The scope range runs from the open items now to those plus the P85 of what the history adds
    between today and `until` (the fixed-scope P85 date): finite even when growth outpaces throughput.
    """
    added = list(added)[-len(daily):] if daily else []
    added = [0] * (len(daily) - len(added)) + added
    growth = sum(added) / len(added) if added else 0.0
    own = backlog if remaining is None else remaining
    if not daily or sum(daily) == 0 or backlog <= 0:
        return GrowthForecast(growth, own, own, ())
    rng = np.random.default_rng([seed, 2])
    runs = max(1, runs)
    done_arr, add_arr = np.asarray(daily, dtype=np.int64), np.asarray(added, dtype=np.int64)
    finish = np.full(runs, -1, dtype=np.int64)
    span = max(0, (until - today).days + 1) if until else 0
    picks = rng.integers(0, len(add_arr), size=(runs, min(span, HORIZON_DAYS)))
    grown_by_until = add_arr[picks].sum(axis=1) if span else np.zeros(runs, dtype=np.int64)
    net = np.zeros(runs, dtype=np.int64)
    grown = np.zeros(runs, dtype=np.int64)
    day0 = 0
    while (finish < 0).any() and day0 < HORIZON_DAYS:
        width = min(_CHUNK_DAYS * 4, HORIZON_DAYS - day0)
        pick = rng.integers(0, len(done_arr), size=(runs, width))
        cum_added = grown[:, None] + np.cumsum(add_arr[pick], axis=1)
        cum_net = net[:, None] + np.cumsum(done_arr[pick] - add_arr[pick], axis=1)
        reached = cum_net >= backlog
        hit = reached.any(axis=1) & (finish < 0)
        first = reached.argmax(axis=1)
        finish[hit] = day0 + first[hit] + 1
        net, grown = cum_net[:, -1], cum_added[:, -1]
        day0 += width
    finish[finish < 0] = HORIZON_DAYS
    at = {c: int(np.quantile(finish, c / 100, method="higher")) for c in PERCENTILES}
    return GrowthForecast(growth, own, own + int(np.quantile(grown_by_until, 0.85, method="higher")),
                          tuple((c, today + timedelta(days=at[c] - 1)) for c in PERCENTILES),
                          beyond_horizon=at[85] >= HORIZON_DAYS)


def _sample_days_needed(daily: np.ndarray, needs: Sequence[int], runs: int, seed: int) -> dict[int, np.ndarray]:
    """For each backlog size, the days each of `runs` sampled futures needs to finish it.

    A future is a sequence of daily throughputs drawn with replacement from the observed days; futures
    are generated in chunks of days until every run has finished the largest backlog (or the horizon).
    Day 1 is today: a backlog finished on day d completes on today + d - 1.
    The same seed and inputs always give the same answer.
    """
    rng = np.random.default_rng(seed)
    runs = max(1, runs)
    result = {need: np.full(runs, -1, dtype=np.int64) for need in needs}
    done_so_far = np.zeros(runs, dtype=np.int64)
    # chunks of at most _MAX_CHUNK_DAYS keep memory bounded (runs x chunk x 8 bytes, 8 MB at 2,000 runs)
    step = int(min(_MAX_CHUNK_DAYS, max(_CHUNK_DAYS, math.ceil(1.5 * needs[-1] / daily.mean()))))
    day0 = 0
    unresolved = list(needs)
    while unresolved and day0 < HORIZON_DAYS:
        width = min(step, HORIZON_DAYS - day0)
        cumulative = done_so_far[:, None] + np.cumsum(rng.choice(daily, size=(runs, width)), axis=1)
        for need in list(unresolved):
            target = result[need]
            open_runs = target < 0
            reached = cumulative[open_runs] >= need
            hit = reached.any(axis=1)
            first = reached.argmax(axis=1)
            rows = np.flatnonzero(open_runs)[hit]
            target[rows] = day0 + first[hit] + 1
            if (target >= 0).all():
                unresolved.remove(need)
        done_so_far = cumulative[:, -1]
        day0 += width
    for need in unresolved:
        result[need][result[need] < 0] = HORIZON_DAYS
    return result
