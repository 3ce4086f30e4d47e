"""Projects v2 as plan input: a project scope's items (issues and pull requests; drafts are skipped),
read through GraphQL, with due dates and statuses taken from named project fields.

Cost model (measured by benchmarks/bench_projects.py):
- Every run starts with one PROJECT query per distinct project (1 point): its id, fields, `updatedAt`, item
  count, and, incrementally, a search `project:OWNER/N updated:>CURSOR` counting member issues and pull
  requests edited since the last read.
- Quiet (same `updatedAt`, same count, no edited member): that one request is the whole cost. The items
  list can be neither sorted nor filtered by update time (`ProjectV2ItemOrderField` is POSITION only),
  so there is no cheaper delta than "nothing changed".
- Otherwise the project is read whole: ceil(N/100) pages of 100 items, 2 points a page (the labels and
  assignees connections), which is also what a census does. A REST listing
  (`GET /orgs/{org}/projectsV2/{n}/items`) costs the same ceil(N/100) requests but carries neither the
  issues' labels nor their states, so it would need the repositories listed as well.
- Each distinct project is read once per run, whatever the number of scopes (filters) naming it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from connector import clock
from connector.errors import FatalAPIError
from connector.model import Cursor, Scope, Status, WorkItem
from connector.trackers.github import project_docs as docs
from connector.trackers.github.graphql import GraphqlClient
from connector.trackers.github.normalize import format_since, item_from_github, parse_time
from connector.trackers.github.scopes import project_ref
from connector.values import ScopePull

log = logging.getLogger(__name__)
FILTER_TYPES = ("ITERATION", "SINGLE_SELECT")
DUE_TYPES = ("DATE", "ITERATION")


@dataclass(frozen=True)
class ProjectHead:
    """What the PROJECT query says about one project."""

    ref: str  # "acme/7" as the plan wrote it
    id: str
    title: str
    url: str
    updated_at: str
    total: int
    fields: dict[str, dict]  # by case-folded name: {name, dataType, options?, configuration?}
    changed: int | None  # member issues edited since the cursor (None: not asked)


def project_scopes(scopes, tracker: str) -> dict[str, list[Scope]]:
    """The project scopes of one tracker, grouped by project (case-folded "owner/number")."""
    out: dict[str, list[Scope]] = {}
    for scope in scopes:
        if scope.tracker == tracker and getattr(scope, "project", None):
            out.setdefault(scope.project.casefold(), []).append(scope)
    return out


def read_head(client: GraphqlClient, tracker: str, ref: str, since: datetime | None) -> ProjectHead:
    """The project's header; FatalAPIError naming tracker and project when it does not exist or is hidden."""
    owner, number = project_ref(ref)
    search = f"project:{owner}/{number} updated:>{format_since(since)}" if since else ""
    answer = client.query(docs.PROJECT, {"owner": owner, "number": number, "search": search,
                                         "incremental": since is not None},
                          what=f"GraphQL project {ref}")
    holder = answer.data.get("repositoryOwner")
    project = (holder or {}).get("projectV2")
    if holder is None:
        raise FatalAPIError(tracker, f"project {ref}: no organisation or user {owner!r} is visible to this token")
    if project is None:
        raise FatalAPIError(tracker, f"project {ref}: {owner} has no project number {number} visible to this "
                                     "token (a classic token needs read:project)")
    fields = {}
    for node in (project.get("fields") or {}).get("nodes") or ():
        if isinstance(node, dict) and node.get("name"):
            fields[str(node["name"]).casefold()] = node
    changed = answer.data.get("changed")
    return ProjectHead(ref=ref, id=project["id"], title=project.get("title") or "", url=project.get("url") or "",
                       updated_at=str(project.get("updatedAt") or ""),
                       total=int(((project.get("items") or {}).get("totalCount")) or 0), fields=fields,
                       changed=int(changed["issueCount"]) if isinstance(changed, dict) else None)


def field_problem(head: ProjectHead, name: str, allowed: tuple[str, ...], role: str) -> str | None:
    """Why field `name` cannot serve `role` in this project (None: it can)."""
    field = head.fields.get(name.casefold())
    if field is None:
        known = ", ".join(sorted(f["name"] for f in head.fields.values())) or "none"
        return f"project {head.ref} has no field {name!r} (its fields: {known})"
    if field.get("dataType") not in allowed:
        kinds = " or ".join(a.lower().replace("_", "-") for a in allowed)
        return (f"project {head.ref}: field {field['name']!r} is a {str(field.get('dataType')).lower()} field; "
                f"{role} takes a {kinds} field")
    return None


