"""GitHub REST endpoints of the sandbox (/github, like a GHE .../api/v3 base).

Link-header pagination, weak ETags with 304s that spend no budget, per-token primary rate limit.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

from .state import GithubIssue, gh_time, node_id
from .wire import Req, Resp, Router, json_resp

router = Router()
REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
DOCS = "https://docs.github.com/rest"


def gh_error(status: int, message: str, doc: str = DOCS) -> Resp:
    return json_resp({"message": message, "documentation_url": doc, "status": str(status)}, status)


def not_found() -> Resp:
    return gh_error(404, "Not Found", "https://docs.github.com/rest/issues/issues#get-an-issue")


_MEMO: dict = {}


def _memo(key, make):
    # Users and labels never change once made; render each once per base URL (callers only serialise).
    hit = _MEMO.get(key)
    if hit is None:
        if len(_MEMO) > 4096:
            _MEMO.clear()
        hit = _MEMO[key] = make()
    return hit


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
        "closed_at": gh_time(i.closed_at), "author_association": "MEMBER", "type": None,
        "active_lock_reason": None, "sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
        "issue_dependencies_summary": {"blocked_by": 0, "total_blocked_by": 0, "blocking": 0, "total_blocking": 0},
        "body": i.body, "closed_by": None, "reactions": reactions(url), "timeline_url": f"{url}/timeline",
        "performed_via_github_app": None, "state_reason": i.state_reason,
    }
    if i.is_pr:
        pr = f"{base}/repos/{i.repo}/pulls/{i.number}"
        out["draft"] = False
        out["pull_request"] = {"url": pr, "html_url": f"https://github.com/{i.repo}/pull/{i.number}",
                               "diff_url": f"https://github.com/{i.repo}/pull/{i.number}.diff",
                               "patch_url": f"https://github.com/{i.repo}/pull/{i.number}.patch",
                               "merged_at": gh_time(i.closed_at) if i.state_reason == "completed" else None}
    return out


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


def _repo(m: dict) -> str:
    return f"{m['owner']}/{m['repo']}"


def _page(req: Req, items: list, default_per_page: int = 30):
    try:
        per_page = max(1, min(int(req.args.get("per_page", default_per_page)), 100))
        page = max(1, int(req.args.get("page", 1)))
    except ValueError:
        per_page, page = default_per_page, 1
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page: page * per_page]
    rels = []
    args = [(k, v) for k, v in req.args.items(multi=True) if k != "page"]

    def link(p, rel):
        return f'<{req.base}{req.path}?{urlencode(args + [("page", p)])}>; rel="{rel}"'
    if page > 1:
        rels.append(link(page - 1, "prev"))
    if page < last:
        rels.append(link(page + 1, "next"))
        rels.append(link(last, "last"))
    if page > 1:
        rels.append(link(1, "first"))
    return chunk, ({"Link": ", ".join(rels)} if rels else {})


def _since(value: str) -> float | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).timestamp()
    except ValueError:
        return None


@router.add("GET", REPO + r"/issues", "github.issues_list")
def issues_list(sb, req: Req, m: dict) -> Resp:
    repo = _repo(m)
    if repo not in sb.state.repos:
        return gh_error(404, "Not Found", "https://docs.github.com/rest/issues/issues#list-repository-issues")
    a = req.args
    state, since = a.get("state", "open"), a.get("since")
    sort, direction = a.get("sort", "created"), a.get("direction", "desc")
    labels = tuple(x.strip() for x in a.get("labels", "").split(",") if x.strip())
    milestone, assignee = a.get("milestone"), a.get("assignee")
    if state not in ("open", "closed", "all") or sort not in ("created", "updated", "comments"):
        return gh_error(422, "Validation Failed", "https://docs.github.com/rest/issues/issues#list-repository-issues")
    key = (repo, state, since, sort, direction, labels, milestone, assignee, sb.state.version)
    numbers = sb.gh_cache.get(key)
    if numbers is None:
        since_ts = _since(since) if since else None
        ms_num = None
        if milestone not in (None, "*", "none"):
            ms_num = int(milestone) if milestone.isdigit() else -1
        logins = {p["github_login"]: n for n, p in enumerate(sb.state.people)}
        picked = []
        for i in sb.state.gh_issues[repo].values():
            if i.deleted or i.transferred_to or (state != "all" and i.state != state):
                continue
            if since_ts is not None and i.updated_at < since_ts:
                continue
            if labels and not all(x in i.labels for x in labels):
                continue
            if milestone == "*" and i.milestone is None or milestone == "none" and i.milestone is not None:
                continue
            if ms_num is not None and i.milestone != ms_num:
                continue
            if assignee and not (assignee == "*" and i.assignees or assignee == "none" and not i.assignees
                                 or logins.get(assignee) in i.assignees):
                continue
            picked.append(i)
        attr = {"created": "created_at", "updated": "updated_at"}.get(sort)
        picked.sort(key=(lambda i: (getattr(i, attr), i.number)) if attr else (lambda i: (len(i.comments), i.number)),
                    reverse=direction != "asc")
        numbers = [i.number for i in picked]
        if len(sb.gh_cache) > 64:
            sb.gh_cache.clear()
        sb.gh_cache[key] = numbers
    chunk, headers = _page(req, numbers)
    issues = sb.state.gh_issues[repo]
    return json_resp([issue_obj(sb, issues[n], req.base) for n in chunk], headers=headers)


def _lookup(sb, req: Req, repo: str, number: int):
    """(issue, error response) following GitHub's 404 / 301 transferred / 410 deleted answers."""
    i = sb.state.gh_issues.get(repo, {}).get(number)
    if i is None:
        return None, not_found()
    if i.deleted:
        return None, gh_error(410, "This issue was deleted", "https://docs.github.com/rest/issues/issues#get-an-issue")
    if i.transferred_to:
        new_repo, new_num = i.transferred_to
        loc = f"{req.base}/repositories/{sb.state.repos[new_repo]['id']}/issues/{new_num}"
        return None, json_resp({"message": "Moved Permanently", "url": loc,
                                "documentation_url": "https://docs.github.com/v3/#http-redirects"}, 301,
                               headers={"Location": loc})
    return i, None


