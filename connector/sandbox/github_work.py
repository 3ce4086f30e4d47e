"""GitHub endpoints a person works with: create and edit issues and labels, the user and organisation,
pulls, issue events and issue search; enough for PyGithub's ordinary calls to work unmodified.
"""

from __future__ import annotations

import shlex

from . import wire
from .github_api import REPO, _lookup, _page, _repo, gh_error, not_found, router
from .github_render import issue_obj, label_obj, repo_obj, user_obj
from .state import gh_time, node_id
from .wire import BadRequest, Req, Resp, json_resp

ORG_ID = 4242


def _invalid(field: str, doc: str = "") -> BadRequest:
    return BadRequest(f"Invalid request.\n\nInvalid property /{field}.", 422)


@router.add("GET", r"/user", "github.user")
def me(sb, req: Req, m: dict) -> Resp:
    return json_resp(public_user(sb, 0, req.base) | {
        # user_view_type is the description's discriminator: the token's own user is the private view
        "type": "Bot", "name": "plansync bot", "user_view_type": "private", "private_gists": 0, "total_private_repos": 0,
        "owned_private_repos": 0, "disk_usage": 0, "collaborators": 0, "two_factor_authentication": True,
        "plan": {"name": "free", "space": 976562499, "private_repos": 10000, "collaborators": 0}})


def public_user(sb, idx: int, base: str) -> dict:
    p = sb.state.people[idx]
    created = gh_time(sb.clock.ts() - 3 * 365 * 86400)
    return user_obj(sb, idx, base) | {
        "name": p["display_name"], "company": "Acme", "blog": "", "location": None, "email": None,
        "hireable": None, "bio": None, "twitter_username": None, "public_repos": 0, "public_gists": 0,
        "followers": 0, "following": 0, "created_at": created, "updated_at": created}


@router.add("GET", r"/users/(?P<login>[^/]+)", "github.user_get")
def user_get(sb, req: Req, m: dict) -> Resp:
    idx = next((n for n, p in enumerate(sb.state.people) if p["github_login"] == m["login"]), None)
    return not_found() if idx is None else json_resp(public_user(sb, idx, req.base))


def _org(sb, login: str) -> bool:
    return any(full.split("/")[0] == login for full in sb.state.repos)


@router.add("GET", r"/orgs/(?P<org>[^/]+)", "github.org")
def org_get(sb, req: Req, m: dict) -> Resp:
    if not _org(sb, m["org"]):
        return not_found()
    u, login = f"{req.base}/orgs/{m['org']}", m["org"]
    created = gh_time(sb.clock.ts() - 5 * 365 * 86400)
    return json_resp({
        "login": login, "id": ORG_ID, "node_id": node_id("Organization", ORG_ID), "url": u,
        "repos_url": f"{u}/repos", "events_url": f"{u}/events", "hooks_url": f"{u}/hooks", "issues_url": f"{u}/issues",
        "members_url": f"{u}/members{{/member}}", "public_members_url": f"{u}/public_members{{/member}}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{ORG_ID}?v=4", "description": "Acme Corp",
        "name": "Acme", "company": "Acme", "blog": "", "location": "Remote", "email": "dev@acme.example",
        "twitter_username": None,
        "is_verified": False, "html_url": f"https://github.com/{login}", "has_organization_projects": True,
        "has_repository_projects": True, "public_repos": 0, "public_gists": 0, "followers": 0, "following": 0,
        "type": "Organization", "created_at": created, "updated_at": created, "archived_at": None,
        "total_private_repos": len(sb.state.repos), "owned_private_repos": len(sb.state.repos)})


@router.add("GET", r"/orgs/(?P<org>[^/]+)/repos", "github.org_repos")
def org_repos(sb, req: Req, m: dict) -> Resp:
    if not _org(sb, m["org"]):
        return not_found()
    chunk, headers = _page(req, sorted(r for r in sb.state.repos if r.split("/")[0] == m["org"]))
    return json_resp([repo_obj(sb, r, req.base) for r in chunk], headers=headers)


