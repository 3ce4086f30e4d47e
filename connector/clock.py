"""The program's one notion of now and of waiting, so tests and the demo can move time.

`PLANSYNC_NOW` (ISO 8601 with offset) pins "now" for demos and reproducible reports.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime


def now() -> datetime:
    """Timezone-aware UTC now, or the instant `PLANSYNC_NOW` pins."""
    pinned = os.environ.get("PLANSYNC_NOW")
    if pinned:
        value = datetime.fromisoformat(pinned.replace("Z", "+00:00"))
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return datetime.now(UTC)


def sleep(seconds: float) -> None:
    """Every wait goes through here; the test suite replaces it so nothing sleeps for real."""
    if seconds > 0:
        time.sleep(seconds)
