"""Renders sandbox GitHub records as GitHub REST JSON (issues, labels, milestones, comments, repos)."""

from __future__ import annotations

from .hierarchy import github_summaries, github_type_obj
from .state import GithubIssue, gh_time, node_id
from .wire import memo as _memo


def user_obj(sb, idx: int, base: str) -> dict:
    return _memo(("user", id(sb.state), idx, base), lambda: _user_obj(sb, idx, base))


def _user_obj(sb, idx: int, base: str) -> dict:
    p = sb.state.people[idx]
    login, uid = p["github_login"], p["github_id"]
    u = f"{base}/users/{login}"
    return {"login": login, "id": uid, "node_id": node_id("User", uid),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4", "gravatar_id": "", "url": u,
            "html_url": f"https://github.com/{login}", "followers_url": f"{u}/followers",
            "following_url": f"{u}/following{{/other_user}}", "gists_url": f"{u}/gists{{/gist_id}}",
            "starred_url": f"{u}/starred{{/owner}}{{/repo}}", "subscriptions_url": f"{u}/subscriptions",
            "organizations_url": f"{u}/orgs", "repos_url": f"{u}/repos", "events_url": f"{u}/events{{/privacy}}",
            "received_events_url": f"{u}/received_events", "type": "User", "user_view_type": "public",
            "site_admin": False}


def label_obj(sb, repo: str, name: str, base: str) -> dict:
    return _memo(("label", id(sb.state), repo, name, base), lambda: _label_obj(sb, repo, name, base))


def _label_obj(sb, repo: str, name: str, base: str) -> dict:
    lab = sb.state.repos[repo]["labels"].get(name) or {"id": 0, "color": "ededed", "default": False,
                                                      "description": None}
    return {"id": lab["id"], "node_id": node_id("Label", lab["id"]),
            "url": f"{base}/repos/{repo}/labels/{name.replace(' ', '%20')}", "name": name, "color": lab["color"],
            "default": lab["default"], "description": lab["description"]}


def milestone_obj(sb, repo: str, number: int, base: str) -> dict:
    key = ("milestone", id(sb.state), sb.state.version, repo, number, base)
    return _memo(key, lambda: _milestone_obj(sb, repo, number, base))


def _milestone_obj(sb, repo: str, number: int, base: str) -> dict:
    m = sb.state.repos[repo]["milestones"][number]
    counts = sb.milestone_counts().get((repo, number), (0, 0))
    url = f"{base}/repos/{repo}/milestones/{number}"
    return {"url": url, "html_url": f"https://github.com/{repo}/milestone/{number}", "labels_url": f"{url}/labels",
            "id": m["id"], "node_id": node_id("Milestone", m["id"]), "number": number, "title": m["title"],
            "description": m["description"], "creator": user_obj(sb, 1, base), "open_issues": counts[0],
            "closed_issues": counts[1], "state": m["state"], "created_at": gh_time(m["created_at"]),
            "updated_at": gh_time(m["updated_at"]), "due_on": gh_time(m["due_on"]), "closed_at": gh_time(m["closed_at"])}


def reactions(url: str) -> dict:
    return {"url": f"{url}/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0, "confused": 0,
            "heart": 0, "rocket": 0, "eyes": 0}


def issue_obj(sb, i: GithubIssue, base: str) -> dict:
    url = f"{base}/repos/{i.repo}/issues/{i.number}"
    kind = "pull" if i.is_pr else "issues"
    assignees = [user_obj(sb, a, base) for a in i.assignees]
    out = {
        "url": url, "repository_url": f"{base}/repos/{i.repo}", "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments", "events_url": f"{url}/events",
        "html_url": f"https://github.com/{i.repo}/{kind}/{i.number}", "id": i.id,
        "node_id": node_id("PullRequest" if i.is_pr else "Issue", i.id), "number": i.number, "title": i.title,
        "user": user_obj(sb, i.user, base), "labels": [label_obj(sb, i.repo, n, base) for n in i.labels],
        "state": i.state, "locked": i.locked, "assignee": assignees[0] if assignees else None,
        "assignees": assignees,
        "milestone": milestone_obj(sb, i.repo, i.milestone, base) if i.milestone else None,
        "comments": len(i.comments), "created_at": gh_time(i.created_at), "updated_at": gh_time(i.updated_at),
        "closed_at": gh_time(i.closed_at), "author_association": "MEMBER", "type": github_type_obj(i.issue_type),
        "active_lock_reason": None, **_summaries(sb, i),
        "body": i.body, "closed_by": None, "reactions": reactions(url), "timeline_url": f"{url}/timeline",
        "performed_via_github_app": None, "state_reason": i.state_reason,
    }
    if i.parent is not None:
        out["parent_issue_url"] = f"{base}/repos/{i.parent[0]}/issues/{i.parent[1]}"
    if i.is_pr:
        pr = f"{base}/repos/{i.repo}/pulls/{i.number}"
        out["draft"] = False
        out["pull_request"] = {"url": pr, "html_url": f"https://github.com/{i.repo}/pull/{i.number}",
                               "diff_url": f"https://github.com/{i.repo}/pull/{i.number}.diff",
                               "patch_url": f"https://github.com/{i.repo}/pull/{i.number}.patch",
                               "merged_at": gh_time(i.closed_at) if i.state_reason == "completed" else None}
    return out


