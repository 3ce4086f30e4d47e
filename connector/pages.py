"""Paging helpers shared by the adapters: bounded concurrent fetching where pages are addressable
(GitHub page numbers, Jira Server startAt), and a one-page prefetch where they are not (Jira Cloud tokens).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

log = logging.getLogger(__name__)

K = TypeVar("K")
R = TypeVar("R")
PAGE_WORKERS = 4  # pages in flight per list; GitHub allows 100 concurrent requests, Jira does not say
_END = object()


def fetch_in_order(fetch: Callable[[K], R], keys: Sequence[K], workers: int = PAGE_WORKERS) -> Iterator[R]:
    """`fetch(key)` for every key, results in key order, at most `workers` requests in flight.

    At most 2 x `workers` fetched pages wait for the caller, so a slow consumer does not make every
    page of a 50,000-issue list sit in memory at once. The first error is raised in order; pages not
    yet started are cancelled.
    """
    if workers <= 1 or len(keys) <= 1:
        yield from map(fetch, keys)
        return
    with ThreadPoolExecutor(max_workers=min(workers, len(keys)), thread_name_prefix="plansync-page") as pool:
        upcoming = iter(keys)
        pending: deque[Future] = deque(pool.submit(fetch, key) for _, key in zip(range(2 * workers), upcoming,
                                                                                  strict=False))
        try:
            while pending:
                result = pending.popleft().result()
                key = next(upcoming, _END)
                if key is not _END:
                    pending.append(pool.submit(fetch, key))
                yield result
        finally:
            for future in pending:
                future.cancel()


def prefetched(pages: Iterator[R]) -> Iterator[R]:
    """The same items, the next one produced in a background thread while the caller handles this one.

    For sequential paging (a page token only the previous page knows): the request for page n+1 is
    on the wire while page n is normalized. The underlying iterator is advanced by one thread at a time.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="plansync-prefetch") as pool:
        upcoming = pool.submit(next, pages, _END)
        while True:
            page = upcoming.result()
            if page is _END:
                return
            upcoming = pool.submit(next, pages, _END)
            yield page
