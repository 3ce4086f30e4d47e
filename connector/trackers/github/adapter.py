"""The GitHub adapter: pulls issues and milestones per repository, runs the census, writes owned labels.

Cost model (asserted in tests/adapters/test_github*.py):
- Each distinct repo named by the scopes is pulled once: `GET /repos/{o}/{r}/issues?state=all&
  per_page=100&sort=updated&direction=asc[&since=...]`, following `Link: rel="next"`, so N issues cost
  ceil(N/100) requests (at least 1), plus `GET .../milestones?state=all&per_page=100` pages. Items are
  built from the list payloads: no per-issue request ever (no PyGithub object, no lazy completion).
- Scopes that list `items` in a repo no other scope names pull that whole repo (one list, not one GET per
  issue): one cursor and one ScopePull per repo; the reconciler evaluates milestone/label/items scopes.
- Incremental pulls send `since` = cursor.updated - overlap, as UTC with `Z`. The cursor only advances
  to the newest `updated_at` actually returned, never past data the caller has not stored.
- ETag / overlap interplay: the list URL depends only on `since`, which depends only on the cursor, so a
  quiet repo asks the identical URL every run. The first page's ETag is kept in `Cursor.etag` only when
  that page holds the whole answer (fewer than per_page items): with `sort=updated asc`, a change appends
  an item to the *end* of the answer, so a 304 on a first page that is also the last page proves nothing
  changed, whereas a 304 on page 1 of several would hide changes on later pages. A 304 returns an empty
  incremental ScopePull with the SAME cursor, so the next run sends the same URL and can 304 again
  (free: 304s do not count against GitHub's primary limit). A changed repo answers 200 with the overlap
  items plus the changes; the cursor moves and the next run's first request (new URL) answers 200 once
  more with just the overlap, stores that ETag, and from then on costs one 304 per run.
- Incremental pages are offsets into a list sorted by `updated`: an item changed while we page moves to
  the end, so it is read twice and the pages after its old place shift by one, which can hide one
  unchanged item. A duplicate therefore keeps the old cursor (the window is read again next run).
  Incremental pages are fetched one at a time for the same reason: concurrent fetches would break the
  "moved items come last" argument.
- Full pulls (and the census) list by `sort=created&direction=asc` instead: an edit does not move an
  item, a new issue is appended at the end, so page n is the same page whenever it is fetched. Pages
  2..last (from the first page's `Link: rel="last"`) are then fetched by a bounded pool
  (`pages.PAGE_WORKERS`, each worker on its own PyGithub connection), in order, de-duplicated by id;
  whatever was created meanwhile is followed from the last page's `rel="next"`. Same request count as
  one at a time; wall time ~ pages / workers x latency instead of pages x latency.
- Milestones: read on full pulls and on incremental pulls whose issue list changed (200), with the ETag
  of the last one-page answer (a 304 is answered from the store's cache); a 304 repo returns none (not
  deletion). A milestone edit with no issue change is seen at the next change there or the next census.
- Census (`PullSpec.full`): full pull of every repo, then one `GET .../issues/{n}` per known id the
  lists no longer show (keys from `known_keys`): 410 DELETED, 301 to another repo MOVED, 404 HIDDEN.
  A repository the token cannot read fails alone (`connector.trackers.isolation`): no census then.
"""

from __future__ import annotations

import logging
import queue
from datetime import UTC, timedelta
from urllib.parse import quote, urlencode, urlparse

from connector.errors import AuthError, FatalAPIError, RateLimitExhausted, RetriableAPIError
from connector.http import RetryPolicy
from connector.model import Cursor, Milestone, Presence, WorkItem
from connector.pages import PAGE_WORKERS, fetch_in_order
from connector.trackers import isolation
from connector.trackers.github import access, status_updates
from connector.trackers.github.config import GithubTrackerSettings
from connector.trackers.github.hierarchy import fill_blockers, pull_parent
from connector.trackers.github.http import GithubTransport, Reply
from connector.trackers.github.mapping import GithubMapping
from connector.trackers.github.milestones import read_milestones
from connector.trackers.github.normalize import (
    format_since,
    item_from_github,
    open_blockers,
    repo_of,
    repo_scope_id,
    split_key,
)
from connector.trackers.github.paging import PageGuard, at_page, page_number
from connector.trackers.github.projects import project_reader
from connector.trackers.github.scopes import repos_for_scopes
from connector.values import (
    Gone,
    Identity,
    LabelChange,
    PullResult,
    PullSpec,
    RequestStats,
    ScopePull,
    WriteResult,
)