@router.add("GET", REPO + r"/labels/(?P<name>.+)", "github.label_get")
def label_get(sb, req: Req, m: dict) -> Resp:
    repo = _repo(m)
    if m["name"] not in sb.state.repos.get(repo, {}).get("labels", {}):
        return gh_error(404, "Not Found", "https://docs.github.com/rest/issues/labels#get-a-label")
    return json_resp(label_obj(sb, repo, m["name"], req.base))


def _label_fields(body: dict, creating: bool) -> dict:
    out = {}
    for key in ("name", "new_name", "color", "description"):
        if key in body:
            if not isinstance(body[key], str) and not (key == "description" and body[key] is None):
                raise _invalid(key, "labels")
            out[key] = body[key]
    if creating and not out.get("name"):
        raise BadRequest("Invalid request.\n\n\"name\" wasn't supplied.", 422)
    if "color" in out and not (len(out["color"].lstrip("#")) == 6 and all(
            c in "0123456789abcdefABCDEF" for c in out["color"].lstrip("#"))):
        raise _invalid("color", "labels")
    return out


@router.add("POST", REPO + r"/labels", "github.label_create")
def label_create(sb, req: Req, m: dict) -> Resp:
    repo = _repo(m)
    if repo not in sb.state.repos:
        return not_found()
    f = _label_fields(req.body(), creating=True)
    labels = sb.state.repos[repo]["labels"]
    if f["name"] in labels:
        return json_resp({"message": "Validation Failed", "errors": [{"resource": "Label", "code": "already_exists",
                                                                       "field": "name"}],
                          "documentation_url": "https://docs.github.com/rest/issues/labels#create-a-label",
                          "status": "422"}, 422)
    labels[f["name"]] = {"id": 8_100_000 + len(labels), "color": f.get("color", "ededed").lstrip("#"),
                         "default": False, "description": f.get("description")}
    sb.state.bump()
    return json_resp(label_obj(sb, repo, f["name"], req.base), 201)


@router.add("PATCH", REPO + r"/labels/(?P<name>.+)", "github.label_edit")
def label_edit(sb, req: Req, m: dict) -> Resp:
    repo, name = _repo(m), m["name"]
    labels = sb.state.repos.get(repo, {}).get("labels", {})
    if name not in labels:
        return not_found()
    f = _label_fields(req.body(), creating=False)
    lab = labels[name]
    lab.update({k: (v.lstrip("#") if k == "color" else v) for k, v in f.items() if k in ("color", "description")})
    new = f.get("new_name") or f.get("name") or name
    if new != name:
        labels[new] = labels.pop(name)
        for i in sb.state.gh_issues[repo].values():
            i.labels = [new if x == name else x for x in i.labels]
    wire._MEMO.clear()  # rendered labels (and issues carrying them) changed
    sb.state.bump()
    return json_resp(label_obj(sb, repo, new, req.base))


@router.add("DELETE", REPO + r"/labels/(?P<name>.+)", "github.label_delete")
def label_delete(sb, req: Req, m: dict) -> Resp:
    repo, name = _repo(m), m["name"]
    labels = sb.state.repos.get(repo, {}).get("labels", {})
    if name not in labels:
        return not_found()
    del labels[name]
    for i in sb.state.gh_issues[repo].values():
        if name in i.labels:
            i.labels = [x for x in i.labels if x != name]
    wire._MEMO.clear()
    sb.state.bump()
    return Resp(204)


def _milestone(sb, repo: str, value):
    if value is None:
        return None
    if isinstance(value, int) and value in sb.state.repos[repo]["milestones"]:
        return value
    raise _invalid("milestone", "issues")


def _issue_fields(sb, repo: str, body: dict) -> dict:
    out: dict = {}
    if "title" in body:
        if not isinstance(body["title"], str | int) or not str(body["title"]).strip():
            raise _invalid("title", "issues")
        out["title"] = str(body["title"])
    if "body" in body and not isinstance(body["body"], str | None):
        raise _invalid("body", "issues")
    if "labels" in body:
        names = _label_names_of(body["labels"])
        out["labels"] = names
    if "milestone" in body:
        out["milestone"] = _milestone(sb, repo, body["milestone"])
    if "assignees" in body:
        logins = {p["github_login"]: n for n, p in enumerate(sb.state.people)}
        if not isinstance(body["assignees"], list) or any(a not in logins for a in body["assignees"]):
            raise _invalid("assignees", "issues")
        out["assignees"] = [logins[a] for a in body["assignees"]]
    if "state" in body:
        if body["state"] not in ("open", "closed"):
            raise _invalid("state", "issues")
        out["state"] = body["state"]
    if "state_reason" in body:
        if body["state_reason"] not in ("completed", "not_planned", "duplicate", "reopened", None):
            raise _invalid("state_reason", "issues")
        out["state_reason"] = body["state_reason"]
    return out