@router.add("GET", REPO + r"/issues/(?P<n>\d+)", "github.issue_get")
def issue_get(sb, req: Req, m: dict) -> Resp:
    i, e = _lookup(sb, req, _repo(m), int(m["n"]))
    return e or json_resp(issue_obj(sb, i, req.base))


@router.add("GET", r"/repositories/(?P<rid>\d+)/issues/(?P<n>\d+)", "github.issue_get_by_repo_id")
def issue_by_repo_id(sb, req: Req, m: dict) -> Resp:
    repo = next((r for r, v in sb.state.repos.items() if v["id"] == int(m["rid"])), None)
    if repo is None:
        return not_found()
    i, e = _lookup(sb, req, repo, int(m["n"]))
    return e or json_resp(issue_obj(sb, i, req.base))


@router.add("POST", REPO + r"/issues/(?P<n>\d+)/labels", "github.labels_add")
def labels_add(sb, req: Req, m: dict) -> Resp:
    i, e = _lookup(sb, req, _repo(m), int(m["n"]))
    if e:
        return e
    # GitHub accepts {"labels": [...]}, a bare array of names, or [{"name": ...}] (PyGithub sends an array).
    try:
        body = json.loads(req.raw.get_data() or b"{}")
    except ValueError:
        body = {}
    new = body.get("labels", []) if isinstance(body, dict) else body if isinstance(body, list) else []
    names = [x if isinstance(x, str) else x.get("name", "") for x in new]
    if not names:
        return gh_error(422, "Invalid request.\n\nNo subschema in \"anyOf\" matched.",
                        "https://docs.github.com/rest/issues/labels#add-labels-to-an-issue")
    sb.update_github_issue(i.repo, i.number, labels=list(dict.fromkeys(i.labels + names)))
    return json_resp([label_obj(sb, i.repo, n, req.base) for n in i.labels])


@router.add("DELETE", REPO + r"/issues/(?P<n>\d+)/labels/(?P<name>.+)", "github.label_remove")
def label_remove(sb, req: Req, m: dict) -> Resp:
    i, e = _lookup(sb, req, _repo(m), int(m["n"]))
    if e:
        return e
    name = m["name"]
    if name not in i.labels:
        return gh_error(404, "Label does not exist",
                        "https://docs.github.com/rest/issues/labels#remove-a-label-from-an-issue")
    sb.update_github_issue(i.repo, i.number, labels=[x for x in i.labels if x != name])
    return json_resp([label_obj(sb, i.repo, n, req.base) for n in i.labels])


