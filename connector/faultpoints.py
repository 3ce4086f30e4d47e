"""Named crash points for the crash-safety tests: `PLANSYNC_CRASH_AT=<point>:<n>` kills this process
with SIGKILL the n-th time it passes <point> (n defaults to 1). Unset in normal use: one env lookup.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

_passed: Counter = Counter()


def crash_point(name: str) -> None:
    wanted = os.environ.get("PLANSYNC_CRASH_AT")
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _passed[name] += 1
    if _passed[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
