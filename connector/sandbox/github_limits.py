"""GitHub's secondary limits on content-creating requests, enforced by the sandbox on its own clock when
asked (`Sandbox.github_content_limits`, None = off as before): at most 80 a minute and 500 an hour by
default, each refused with 403 and a Retry-After as GitHub does. The benchmark of a first labelling at
real size (benchmarks/bench_citizenship.py) uses it to check that no run goes over."""

from __future__ import annotations

import math
import threading
from collections import deque

from connector.sandbox.faults import GH_SECONDARY

REAL_SIZE = ((80, 60.0), (500, 3600.0))  # (requests, window seconds)


class ContentLimits:
    def __init__(self, limits: tuple[tuple[int, float], ...] = REAL_SIZE) -> None:
        self.limits = limits
        self.accepted: deque[float] = deque(maxlen=max(n for n, _ in limits))
        self.refused = 0
        self._lock = threading.Lock()

    def admit(self, now: float) -> float | None:
        """None and the request counted when every window has room, else the seconds until one has."""
        with self._lock:
            wait = 0.0
            for n, window in self.limits:
                inside = [t for t in self.accepted if t > now - window]
                if len(inside) >= n:
                    wait = max(wait, inside[-n] + window - now)
            if wait > 0:
                self.refused += 1
                return wait
            self.accepted.append(now)
            return None


def refusal(wait: float) -> tuple[int, dict, dict]:
    return 403, {"Retry-After": str(max(1, math.ceil(wait)))}, {
        "message": GH_SECONDARY + "1234:5678:ABCD.",
        "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
                             "#about-secondary-rate-limits"}