@router.add("GET", REPO + r"/issues/(?P<n>\d+)/comments", "github.comments")
def comments(sb, req: Req, m: dict) -> Resp:
    i, e = _lookup(sb, req, _repo(m), int(m["n"]))
    if e:
        return e
    chunk, headers = _page(req, i.comments)
    return json_resp([comment_obj(sb, i, c, req.base) for c in chunk], headers=headers)


@router.add("POST", REPO + r"/issues/(?P<n>\d+)/comments", "github.comment_add")
def comment_add(sb, req: Req, m: dict) -> Resp:
    i, e = _lookup(sb, req, _repo(m), int(m["n"]))
    if e:
        return e
    body = req.json().get("body")
    if not isinstance(body, str):
        return gh_error(422, "Invalid request.\n\n\"body\" wasn't supplied.")
    c = sb.add_github_comment(i.repo, i.number, body)
    return json_resp(comment_obj(sb, i, c, req.base), 201,
                     headers={"Location": f"{req.base}/repos/{i.repo}/issues/comments/{c['id']}"})


@router.add("PATCH", REPO + r"/issues/comments/(?P<cid>\d+)", "github.comment_edit")
def comment_edit(sb, req: Req, m: dict) -> Resp:
    cid = int(m["cid"])
    for i in sb.state.gh_issues.get(_repo(m), {}).values():
        for c in i.comments:
            if c["id"] == cid:
                with sb.state.lock:
                    c["body"], c["updated"] = str(req.json().get("body", c["body"])), sb.clock.ts()
                    sb.state.bump()
                return json_resp(comment_obj(sb, i, c, req.base))
    return not_found()


@router.add("GET", REPO + r"/milestones", "github.milestones")
def milestones(sb, req: Req, m: dict) -> Resp:
    repo = _repo(m)
    if repo not in sb.state.repos:
        return not_found()
    state = req.args.get("state", "open")
    sort, direction = req.args.get("sort", "due_on"), req.args.get("direction", "asc")
    ms = [x for x in sb.state.repos[repo]["milestones"].values() if state == "all" or x["state"] == state]
    if sort == "completeness":
        counts = sb.milestone_counts()

        def sort_key(x):
            o, c = counts.get((repo, x["number"]), (0, 0))
            return c / ((o + c) or 1)
    else:
        def sort_key(x):
            return x["due_on"] or float("inf")
    ms.sort(key=sort_key, reverse=direction == "desc")
    chunk, headers = _page(req, ms)
    return json_resp([milestone_obj(sb, repo, x["number"], req.base) for x in chunk], headers=headers)


@router.add("GET", REPO + r"/milestones/(?P<n>\d+)", "github.milestone_get")
def milestone_get(sb, req: Req, m: dict) -> Resp:
    repo = _repo(m)
    if int(m["n"]) not in sb.state.repos.get(repo, {}).get("milestones", {}):
        return not_found()
    return json_resp(milestone_obj(sb, repo, int(m["n"]), req.base))


@router.add("GET", REPO, "github.repo")
def repo_get(sb, req: Req, m: dict) -> Resp:
    if _repo(m) not in sb.state.repos:
        return not_found()
    return json_resp(repo_obj(sb, _repo(m), req.base))


@router.add("GET", r"/user", "github.user")
def user(sb, req: Req, m: dict) -> Resp:
    return json_resp(user_obj(sb, 0, req.base) | {"type": "Bot", "name": "plansync bot"})


@router.add("GET", r"/rate_limit", "github.rate_limit")
def rate_limit(sb, req: Req, m: dict) -> Resp:
    core = sb.gh_budget(req.raw.headers.get("Authorization", ""))
    search = {"limit": 30, "remaining": 30, "reset": core["reset"], "used": 0, "resource": "search"}
    graphql = {"limit": 5000, "remaining": 5000, "reset": core["reset"], "used": 0, "resource": "graphql"}
    return json_resp({"resources": {"core": core, "search": search, "graphql": graphql}, "rate": core})


def etag(body: bytes) -> str:
    return 'W/"' + hashlib.sha256(body).hexdigest() + '"'