def _label_names_of(value) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(x, str) or isinstance(x, dict) and isinstance(
            x.get("name"), str) for x in value):
        raise _invalid("labels", "issues")
    return [x if isinstance(x, str) else x["name"] for x in value]


@router.add("POST", REPO + r"/issues", "github.issue_create")
def issue_create(sb, req: Req, m: dict) -> Resp:
    repo = _repo(m)
    if repo not in sb.state.repos:
        return not_found()
    body = req.body()
    f = _issue_fields(sb, repo, body)
    if "title" not in f:
        raise BadRequest("Invalid request.\n\n\"title\" wasn't supplied.", 422)
    i = sb.create_github_issue(repo, f.pop("title"), body=body.get("body") or "", labels=f.pop("labels", ()),
                               milestone=f.pop("milestone", None))
    if f:
        sb.update_github_issue(repo, i.number, **f)
    return json_resp(issue_obj(sb, i, req.base), 201,
                     headers={"Location": f"{req.base}/repos/{repo}/issues/{i.number}"})


@router.add("PATCH", REPO + r"/issues/(?P<n>\d+)", "github.issue_edit")
def issue_edit(sb, req: Req, m: dict) -> Resp:
    i, e = _lookup(sb, req, _repo(m), int(m["n"]))
    if e:
        return e
    body = req.body()
    f = _issue_fields(sb, i.repo, body)
    if "body" in body:
        i.body = body["body"] or ""
    if "milestone" not in f:
        f["milestone"] = ...
    sb.update_github_issue(i.repo, i.number, **f)
    return json_resp(issue_obj(sb, i, req.base))


@router.add("GET", REPO + r"/pulls", "github.pulls")
def pulls(sb, req: Req, m: dict) -> Resp:
    repo = _repo(m)
    if repo not in sb.state.repos:
        return not_found()
    state = req.args.get("state", "open")
    if state not in ("open", "closed", "all"):
        raise BadRequest("Validation Failed", 422)
    picked = sorted((i for i in sb.state.gh_issues[repo].values() if i.is_pr and not i.deleted
                     and (state == "all" or i.state == state)), key=lambda i: -i.created_at)
    chunk, headers = _page(req, picked)
    return json_resp([pull_obj(sb, i, req.base) for i in chunk], headers=headers)


def pull_obj(sb, i, base: str) -> dict:
    issue = issue_obj(sb, i, base)
    url = f"{base}/repos/{i.repo}/pulls/{i.number}"
    repo = repo_obj(sb, i.repo, base)

    def ref(name, sha):
        return {"label": f"{i.repo.split('/')[0]}:{name}", "ref": name, "sha": sha, "user": repo["owner"],
                "repo": repo}
    links = {k: {"href": v} for k, v in {
        "self": url, "html": issue["pull_request"]["html_url"], "issue": issue["url"],
        "comments": issue["comments_url"], "review_comments": f"{url}/comments",
        "review_comment": f"{base}/repos/{i.repo}/pulls/comments{{/number}}", "commits": f"{url}/commits",
        "statuses": f"{base}/repos/{i.repo}/statuses/{'0' * 40}"}.items()}
    merged = issue["pull_request"]["merged_at"]
    return {"url": url, "id": i.id, "node_id": issue["node_id"], "html_url": issue["pull_request"]["html_url"],
            "diff_url": issue["pull_request"]["diff_url"], "patch_url": issue["pull_request"]["patch_url"],
            "issue_url": issue["url"], "commits_url": f"{url}/commits", "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{base}/repos/{i.repo}/pulls/comments{{/number}}",
            "comments_url": issue["comments_url"], "statuses_url": links["statuses"]["href"], "number": i.number,
            "state": i.state, "locked": i.locked, "title": i.title, "user": issue["user"], "body": i.body,
            # the pull-request-simple label has a non-nullable description
            "labels": [lab | {"description": lab["description"] or ""} for lab in issue["labels"]],
            "milestone": issue["milestone"], "active_lock_reason": None,
            "created_at": issue["created_at"], "updated_at": issue["updated_at"], "closed_at": issue["closed_at"],
            "merged_at": merged, "merge_commit_sha": ("f" * 40) if merged else None, "assignee": issue["assignee"],
            "assignees": issue["assignees"], "requested_reviewers": [], "requested_teams": [],
            "head": ref(f"feature-{i.number}", "a" * 40), "base": ref("main", "b" * 40), "_links": links,
            "author_association": "MEMBER", "auto_merge": None, "draft": False}