def filter_values(head: ProjectHead, scope: Scope) -> str | None:
    """The problem with a scope's `field`/`value` in this project, or None."""
    problem = field_problem(head, scope.field, FILTER_TYPES, "a scope's `field`")
    if problem:
        return problem
    field = head.fields[scope.field.casefold()]
    if field["dataType"] == "SINGLE_SELECT":
        names = [o["name"] for o in field.get("options") or ()]
    else:
        config = field.get("configuration") or {}
        names = [i["title"] for i in (config.get("iterations") or []) + (config.get("completedIterations") or [])]
    if scope.value.casefold() not in {n.casefold() for n in names}:
        return (f"project {head.ref}: field {field['name']!r} has no {'option' if field['dataType'] == 'SINGLE_SELECT' else 'iteration'} "
                f"{scope.value!r} (it has: {', '.join(names) or 'none'})")
    return None


def project_reader(adapter) -> ProjectReader:
    """The reader for one GithubAdapter's pull (its transport, settings, mapping and overlap)."""
    return ProjectReader(GraphqlClient(adapter.http, budget_share=adapter.tracker.budget_share), adapter.tracker,
                         adapter.mapping, adapter.overlap)


class ProjectReader:
    """Reads the project scopes of one tracker for one pull."""

    def __init__(self, client: GraphqlClient, tracker, mapping, overlap: timedelta) -> None:
        self.client, self.tracker, self.mapping, self.overlap = client, tracker, mapping, overlap
        self.name = tracker.name

    def pull(self, scopes, cursors: dict[str, Cursor], full: bool, unmapped: set[str],
             notes: list[str]) -> list[ScopePull]:
        out: list[ScopePull] = []
        for ref_scopes in project_scopes(scopes, self.name).values():
            out += self._pull_project(ref_scopes, cursors, full, unmapped, notes)
        return out

    def check(self, scopes) -> list[tuple[str, str | None]]:
        """For `doctor`: each project the scopes name, ("project acme/7", None) when it and every scope's
        field/value exist there, else (..., the problem). One bad project does not fail the others."""
        out: list[tuple[str, str | None]] = []
        for ref_scopes in project_scopes(scopes, self.name).values():
            ref = ref_scopes[0].project
            try:
                head = read_head(self.client, self.name, ref, None)
            except FatalAPIError as exc:
                out.append((f"project {ref}", str(exc).removeprefix(f"tracker '{self.name}': ")))
                continue
            problems = [p for s in ref_scopes if s.field and (p := filter_values(head, s))]
            out.append((f"project {ref}", "; ".join(dict.fromkeys(problems)) or None))
        return out

    def _pull_project(self, scopes: list[Scope], cursors: dict[str, Cursor], full: bool, unmapped: set[str],
                      notes: list[str]) -> list[ScopePull]:
        ref = scopes[0].project
        previous = [cursors.get(s.id) for s in scopes]
        incremental = not full and all(c is not None and c.updated is not None for c in previous)
        since = min(c.updated for c in previous) if incremental else None  # type: ignore[union-attr]
        head = read_head(self.client, self.name, ref, since)
        fields = self.tracker.project_fields
        wanted = {"due": (fields.due, DUE_TYPES, "project_fields.due"),
                  "status": (fields.status, ("SINGLE_SELECT",), "project_fields.status")}
        use: dict[str, str | None] = {}
        for role, (name, allowed, key) in wanted.items():
            problem = field_problem(head, name, allowed, f"`{key}`") if name else None
            if problem and name.casefold() in head.fields:  # the wrong type is a mistake to fix
                raise FatalAPIError(self.name, f"{problem} (config [trackers.{self.name}.project_fields])")
            use[role] = None if problem else name
            if problem:
                notes.append(f"{problem}: `{key}` gives its items no {role} there")
        for scope in scopes:
            if scope.field and (problem := filter_values(head, scope)):
                raise FatalAPIError(self.name, problem)
        quiet = incremental and head.changed == 0 and all(
            c.extra.get("project_updated") == head.updated_at and c.extra.get("total") == head.total
            for c in previous)
        if quiet:
            log.debug("%s: project %s unchanged", self.name, ref)
            return [ScopePull(s.id, (), complete=False, cursor=c) for s, c in zip(scopes, previous, strict=True)]
        filters = {s.field.casefold() for s in scopes if s.field}
        if len(filters) > 1:  # the filter field is read by name: scopes filtering on different fields read apart
            return [pull for s in scopes for pull in self._read([s], head, use, unmapped, notes)]
        return self._read(scopes, head, use, unmapped, notes)

    def _read(self, scopes: list[Scope], head: ProjectHead, use: dict[str, str | None], unmapped: set[str],
              notes: list[str]) -> list[ScopePull]:
        filter_field = next((s.field for s in scopes if s.field), None)
        variables = {"id": head.id, "after": None, "due": use["due"] or "", "withDue": bool(use["due"]),
                     "status": use["status"] or "", "withStatus": bool(use["status"]),
                     "filter": filter_field or "", "withFilter": bool(filter_field)}
        matched: dict[str, list[WorkItem]] = {s.id: [] for s in scopes}
        drafts = hidden = archived = pages = 0
        seen_cursors: set[str] = set()
        while True:
            answer = self.client.query(docs.ITEMS, variables, what=f"GraphQL project {head.ref} items (page "
                                       f"{pages + 1})", expect_cost=2)
            pages += 1
            connection = ((answer.data.get("node") or {}).get("items")) or {}
            for node in connection.get("nodes") or ():
                content = (node or {}).get("content")
                if node.get("isArchived"):
                    archived += 1
                    continue
                if node.get("type") == "DRAFT_ISSUE" or (content or {}).get("__typename") == "DraftIssue":
                    drafts += 1
                    continue
                if not content or content.get("fullDatabaseId") is None:
                    hidden += 1  # REDACTED: an item in a repository this token cannot read
                    continue
                item = self._item(node, content, use, unmapped)
                for scope in scopes:
                    if not scope.field or _value_name(node.get("filter")) == scope.value.casefold():
                        matched[scope.id].append(item)
            info = connection.get("pageInfo") or {}
            after = info.get("endCursor")
            if not info.get("hasNextPage"):
                break
            if not after or after in seen_cursors:
                raise FatalAPIError(self.name, f"project {head.ref}: the items' next page repeats a page already "
                                               "read; stopped instead of looping")
            seen_cursors.add(after)
            variables = {**variables, "after": after}
        skipped = [f"{n} {what}" for n, what in ((drafts, "draft issue(s): drafts are not tracker items"),
                                                  (hidden, "item(s) in repositories this token cannot read"),
                                                  (archived, "archived item(s)")) if n]
        if skipped:
            notes.append(f"project {head.ref}: skipped " + "; ".join(skipped))
        everything = [i for items in matched.values() for i in items]
        newest = max((i.updated for i in everything), default=None) or clock.now()
        extra = {"project_id": head.id, "project_updated": head.updated_at, "total": head.total, "pages": pages}
        return [ScopePull(s.id, tuple(matched[s.id]), complete=True,
                          cursor=Cursor(tracker=self.name, scope_id=s.id, updated=newest, extra=extra))
                for s in scopes]

    def _item(self, node: dict, content: dict, use: dict[str, str | None], unmapped: set[str]) -> WorkItem:
        is_pr = content.get("__typename") == "PullRequest"
        state = str(content.get("prState") if is_pr else content.get("state") or "OPEN").lower()
        repo = (content.get("repository") or {}).get("nameWithOwner") or ""
        raw = {"id": content["fullDatabaseId"], "number": content.get("number"), "title": content.get("title"),
               "body": content.get("body"), "html_url": content.get("url"),
               "state": "closed" if state in ("closed", "merged") else "open",
               "state_reason": (content.get("stateReason") or "").lower() or None,
               "created_at": content.get("createdAt"), "updated_at": content.get("updatedAt"),
               "closed_at": content.get("closedAt"), "milestone": content.get("milestone"),
               "labels": (content.get("labels") or {}).get("nodes") or [],
               "assignees": (content.get("assignees") or {}).get("nodes") or [],
               "pull_request": {} if is_pr else None}
        item, fell_back = item_from_github(raw, tracker=self.name, repo=repo, mapping=self.mapping)
        if fell_back:
            unmapped.add(item.raw_status)
        changes: dict[str, Any] = {}
        due = _due_of(node.get("due"))
        if due is not None:
            changes["due"] = due
        option = node.get("status") if use["status"] else None
        name = (option or {}).get("name")
        if name and item.status.is_open:
            mapped = self.mapping.project_status.get(name.casefold())
            if mapped is None:
                unmapped.add(f"project status {name}")
            elif mapped != item.status:
                changes["status"] = Status(mapped)
                changes["raw_status"] = f"{item.raw_status} ({use['status']}: {name})"
        # a field edit moves the project item, not the issue: the newer of both is the item's `updated`
        field_updated = parse_time(node.get("updatedAt"))
        if field_updated and field_updated > item.updated:
            changes["updated"] = field_updated
        return replace(item, **changes) if changes else item


def _value_name(value: Any) -> str | None:
    """The option name or iteration title of a field value, case-folded."""
    if not isinstance(value, dict):
        return None
    name = value.get("name") if value.get("__typename") == "ProjectV2ItemFieldSingleSelectValue" else value.get("title")
    return str(name).casefold() if name else None


def _due_of(value: Any) -> date | None:
    """A date field's date, or an iteration's last day (startDate + duration - 1, as GitHub shows it)."""
    if not isinstance(value, dict):
        return None
    if value.get("__typename") == "ProjectV2ItemFieldDateValue" and value.get("date"):
        return date.fromisoformat(str(value["date"])[:10])
    if value.get("__typename") == "ProjectV2ItemFieldIterationValue" and value.get("startDate"):
        start = date.fromisoformat(str(value["startDate"])[:10])
        return start + timedelta(days=max(1, int(value.get("duration") or 1)) - 1)
    return None
