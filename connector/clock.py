"""The program's one notion of now and of waiting, so tests and the demo can move time.

`PLANSYNC_NOW` (ISO 8601 with offset) pins "now" for demos and reproducible reports.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from connector.errors import ConfigError

NOW_VARIABLE = "PLANSYNC_NOW"
ALLOW_VARIABLE = "PLANSYNC_ALLOW_PINNED_NOW"  # "1": apply and run may write with a pinned clock (demo, tests)
_YEARS = (1970, 2200)  # the date arithmetic of forecasts and reports must not overflow


def pinned() -> datetime | None:
    """The instant `PLANSYNC_NOW` pins (aware UTC), None when unset; ConfigError (exit 2) when it is not an
    ISO 8601 date or instant in a sane range."""
    text = os.environ.get(NOW_VARIABLE, "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ConfigError(f"expected an ISO 8601 instant like 2026-11-20T18:00:00Z, got {text!r}",
                          key=f"environment variable {NOW_VARIABLE}") from None
    if not _YEARS[0] <= value.year <= _YEARS[1]:
        raise ConfigError(f"{text!r} is outside the years {_YEARS[0]}-{_YEARS[1]}",
                          key=f"environment variable {NOW_VARIABLE}")
    return value


def now() -> datetime:
    """Timezone-aware UTC now, or the instant `PLANSYNC_NOW` pins."""
    return pinned() or datetime.now(UTC)


def check_writes_allowed() -> None:
    """Labels computed for a pinned day must not reach real trackers by accident: with PLANSYNC_NOW set,
    apply and run refuse (exit 2) unless PLANSYNC_ALLOW_PINNED_NOW=1 says it is meant (demo, tests)."""
    at = pinned()
    if at is not None and os.environ.get(ALLOW_VARIABLE, "").strip() != "1":
        raise ConfigError(f"the clock is pinned to {at:%Y-%m-%d %H:%M} UTC: labels would be computed for that "
                          f"day, not today. Unset {NOW_VARIABLE}, or set {ALLOW_VARIABLE}=1 if that is meant",
                          key=f"environment variable {NOW_VARIABLE}")


def sleep(seconds: float) -> None:
    """Every wait goes through here; the test suite replaces it so nothing sleeps for real."""
    if seconds > 0:
        time.sleep(seconds)
