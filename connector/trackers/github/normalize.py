"""GitHub issue and milestone payloads (plain REST dicts) -> WorkItem / Milestone.

Pure functions: no HTTP, no PyGithub objects, so nothing here can trigger a lazy completion request.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from connector.model import Milestone, WorkItem
from connector.trackers.github.mapping import GithubMapping

# Jira keys mentioned in a title or body: PROJ-12 (a project key is at least two characters)
JIRA_KEY = re.compile(r"(?<![A-Za-z0-9_-])([A-Z][A-Z0-9]+-\d+)(?![A-Za-z0-9_])")
# other GitHub issues: owner/repo#N, or an issue / pull URL on any GitHub host
GITHUB_REF = re.compile(r"(?<![\w./-])([A-Za-z0-9][\w.-]*/[\w.-]+)#(\d+)\b")
GITHUB_URL = re.compile(r"https?://[^/\s]+/([A-Za-z0-9][\w.-]*/[\w.-]+)/(?:issues|pull)/(\d+)\b")
_KEY = re.compile(r"^([\w.-]+/[\w.-]+)#(\d+)$")


def repo_scope_id(tracker: str, repo: str) -> str:
    """The scope id of one pulled repository: cursors and ScopePulls are per repo, not per plan scope."""
    return f"{tracker}:repo:{repo.lower()}"


def split_key(key: str) -> tuple[str, int]:
    """`owner/repo#45` -> ("owner/repo", 45); ValueError for anything else."""
    match = _KEY.match(key.strip())
    if not match:
        raise ValueError(f"not a GitHub issue key (expected owner/repo#N): {key!r}")
    return match.group(1), int(match.group(2))


def parse_time(value: str | None) -> datetime | None:
    """GitHub's ISO 8601 timestamps ("2026-05-07T12:00:00Z") as aware UTC."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:  # GitHub always sends Z; a bare value is read as UTC rather than local
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_since(moment: datetime) -> str:
    """`since` as GitHub wants it: UTC with a `Z`. PyGithub's own formatting skips the conversion."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def repo_of(raw: dict, fallback: str) -> str:
    """owner/repo of an issue payload, from `repository_url` (list payloads carry no `repository`)."""
    url = raw.get("repository_url") or ""
    parts = url.rstrip("/").split("/")
    if len(parts) >= 2 and "/repos/" in url:
        return f"{parts[-2]}/{parts[-1]}"
    return fallback


def find_links(text: str, own_repo: str, own_key: str) -> tuple[str, ...]:
    """Cross-tracker references in free text: Jira keys and other GitHub issues, in first-seen order."""
    found: dict[str, None] = {}
    for match in JIRA_KEY.finditer(text):
        found.setdefault(match.group(1), None)
    for pattern in (GITHUB_REF, GITHUB_URL):
        for match in pattern.finditer(text):
            found.setdefault(f"{match.group(1)}#{match.group(2)}", None)
    # a bare "#12" in GitHub means this repo's issue 12
    for match in re.finditer(r"(?<![\w/#])#(\d+)\b", text):
        found.setdefault(f"{own_repo}#{match.group(1)}", None)
    found.pop(own_key, None)
    return tuple(found)


def issue_key_of_url(url: str | None) -> str | None:
    """`https://api.github.com/repos/o/r/issues/12` (a `parent_issue_url`) -> "o/r#12"."""
    match = re.search(r"/repos/([^/]+/[^/]+)/issues/(\d+)/?$", url or "")
    return f"{match.group(1)}#{match.group(2)}" if match else None


def open_blockers(raw: dict) -> int:
    """How many open issues block this one, by the list payload's own summary (0 when it has none)."""
    summary = raw.get("issue_dependencies_summary")
    count = summary.get("blocked_by") if isinstance(summary, dict) else 0
    return count if isinstance(count, int) else 0


def item_from_github(raw: dict, *, tracker: str, repo: str, mapping: GithubMapping) -> tuple[WorkItem, bool]:
    """One issue (or pull request) from a list or single-issue payload; returns (item, status_fell_back)."""
    repo = repo_of(raw, repo)
    number = int(raw["number"])
    key = f"{repo}#{number}"
    labels = tuple(label["name"] if isinstance(label, dict) else str(label) for label in raw.get("labels") or ())
    state = (raw.get("state") or "open").lower()
    reason = raw.get("state_reason")
    mapped = mapping.map(state, reason, labels)
    is_pr = "pull_request" in raw and raw["pull_request"] is not None
    milestone = raw.get("milestone") or None
    assignees = tuple(a["login"] for a in raw.get("assignees") or () if a and a.get("login"))
    if not assignees and raw.get("assignee"):  # very old payloads carry only `assignee`
        assignees = (raw["assignee"]["login"],)
    created = parse_time(raw.get("created_at"))
    updated = parse_time(raw.get("updated_at")) or created
    text = f"{raw.get('title') or ''}\n{raw.get('body') or ''}"
    item = WorkItem(
        tracker=tracker,
        id=str(raw["id"]),
        key=key,
        container=repo,
        url=raw.get("html_url") or raw.get("url") or "",
        title=raw.get("title") or "",
        # the issue type's name ("Bug") where the org uses issue types; else what the item is
        type=((raw.get("type") or {}).get("name") if isinstance(raw.get("type"), dict) else None)
        or ("pull_request" if is_pr else "issue"),
        status=mapped.status,
        raw_status=f"{state}/{reason}" if reason else state,
        created=created,
        updated=max(updated, created) if created and updated else updated,
        resolved=parse_time(raw.get("closed_at")) if state == "closed" else None,
        assignees=assignees,
        labels=labels,
        milestones=(milestone["title"],) if milestone else (),
        links=find_links(text, repo, key),
        is_pull_request=is_pr,
        parent=issue_key_of_url(raw.get("parent_issue_url")),
    )
    return item, mapped.fallback


def due_date(value: str | None) -> date | None:
    """A milestone's `due_on` as a date. GitHub stores a date picked in the UI as 07:00 or 08:00 UTC of
    that day (Pacific midnight), so the UTC calendar date is the date the user chose."""
    moment = parse_time(value)
    return moment.date() if moment else None


def milestone_from_github(raw: dict, *, tracker: str, repo: str) -> Milestone:
    return Milestone(
        tracker=tracker,
        id=str(raw.get("id") or f"{repo}/milestones/{raw['number']}"),
        kind="milestone",
        name=raw.get("title") or "",
        container=repo,
        state=(raw.get("state") or "open").lower(),
        due=due_date(raw.get("due_on")),
        url=raw.get("html_url") or raw.get("url") or "",
    )
