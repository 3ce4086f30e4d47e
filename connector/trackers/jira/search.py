"""JQL for scopes and incremental windows, and the two search paginators (Cloud token, Server startAt).

Paginators take a `fetch(params) -> dict` callable, so they are pure paging logic over decoded JSON.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connector.errors import AuthError, ConfigError, FatalAPIError, RateLimitExhausted
from connector.model import Scope
from connector.pages import fetch_in_order
from connector.trackers.jira.normalize import MalformedPayload

PAGE_SIZE = 100  # the largest page Jira Cloud serves once more than id/key is requested
SPLIT_ITEMS = 2000  # a Cloud scope is split into side-by-side chains of at least 20 pages each
CENSUS_PAGE_SIZE = {"cloud": 5000, "server": 1000}  # fields=id pages; DC caps at jira.search.views.default.max
# Order by something an update does not change, so an issue edited mid-pull does not shift the
# startAt pages under us (ORDER BY updated would make it jump to the end and skip a neighbour).
ORDER = " ORDER BY created ASC, key ASC"
_ORDER_BY = re.compile(r"\border\s+by\b(?=(?:[^\"']|\"[^\"]*\"|'[^']*')*$).*$", re.I | re.S)

Fetch = Callable[[dict], dict]
log = logging.getLogger(__name__)


def scope_jql(scope: Scope) -> str:
    """The scope's own JQL without any ORDER BY (we append ours), or a key list for `items` scopes (a parent
    scope's JQL names its direct children only: its pull reads the levels below, see jira/hierarchy.py)."""
    if getattr(scope, "parent", None):
        return f'parent = "{scope.parent}"'
    if scope.jql and scope.jql.strip():
        body = _ORDER_BY.sub("", scope.jql).strip()
        if body:
            return body
    if scope.items:
        keys = ", ".join(f'"{k}"' for k in scope.items)
        return f"key in ({keys})"
    raise ConfigError(f"scope {scope.describe()!r} has no JQL (or only an ORDER BY); Jira's search needs a "
                      "bounded query such as 'project = CHK'", key="milestones.scope.jql")


def full_jql(scope: Scope, within: str = "") -> str:
    """The scope's full search; `within` narrows it to one created-date range (`created_ranges`)."""
    return f"({scope_jql(scope)}) AND {within}{ORDER}" if within else f"({scope_jql(scope)}){ORDER}"


