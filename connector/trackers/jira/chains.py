"""How a Jira Cloud full pull is cut into token chains walked side by side.

A Cloud search pages by `nextPageToken`, which only the previous page knows, so one scope is one
sequential chain however many workers there are. A scope larger than a worker's fair share is cut into
`created` ranges instead, each its own chain (search.created_ranges / time_ranges):
- on a census the bounds come from the `created` of the scope's stored members (the pipeline's
  `known_created`), so the ranges hold about equal numbers of issues;
- on a first full pull nothing is stored: the scope's first page is read on its own (it has to be read
  anyway), and the rest is estimated from how fast the scope grew over that page's issues (the oldest,
  as the search orders by `created`). Only a scope that estimate calls large enough to split is asked
  its size (`POST /search/approximate-count`, one request), so an old scope that grew slowly is not
  split on a guess; the ranges then split the time since its first page evenly.
Either way the ranges cover every instant and the first-page read stays valid, so a wrong estimate
costs time, never an issue; each extra chain costs at most one page more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from connector.trackers.jira.search import SPLIT_ITEMS, chain_counts, created_ranges, time_ranges

Unit = tuple[str, "str | None"]  # (created range or "" for the whole scope, token to continue from)


@dataclass
class Part:
    """What one chain (or a scope's first page) read: items by id, the versions and sprints they carry,
    the token to continue from after a first page (None: it was the last), or the scope's refusal."""

    items: dict = field(default_factory=dict)
    carried: list = field(default_factory=list)
    token: str | None = None
    refused: Exception | None = None


@dataclass(frozen=True)
class Plan:
    units: dict[str, list[Unit]]  # by scope id; a scope not named is read as one chain
    sizes: dict[str, float]  # issues each planned scope is expected to have left to read

    def length(self, scope_id: str) -> float:
        """Issues one of the scope's chains is expected to read (longest chains are started first)."""
        return self.sizes.get(scope_id, 0.0) / max(1, len(self.units.get(scope_id) or ()))


def remaining(created: Sequence[datetime], now: datetime) -> float:
    """Issues created after a first page's newest, at the rate the page's issues were created (0: the page
    spans no time, as after a bulk import: not estimated, so not split)."""
    if len(created) < 2 or created[-1] <= created[0]:
        return 0.0
    rate = len(created) / (created[-1] - created[0]).total_seconds()
    return rate * max(0.0, (now - created[-1]).total_seconds())


def plan(hints: dict[str, Sequence[datetime]], heads: dict[str, Part], workers: int, now: datetime,
         count: Callable[[str], int | None] = lambda sid: None) -> Plan:
    """The chains of every scope with a hint (stored members' `created`) or a first page read; `count(id)`
    is the scope's approximate size (None: unknown, the scope is not split)."""
    created = {sid: sorted(i.created for i in head.items.values()) for sid, head in heads.items()
               if head.refused is None and head.token is not None}
    sizes = {sid: float(len(h)) for sid, h in hints.items()}
    for sid, c in created.items():
        guess = remaining(c, now)
        if guess >= 2 * SPLIT_ITEMS:  # worth a second chain: ask how many there really are
            total = count(sid)
            guess = max(0.0, float(total) - len(c)) if total is not None else 0.0
        sizes[sid] = guess
    counts = chain_counts(sizes, workers)
    units: dict[str, list[Unit]] = {sid: [(w, None) for w in created_ranges(h, counts[sid])]
                                    for sid, h in hints.items()}
    for sid, head in heads.items():
        if sid not in created:  # refused, or its first page was its last: nothing more to read
            units[sid] = []
        elif counts[sid] < 2:
            units[sid] = [("", head.token)]  # one chain, on from the first page's token
        else:
            units[sid] = [(w, None) for w in time_ranges(created[sid][-1], now, counts[sid])]
    return Plan(units, sizes)
