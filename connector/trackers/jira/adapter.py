"""The Jira adapter (Cloud and Server/Data Center): pull scopes and milestones, census, label push-back.

Cursor choice: a scope's new cursor is the newest `updated` among the items this pull returned (or the
previous cursor when nothing newer came back). It is Jira's own clock (no skew with ours or a sandbox's),
and it never passes data we did not store: the caller stores the items and the cursor in one
transaction, and anything Jira indexes late is caught by the overlap window (and by the next census).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from pydantic import SecretStr

from connector import clock
from connector.errors import AuthError, FatalAPIError, RateLimitExhausted, TrackerError
from connector.http import RetryPolicy
from connector.model import Cursor, Milestone, Presence, Scope, WorkItem
from connector.pages import PAGE_WORKERS, fetch_in_order, prefetched
from connector.trackers import isolation
from connector.trackers.jira import access, chains, checks, metadata
from connector.trackers.jira.chains import Part
from connector.trackers.jira.config import JiraTrackerSettings
from connector.trackers.jira.hierarchy import descendant_pages
from connector.trackers.jira.http import JiraHttp
from connector.trackers.jira.mapping import JiraMapping
from connector.trackers.jira.normalize import (
    FieldIds,
    MalformedPayload,
    Normalizer,
    adf_text,
    file_carried,
)
from connector.trackers.jira.search import (
    CENSUS_PAGE_SIZE,
    PAGE_SIZE,
    cloud_first_page,
    cloud_pages,
    full_jql,
    incremental_jql,
    scope_jql,
    server_pages,
)
from connector.values import (
    Gone,
    LabelChange,
    PullResult,
    PullSpec,
    RequestStats,
    ScopePull,
    WriteResult,
)

log = logging.getLogger(__name__)

_DEFAULT_POLICY = RetryPolicy()
RECHECK_BATCH = 100  # ids per `id in (...)` census recheck


def _keep_newest(into: dict[str, WorkItem], items) -> None:
    """Add `items` by id; an id seen twice (an overlap, a page re-read) keeps its newest version."""
    for item in items:
        if item.id not in into or item.updated >= into[item.id].updated:
            into[item.id] = item


class JiraAdapter:
    """One configured Jira. Per pull: `/field` once per adapter and `/myself` once when any scope is
    incremental, each only when the store's metadata cache has no unexpired answer (connector.trackers.
    jira.metadata), `serverInfo` once per adapter when `deployment` is not configured."""

    kind = "jira"

    def __init__(self, tracker: JiraTrackerSettings, mapping: JiraMapping, *, overlap_minutes: int = 5,
                 policy: RetryPolicy = _DEFAULT_POLICY, token: SecretStr | str | None = None) -> None:
        self.tracker = tracker
        self.name = tracker.name or "jira"
        self.mapping = mapping
        self.overlap_minutes = overlap_minutes
        self.stats = RequestStats()
        secret = SecretStr(token) if isinstance(token, str) else token or tracker.token()
        self._deployment: str | None = tracker.deployment or ("cloud" if tracker.cloud_id else None)
        # the API version only shapes paths we build ourselves; the library's own methods are unused
        self.http = JiraHttp(tracker, self.name, secret, "3" if self._deployment == "cloud" else "2",
                             self.stats, policy)
        self._fields: FieldIds | None = None
        self.page_workers = PAGE_WORKERS  # Server/DC startAt pages in flight at once (Cloud: one ahead)
        self._notes: list[str] = []
        self.suppression: bool | None = None  # notifyUsers=false honoured (True), refused (False), untried
        self.bulk_refused = False  # Bulk change permission missing: one PUT per issue for the rest of the run

    # --- connection facts ------------------------------------------------------------------------
    @property
    def deployment(self) -> str:
        if self._deployment is None:
            info = self.http.get_json("/rest/api/2/serverInfo", what="reading serverInfo",
                                      endpoint="GET /serverInfo")
            kind = str((info or {}).get("deploymentType") or "").lower() if isinstance(info, dict) else ""
            self._deployment = "cloud" if kind == "cloud" else "server"
            log.info("%s: detected Jira %s (serverInfo.deploymentType=%r)", self.name, self._deployment, kind)
        return self._deployment

    @property
    def api(self) -> str:
        return "/rest/api/3" if self.deployment == "cloud" else "/rest/api/2"

    def _myself(self) -> dict:
        me = self.http.get_json(f"{self.api}/myself", what="reading /myself", endpoint="GET /myself")
        if not isinstance(me, dict):
            raise FatalAPIError(self.name, "reading /myself: the answer is not a user object")
        return me

    def _field_ids(self, cache=None) -> FieldIds:
        if self._fields is None:
            self._fields = metadata.field_ids(self, cache)
        return self._fields

    check = access.checked_identity  # doctor's identity line, naming the cloud id on Cloud (jira/access.py)
    permission_checks = access.permission_checks  # doctor: each permission plansync needs here, read-only

    def check_scopes(self, scopes) -> list[tuple[str, str | None]]:
        """doctor: each scope's JQL run once (connector.trackers.jira.checks)."""
        return checks.check_scopes(self, scopes)

    # --- pulling ---------------------------------------------------------------------------------
    def pull(self, request: PullSpec) -> PullResult:
        try:
            return self._pull(request)
        except MalformedPayload as exc:
            raise FatalAPIError(self.name, f"pull failed, nothing stored: {exc}") from None

    def _pull(self, request: PullSpec) -> PullResult:
        scopes = [s for s in request.scopes if s.tracker == self.name]
        self._notes = []
        cache = getattr(request, "metadata", None)
        fields = self._field_ids(cache)
        normalizer = Normalizer(self.name, self.tracker.url, self.mapping, fields)
        since = {s.id: c.updated for s in scopes if not request.full and not getattr(s, "parent", None)
                 and (c := request.cursors.get(s.id)) is not None and c.updated is not None}
        timezone = metadata.timezone(self, cache) if since else None
        unmapped: set[str] = set()
        guard = isolation.Isolated()

        def absorb(page: list[dict], items: dict[str, WorkItem], carried: list[tuple[Milestone, str]]) -> None:
            page_items = [normalizer.item(raw, unmapped) for raw in page]
            _keep_newest(items, page_items)  # overlap dedupe
            carried += normalizer.carried_milestones(page, {i.id: i.container for i in page_items})

        def read(unit: tuple[Scope, str, str | None]) -> Part:
            scope, within, token = unit
            start = since.get(scope.id)
            pages = (descendant_pages(self._search, scope.parent, fields.request_list(), scope.describe())
                     if getattr(scope, "parent", None) else
                     self._search(incremental_jql(scope, start, self.overlap_minutes, timezone) if start is not None
                                  else full_jql(scope, within), fields.request_list(), PAGE_SIZE, scope.describe(),
                                  token=token))
            part = Part()
            try:
                for page in pages:  # a parent scope is read whole each time (jira/hierarchy.py)
                    absorb(page, part.items, part.carried)
            except FatalAPIError as exc:  # a JQL Jira rejects (400 to the first page: none read) fails alone
                if part.items or not isolation.scope_local(exc, isolation.JQL_REFUSED):
                    raise
                return Part(refused=exc)
            return part

        def first_page(scope: Scope) -> Part:
            part = Part()
            try:
                raws, part.token = cloud_first_page(self._fetcher(scope.describe()), full_jql(scope),
                                                    fields.request_list(), PAGE_SIZE)
            except FatalAPIError as exc:
                if not isolation.scope_local(exc, isolation.JQL_REFUSED):
                    raise
                return Part(refused=exc)
            absorb(raws, part.items, part.carried)
            return part

        # Cloud's token chains are sequential: scopes are walked side by side (bounded), and a large scope's
        # full pull is split into created-date ranges walked side by side too (bounds from the store's
        # members on a census; on a first full pull, after the scope's first page, from how fast it grew);
        # Data Center already fetches each scope's startAt pages concurrently
        workers = self.tracker.concurrency if self.deployment == "cloud" else 1
        splittable = [s for s in scopes if workers > 1 and s.id not in since and not getattr(s, "parent", None)]
        hints = {s.id: h for s in splittable if (h := (getattr(request, "known_created", None) or {}).get(s.id))}
        probed = [s for s in splittable if request.full and s.id not in hints]
        heads = dict(zip([s.id for s in probed], fetch_in_order(first_page, probed, workers), strict=True))
        by_id = {s.id: s for s in probed}
        plan = chains.plan(hints, heads, workers, clock.now(), count=lambda sid: self._count(by_id[sid]))
        units = [(scope, within, token) for scope in scopes
                 for within, token in plan.units.get(scope.id, [("", None)])]
        length = [plan.length(unit[0].id) for unit in units]
        first = sorted(range(len(units)), key=lambda n: -length[n])  # the longest chains start first
        found = dict(zip(first, fetch_in_order(lambda n: read(units[n]), first, workers), strict=True))
        pulls: list[ScopePull] = []
        carried: list[tuple[Milestone, str]] = []
        for scope in scopes:
            parts = [p for p in (heads.get(scope.id),) if p is not None]  # its first page, if read alone
            parts += [found[n] for n, unit in enumerate(units) if unit[0] is scope]
            refused = next((p.refused for p in parts if p.refused is not None), None)
            if refused is not None:  # the scope fails alone (guard)
                guard.record(refused, [scope])
                continue
            items: dict[str, WorkItem] = {}
            for part in parts:
                _keep_newest(items, part.items.values())  # a range re-reads the first page's newest instant
                carried += part.carried
            previous = request.cursors.get(scope.id)
            prior = previous.updated if previous else None
            newest = max((i.updated for i in items.values()), default=None)
            cursor = Cursor(self.name, scope.id, updated=max((t for t in (newest, prior) if t), default=None),
                            etag=None, extra={"timezone": timezone} if timezone else {})
            pulls.append(ScopePull(scope.id, tuple(items.values()), complete=scope.id not in since, cursor=cursor))
        failures = guard.settle(len(pulls))
        all_items = {i.id: i for p in pulls for i in p.items}
        milestones = metadata.milestones(self, all_items, file_carried(carried), scopes if request.full else [],
                                         cache)
        census = {}
        if request.full and not failures:
            census = self._census(scopes, set(all_items), request.known_ids,
                                  getattr(request, "known_keys", {}) or {})
        return PullResult(tracker=self.name, scopes=tuple(pulls), milestones=tuple(milestones),
                          census=request.full and not failures, seen_ids=frozenset(census.get("seen", ())),
                          gone=tuple(census.get("gone", ())), unmapped_statuses=frozenset(unmapped),
                          notes=tuple(self._notes), failed=failures)

    def _count(self, scope: Scope) -> int | None:
        """Jira Cloud's approximate count of a scope's issues (None when it cannot tell: never fatal)."""
        what, before = f"counting scope {scope.describe()!r}", self.stats.writes
        try:
            answer = self.http.decode(self.http.call("POST", f"{self.api}/search/approximate-count", what=what,
                                                     endpoint="POST /search/approximate-count",
                                                     body={"jql": scope_jql(scope)}, retry=False), what)
        except (AuthError, RateLimitExhausted):
            raise
        except TrackerError:
            return None
        finally:  # a query, whatever its verb: a read (no write runs during a pull)
            with self.stats.lock:
                moved, self.stats.writes = self.stats.writes - before, before
                self.stats.reads += moved
        found = answer.get("count") if isinstance(answer, dict) else None
        return found if isinstance(found, int) and not isinstance(found, bool) else None

    def _fetcher(self, what: str):
        cloud = self.deployment == "cloud"
        path = f"{self.api}/search/jql" if cloud else f"{self.api}/search"
        endpoint = "GET /search/jql" if cloud else "GET /search"
        label = f"search for scope {what!r}"
        return lambda params: self.http.get_json(path, what=label, endpoint=endpoint, params=params)

    def _search(self, jql: str, fields: list[str], page_size: int, what: str,
                token: str | None = None) -> Iterator[list[dict]]:
        """Pages of one search, on the deployment's own endpoint (never the library's v2-path helper);
        on Cloud from `token` on when the first page was read already."""
        fetch = self._fetcher(what)
        if self.deployment == "cloud":
            # tokens are sequential: fetch page n+1 while the caller normalizes page n
            yield from prefetched(cloud_pages(fetch, jql, fields, page_size, token=token))
        else:
            yield from server_pages(fetch, jql, fields, page_size, workers=self.page_workers)

    # --- census ----------------------------------------------------------------------------------
    def _census(self, scopes: list[Scope], pulled: set[str], known: frozenset[str],
                known_keys: dict[str, str]) -> dict:
        """The full pull is the census of the scopes it enumerated: one GET per stored id it did not return.

        No second id-only pass over the same scopes: an issue a long paged pull missed while edits shifted
        the pages is probed here and rechecked against the scopes below, so a miss costs requests, never a
        wrong mark. A 404 is "deleted or no longer visible" (Jira cannot tell them apart); a 200 with a new
        key is moved, unless a scope still has it; a 200 with the stored key only left the scopes.
        """
        seen = set(pulled)
        size = CENSUS_PAGE_SIZE[self.deployment]
        gone: list[Gone] = []
        alive: dict[str, str] = {}
        for issue_id in sorted(known - seen, key=lambda v: (len(v), v)):
            resp = self.http.call("GET", f"{self.api}/issue/{issue_id}", what=f"checking issue {issue_id}",
                                  endpoint="GET /issue/{id}", params={"fields": "project"}, allow=(404,))
            if resp.status_code == 404:
                gone.append(Gone(self.name, issue_id, Presence.DELETED, detail="deleted or no longer visible"))
            else:
                alive[issue_id] = str((self.http.decode(resp, f"checking issue {issue_id}") or {}).get("key") or "")
        # an id the snapshot missed may still match a scope (eventual consistency): ask each scope once
        # per batch (the ids exist, so `id in` cannot fail on them; batches keep the URL short)
        batches = [sorted(alive)[n:n + RECHECK_BATCH] for n in range(0, len(alive), RECHECK_BATCH)]
        for batch in batches:
            for scope in scopes:
                jql = f"({scope_jql(scope)}) AND id in ({', '.join(batch)})"
                for page in self._search(jql, ["id"], size, f"{scope.describe()} (census recheck)"):
                    seen.update(str(raw["id"]) for raw in page if isinstance(raw, dict) and "id" in raw)
        for i, key in sorted(alive.items()):
            # same key as stored: it only left the scopes (the complete scope pulls say so)
            if i not in seen and known_keys.get(i) != key:
                gone.append(Gone(self.name, i, Presence.MOVED, new_key=key or None,
                                 detail=f"moved: now {key}, outside every scope"))
        return {"seen": seen, "gone": gone}

    # --- writing ---------------------------------------------------------------------------------
    def push_labels(self, change: LabelChange) -> WriteResult:
        """One PUT with update.labels add/remove (never a fields.labels overwrite); empty: no request.

        Asks Jira not to email watchers (`notifyUsers=false`) unless `notify`; Data Center refuses the flag
        with 403 to an account without Administer rights: the write is retried without it, once per run.
        """
        if change.empty:
            return WriteResult(change, ok=True, requests=0)
        problem = self.write_problem(change)
        if problem:
            return WriteResult(change, ok=False, requests=0, error=problem)
        ops = [{"add": label} for label in sorted(change.add)] + [{"remove": label} for label in sorted(change.remove)]
        before = self.stats.requests
        quiet = not self.tracker.notify and self.suppression is not False
        try:
            # by id: the key changes when an issue moves, the id never does
            self._put_labels(change, ops, quiet=quiet)
        except (AuthError, RateLimitExhausted):
            raise
        except FatalAPIError as exc:
            if not (quiet and "HTTP 403" in str(exc)):
                return WriteResult(change, ok=False, requests=self.stats.requests - before, error=str(exc))
            try:
                self._put_labels(change, ops, quiet=False)
            except (AuthError, RateLimitExhausted):
                raise
            except TrackerError as again:
                return WriteResult(change, ok=False, requests=self.stats.requests - before, error=str(again))
            self.suppression = False  # the flag was the problem: remembered for the rest of the run
            log.warning("%s: Jira refused notifyUsers=false (HTTP 403: the account lacks Administer Jira/Project); "
                        "label edits in this run email the issues' watchers", self.name)
        except TrackerError as exc:
            return WriteResult(change, ok=False, requests=self.stats.requests - before, error=str(exc))
        if quiet and self.suppression is None:
            self.suppression = True
        return WriteResult(change, ok=True, requests=self.stats.requests - before)

    def _put_labels(self, change: LabelChange, ops: list[dict], *, quiet: bool) -> None:
        self.http.call("PUT", f"{self.api}/issue/{change.item_id}", what=f"updating labels of {change.key}",
                       endpoint="PUT /issue/{id}", body={"update": {"labels": ops}}, issue=change.item_id,
                       params={"notifyUsers": "false"} if quiet else None)

    def write_problem(self, change: LabelChange) -> str | None:
        labels = change.add | change.remove
        if change.tracker != self.name:
            return f"change is for tracker {change.tracker!r}, not {self.name!r}"
        if change.add & change.remove:
            return f"labels both added and removed: {sorted(change.add & change.remove)}"
        if any(not label or any(ch.isspace() for ch in label) for label in labels):
            return "Jira labels cannot be empty or contain spaces"
        return None

    def push_labels_grouped(self, changes, sending):
        """Jira Cloud: changes with the same label sets as bulk edits (see connector.trackers.jira.bulk);
        `sending(batch)` is called before each batch goes out. Yields one WriteResult per change."""
        from connector.trackers.jira.bulk import push_grouped

        yield from push_grouped(self, list(changes), sending)

    def notification_check(self) -> str:
        """For `doctor`: whether this account may suppress watcher emails (one permissions read)."""
        from connector.trackers.jira.bulk import suppression_line

        return suppression_line(self)

    @property
    def comment_format(self) -> str:
        """How a report comment is rendered here: ADF for Cloud's v3 API, wiki markup for Server/DC."""
        return "adf" if self.deployment == "cloud" else "wiki"

    def post_comment(self, issue: str, marker: str, body: str | dict) -> str:
        """Edit the comment containing `marker` (PUT, retried) or create one (POST, never retried).
        `body` is text, or an ADF document (Cloud) that already carries the marker."""
        if isinstance(body, dict):
            payload = {"body": body}
        else:
            if marker not in body:
                body = f"{body}\n\n{marker}"
            payload = {"body": _adf(body) if self.deployment == "cloud" else body}
        existing = self._find_comment(issue, marker)
        if existing:
            self.http.call("PUT", f"{self.api}/issue/{issue}/comment/{existing}", what=f"editing comment on {issue}",
                           endpoint="PUT /issue/{key}/comment/{id}", body=payload, issue=issue)
            return existing
        resp = self.http.call("POST", f"{self.api}/issue/{issue}/comment", what=f"adding a comment to {issue}",
                              endpoint="POST /issue/{key}/comment", body=payload, issue=issue, retry=False)
        created = self.http.decode(resp, f"adding a comment to {issue}")
        return str(created.get("id")) if isinstance(created, dict) else ""

    def _find_comment(self, issue: str, marker: str) -> str | None:
        start = 0
        while True:
            page = self.http.get_json(f"{self.api}/issue/{issue}/comment", what=f"reading comments of {issue}",
                                      endpoint="GET /issue/{key}/comment",
                                      params={"startAt": start, "maxResults": 100})
            comments = page.get("comments") if isinstance(page, dict) else None
            if not isinstance(comments, list):
                raise FatalAPIError(self.name, f"reading comments of {issue}: no `comments` list in the answer")
            for c in comments:
                if marker in "".join(adf_text(c.get("body"))):
                    return str(c["id"])
            start += len(comments)
            if not comments or start >= int(page.get("total") or 0):
                return None

    def close(self) -> None:
        self.http.close()


def _adf(text: str) -> dict:
    """Plain text as an Atlassian Document (Cloud v3 bodies), one paragraph per line."""
    lines = text.split("\n")
    return {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []} for line in lines]}