def chain_counts(sizes: dict[str, float], workers: int) -> dict[str, int]:
    """How many chains each scope (by id: its expected number of issues) is walked in, so that `workers`
    Cloud token chains side by side share the issues about evenly: a scope holding more than one worker's
    fair share (all the issues over `workers`, at least SPLIT_ITEMS) gets about one chain per share, at
    most `workers`, each of at least SPLIT_ITEMS. Each extra chain costs at most one page more (its last
    page is partly full)."""
    share = max(SPLIT_ITEMS, sum(sizes.values()) / max(workers, 1))
    return {sid: max(1, min(workers, round(n / share), int(n // SPLIT_ITEMS))) for sid, n in sizes.items()}


def time_ranges(start: datetime, end: datetime, chains: int) -> list[str]:
    """`created >= start` split at `chains - 1` instants evenly spaced up to `end`, the last range open: for a
    scope nothing is stored of yet, after its first page (which read everything created before `start`).
    Even in time is even in issues only as far as the scope grew evenly; any split is still complete."""
    low = int(start.timestamp() * 1000)
    if chains < 2 or end <= start:
        return _ranges([], low)
    span = (end - start).total_seconds() * 1000
    return _ranges(sorted({int(low + span * j / chains) for j in range(1, chains)} - {low}), low)


def created_ranges(created: Sequence[datetime], chains: int) -> list[str]:
    """Split one scope's search into at most `chains` created-date ranges of about equal size, by the
    `created` instants of its stored members: `created < b1`, `b1 <= created < b2`, ..., `created >= bk`.

    The ranges cover every instant (an issue created since falls in the last), so the union of their
    pulls is the whole scope whatever the hint; `created` never changes, so no issue moves between
    ranges while they are read. Literals are epoch milliseconds (no timezone to get wrong). One range
    (`[""]`: the scope as it is) when there are too few members to be worth a second chain.
    """
    n = len(created)
    chains = min(chains, n // SPLIT_ITEMS)
    if chains < 2:
        return [""]
    ordered = sorted(created)
    return _ranges(sorted({int(ordered[n * j // chains].timestamp() * 1000) for j in range(1, chains)}), None)


def _ranges(bounds: list[int], low: int | None) -> list[str]:
    """`created` ranges between consecutive epoch-ms `bounds`, from `low` (None: open below) to open above."""
    out = []
    for bound in bounds:
        out.append(f"created < {bound}" if low is None else f"created >= {low} AND created < {bound}")
        low = bound
    return [*out, f"created >= {low}"]


def since_literal(since: datetime, overlap_minutes: int, timezone: str | None) -> str:
    """`updated >= ...` for a cursor: account-timezone minutes when known, else epoch milliseconds.

    JQL reads offset-less literals in the searching user's profile timezone and only to the minute,
    so the instant is moved back by the overlap, rendered in that zone and floored to the minute.
    """
    start = since.astimezone(UTC) - timedelta(minutes=overlap_minutes)
    zone = _zone(timezone)
    if zone is None:
        floored = start.replace(second=0, microsecond=0)
        return f"updated >= {int(floored.timestamp()) * 1000}"
    local = start.astimezone(zone).replace(second=0, microsecond=0)
    # Around a DST change the wall time is ambiguous or missing and Jira may read it an hour later:
    # step back until every reading of the literal is at or before the instant we need.
    while max(local.replace(fold=0, tzinfo=zone).astimezone(UTC),
              local.replace(fold=1, tzinfo=zone).astimezone(UTC)) > start:
        local = (local - timedelta(minutes=30)).replace(tzinfo=zone)
    return f'updated >= "{local:%Y/%m/%d %H:%M}"'


def incremental_jql(scope: Scope, since: datetime, overlap_minutes: int, timezone: str | None) -> str:
    return f"({scope_jql(scope)}) AND {since_literal(since, overlap_minutes, timezone)}{ORDER}"


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _issues(page: dict) -> list[dict]:
    if not isinstance(page, dict) or not isinstance(page.get("issues"), list):
        raise MalformedPayload("the search answer has no `issues` list")
    return page["issues"]


def cloud_pages(fetch: Fetch, jql: str, fields: list[str], page_size: int = PAGE_SIZE,
                token: str | None = None) -> Iterator[list[dict]]:
    """Enhanced search pages. Stops on `isLast` or a missing token; never reads `total` (there is none).
    From `token` on when given: the chain's first page was read by `cloud_first_page`."""
    seen_tokens: set[str] = set()
    restarted = False
    while True:
        params = {"jql": jql, "fields": ",".join(fields), "maxResults": page_size}
        if token:
            params["nextPageToken"] = token
        try:
            page = fetch(params)
        except (AuthError, RateLimitExhausted):
            raise
        except FatalAPIError:
            # The same query without a token was accepted, so a refusal now is the token itself (they
            # expire after 7 days, or with the search session): start over once; callers dedupe by id.
            if not token or restarted:
                raise
            log.warning("Jira refused a search page token (expired?); restarting the search from page 1")
            token, restarted = None, True
            seen_tokens.clear()
            continue
        yield _issues(page)
        token = page.get("nextPageToken")
        if page.get("isLast") is True or not token:
            return
        if token in seen_tokens:  # a server bug would otherwise loop forever under cron
            raise MalformedPayload("the search returned the same nextPageToken twice")
        seen_tokens.add(token)


def cloud_first_page(fetch: Fetch, jql: str, fields: list[str], page_size: int = PAGE_SIZE) -> tuple[list[dict], str | None]:
    """A search's first page and the token of the next (None: it was the last)."""
    page = fetch({"jql": jql, "fields": ",".join(fields), "maxResults": page_size})
    issues = _issues(page)
    token = page.get("nextPageToken")
    return issues, (None if page.get("isLast") is True or not token else str(token))


def server_pages(fetch: Fetch, jql: str, fields: list[str], page_size: int = PAGE_SIZE,
                 workers: int = 1) -> Iterator[list[dict]]:
    """Data Center `/rest/api/2/search` pages by startAt; advances by what came back (servers cap pages).

    With `workers` > 1 the first page's `total` and real page size (the server may cap `maxResults`)
    give every later startAt, and those pages are fetched by a bounded pool, yielded in order: the
    ORDER BY (created, key) does not change under edits, so a page is the same whenever it is read.
    Issues created meanwhile are read by continuing one page at a time from the last page.
    """
    def params(start: int) -> dict:
        return {"jql": jql, "fields": ",".join(fields), "startAt": start, "maxResults": page_size}

    page = fetch(params(0))
    issues = _issues(page)
    yield issues
    start, total = len(issues), page.get("total")
    if workers > 1 and issues and isinstance(total, int) and start < total:
        starts = list(range(start, total, len(issues)))
        for page in fetch_in_order(lambda at: fetch(params(at)), starts, workers):
            issues = _issues(page)
            yield issues
        start, total = starts[-1] + len(issues), page.get("total")
    while not _server_done(page, issues, start, total, page_size):
        page = fetch(params(start))
        issues = _issues(page)
        yield issues
        start += len(issues)
        total = page.get("total")


def _server_done(page: dict, issues: list, start: int, total, page_size: int) -> bool:
    if not issues or (isinstance(total, int) and start >= total):
        return True
    return not isinstance(total, int) and len(issues) < int(page.get("maxResults") or page_size)
