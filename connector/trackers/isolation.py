"""Per-scope isolation of a pull: one scope the tracker refuses (a repository that is gone or hidden, a
JQL it rejects) fails alone while the tracker's other scopes are read and stored.

Only a refusal that is about that scope is contained: credentials refused, the budget spent, or an
outage (after retries) still fail the whole tracker, and so does every scope failing. A result with a
failed scope is never a census (see `PullResult.failed`).
"""

from __future__ import annotations

from collections.abc import Iterable

from connector.errors import AuthError, FatalAPIError, RateLimitExhausted
from connector.model import Scope
from connector.values import ScopeFailure


def scope_local(exc: BaseException) -> bool:
    """Whether `exc`, raised while reading one scope, is about that scope alone."""
    return isinstance(exc, FatalAPIError) and not isinstance(exc, (AuthError, RateLimitExhausted))


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
