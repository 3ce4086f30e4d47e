"""Jira metadata a pull needs besides the issues, read through the store's metadata cache
(connector.store.metadata): the custom field ids (`/field`), the account timezone (`/myself`) and, only
where a scope names a version no item carries, that project's version list. A quiet incremental pull
then costs one search per scope.

Versions and sprints are otherwise read from the items themselves (`fixVersions` and the sprint field
carry their dates and state), so neither the versions API nor the Agile API is asked on a pull.
"""

from __future__ import annotations

from connector.errors import FatalAPIError
from connector.model import Milestone
from connector.trackers.jira.normalize import (
    FieldIds,
    MalformedPayload,
    discover_fields,
    epic_milestone,
    version_milestone,
)


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


def milestones(adapter, items: dict, carried: dict, scopes: list, cache) -> list[Milestone]:
    """The versions and sprints the items carry (free), the epics among them, and a project's version
    list only where a full pull's scope names a version (`fixVersion = "Beta"`) that no item carries:
    an empty version still has a date to compare with the plan. That list is cached (`versions:<KEY>`);
    an incremental pull (`scopes` empty) asks nothing, the stored versions stand until the census.

    The items carry every version and sprint they are in, with its current dates and state, so a full
    pull (census) refreshes all of them without asking; the Agile API would add only sprints no issue
    is in, which nothing here uses.
    """
    out = dict(carried)
    have = {(m.container.casefold(), m.name.casefold()) for m in carried.values() if m.kind == "version"}
    wanted = sorted({project.upper() for scope in scopes for kind, name, projects in scope.named_milestones()
                     if kind == "version" for project in projects if (project, name.casefold()) not in have})
    for key in wanted:
        raws = cached(cache, f"versions:{key}", lambda key=key: [
            {k: raw.get(k) for k in ("id", "name", "released", "archived", "releaseDate", "startDate")}
            for raw in paged(adapter, f"{adapter.api}/project/{key}/version", f"versions of project {key}",
                             "GET /project/{key}/version")])
        for raw in raws:
            out.setdefault(f"version:{raw['id']}", version_milestone(adapter.name, raw, key, adapter.tracker.url))
    for item in items.values():
        if item.type == "Epic":
            m = epic_milestone(item)
            out.setdefault(m.id, m)
    return list(out.values())
