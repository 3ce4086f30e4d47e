"""The GitLab adapter: pulls issues and milestones per project (or group), runs the census, writes
owned labels.

Cost model (asserted in tests/adapters/test_gitlab_sandbox.py):
- Each distinct project named by the scopes (`project`, and the projects of `items` keys) is pulled
  once: `GET /projects/:path/issues?pagination=keyset&order_by=created_at&sort=asc&per_page=100`,
  following `Link: rel="next"`, so N issues cost ceil(N/100) requests (at least 1). Keyset pages
  do not shift when issues change meanwhile. `created_at` and `updated_at` are the orderings both
  GitLab's documentation and its source (`Issue.supported_keyset_orderings`) accept for keyset on
  project issues (they disagree on `id`), so those two are the only ones used.
- Group scopes pull `GET /groups/:path/issues` with offset pages (`page`, `per_page=100`): GitLab
  offers no keyset there. Group and project milestones: `GET .../milestones?per_page=100` pages, on
  full pulls and on incremental pulls that returned changes.
- Incremental pulls send `updated_after` = cursor - overlap, ISO 8601 with an explicit `+00:00`, and
  order by `updated_at` asc. A quiet project costs one request (the overlap items it returns again are
  no change, so milestones are not asked for). The cursor only advances to the
  newest `updated_at` actually returned.
- Items are built from the list payloads: no per-issue request, no python-gitlab object.
- An issue moved to another project stays behind closed with `moved_to_id`: it is never an item; it
  is reported as Gone(MOVED), with the new key when the new issue was pulled too.
- Census (`PullSpec.full`): the full lists, then one `GET /projects/:path/issues/:iid` per known id
  the lists no longer show: 404 -> DELETED (GitLab answers 404 for a deleted issue and for one the
  token cannot see alike), `moved_to_id` -> MOVED.
- Writes: one `PUT /projects/:path/issues/:iid` with `add_labels` and `remove_labels` per item; labels
  outside the change are never sent, so no other label is touched.
"""

from __future__ import annotations

import logging
from datetime import UTC, timedelta
from urllib.parse import urlparse

from connector.errors import AuthError, FatalAPIError, RateLimitExhausted, RetriableAPIError
from connector.http import RetryPolicy
from connector.model import Cursor, Milestone, Presence, WorkItem
from connector.trackers import isolation
from connector.trackers.gitlab.config import GitlabTrackerSettings
from connector.trackers.gitlab.http import GitlabTransport
from connector.trackers.gitlab.mapping import GitlabMapping
from connector.trackers.gitlab.normalize import (
    encoded,
    format_updated_after,
    group_scope_id,
    item_from_gitlab,
    milestone_from_gitlab,
    moved_to,
    parse_time,
    project_of,
    project_scope_id,
    split_key,
)
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

__all__ = ["GitlabAdapter", "units_for_scopes"]

log = logging.getLogger(__name__)
PER_PAGE = 100
DEFAULT_POLICY = RetryPolicy()


REPORTER = 20  # GitLab's access level that may edit issues' labels


def units_for_scopes(scopes, tracker: str) -> list[tuple[str, str]]:
    """The distinct (\"project\" | \"group\", path) units one tracker's scopes need, first-seen order."""
    units: dict[tuple[str, str], tuple[str, str]] = {}
    for scope in scopes:
        if scope.tracker != tracker:
            continue
        named = [("project", scope.project)] if scope.project else []
        named += [("group", scope.group)] if scope.group else []
        named += [("project", split_key(key)[0]) for key in scope.items or ()]
        for kind, path in named:
            units.setdefault((kind, path.lower()), (kind, path))
    return list(units.values())


