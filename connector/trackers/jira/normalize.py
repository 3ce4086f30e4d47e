"""Jira JSON → the normalized model: `item_from_jira`, field discovery from `/field`, milestones.

Pure functions over decoded JSON (no HTTP), shared by the Cloud (v3, ADF) and Server (v2) paths.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from connector.model import Blocker, Milestone, WorkItem
from connector.trackers.jira.mapping import JiraMapping

log = logging.getLogger(__name__)

# The system fields the model needs; custom fields (sprint, points, epic link) are added per site.
BASE_FIELDS = ("summary", "status", "resolution", "issuetype", "assignee", "labels", "fixVersions", "duedate",
               "created", "updated", "resolutiondate", "parent", "description", "project", "issuelinks")
BLOCKS = "blocks"  # the stock link type's name; its inward side reads "is blocked by"

# Custom field types by schema, so ids are never hard-coded (customfield_10020 on one site is
# something else on another).
SPRINT_SCHEMA = "com.pyxis.greenhopper.jira:gh-sprint"
EPIC_LINK_SCHEMA = "com.pyxis.greenhopper.jira:gh-epic-link"
POINTS_SCHEMAS = ("com.atlassian.jira.plugin.system.customfieldtypes:jsw-story-points",)
POINTS_NAMES = ("story points", "story point estimate")

GITHUB_URL = re.compile(r"https?://github\.com/([A-Za-z0-9][\w.-]*)/([\w.-]+?)/(?:issues|pull)/(\d+)\b")
GITHUB_SHORT = re.compile(r"(?<![\w/.-])([A-Za-z0-9][\w-]*)/([\w.-]+?)#(\d+)\b")
# Old Server versions render sprints as "com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=1,...]"
LEGACY_SPRINT = re.compile(r"\[(.*)\]\s*$")


class MalformedPayload(ValueError):
    """A response parsed as JSON but lacks what every Jira answer of its kind has."""


@dataclass(frozen=True)
class FieldIds:
    """The site's custom field ids for what the model needs (None where the site has none)."""

    sprint: str | None = None
    epic_link: str | None = None
    story_points: str | None = None

    def request_list(self) -> list[str]:
        return [*BASE_FIELDS, *(f for f in (self.sprint, self.epic_link, self.story_points) if f)]


def discover_fields(fields_json: list) -> FieldIds:
    """Find the sprint, epic-link and story-points custom fields by schema (then by name for points)."""
    if not isinstance(fields_json, list):
        raise MalformedPayload("/field did not return a list")
    sprint = epic = points = None
    named_points = None
    for f in fields_json:
        if not isinstance(f, dict):
            continue
        custom = (f.get("schema") or {}).get("custom") or ""
        fid = f.get("id")
        if custom == SPRINT_SCHEMA and sprint is None:
            sprint = fid
        elif custom == EPIC_LINK_SCHEMA and epic is None:
            epic = fid
        elif custom in POINTS_SCHEMAS and points is None:
            points = fid
        elif (f.get("name") or "").strip().lower() in POINTS_NAMES and named_points is None and f.get("custom"):
            named_points = fid
    return FieldIds(sprint=sprint, epic_link=epic, story_points=points or named_points)


def parse_jira_time(value: str | None) -> datetime | None:
    """`2026-11-20T14:03:11.123+0000` (also `Z` / `+00:00` forms) → aware UTC datetime."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:  # never seen from Jira; treat as UTC rather than local time
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_jira_date(value: str | None) -> date | None:
    """`duedate` / `releaseDate` are plain dates (no timezone): kept as dates."""
    if not value:
        return None
    return date.fromisoformat(value[:10])


def adf_text(node) -> Iterator[str]:
    """Every text and link target in an Atlassian Document Format tree (Cloud v3 descriptions)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        if isinstance(node.get("text"), str):
            yield node["text"]
        attrs = node.get("attrs") or {}
        for key in ("href", "url"):
            if isinstance(attrs.get(key), str):
                yield attrs[key]
        for mark in node.get("marks") or ():
            href = (mark.get("attrs") or {}).get("href") if isinstance(mark, dict) else None
            if isinstance(href, str):
                yield href
        for child in node.get("content") or ():
            yield from adf_text(child)
    elif isinstance(node, list):
        for child in node:
            yield from adf_text(child)