@router.add("GET", REPO + r"/issues/(?P<n>\d+)/events", "github.issue_events")
def issue_events(sb, req: Req, m: dict) -> Resp:
    i, e = _lookup(sb, req, _repo(m), int(m["n"]))
    if e:
        return e
    actor = user_obj(sb, i.user, req.base)
    out = []

    def event(kind, ts, **extra):
        eid = i.id * 100 + len(out)
        out.append({"id": eid, "node_id": node_id("LabeledEvent" if kind == "labeled" else "ClosedEvent", eid),
                    "url": f"{req.base}/repos/{i.repo}/issues/events/{eid}", "actor": actor, "event": kind,
                    "commit_id": None, "commit_url": None, "created_at": gh_time(ts),
                    "performed_via_github_app": None, **extra})
    for name in i.labels:
        lab = label_obj(sb, i.repo, name, req.base)
        event("labeled", i.created_at, label={"name": name, "color": lab["color"]})
    if i.closed_at:
        event("closed", i.closed_at, state_reason=i.state_reason)
    chunk, headers = _page(req, out)
    return json_resp(chunk, headers=headers)


def _search_terms(q: str) -> tuple[dict, list[str]]:
    try:
        parts = shlex.split(q)
    except ValueError:
        raise BadRequest("Validation Failed", 422) from None
    quals: dict = {}
    words = []
    for part in parts:
        key, sep, value = part.partition(":")
        if sep and key in ("repo", "is", "state", "label", "milestone", "org", "user", "type", "in"):
            quals.setdefault(key, []).append(value)
        else:
            words.append(part.lower())
    return quals, words


@router.add("GET", r"/search/issues", "github.search_issues")
def search_issues(sb, req: Req, m: dict) -> Resp:
    q = req.args.get("q", "")
    if not q.strip():
        return json_resp({"message": "Validation Failed", "errors": [{"resource": "Search", "field": "q",
                                                                       "code": "missing"}],
                          "documentation_url": "https://docs.github.com/v3/search", "status": "422"}, 422)
    quals, words = _search_terms(q)
    repos = quals.get("repo") or [r for r in sb.state.repos
                                  if not quals.get("org") and not quals.get("user")
                                  or r.split("/")[0] in quals.get("org", []) + quals.get("user", [])]
    flags = set(quals.get("is", []) + quals.get("type", []) + [f"state-{s}" for s in quals.get("state", [])])
    hits = []
    for repo in repos:
        for i in sb.state.gh_issues.get(repo, {}).values():
            if i.deleted or i.transferred_to:
                continue
            if ({"pr", "pull-request"} & flags and not i.is_pr) or ("issue" in flags and i.is_pr):
                continue
            if ({"open", "state-open"} & flags and i.state != "open") or \
                    ({"closed", "state-closed"} & flags and i.state != "closed"):
                continue
            if any(lab not in i.labels for lab in quals.get("label", [])):
                continue
            text = f"{i.title}\n{i.body}".lower()
            if all(w in text for w in words):
                hits.append(i)
    hits.sort(key=lambda i: -i.created_at)
    chunk, headers = _page(req, hits)
    items = [issue_obj(sb, i, req.base) | {"score": 1.0} for i in chunk]
    return json_resp({"total_count": len(hits), "incomplete_results": False, "items": items,
                      "search_type": "lexical"}, headers=headers)

