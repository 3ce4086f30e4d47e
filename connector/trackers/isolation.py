"""Per-scope isolation of a pull: one scope the tracker refuses (a repository that is gone or hidden, a
JQL it rejects) fails alone while the tracker's other scopes are read and stored.

Only a refusal that is about that scope is contained (by its HTTP status: 403/404/410/451 from a
forge, a 400 to a scope's first Jira search page, i.e. its JQL): a malformed answer, credentials
refused, the budget spent, or an outage (after retries) still fail the whole tracker, and so does
every scope failing. A result with a
failed scope is never a census (see `PullResult.failed`).
"""

from __future__ import annotations

from collections.abc import Iterable

from connector.errors import AuthError, FatalAPIError, RateLimitExhausted
from connector.model import Scope
from connector.values import ScopeFailure

# a repository, project or group gone, hidden or withheld: the statuses a forge answers about one scope
CONTAINER_REFUSALS = frozenset({403, 404, 410, 451})
JQL_REFUSED = frozenset({400})  # Jira, to the first page of a scope's search: its JQL or a key in it


def scope_local(exc: BaseException, statuses: frozenset[int] = CONTAINER_REFUSALS) -> bool:
    """Whether `exc`, raised while reading one scope, is the tracker refusing that scope (one of
    `statuses`); a malformed answer (no status), refused credentials or a spent budget are not."""
    return (isinstance(exc, FatalAPIError) and not isinstance(exc, (AuthError, RateLimitExhausted))
            and exc.status in statuses)


def failures(exc: FatalAPIError, scopes: Iterable[Scope], prefix: str = "") -> list[ScopeFailure]:
    """One ScopeFailure per plan scope the failed read feeds, with the error's own line (without the
    "tracker 'x': " the tracker's name already gives)."""
    text = str(exc)
    marker = f"tracker {getattr(exc, 'tracker', '')!r}: "
    if text.startswith(marker):
        text = text[len(marker):]
    return [ScopeFailure(s.id, s.describe(), f"{prefix}{text}") for s in scopes]


def settle(failed: list[ScopeFailure], errors: list[FatalAPIError], attempted: int) -> tuple[ScopeFailure, ...]:
    """The failures to report; when every read failed there is nothing to isolate: the first error fails
    the tracker as before."""
    if errors and len(errors) >= attempted:
        raise errors[0]
    return tuple({f.scope_id: f for f in failed}.values())


class Isolated:
    """The reads of one pull, each of which may fail alone: `read` runs one and returns None when the
    tracker refused that scope; `settle(succeeded)` gives the failures (or raises when nothing worked)."""

    def __init__(self) -> None:
        self.failed: list[ScopeFailure] = []
        self.errors: list[FatalAPIError] = []

    def read(self, fn, fed: Iterable[Scope], *args, statuses: frozenset[int] = CONTAINER_REFUSALS):
        try:
            return fn(*args)
        except FatalAPIError as exc:
            if not scope_local(exc, statuses):
                raise
            self.record(exc, fed)
            return None

    def record(self, exc: FatalAPIError, fed: Iterable[Scope]) -> None:
        self.errors.append(exc)
        self.failed += failures(exc, fed)

    def settle(self, succeeded: int) -> tuple[ScopeFailure, ...]:
        return settle(self.failed, self.errors, len(self.errors) + succeeded)