def github_refs(texts: Iterable[str]) -> tuple[str, ...]:
    """GitHub issue references as "owner/repo#N", in first-seen order, each once."""
    found: dict[str, None] = {}
    for text in texts:
        if not text:
            continue
        for owner, repo, num in GITHUB_URL.findall(text):
            found.setdefault(f"{owner}/{repo}#{num}")
        for owner, repo, num in GITHUB_SHORT.findall(GITHUB_URL.sub(" ", text)):
            found.setdefault(f"{owner}/{repo}#{num}")
    return tuple(found)


def _sprint_dicts(value) -> list[dict]:
    """The sprint field as dicts: Cloud/modern DC send objects, old DC sends `Sprint@..[k=v,...]`."""
    out = []
    for entry in value or ():
        if isinstance(entry, dict):
            out.append(entry)
        elif isinstance(entry, str) and (m := LEGACY_SPRINT.search(entry)):
            pairs = (part.split("=", 1) for part in m.group(1).split(",") if "=" in part)
            out.append({k.strip(): (None if v == "<null>" else v) for k, v in pairs})
    return out


def _current_sprint(sprints: list[dict]) -> dict | None:
    """The sprint an item is in now: the active one, else the latest future, else the last closed."""
    for state in ("active", "future", "closed"):
        of_state = [s for s in sprints if str(s.get("state", "")).lower() == state]
        if of_state:
            return of_state[-1]
    return sprints[-1] if sprints else None


