"""Jira metadata a pull needs besides the issues, read through the store's metadata cache
(connector.store.metadata): the custom field ids (`/field`), the account timezone (`/myself`) and the
scrum boards of each project (Agile API). A quiet incremental pull then costs one search per scope.

Sprints themselves are not cached: a census reads each board's sprints (one paged call per board) and
the items' sprint field carries the rest for free.
"""

from __future__ import annotations

from connector.errors import AuthError, FatalAPIError, RateLimitExhausted
from connector.model import Milestone
from connector.trackers.jira.normalize import FieldIds, MalformedPayload, discover_fields, sprint_milestone

AGILE = "/rest/agile/1.0"


def cached(cache, name: str, fetch):
    """Through the pull's metadata cache when it has one (one-off pulls have none)."""
    return fetch() if cache is None else cache.cached(name, fetch)


def field_ids(adapter, cache) -> FieldIds:
    def fetch() -> dict:
        raw = adapter.http.get_json(f"{adapter.api}/field", what="listing fields", endpoint="GET /field")
        try:
            found = discover_fields(raw)
        except MalformedPayload as exc:
            raise FatalAPIError(adapter.name, f"listing fields: {exc}") from None
        return {"sprint": found.sprint, "epic_link": found.epic_link, "story_points": found.story_points}

    data = cached(cache, "field", fetch)
    try:
        return FieldIds(**data)
    except TypeError:  # a cache entry of another shape: ask again
        cache.put("field", fetch())
        return FieldIds(**cache.peek("field"))


def timezone(adapter, cache) -> str | None:
    """The account's profile timezone (JQL reads offset-less literals in it)."""
    return cached(cache, "myself", lambda: {"timeZone": adapter._myself().get("timeZone")}).get("timeZone")


def agile_sprints(adapter, projects: list[str], cache, notes: list[str]) -> list[Milestone]:
    """Every sprint of the scrum boards listed for `projects`, each under its board's own project."""
    out: list[Milestone] = []
    try:
        seen: set = set()  # a board spanning projects is listed under each; its sprints are read once
        for key in projects:
            boards = cached(cache, f"boards:{key}", lambda key=key: [
                [b["id"], (b.get("location") or {}).get("projectKey") or key]
                for b in paged(adapter, f"{AGILE}/board", f"boards of project {key}", "GET /agile/board",
                               params={"projectKeyOrId": key, "type": "scrum"})])
            for board_id, home in boards:
                if board_id in seen:
                    continue
                seen.add(board_id)
                # a sprint belongs to its board's own project, not to the project we listed boards for
                for raw in paged(adapter, f"{AGILE}/board/{board_id}/sprint", f"sprints of board {board_id}",
                                 "GET /agile/board/{id}/sprint", params={"state": "active,future,closed"}):
                    out.append(sprint_milestone(adapter.name, raw, home, adapter.tracker.url))
    except (AuthError, RateLimitExhausted):
        raise
    except FatalAPIError as exc:  # Jira Software absent or no board access: sprints from issues only
        notes.append(f"sprints from the Agile API unavailable ({exc}); using the issues' sprint field")
    return out


def paged(adapter, path: str, what: str, endpoint: str, params: dict | None = None) -> list[dict]:
    """startAt/isLast paging (versions, boards, sprints); a plain list answer is one page."""
    out: list[dict] = []
    start = 0
    while True:
        page = adapter.http.get_json(path, what=what, endpoint=endpoint,
                                     params={**(params or {}), "startAt": start, "maxResults": 50})
        if isinstance(page, list):
            return out + [v for v in page if isinstance(v, dict)]
        values = page.get("values") if isinstance(page, dict) else None
        if not isinstance(values, list):
            raise MalformedPayload(f"{what}: the answer has no `values` list")
        out += [v for v in values if isinstance(v, dict) and "id" in v]
        start += len(values)
        total = page.get("total")
        if not values or page.get("isLast") is True or (isinstance(total, int) and start >= total):
            return out
        if page.get("isLast") is None and total is None:
            return out
