"""The paging helpers: results in key order, bounded work in flight, errors raised in order, prefetch."""

from __future__ import annotations

import threading

import pytest

from connector.pages import fetch_in_order, prefetched


def test_results_come_in_key_order_with_at_most_workers_in_flight():
    lock, in_flight, peak = threading.Lock(), [0], [0]
    release = threading.Barrier(3)  # three fetches must be in flight together once

    def fetch(key: int) -> int:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        if key < 3:
            release.wait(timeout=10)
        with lock:
            in_flight[0] -= 1
        return key * 10

    assert list(fetch_in_order(fetch, list(range(20)), workers=3)) == [k * 10 for k in range(20)]
    assert peak[0] == 3


def test_one_worker_or_one_key_fetches_in_the_calling_thread():
    threads = set()

    def fetch(key):
        threads.add(threading.current_thread().name)
        return key

    assert list(fetch_in_order(fetch, [1, 2, 3], workers=1)) == [1, 2, 3]
    assert list(fetch_in_order(fetch, [4], workers=4)) == [4]
    assert threads == {threading.current_thread().name}


def test_the_first_error_is_raised_and_later_keys_are_not_all_fetched():
    fetched = []

    def fetch(key):
        fetched.append(key)
        if key == 2:
            raise ValueError("page 2 failed")
        return key

    got = []
    with pytest.raises(ValueError, match="page 2"):
        for value in fetch_in_order(fetch, list(range(100)), workers=2):
            got.append(value)
    assert got == [0, 1]
    assert len(fetched) < 100  # at most 2 x workers were queued ahead


def test_prefetched_yields_the_same_items_and_produces_them_off_the_calling_thread():
    producers = []

    def pages():
        for n in range(5):
            producers.append(threading.current_thread().name)
            yield n

    assert list(prefetched(pages())) == [0, 1, 2, 3, 4]
    assert threading.current_thread().name not in producers


def test_prefetched_passes_errors_through():
    def pages():
        yield 1
        raise RuntimeError("token expired")

    out = []
    with pytest.raises(RuntimeError, match="token expired"):
        for page in prefetched(pages()):
            out.append(page)
    assert out == [1]