def _number(value) -> float | None:
    """Story points: a number, or None for anything else (one odd custom value must not fail a pull)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _person(user: dict | None) -> str | None:
    if not isinstance(user, dict):
        return None
    return user.get("emailAddress") or user.get("accountId") or user.get("name") or user.get("key")


@dataclass(frozen=True)
class Normalizer:
    """Turns one raw search hit into a WorkItem; collects statuses the mapping did not name."""

    tracker: str
    base_url: str
    mapping: JiraMapping
    fields: FieldIds

    def item(self, raw: dict, unmapped: set[str]) -> WorkItem:
        try:
            return self._item(raw, unmapped)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise MalformedPayload(f"issue {raw.get('key') if isinstance(raw, dict) else raw!r} "
                                   f"is not a Jira issue as expected ({type(exc).__name__}: {exc})") from None

    def _item(self, raw: dict, unmapped: set[str]) -> WorkItem:
        f = raw["fields"]
        status_json = f["status"]
        status_name = status_json["name"]
        category = (status_json.get("statusCategory") or {}).get("key")
        resolution = (f.get("resolution") or {}).get("name")
        mapped = self.mapping.map(status_name, category, resolution)
        if mapped.fallback:
            unmapped.add(status_name)
        issue_type = (f.get("issuetype") or {}).get("name") or ""
        parent = f.get("parent") or None
        parent_key = parent.get("key") if isinstance(parent, dict) else None
        epic = None
        if self.fields.epic_link and isinstance(f.get(self.fields.epic_link), str):
            epic = f[self.fields.epic_link]  # Data Center (company-managed) Epic Link
        elif parent_key and ((parent.get("fields") or {}).get("issuetype") or {}).get("name") == "Epic":
            epic = parent_key  # Cloud: the epic is the parent of type Epic
        sprint = None
        if self.fields.sprint:
            current = _current_sprint(_sprint_dicts(f.get(self.fields.sprint)))
            sprint = current.get("name") if current else None
        estimate = _number(f.get(self.fields.story_points)) if self.fields.story_points else None
        description = f.get("description")
        texts = [f.get("summary") or "", *adf_text(description)]
        created = parse_jira_time(f["created"])
        updated = parse_jira_time(f.get("updated")) or created
        return WorkItem(
            tracker=self.tracker, id=str(raw["id"]), key=raw["key"],
            container=(f.get("project") or {}).get("key") or raw["key"].rsplit("-", 1)[0],
            url=f"{self.base_url}/browse/{raw['key']}", title=f.get("summary") or "", type=issue_type,
            status=mapped.status, raw_status=status_name, created=created, updated=updated,
            resolved=parse_jira_time(f.get("resolutiondate")),
            assignees=tuple(p for p in (_person(f.get("assignee")),) if p),
            labels=tuple(f.get("labels") or ()),
            milestones=tuple(v["name"] for v in f.get("fixVersions") or () if isinstance(v, dict)),
            sprint=sprint, epic=epic, parent=parent_key, due=parse_jira_date(f.get("duedate")),
            estimate=estimate, links=github_refs(texts), blocked_by=self._blockers(f.get("issuelinks")),
        )

    def _blockers(self, links) -> tuple[Blocker, ...]:
        """"is blocked by" links: a Blocks link whose `inwardIssue` is the blocker, with the open/closed
        state its embedded status shows (mapped as the blocker's own status would be)."""
        out = []
        for link in links or ():
            other = link.get("inwardIssue") if isinstance(link, dict) else None
            if not isinstance(other, dict) or str((link.get("type") or {}).get("name", "")).casefold() != BLOCKS:
                continue
            status = (other.get("fields") or {}).get("status") or {}
            category = (status.get("statusCategory") or {}).get("key")
            is_open = self.mapping.map(status.get("name") or "", category, None).status.is_open
            out.append(Blocker(str(other.get("id", "")), str(other.get("key", "")), is_open))
        return tuple(out)

    def carried_milestones(self, raws: Iterable[dict], project_of: dict[str, str]) -> list[tuple[Milestone, str]]:
        """The versions (`fixVersions`: id, name, released, archived, releaseDate) and sprints (the sprint
        field: id, name, state, dates) the items carry, free (no request), as (milestone filed under the
        carrying item's project, item id) pairs: `file_carried` picks one per id."""
        out: list[tuple[Milestone, str]] = []
        built: dict[tuple[str, str], Milestone] = {}  # a page's items mostly share their versions and sprints

        def one(key: str, make, raw: dict, container: str) -> Milestone:
            if (key, container) not in built:
                built[key, container] = make(self.tracker, raw, container, self.base_url)
            return built[key, container]

        for raw in raws:
            fields, item_id = raw.get("fields") or {}, str(raw.get("id"))
            container = project_of.get(item_id, "")
            for v in fields.get("fixVersions") or ():
                if isinstance(v, dict) and v.get("id") is not None and v.get("name"):
                    out.append((one(f"version:{v['id']}", version_milestone, v, container), item_id))
            for s in _sprint_dicts(fields.get(self.fields.sprint)) if self.fields.sprint else ():
                if s.get("id") is not None:
                    out.append((one(f"sprint:{s['id']}", sprint_milestone, s, container), item_id))
        return out


def file_carried(found: Iterable[tuple[Milestone, str]]) -> dict[str, Milestone]:
    """One milestone per id from the items' copies, filed under the project most of its items are in
    (ties: the first key): a sprint of a board whose filter spans projects stays under the board's
    own project, whatever order the scopes were read in. A version is in one project already."""
    first: dict[str, Milestone] = {}
    votes: dict[str, dict[str, set[str]]] = {}
    for m, item_id in found:
        first.setdefault(m.id, m)
        votes.setdefault(m.id, {}).setdefault(m.container, set()).add(item_id)
    out = {}
    for key, m in first.items():
        home = max(sorted(votes[key]), key=lambda c, key=key: len(votes[key][c]))
        out[key] = m if m.container == home else replace(m, container=home)
    return out


def version_milestone(tracker: str, raw: dict, project_key: str, base_url: str) -> Milestone:
    state = "archived" if raw.get("archived") else "released" if raw.get("released") else "unreleased"
    return Milestone(tracker=tracker, id=f"version:{raw['id']}", kind="version", name=raw["name"],
                     container=project_key, state=state, due=parse_jira_date(raw.get("releaseDate")),
                     start=parse_jira_date(raw.get("startDate")),
                     url=f"{base_url}/projects/{project_key}/versions/{raw['id']}")


def sprint_milestone(tracker: str, raw: dict, project_key: str, base_url: str) -> Milestone:
    end = parse_jira_time(raw.get("endDate")) if raw.get("endDate") else None
    start = parse_jira_time(raw.get("startDate")) if raw.get("startDate") else None
    return Milestone(tracker=tracker, id=f"sprint:{raw['id']}", kind="sprint", name=str(raw.get("name") or ""),
                     container=project_key, state=str(raw.get("state") or "").lower(),
                     due=end.date() if end else None, start=start.date() if start else None,
                     url=f"{base_url}/secure/GHGoToBoard.jspa?sprintId={raw['id']}")


def epic_milestone(item: WorkItem) -> Milestone:
    state = "closed" if not item.status.is_open else "open"
    return Milestone(tracker=item.tracker, id=f"epic:{item.id}", kind="epic", name=item.title,
                     container=item.container, state=state, due=item.due, url=item.url)
