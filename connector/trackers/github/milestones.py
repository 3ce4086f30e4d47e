"""A repository's milestones: one list, and its ETag kept in the store's metadata cache when the answer fits
one page, so asking an unchanged list again costs a 304 (free against GitHub's limit)."""

from __future__ import annotations

from connector.model import Milestone
from connector.trackers.github.normalize import milestone_from_github

PER_PAGE = 100


def read_milestones(adapter, repo: str, cache=None) -> list[Milestone]:
    """The repo's milestones; an answer that fitted one page is cached with its ETag, so the next ask of
    an unchanged list is a 304 (free) answered from the store's metadata cache."""
    from connector.trackers.github.adapter import _as_list

    what, params, name = f"GET /repos/{repo}/milestones", {"state": "all", "per_page": PER_PAGE}, f"milestones:{repo}"
    headers = {"Accept": "application/vnd.github+json"}
    known = cache.peek(name) if cache is not None else None
    if isinstance(known, dict) and known.get("etag") and isinstance(known.get("milestones"), list):
        headers["If-None-Match"] = known["etag"]
    first = adapter.http.request("GET", f"/repos/{repo}/milestones", params=params, headers=headers, what=what,
                                 budget=True)
    if first.status == 304 and "If-None-Match" in headers:
        raws = known["milestones"]
        cache.put(name, known)
    else:
        guard = adapter._guard(what, f"/repos/{repo}/milestones", params, first)
        pages = [first, *adapter._follow(first, what, guard)]
        raws = [raw for page in pages for raw in _as_list(page.data, what, adapter.name)]
        if cache is not None:
            whole = len(pages) == 1 and len(raws) < PER_PAGE  # as for issue lists (adapter's docstring)
            cache.put(name, {"etag": first.etag, "milestones": raws} if whole and first.etag else {})
    return [milestone_from_github(raw, tracker=adapter.name, repo=repo) for raw in raws]