__all__ = ["GithubAdapter", "repo_scope_id", "repos_for_scopes"]

log = logging.getLogger(__name__)
PER_PAGE = 100
DEFAULT_POLICY = RetryPolicy()
LIST_PARAMS = {"state": "all", "per_page": PER_PAGE, "sort": "updated", "direction": "asc"}
# full pulls: an order an edit does not change, so pages can be fetched concurrently (module docstring)
FULL_LIST_PARAMS = {"state": "all", "per_page": PER_PAGE, "sort": "created", "direction": "asc"}


class GithubAdapter:
    """TrackerAdapter for GitHub.com and GitHub Enterprise (any base URL), token auth."""

    kind = "github"

    def __init__(self, tracker: GithubTrackerSettings, mapping: GithubMapping, *, overlap_minutes: int = 5,
                 policy: RetryPolicy = DEFAULT_POLICY) -> None:
        self.name = tracker.name
        self.tracker, self.mapping = tracker, mapping
        self.overlap = timedelta(minutes=overlap_minutes)
        self.stats = RequestStats()
        self.http = GithubTransport(tracker, self.stats, policy)
        self.page_workers = PAGE_WORKERS
        self._idle_transports: queue.SimpleQueue[GithubTransport] = queue.SimpleQueue()

    def publish_status(self, scopes, marker: str, health: str, due, body: str) -> list[tuple[str, str, str]]:
        """A milestone's health as the status update of each project its scopes name: (project, id, how)."""
        return status_updates.publish_for(self, scopes, marker, health, due, body)

    # --- doctor ------------------------------------------------------------------------------------
    def check(self) -> Identity:
        if self.http.app is not None:  # a GitHub App has no /user: GET /app with its JWT
            return access.app_identity(self)
        reply = self.http.request("GET", "/user", what="GET /user", accept=frozenset({404}))
        if reply.status == 404:  # a web URL (https://github.com, https://ghe.host) answers 404 for /user
            raise FatalAPIError(self.name, f"GET {self.tracker.url}/user answered 404: the url is not a GitHub API "
                                           "root (expected https://api.github.com or https://HOST/api/v3)")
        self.oauth_scopes = reply.headers.get("x-oauth-scopes")  # a classic token's scopes (doctor's permissions)
        host = urlparse(self.tracker.url).hostname or ""
        deployment = "github.com" if host == "api.github.com" else "enterprise"
        rate = (f"; rate limit {self.stats.rate_remaining}/{self.stats.rate_limit}"
                if self.stats.rate_limit else "")
        return Identity(tracker=self.name, user=str((reply.data or {}).get("login") or "?"),
                        deployment=deployment, timezone=None,
                        detail=f"API version {self.tracker.api_version}{rate}")

    permission_checks = access.permission_checks  # doctor: each permission plansync needs here, read-only

    def check_scopes(self, scopes) -> list[tuple[str, str | None]]:
        """doctor: each repository and project the plan names on its own (github/access.py)."""
        return access.check_scopes(self, scopes)

    # --- pull --------------------------------------------------------------------------------------
    def pull(self, request: PullSpec) -> PullResult:
        scopes, milestones, seen = [], [], set()
        unmapped, notes = set(), []  # raw statuses the mapping fell back for; warnings for the log
        self._blocked: dict[str, int] = {}  # open items with open blockers: id -> how many (hierarchy.fill_blockers)
        guard = isolation.Isolated()  # a repository or parent gone or hidden fails alone
        for repo in repos_for_scopes(request.scopes, self.name):
            scope_id = repo_scope_id(self.name, repo)
            fed = [s for s in request.scopes if repo.lower() in map(str.lower, repos_for_scopes([s], self.name))]
            got = guard.read(self._pull_repo, fed, repo, scope_id, request.cursors.get(scope_id), request.full,
                             unmapped, notes, getattr(request, "metadata", None))
            if got is not None:
                scopes.append(got[0])
                milestones.extend(got[1])
        # Projects v2 scopes (connector.trackers.github.projects), sub-issue trees (.hierarchy)
        scopes += project_reader(self).pull(request.scopes, request.cursors, request.full, unmapped, notes)
        for parent in [s for s in request.scopes if s.tracker == self.name and getattr(s, "parent", None)]:
            if (tree := guard.read(pull_parent, [parent], self, parent, unmapped, self._blocked)) is not None:
                scopes.append(tree)
        seen.update(item.id for scope_pull in scopes for item in scope_pull.items)
        failures = guard.settle(len(scopes))
        gone: list[Gone] = []
        census = request.full and not failures
        if census:
            extra, gone = self._census(request, {s.scope_id for s in scopes}, seen, unmapped, notes)
            if extra:  # visible singly but missing from the list: keep them, they are present
                scopes = [_with_items(s, extra.get(s.scope_id, ())) for s in scopes]
                seen.update(item.id for items in extra.values() for item in items)
        scopes = fill_blockers(self, scopes, self._blocked, request)
        return PullResult(tracker=self.name, scopes=tuple(scopes), milestones=tuple(milestones),
                          census=census, seen_ids=frozenset(seen) if census else frozenset(),
                          gone=tuple(gone), unmapped_statuses=frozenset(unmapped), notes=tuple(notes),
                          failed=failures)

    def _pull_repo(self, repo: str, scope_id: str, cursor: Cursor | None, full: bool, unmapped: set[str],
                   notes: list[str], cache=None) -> tuple[ScopePull, list[Milestone]]:
        incremental = not full and cursor is not None and cursor.updated is not None
        params = dict(LIST_PARAMS if incremental else FULL_LIST_PARAMS)
        headers = {"Accept": "application/vnd.github+json"}
        if incremental:
            params["since"] = format_since(cursor.updated - self.overlap)
            if cursor.etag:
                headers["If-None-Match"] = cursor.etag
        what = f"GET /repos/{repo}/issues"
        first = self.http.request("GET", f"/repos/{repo}/issues", params=params, headers=headers, what=what,
                                  budget=True)
        if first.status == 304:
            log.debug("%s: %s unchanged (304)", self.name, repo)
            return ScopePull(scope_id, (), complete=False, cursor=cursor), []
        pages = [first, *(self._follow(first, what, self._guard(what, f"/repos/{repo}/issues", params, first))
                          if incremental else self._rest_concurrently(first, what))]
        by_id: dict[str, WorkItem] = {}
        shifted = False
        for page in pages:
            for raw in _as_list(page.data, what, self.name):
                item, fell_back = item_from_github(raw, tracker=self.name, repo=repo, mapping=self.mapping)
                if fell_back:
                    unmapped.add(item.raw_status)
                if (count := open_blockers(raw)) and item.is_open:
                    self._blocked[item.id] = count
                shifted = shifted or item.id in by_id
                by_id[item.id] = item  # an item updated while we paged shows up again later: keep the last
        items = tuple(by_id.values())
        newest = max((item.updated for item in items), default=None)
        if cursor is not None and cursor.updated is not None and (newest is None or cursor.updated > newest):
            newest = cursor.updated.astimezone(UTC)
        if shifted:
            # An item seen twice moved from a page already read to the end, shifting the pages after it
            # by one: one unchanged item may have slipped between two pages. Keep the old cursor so the
            # next run reads this window again (a first full pull then runs full again).
            newest = cursor.updated.astimezone(UTC) if cursor is not None and cursor.updated else None
            notes.append(f"{repo}: issues changed while their pages were read; this window is read again "
                         "next run")
        # see the module docstring: a 304 is only trustworthy for a first page that is also the last
        whole_answer_on_one_page = len(pages) == 1 and len(_as_list(first.data, what, self.name)) < PER_PAGE
        etag = first.etag if whole_answer_on_one_page and not shifted else None
        new_cursor = Cursor(tracker=self.name, scope_id=scope_id, updated=newest, etag=etag,
                            extra=dict(cursor.extra) if cursor else {})
        milestones = self._milestones(repo, cache)
        return ScopePull(scope_id, items, complete=not incremental, cursor=new_cursor), milestones

    def _guard(self, what: str, path: str, params: dict | None, first: Reply) -> PageGuard:
        """The loop guard of one list, starting at its first page (as the server's links would name it)."""
        last_url = first.link("last")
        guard = PageGuard(self.name, what, f"{self.tracker.url}{path}?{urlencode(params or {})}",
                          last=page_number(last_url) if last_url else None, per_page=PER_PAGE)
        guard.seen(first.data)
        return guard

    def _follow(self, first: Reply, what: str, guard: PageGuard | None = None) -> list[Reply]:
        pages, url = [], first.link("next")
        guard = guard or self._guard(what, "", None, first)
        while url:
            guard.next_page(url)  # a next link back to a page already read fails the list, not loops
            page = self.http.request("GET", url, what=f"{what} (next page)",
                                     headers={"Accept": "application/vnd.github+json"}, budget=True)
            guard.seen(page.data)
            pages.append(page)
            url = page.link("next")
        return pages

    def _rest_concurrently(self, first: Reply, what: str, guard: PageGuard | None = None) -> list[Reply]:
        """Pages 2..last of a stable-order list through the bounded pool, then anything created meanwhile.
        Without a `rel="last"` page number (not every server sends one) pages are followed one by one."""
        guard = guard or self._guard(what, "", None, first)
        next_url, last_url = first.link("next"), first.link("last")
        last = page_number(last_url) if last_url else None
        if not next_url or last is None or page_number(next_url) != 2 or self.page_workers <= 1:
            return self._follow(first, what, guard)
        urls = [at_page(next_url, number) for number in range(2, last + 1)]
        for url in urls:
            guard.next_page(url)
        pages = list(fetch_in_order(lambda url: self._get_page(url, what), urls, self.page_workers))
        for page in pages:
            guard.seen(page.data)
        return pages + self._follow(pages[-1], what, guard)

    def _get_page(self, url: str, what: str) -> Reply:
        try:
            transport = self._idle_transports.get_nowait()
        except queue.Empty:
            transport = self.http.fork()
        try:
            return transport.request("GET", url, what=f"{what} (page {page_number(url)})",
                                     headers={"Accept": "application/vnd.github+json"}, budget=True)
        finally:
            self._idle_transports.put(transport)

    def _milestones(self, repo: str, cache=None) -> list[Milestone]:
        return read_milestones(self, repo, cache)

    # --- census ------------------------------------------------------------------------------------
    def _census(self, request: PullSpec, pulled: set[str], seen: set[str], unmapped: set[str],
                notes: list[str]) -> tuple[dict[str, list[WorkItem]], list[Gone]]:
        """Look up, one by one, known items that the full lists no longer show."""
        known_keys = request.known_keys
        extra: dict[str, list[WorkItem]] = {}
        gone: list[Gone] = []
        unknown_key = 0
        for item_id in sorted(request.known_ids - seen):
            key = known_keys.get(item_id)
            if not key:
                unknown_key += 1
                continue
            repo, number = split_key(key)
            if repo_scope_id(self.name, repo) not in pulled:
                continue  # not in this run's scopes: nothing to say about it
            found = self._probe(item_id, key, repo, number, unmapped)
            if isinstance(found, Gone):
                gone.append(found)
            elif found is not None:
                extra.setdefault(repo_scope_id(self.name, repo), []).append(found)
        if unknown_key:
            notes.append(f"census: {unknown_key} known GitHub item(s) missing from the lists could not be "
                         "checked (no key given in PullSpec.known_keys)")
        return extra, gone

    def _probe(self, item_id: str, key: str, repo: str, number: int, unmapped: set[str]) -> Gone | WorkItem | None:
        what = f"GET /repos/{repo}/issues/{number}"
        reply = self.http.request("GET", f"/repos/{repo}/issues/{number}", what=what, budget=True,
                                  headers={"Accept": "application/vnd.github+json"},
                                  accept=frozenset({301, 404, 410}))
        if reply.status == 410:
            return Gone(self.name, item_id, Presence.DELETED, detail=f"{key} was deleted (410)")
        if reply.status == 404:
            return Gone(self.name, item_id, Presence.HIDDEN, detail=f"{key} is not visible to this token (404)")
        if reply.status == 301:  # PyGithub follows same-host redirects; one it did not follow has a Location
            return Gone(self.name, item_id, Presence.MOVED, detail=f"{key} was transferred "
                        f"({reply.headers.get('location', 'no location given')})")
        raw = reply.data or {}
        now_repo = repo_of(raw, repo)
        now_key = f"{now_repo}#{raw.get('number', number)}"
        if str(raw.get("id")) != item_id or now_key.lower() != key.lower():
            return Gone(self.name, item_id, Presence.MOVED, new_key=now_key, detail=f"{key} moved to {now_key}")
        item, fell_back = item_from_github(raw, tracker=self.name, repo=repo, mapping=self.mapping)
        if fell_back:
            unmapped.add(item.raw_status)
        return item

    # --- writes ------------------------------------------------------------------------------------
    def push_labels(self, change: LabelChange) -> WriteResult:
        """One POST adding every label, one DELETE per removed label (404 = already absent = success).
        AuthError and RateLimitExhausted propagate (they end this tracker's work); other failures are
        returned as a failed WriteResult."""
        if change.empty:
            return WriteResult(change, ok=True, requests=0)
        before = self.stats.requests
        repo, number = split_key(change.key)
        base = f"/repos/{repo}/issues/{number}/labels"
        labels: tuple[str, ...] | None = None  # both answers list every label the issue has now
        try:
            if change.add:
                # adding a label already present is a no-op on GitHub, so this POST is safe to retry
                reply = self.http.request("POST", base, body={"labels": sorted(change.add)}, what=f"POST {base}",
                                          headers={"Accept": "application/vnd.github+json"})
                labels = _label_names(reply.data, labels)
            for label in sorted(change.remove):
                path = f"{base}/{quote(label, safe='')}"
                reply = self.http.request("DELETE", path, what=f"DELETE {base}/{label}", accept=frozenset({404}),
                                          headers={"Accept": "application/vnd.github+json"})
                labels = _label_names(reply.data, labels) if reply.status != 404 else labels
        except (AuthError, RateLimitExhausted):
            raise
        except (FatalAPIError, RetriableAPIError) as exc:
            return WriteResult(change, ok=False, requests=self.stats.requests - before, error=str(exc))
        return WriteResult(change, ok=True, requests=self.stats.requests - before, labels=labels)

    comment_format = "markdown"  # report comments are GitHub-flavoured Markdown

    @staticmethod
    def write_cost(change: LabelChange) -> int:
        """Requests `push_labels` sends for `change`: one POST for the additions, one DELETE per removal."""
        return (1 if change.add else 0) + len(change.remove)

    def write_budget(self, spent_last_hour: int) -> int | None:
        """Write requests this run may still send: within the content limit of the last hour (counted from
        the journal, across runs) and within `budget_share` of the primary limit the pull left."""
        limits = []
        if self.tracker.writes_per_hour:
            limits.append(self.tracker.writes_per_hour - spent_last_hour)
        remaining, limit = self.stats.rate_remaining, self.stats.rate_limit
        if remaining is not None and limit:
            limits.append(int(remaining - (1 - self.tracker.budget_share) * limit))
        return max(0, min(limits)) if limits else None

    def post_comment(self, issue: str, marker: str, body: str) -> str:
        """Edit the comment holding `marker` on `issue` (owner/repo#N), else create one; returns its id.
        Creating is never retried (a retry after a lost answer would post twice); the next run finds a
        comment that did get created by its marker and edits it."""
        repo, number = split_key(issue)
        if marker not in body:
            body = f"{body}\n\n{marker}"
        path = f"/repos/{repo}/issues/{number}/comments"
        headers = {"Accept": "application/vnd.github+json"}
        first = self.http.request("GET", path, params={"per_page": PER_PAGE}, headers=headers, what=f"GET {path}")
        for page in [first, *self._follow(first, f"GET {path}")]:
            for comment in _as_list(page.data, f"GET {path}", self.name):
                if marker in (comment.get("body") or ""):
                    edit = f"/repos/{repo}/issues/comments/{comment['id']}"
                    self.http.request("PATCH", edit, body={"body": body}, headers=headers, what=f"PATCH {edit}")
                    return str(comment["id"])
        created = self.http.request("POST", path, body={"body": body}, headers=headers, what=f"POST {path}",
                                    retry=False)
        return str((created.data or {}).get("id"))

    def close(self) -> None:
        while True:
            try:
                self._idle_transports.get_nowait().close()
            except queue.Empty:
                break
        self.http.close()


def _label_names(data, previous: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The label names of a labels answer (a list of label objects); `previous` when it is not one."""
    if isinstance(data, list) and all(isinstance(x, dict) and isinstance(x.get("name"), str) for x in data):
        return tuple(x["name"] for x in data)
    return previous


def _as_list(data, what: str, tracker: str) -> list[dict]:
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(entry, dict) for entry in data):
        raise FatalAPIError(tracker, f"{what}: expected a JSON array of objects, got {type(data).__name__}")
    return data


def _with_items(scope: ScopePull, extra) -> ScopePull:
    if not extra:
        return scope
    return ScopePull(scope.scope_id, scope.items + tuple(extra), scope.complete, scope.cursor)