class GitlabAdapter:
    """TrackerAdapter for GitLab.com and self-managed GitLab (any base URL), access-token auth."""

    kind = "gitlab"

    def __init__(self, tracker: GitlabTrackerSettings, mapping: GitlabMapping, *, overlap_minutes: int = 5,
                 policy: RetryPolicy = DEFAULT_POLICY) -> None:
        self.name = tracker.name
        self.tracker, self.mapping = tracker, mapping
        self.overlap = timedelta(minutes=overlap_minutes)
        self.stats = RequestStats()
        self.http = GitlabTransport(tracker, self.stats, policy)

    # --- doctor ------------------------------------------------------------------------------------
    def check(self) -> Identity:
        reply = self.http.request("GET", "/user", what="GET /user")
        host = urlparse(self.tracker.url).hostname or ""
        rate = (f"rate limit {self.stats.rate_remaining}/{self.stats.rate_limit}"
                if self.stats.rate_limit else "no rate-limit headers")
        return Identity(tracker=self.name, user=str((reply.data or {}).get("username") or "?"),
                        deployment="gitlab.com" if host == "gitlab.com" else "self-managed", timezone=None,
                        detail=f"REST API v4; {rate}")

    def check_scopes(self, scopes) -> list[tuple[str, str | None]]:
        """Each project and group the plan names: (path, None) when the token sees it, else the problem.
        One bad project does not fail the others."""
        out: list[tuple[str, str | None]] = []
        for kind, path in units_for_scopes(scopes, self.name):
            reply = self.http.request("GET", f"/{kind}s/{encoded(path)}", what=f"GET /{kind}s/{path}",
                                      accept=frozenset({403, 404}))
            access = [(a or {}).get("access_level") or 0 for a in ((reply.data or {}).get("permissions") or {}).values()]
            if reply.status == 404:
                out.append((path, f"{kind} not found, or not visible to this token (404)"))
            elif reply.status == 403:
                out.append((path, f"this token may not read this {kind} (403)"))
            elif access and max(access) < REPORTER:
                out.append((path, "readable, but this token's role cannot edit issue labels (needs Reporter)"))
            else:
                out.append((path, None))
        return out

    # --- pull --------------------------------------------------------------------------------------
    def pull(self, request: PullSpec) -> PullResult:
        scopes: list[ScopePull] = []
        milestones: list[Milestone] = []
        moved: dict[str, tuple[str, int]] = {}  # old id -> (old key, moved_to_id)
        unmapped: set[str] = set()
        guard = isolation.Isolated()  # a project or group gone or hidden fails alone
        for kind, path in units_for_scopes(request.scopes, self.name):
            scope_id = (project_scope_id if kind == "project" else group_scope_id)(self.name, path)
            fed = [s for s in request.scopes
                   if (kind, path.lower()) in {(k, p.lower()) for k, p in units_for_scopes([s], self.name)}]
            got = guard.read(self._pull_unit, fed, kind, path, scope_id, request.cursors.get(scope_id), request.full,
                             unmapped, moved)
            if got is not None:
                scopes.append(got[0])
                milestones.extend(got[1])
        failures = guard.settle(len(scopes))
        census = request.full and not failures
        by_id = {item.id: item for s in scopes for item in s.items}
        gone = [self._moved(old_id, key, new_id, by_id) for old_id, (key, new_id) in moved.items()]
        if census:
            extra, missing = self._census(request, scopes, set(by_id) | set(moved), unmapped, moved, by_id)
            gone += missing
            if extra:  # visible singly but missing from the lists: keep them, they are present
                scopes = [_with_items(s, extra.get(s.scope_id, ())) for s in scopes]
                by_id.update({item.id: item for items in extra.values() for item in items})
        return PullResult(tracker=self.name, scopes=tuple(scopes), milestones=tuple(milestones),
                          census=census, seen_ids=frozenset(by_id) if census else frozenset(),
                          gone=tuple(gone), unmapped_statuses=frozenset(unmapped), failed=failures)

    def _pull_unit(self, kind: str, path: str, scope_id: str, cursor: Cursor | None, full: bool,
                   unmapped: set[str], moved: dict[str, tuple[str, int]]) -> tuple[ScopePull, list[Milestone]]:
        incremental = not full and cursor is not None and cursor.updated is not None
        base = f"/{kind}s/{encoded(path)}"
        params: dict = {"per_page": PER_PAGE, "order_by": "updated_at" if incremental else "created_at",
                        "sort": "asc"}
        if kind == "project":
            params["pagination"] = "keyset"
        else:
            params["scope"] = "all"  # group issues default to all too; said explicitly for older servers
        if incremental:
            params["updated_after"] = format_updated_after(cursor.updated - self.overlap)
        what = f"GET {base}/issues"
        by_id: dict[str, WorkItem] = {}
        newest = None
        for page in self._pages(f"{base}/issues", params, what):
            for raw in _as_list(page.data, what, self.name):
                updated = parse_time(raw.get("updated_at"))
                newest = updated if newest is None or (updated and updated > newest) else newest
                if (new_id := moved_to(raw)) is not None:
                    moved[str(raw["id"])] = (f"{project_of(raw, path)}#{raw['iid']}", new_id)
                    continue
                item, fell_back = item_from_gitlab(raw, tracker=self.name, project=path, mapping=self.mapping)
                if fell_back:
                    unmapped.add(item.raw_status)
                by_id[item.id] = item  # an item updated while we paged shows up again later: keep the last
        if cursor is not None and cursor.updated is not None and (newest is None or cursor.updated > newest):
            newest = cursor.updated.astimezone(UTC)
        new_cursor = Cursor(tracker=self.name, scope_id=scope_id, updated=newest,
                            extra=dict(cursor.extra) if cursor else {})
        # the overlap window returns the newest stored items again: only something newer is a change
        changed = not incremental or any(item.updated > cursor.updated for item in by_id.values())
        milestones = self._milestones(kind, path, base) if changed else []
        return ScopePull(scope_id, tuple(by_id.values()), complete=not incremental, cursor=new_cursor), milestones

    def _pages(self, path: str, params: dict, what: str):
        """The first page and every `rel="next"` after it (keyset cursors and offset pages alike)."""
        page = self.http.request("GET", path, params=params, what=what, budget=True)
        yield page
        while url := page.link("next"):
            page = self.http.request("GET", self.http.on_our_base(url), what=f"{what} (next page)", budget=True)
            yield page

    def _milestones(self, kind: str, path: str, base: str) -> list[Milestone]:
        what = f"GET {base}/milestones"
        return [milestone_from_gitlab(raw, tracker=self.name, container=path)
                for page in self._pages(f"{base}/milestones", {"per_page": PER_PAGE}, what)
                for raw in _as_list(page.data, what, self.name)]

    def _moved(self, old_id: str, key: str, new_id: int, by_id: dict[str, WorkItem]) -> Gone:
        new = by_id.get(str(new_id))
        return Gone(self.name, old_id, Presence.MOVED, new_key=new.key if new else None,
                    detail=f"{key} was moved to " + (new.key if new else f"issue id {new_id}"))

    # --- census ------------------------------------------------------------------------------------
    def _census(self, request: PullSpec, scopes: list[ScopePull], seen: set[str], unmapped: set[str],
                moved: dict[str, tuple[str, int]], by_id: dict[str, WorkItem]):
        """Look up, one by one, known items that the full lists no longer show."""
        pulled = {s.scope_id for s in scopes}
        groups = [sid.split(":group:", 1)[1] for sid in pulled if ":group:" in sid]
        extra: dict[str, list[WorkItem]] = {}
        gone: list[Gone] = []
        for item_id in sorted(request.known_ids - seen):
            key = request.known_keys.get(item_id)
            if not key:
                continue
            project, iid = split_key(key)
            scope_id = project_scope_id(self.name, project)
            group = next((g for g in groups if project.lower().startswith(g + "/")), None)
            if scope_id not in pulled and group is None:
                continue  # not in this run's scopes: nothing to say about it
            what = f"GET /projects/{project}/issues/{iid}"
            reply = self.http.request("GET", f"/projects/{encoded(project)}/issues/{iid}", what=what,
                                      budget=True, accept=frozenset({404}))
            if reply.status == 404:
                gone.append(Gone(self.name, item_id, Presence.DELETED,
                                 detail=f"{key} was deleted or is not visible to this token (404)"))
                continue
            raw = reply.data or {}
            if (new_id := moved_to(raw)) is not None:
                gone.append(self._moved(item_id, key, new_id, by_id))
            elif str(raw.get("id")) != item_id:
                gone.append(Gone(self.name, item_id, Presence.DELETED, detail=f"{key} is another issue now"))
            else:
                item, fell_back = item_from_gitlab(raw, tracker=self.name, project=project, mapping=self.mapping)
                if fell_back:
                    unmapped.add(item.raw_status)
                home = scope_id if scope_id in pulled else group_scope_id(self.name, group or "")
                extra.setdefault(home, []).append(item)
        return extra, gone

    # --- writes ------------------------------------------------------------------------------------
    def push_labels(self, change: LabelChange) -> WriteResult:
        """One PUT with `add_labels` and `remove_labels` (comma-separated names): GitLab adds and removes
        exactly those, leaves every other label alone, and treats removing an absent label as done, so
        the PUT is safe to retry. AuthError and RateLimitExhausted propagate; other failures are returned
        as a failed WriteResult."""
        if change.empty:
            return WriteResult(change, ok=True, requests=0)
        if any("," in label for label in change.add | change.remove):
            return WriteResult(change, ok=False, requests=0,
                               error="GitLab label names in add_labels/remove_labels cannot contain a comma")
        before = self.stats.requests
        project, iid = split_key(change.key)
        path = f"/projects/{encoded(project)}/issues/{iid}"
        body = {}
        if change.add:
            body["add_labels"] = ",".join(sorted(change.add))
        if change.remove:
            body["remove_labels"] = ",".join(sorted(change.remove))
        try:
            reply = self.http.request("PUT", path, body=body, what=f"PUT /projects/{project}/issues/{iid}")
        except (AuthError, RateLimitExhausted):
            raise
        except (FatalAPIError, RetriableAPIError) as exc:
            return WriteResult(change, ok=False, requests=self.stats.requests - before, error=str(exc))
        labels = (reply.data or {}).get("labels") if isinstance(reply.data, dict) else None
        names = tuple(x["name"] if isinstance(x, dict) else str(x) for x in labels) if isinstance(labels, list) else None
        return WriteResult(change, ok=True, requests=self.stats.requests - before, labels=names)

    def post_comment(self, issue: str, marker: str, body: str) -> str:
        """Edit the note holding `marker` on `issue` (group/project#N), else create one; returns its id.
        Creating is never retried (a retry after a lost answer would post twice); the next run finds a
        note that did get created by its marker and edits it."""
        project, iid = split_key(issue)
        if marker not in body:
            body = f"{body}\n\n{marker}"
        path = f"/projects/{encoded(project)}/issues/{iid}/notes"
        what = f"GET /projects/{project}/issues/{iid}/notes"
        for page in self._pages(path, {"per_page": PER_PAGE, "sort": "asc", "order_by": "created_at"}, what):
            for note in _as_list(page.data, what, self.name):
                if not note.get("system") and marker in (note.get("body") or ""):
                    self.http.request("PUT", f"{path}/{note['id']}", body={"body": body},
                                      what=f"PUT /projects/{project}/issues/{iid}/notes/{note['id']}")
                    return str(note["id"])
        created = self.http.request("POST", path, body={"body": body}, retry=False,
                                    what=f"POST /projects/{project}/issues/{iid}/notes")
        return str((created.data or {}).get("id"))

    def close(self) -> None:
        self.http.close()


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


