"""Sandbox hierarchy and dependencies, as a user would set them up: Jira parents and Blocks links, GitHub
sub-issues, issue dependencies and issue types. Each touches the changed issue, as the trackers do."""

from __future__ import annotations

GITHUB_TYPES = {"Task": (4_200_001, "yellow"), "Bug": (4_200_002, "red"), "Feature": (4_200_003, "blue")}


def _gh(sb, ref: str):
    repo, _, number = ref.partition("#")
    return sb.github_issue(repo, int(number))


def _touch_github(sb, issue, what: str) -> None:
    issue.updated_at = sb.clock.ts()
    issue.history.append((issue.updated_at, what, issue.state))


def set_jira_parent(sb, child: str, parent: str | None) -> None:
    """Make `parent` (a key, None to clear) the parent of `child`: an epic, or any issue a level up."""
    with sb.state.lock:
        issue = sb.jira_issue(child)
        issue.parent = sb.jira_issue(parent).id if parent else None
        sb._touch_jira(issue, [("Parent", None, None, None, parent)])


def link_jira_blocks(sb, blocker: str, blocked: str, *, remove: bool = False) -> None:
    """A Blocks link: `blocker` blocks `blocked` ("is blocked by" seen from `blocked`)."""
    with sb.state.lock:
        a, b = sb.jira_issue(blocker), sb.jira_issue(blocked)
        if remove:
            a.blocks = [x for x in a.blocks if x != b.id]
            b.blocked_by = [x for x in b.blocked_by if x != a.id]
        elif a.id not in b.blocked_by:
            a.blocks.append(b.id)
            b.blocked_by.append(a.id)
        sb._touch_jira(a, [("Link", None, None, None, f"blocks {b.key}")])
        sb._touch_jira(b, [("Link", None, None, None, f"is blocked by {a.key}")])


def add_sub_issue(sb, parent: str, child: str) -> None:
    """`child` ("owner/repo#N", any repo of the owner) becomes a sub-issue of `parent`."""
    with sb.state.lock:
        p, c = _gh(sb, parent), _gh(sb, child)
        if c.parent is not None:
            old = sb.github_issue(*c.parent)
            old.sub_issues = [x for x in old.sub_issues if x != (c.repo, c.number)]
        c.parent = (p.repo, p.number)
        p.sub_issues.append((c.repo, c.number))
        _touch_github(sb, c, "parent")
        _touch_github(sb, p, "sub_issue")
        sb.state.bump()


def add_blocked_by(sb, issue: str, blocker: str) -> None:
    """`issue` is blocked by `blocker` (both "owner/repo#N")."""
    with sb.state.lock:
        i, b = _gh(sb, issue), _gh(sb, blocker)
        if (b.repo, b.number) not in i.blocked_by:
            i.blocked_by.append((b.repo, b.number))
            b.blocking.append((i.repo, i.number))
        _touch_github(sb, i, "blocked_by")
        _touch_github(sb, b, "blocking")
        sb.state.bump()


def set_issue_type(sb, issue: str, name: str | None) -> None:
    with sb.state.lock:
        i = _gh(sb, issue)
        i.issue_type = name
        _touch_github(sb, i, "type")
        sb.state.bump()


def github_type_obj(name: str | None) -> dict | None:
    if name is None:
        return None
    tid, color = GITHUB_TYPES.get(name, (4_200_000 + len(name), "gray"))
    return {"id": tid, "node_id": f"IT_kwDOAKxBpM4{tid}", "name": name, "description": f"{name} issues",
            "color": color, "created_at": "2024-01-25T12:55:41Z", "updated_at": "2024-07-26T10:24:51Z",
            "is_enabled": True}


def github_summaries(sb, issue) -> dict:
    """sub_issues_summary and issue_dependencies_summary of one issue, from its current relations."""
    issues = sb.state.gh_issues

    def state(ref):
        other = issues.get(ref[0], {}).get(ref[1])
        return other.state if other is not None and not other.deleted else None

    subs = [state(r) for r in issue.sub_issues]
    total = sum(1 for s in subs if s is not None)
    done = sum(1 for s in subs if s == "closed")
    blockers = [state(r) for r in issue.blocked_by]
    blocking = [state(r) for r in issue.blocking]
    return {"sub_issues_summary": {"total": total, "completed": done,
                                   "percent_completed": (100 * done // total) if total else 0},
            "issue_dependencies_summary": {
                "blocked_by": sum(1 for s in blockers if s == "open"),
                "total_blocked_by": sum(1 for s in blockers if s is not None),
                "blocking": sum(1 for s in blocking if s == "open"),
                "total_blocking": sum(1 for s in blocking if s is not None)}}
