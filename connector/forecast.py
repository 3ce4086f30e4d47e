"""Throughput-based completion forecasts for plan milestones (pure; numpy for the Monte Carlo).

Counts items, not points. The exact rules are in README.md ("How plansync decides") ("Forecast").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

import numpy as np

MIN_SAMPLED_DAYS = 14  # shorter history: linear projection instead of sampling
DEFAULT_WINDOW_DAYS = 56  # history window when the plan declares no start
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
                     start: date | None) -> Throughput:
    """Bucket finish instants into days from `start` (or the last 8 weeks) through `today`, in `tz`."""
    first = start if start is not None else today - timedelta(days=DEFAULT_WINDOW_DAYS - 1)
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
                      today: date, runs: int, seed: int) -> dict[str, Forecast]:
    """Forecast every milestone at once; all milestones share the same sampled futures, so it is cheap."""
    mean = throughput.mean
    out: dict[str, Forecast] = {}
    pending = {key: b for key, b in backlogs.items() if remaining.get(key, 0) > 0}
    for key in backlogs.keys() - pending.keys():
        out[key] = Forecast("complete", None, None, 0, mean, throughput.days, backlog=0)
    if not pending:
        return out
    if throughput.total == 0:
        for key, backlog in pending.items():
            out[key] = Forecast("none", None, None, remaining[key], 0.0, throughput.days, backlog=backlog)
        return out
    if throughput.days < MIN_SAMPLED_DAYS:
        for key, backlog in pending.items():
            days = math.ceil(backlog / mean)
            when = today + timedelta(days=min(days, HORIZON_DAYS) - 1)
            out[key] = Forecast("linear", when, when, remaining[key], mean, throughput.days, backlog=backlog,
                                beyond_horizon=days > HORIZON_DAYS)
        return out
    needs = sorted(set(pending.values()))
    days_needed = _sample_days_needed(np.asarray(throughput.daily, dtype=np.int64), needs, runs, seed)
    for key, backlog in pending.items():
        days = days_needed[backlog]
        p50 = int(np.quantile(days, 0.50, method="higher"))
        p85 = int(np.quantile(days, 0.85, method="higher"))
        out[key] = Forecast("monte-carlo", today + timedelta(days=p50 - 1), today + timedelta(days=p85 - 1),
                            remaining[key], mean, throughput.days, backlog=backlog,
                            beyond_horizon=p85 >= HORIZON_DAYS)
    return out


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
