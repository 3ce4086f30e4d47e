"""Parent scopes on Jira: every descendant of an issue, read level by level with `parent in (...)`.

JQL `parent = X` answers direct children only (epic -> story -> sub-task is three levels), so each level
is one search over the keys of the level before, in chunks that keep the URL short. Cost: one search per
level and chunk (plus its pages); nothing per issue. A parent Jira does not know answers 400, which the
search reports with the scope named.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from connector.trackers.jira.search import ORDER, PAGE_SIZE

PARENT_CHUNK = 100  # keys per `parent in (...)`
MAX_LEVELS = 10  # Jira's hierarchy is configurable; a loop in the data must not run forever

Search = Callable[[str, list[str], int, str], Iterator[list[dict]]]


def descendant_pages(search: Search, parent: str, fields: list[str], what: str) -> Iterator[list[dict]]:
    """Pages of every issue below `parent`, level by level; each issue once, however the levels interleave."""
    seen = {parent.upper()}
    level = [parent]
    for _ in range(MAX_LEVELS):
        below: list[str] = []
        for n in range(0, len(level), PARENT_CHUNK):
            keys = ", ".join(f'"{k}"' for k in level[n:n + PARENT_CHUNK])
            for page in search(f"parent in ({keys}){ORDER}", fields, PAGE_SIZE, what):
                fresh = [raw for raw in page if isinstance(raw, dict) and str(raw.get("key", "")).upper() not in seen]
                seen.update(str(raw.get("key", "")).upper() for raw in fresh)
                below += [str(raw["key"]) for raw in fresh if raw.get("key")]
                yield fresh
        if not below:
            return
        level = below
