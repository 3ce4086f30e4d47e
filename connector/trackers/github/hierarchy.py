"""Sub-issue trees (parent scopes) and issue dependencies on GitHub, read only where the payloads say so.

Costs (counted like every request; see README "Performance"):
- a parent scope: one `GET /repos/{o}/{r}/issues/{n}/sub_issues?per_page=100` (plus pages) for the parent
  and for each descendant whose `sub_issues_summary.total` is above 0; children may live in any repo of
  the owner, and come back as full issue objects, so nothing else is asked about them;
- dependencies: one `GET .../issues/{n}/dependencies/blocked_by?per_page=100` per *open* item of a plan
  milestone whose `issue_dependencies_summary.blocked_by` (open blockers) is above 0. A closed item cannot
  be held up, an item whose blockers are all closed needs no read (its summary already says nothing blocks
  it), and an item only in watch scopes changes no milestone, so its blockers are not read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from connector.errors import FatalAPIError
from connector.model import Blocker, Cursor, WorkItem
from connector.trackers.github.normalize import item_from_github, open_blockers, repo_of, split_key
from connector.values import ScopePull

MAX_DEPTH = 8  # GitHub allows eight levels of sub-issues
_ACCEPT = {"Accept": "application/vnd.github+json"}


def _pages(adapter, path: str, what: str, missing: str | None = None) -> list[dict]:
    """Every entry of one paged list; a 404 raises `missing` (when given) as one clear FatalAPIError."""
    first = adapter.http.request("GET", path, params={"per_page": 100}, headers=_ACCEPT, what=what, budget=True,
                                 accept=frozenset({404}) if missing else frozenset())
    if first.status == 404:
        raise FatalAPIError(adapter.name, missing, status=404)
    out: list[dict] = []
    for page in [first, *adapter._follow(first, what)]:
        if not isinstance(page.data, list):
            raise FatalAPIError(adapter.name, f"{what}: expected a JSON array, got {type(page.data).__name__}")
        out += [raw for raw in page.data if isinstance(raw, dict)]
    return out


def pull_parent(adapter, scope, unmapped: set[str], blocked: dict[str, int]) -> ScopePull:
    """Every descendant of the scope's parent, level by level (each issue once), as one complete ScopePull."""
    items: dict[str, WorkItem] = {}
    level, seen = [scope.parent_key], {scope.parent_key.casefold()}
    for depth in range(MAX_DEPTH):
        below: list[str] = []
        for key in level:
            repo, number = split_key(key)
            path = f"/repos/{repo}/issues/{number}/sub_issues"
            missing = (f"scope {scope.describe()!r}: the parent {key} does not exist or this token cannot see it "
                       "(404)") if depth == 0 else None
            for raw in _pages(adapter, path, f"GET {path}", missing):
                item, fell_back = item_from_github(raw, tracker=adapter.name, repo=repo_of(raw, repo),
                                                   mapping=adapter.mapping)
                if fell_back:
                    unmapped.add(item.raw_status)
                if item.key.casefold() in seen:
                    continue
                seen.add(item.key.casefold())
                items[item.id] = item
                if (count := open_blockers(raw)) and item.is_open:
                    blocked[item.id] = count
                if ((raw.get("sub_issues_summary") or {}).get("total") or 0) > 0:
                    below.append(item.key)
        level = below
        if not level:
            break
    newest = max((i.updated for i in items.values()), default=None)
    return ScopePull(scope.id, tuple(items.values()), complete=True,
                     cursor=Cursor(adapter.name, scope.id, updated=newest))


def fill_blockers(adapter, pulls: Iterable[ScopePull], blocked: dict[str, int], request=None) -> list[ScopePull]:
    """Each item noted in `blocked` (id -> its open blockers, by the list's summary) gets its blockers (one read
    per item, however many scopes hold it), when a milestone scope of `request.planned` holds it: an item only
    in watch scopes changes no milestone. An item the store holds unchanged (same `updated`) with as many open
    blockers as its summary now counts keeps its stored blockers (`request.known_blockers`, given on a census):
    a full pull re-reads only what changed."""
    pulls = list(pulls)
    if request is not None and request.planned is not None:
        blocked = _planned(pulls, blocked, request)
    found: dict[str, tuple[Blocker, ...]] = {}
    known = getattr(request, "known_blockers", None) or {}
    out = []
    for pull in pulls:
        items = []
        for item in pull.items:
            if item.id in blocked:
                stored = known.get(item.id)
                if item.id not in found and stored is not None and stored[0] == item.updated \
                        and sum(b.open for b in stored[1]) == blocked[item.id]:
                    found[item.id] = stored[1]  # unchanged since it was read: no request
                if item.id not in found:
                    repo, number = split_key(item.key)
                    path = f"/repos/{repo}/issues/{number}/dependencies/blocked_by"
                    found[item.id] = tuple(
                        Blocker(str(raw.get("id", "")), f"{repo_of(raw, repo)}#{raw.get('number')}",
                                str(raw.get("state", "open")).lower() == "open")
                        for raw in _pages(adapter, path, f"GET {path}"))
                item = replace(item, blocked_by=found[item.id])
            items.append(item)
        out.append(replace(pull, items=tuple(items)) if pull.items else pull)
    return out


def _planned(pulls: list[ScopePull], blocked: dict[str, int], request) -> dict[str, int]:
    scopes = [s for s in request.scopes if s.id in request.planned and not s.remote]
    out: dict[str, int] = {}
    for pull in pulls:
        for item in pull.items:
            if item.id in blocked and (pull.scope_id in request.planned or any(s.matches(item) for s in scopes)):
                out[item.id] = blocked[item.id]
    return out
