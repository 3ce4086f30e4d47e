"""GitLab issue and milestone payloads (plain REST v4 dicts) -> WorkItem / Milestone.

Pure functions: no HTTP, no python-gitlab objects (their lazy attributes could send requests).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from urllib.parse import quote

from connector.model import Milestone, WorkItem
from connector.trackers.gitlab.mapping import GitlabMapping

# Jira keys mentioned in a title or body: PROJ-12 (a project key is at least two characters)
JIRA_KEY = re.compile(r"(?<![A-Za-z0-9_-])([A-Z][A-Z0-9]+-\d+)(?![A-Za-z0-9_])")
# other GitLab issues: group/sub/project#N, or an issue URL on any host (`/-/issues/N`)
GITLAB_REF = re.compile(r"(?<![\w./-])([A-Za-z0-9][\w.-]*(?:/[\w.-]+)+)#(\d+)\b")
GITLAB_URL = re.compile(r"https?://[^/\s]+/([A-Za-z0-9][\w.-]*(?:/[\w.-]+)+?)/-/issues/(\d+)\b")
_KEY = re.compile(r"^([\w.-]+(?:/[\w.-]+)+)#(\d+)$")


def project_scope_id(tracker: str, project: str) -> str:
    """The scope id of one pulled project: cursors and ScopePulls are per project, not per plan scope."""
    return f"{tracker}:project:{project.lower()}"


def group_scope_id(tracker: str, group: str) -> str:
    return f"{tracker}:group:{group.lower()}"


def split_key(key: str) -> tuple[str, int]:
    """`acme/platform/checkout#45` -> ("acme/platform/checkout", 45); ValueError for anything else."""
    match = _KEY.match(key.strip())
    if not match:
        raise ValueError(f"not a GitLab issue key (expected group/project#N): {key!r}")
    return match.group(1), int(match.group(2))


def encoded(path: str) -> str:
    """A project or group path as GitLab wants it in a URL: one segment, slashes as %2F."""
    return quote(path, safe="")


def parse_time(value: str | None) -> datetime | None:
    """GitLab's ISO 8601 timestamps ("2026-05-07T12:00:00.123Z", or with an offset) as aware UTC."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_updated_after(moment: datetime) -> str:
    """`updated_after` with an explicit offset: a bare time would be read in the server's zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def project_of(raw: dict, fallback: str) -> str:
    """The full project path of an issue payload, from `references.full` (`group/project#iid`)."""
    full = (raw.get("references") or {}).get("full") or ""
    path = full.rpartition("#")[0]
    return path or fallback


def closed_as(raw: dict) -> str | None:
    """How a closed issue was closed, as far as the API says: "duplicate" or None."""
    links = raw.get("_links") or {}
    return "duplicate" if links.get("closed_as_duplicate_of") else None


def moved_to(raw: dict) -> int | None:
    value = raw.get("moved_to_id")
    return int(value) if value else None


def find_links(text: str, own_project: str, own_key: str) -> tuple[str, ...]:
    """Cross-tracker references in free text: Jira keys and other GitLab issues, in first-seen order."""
    found: dict[str, None] = {}
    for match in JIRA_KEY.finditer(text):
        found.setdefault(match.group(1), None)
    for pattern in (GITLAB_REF, GITLAB_URL):
        for match in pattern.finditer(text):
            found.setdefault(f"{match.group(1)}#{match.group(2)}", None)
    for match in re.finditer(r"(?<![\w/#])#(\d+)\b", text):  # a bare "#12" is this project's issue 12
        found.setdefault(f"{own_project}#{match.group(1)}", None)
    found.pop(own_key, None)
    return tuple(found)


def _label_names(raw: dict) -> tuple[str, ...]:
    # plain names by default; objects when the request asked for `with_labels_details`
    return tuple(label["name"] if isinstance(label, dict) else str(label) for label in raw.get("labels") or ())


def item_from_gitlab(raw: dict, *, tracker: str, project: str, mapping: GitlabMapping) -> tuple[WorkItem, bool]:
    """One issue from a list or single-issue payload; returns (item, status_fell_back)."""
    project = project_of(raw, project)
    key = f"{project}#{int(raw['iid'])}"
    labels = _label_names(raw)
    state = (raw.get("state") or "opened").lower()
    how = closed_as(raw) if state == "closed" else None
    mapped = mapping.map(state, how, labels)
    milestone = raw.get("milestone") or None
    iteration = raw.get("iteration") or None
    assignees = tuple(a["username"] for a in raw.get("assignees") or () if a and a.get("username"))
    if not assignees and (raw.get("assignee") or {}).get("username"):
        assignees = (raw["assignee"]["username"],)
    created = parse_time(raw.get("created_at"))
    updated = parse_time(raw.get("updated_at")) or created
    text = f"{raw.get('title') or ''}\n{raw.get('description') or ''}"
    weight = raw.get("weight")
    item = WorkItem(
        tracker=tracker,
        id=str(raw["id"]),
        key=key,
        container=project,
        url=raw.get("web_url") or "",
        title=raw.get("title") or "",
        type=(raw.get("issue_type") or "issue").lower(),
        status=mapped.status,
        raw_status=f"{state}/{how}" if how else state,
        created=created,
        updated=max(updated, created) if created and updated else updated,
        resolved=parse_time(raw.get("closed_at")) if state == "closed" else None,
        assignees=assignees,
        labels=labels,
        milestones=(milestone["title"],) if milestone and milestone.get("title") else (),
        sprint=(iteration.get("title") or None) if iteration else None,
        due=parse_date(raw.get("due_date")),
        estimate=float(weight) if isinstance(weight, int | float) else None,
        links=find_links(text, project, key),
    )
    return item, mapped.fallback


def milestone_from_gitlab(raw: dict, *, tracker: str, container: str) -> Milestone:
    """A project or group milestone; `state` is GitLab's `active` / `closed`, reported as open / closed."""
    return Milestone(
        tracker=tracker,
        id=str(raw["id"]),
        kind="milestone",
        name=raw.get("title") or "",
        container=container,
        state="closed" if (raw.get("state") or "active") == "closed" else "open",
        due=parse_date(raw.get("due_date")),
        start=parse_date(raw.get("start_date")),
        url=raw.get("web_url") or "",
    )
