"""One small error hierarchy; the CLI turns each into one readable line and a documented exit code."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # a failed run (a tracker failed, an unsafe apply refused, a store fault)
    BAD_INPUT = 2  # config, plan, mapping, CLI usage, token variable unset — before any network call
    CHANGES_PENDING = 3  # `plan --detailed-exitcode` found changes
    LEASE_HELD = 4  # another run holds the lease; nothing was done


class PlansyncError(Exception):
    """Base of every error a user can cause or meet; `str()` is the one line the CLI prints."""

    exit_code: ExitCode = ExitCode.FAILED


class ConfigError(PlansyncError):
    """A config, plan or mapping file (or a CLI argument / env variable) is wrong."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None,
                 line: int | None = None) -> None:
        self.file, self.key, self.line, self.detail = file, key, line, message
        where = ""
        if file:
            where = str(file)
            if line:
                where += f":{line}"
            where += ": "
        if key:
            where += f"{key}: "
        super().__init__(f"{where}{message}")


class TrackerError(PlansyncError):
    """A tracker failed; names the tracker. Subclasses say whether a retry can help."""

    def __init__(self, tracker: str, message: str) -> None:
        self.tracker = tracker
        super().__init__(f"tracker {tracker!r}: {message}")


class FatalAPIError(TrackerError):
    """Retrying will not help (401, 403, 404, 410, a malformed body, bad JQL). `status`: the HTTP status
    when the tracker refused the request (None for a malformed answer): lets a pull tell a refusal of
    one scope from a broken answer (connector.trackers.isolation)."""

    def __init__(self, tracker: str, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(tracker, message)


class AuthError(FatalAPIError):
    """Credentials were refused (an expired or revoked token)."""


class RetriableAPIError(TrackerError):
    """429, 5xx, a dropped connection: the retry layer may try again after `retry_after` seconds."""

    def __init__(self, tracker: str, message: str, *, retry_after: float | None = None,
                 status: int | None = None) -> None:
        self.retry_after, self.status = retry_after, status
        super().__init__(tracker, message)


class RateLimitExhausted(FatalAPIError):
    """The tracker's primary budget would run out; stop pulling it cleanly instead of sleeping."""


class StoreError(PlansyncError):
    """The store is unreachable, locked or full; nothing was half-written."""


class LeaseHeld(PlansyncError):
    exit_code = ExitCode.LEASE_HELD


class UnsafePlan(PlansyncError):
    """An apply would change more than the configured share of items; rerun with --force."""
