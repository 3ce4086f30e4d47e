"""The shared pacing: a per-endpoint rate that halves on a burst limit and climbs back, and sliding windows."""

from __future__ import annotations

from connector.http import Pacer, WindowLimit


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


def test_unpaced_until_a_burst_then_halved_and_recovering_to_full_speed():
    c = FakeClock()
    p = Pacer(100.0, now=c.now, sleep=c.sleep)
    for _ in range(5):
        p.wait("GET /search")
    assert c.slept == []  # no pacing before the tracker asks
    assert p.throttled("GET /search") == 50.0
    p.wait("GET /search")
    p.wait("GET /search")
    assert c.slept == [1 / 50]
    for n in range(1, 10):
        p.success("GET /search")
        assert p.rate("GET /search") == 50 + 5 * n
    p.success("GET /search")
    assert p.rate("GET /search") is None  # back at the ceiling: unpaced, never settled at 1/s


def test_repeated_bursts_multiply_down_to_the_floor_only():
    p = Pacer(100.0, floor=1.0, now=FakeClock().now)
    rates = [p.throttled("PUT /issue") for _ in range(10)]
    assert rates[:3] == [50.0, 25.0, 12.5] and rates[-1] == 1.0
    assert p.rate("GET /other") is None  # per endpoint


def test_per_key_ceilings():
    p = Pacer(lambda key: 50.0 if key.startswith("PUT") else 100.0, now=FakeClock().now)
    assert p.throttled("PUT /issue/{id}") == 25.0 and p.throttled("GET /search") == 50.0


def test_window_limit_per_issue_20_per_2s_and_100_per_30s():
    c = FakeClock()
    w = WindowLimit(((20, 2.0), (100, 30.0)), now=c.now, sleep=c.sleep)
    for _ in range(20):
        w.acquire("10001")
    assert c.slept == []
    w.acquire("10001")
    assert c.slept == [2.0]  # the 21st write waits for the first to leave the 2 s window
    w.acquire("10002")  # another issue: its own window
    assert c.slept == [2.0]
    for _ in range(79):
        w.acquire("10001")
    assert c.t < 30
    w.acquire("10001")  # the 101st within 30 s waits for the 30 s window
    assert c.t >= 30.0


def test_window_limit_80_a_minute():
    c = FakeClock()
    w = WindowLimit(((80, 60.0),), now=c.now, sleep=c.sleep)
    for _ in range(160):
        w.acquire()
    assert c.t == 60.0 and c.slept == [60.0]  # the second 80 go once the first minute has passed