_NO_RELATIONS = {"sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
                 "issue_dependencies_summary": {"blocked_by": 0, "total_blocked_by": 0, "blocking": 0,
                                                "total_blocking": 0}}


def _summaries(sb, i: GithubIssue) -> dict:
    if not (i.sub_issues or i.blocked_by or i.blocking):  # the usual case: no lookups per rendered issue
        return {k: dict(v) for k, v in _NO_RELATIONS.items()}
    return github_summaries(sb, i)


def comment_obj(sb, i: GithubIssue, c: dict, base: str) -> dict:
    url = f"{base}/repos/{i.repo}/issues/comments/{c['id']}"
    return {"url": url, "html_url": f"https://github.com/{i.repo}/issues/{i.number}#issuecomment-{c['id']}",
            "issue_url": f"{base}/repos/{i.repo}/issues/{i.number}", "id": c["id"],
            "node_id": node_id("IssueComment", c["id"]), "user": user_obj(sb, c["author"], base),
            "created_at": gh_time(c["created"]), "updated_at": gh_time(c["updated"]), "body": c["body"],
            "author_association": "MEMBER", "reactions": reactions(url), "performed_via_github_app": None}


def repo_obj(sb, full: str, base: str) -> dict:
    r = sb.state.repos[full]
    owner, name = full.split("/")
    u = f"{base}/repos/{full}"
    org = user_obj(sb, 1, base) | {"login": owner, "id": 4242, "node_id": node_id("Organization", 4242),
                                   "type": "Organization", "url": f"{base}/users/{owner}",
                                   "html_url": f"https://github.com/{owner}"}
    open_count = sum(1 for i in sb.state.gh_issues[full].values() if i.state == "open" and not i.deleted)
    templated = {k: f"{u}/{v}" for k, v in REPO_URLS.items()}
    return {"id": r["id"], "node_id": node_id("Repository", r["id"]), "name": name, "full_name": full,
            "private": True, "owner": org, "html_url": f"https://github.com/{full}", "description": name,
            "fork": False, "url": u, **templated,
            "git_url": f"git://github.com/{full}.git", "ssh_url": f"git@github.com:{full}.git",
            "clone_url": f"https://github.com/{full}.git", "svn_url": f"https://github.com/{full}",
            "homepage": None, "mirror_url": None, "license": None,
            "created_at": gh_time(r["created_at"]), "updated_at": gh_time(sb.clock.ts()),
            "pushed_at": gh_time(sb.clock.ts()), "has_issues": True, "has_projects": True, "has_wiki": False,
            "has_pages": False, "has_discussions": False, "has_downloads": True,
            "archived": False, "disabled": False, "open_issues_count": open_count, "open_issues": open_count,
            "default_branch": "main", "visibility": "private", "forks": 0, "forks_count": 0,
            "stargazers_count": 0, "watchers_count": 0, "watchers": 0, "size": 1024, "language": "Python",
            "network_count": 0, "subscribers_count": 3, "topics": [], "is_template": False,
            "allow_forking": False, "web_commit_signoff_required": False,
            "permissions": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True}}


REPO_URLS = {
    "forks_url": "forks", "keys_url": "keys{/key_id}", "collaborators_url": "collaborators{/collaborator}",
    "teams_url": "teams", "hooks_url": "hooks", "issue_events_url": "issues/events{/number}",
    "events_url": "events", "assignees_url": "assignees{/user}", "branches_url": "branches{/branch}",
    "tags_url": "tags", "blobs_url": "git/blobs{/sha}", "git_tags_url": "git/tags{/sha}",
    "git_refs_url": "git/refs{/sha}", "trees_url": "git/trees{/sha}", "statuses_url": "statuses/{sha}",
    "languages_url": "languages", "stargazers_url": "stargazers", "contributors_url": "contributors",
    "subscribers_url": "subscribers", "subscription_url": "subscription", "commits_url": "commits{/sha}",
    "git_commits_url": "git/commits{/sha}", "comments_url": "comments{/number}",
    "issue_comment_url": "issues/comments{/number}", "contents_url": "contents/{+path}",
    "compare_url": "compare/{base}...{head}", "merges_url": "merges", "archive_url": "{archive_format}{/ref}",
    "downloads_url": "downloads", "issues_url": "issues{/number}", "pulls_url": "pulls{/number}",
    "milestones_url": "milestones{/number}", "notifications_url": "notifications{?since,all,participating}",
    "labels_url": "labels{/name}", "releases_url": "releases{/id}", "deployments_url": "deployments",
}
