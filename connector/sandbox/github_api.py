"""GitHub REST endpoints of the sandbox (/github, like a GHE .../api/v3 base).

Link-header pagination, weak ETags with 304s that spend no budget, per-token primary rate limit.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

from .github_render import comment_obj, issue_obj, label_obj, milestone_obj, repo_obj
from .wire import BadRequest, Req, Resp, Router, json_resp

router = Router()
REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
DOCS = "https://docs.github.com/rest"


def gh_error(status: int, message: str, doc: str = DOCS) -> Resp:
    return json_resp({"message": message, "documentation_url": doc, "status": str(status)}, status)


def not_found() -> Resp:
    return gh_error(404, "Not Found", "https://docs.github.com/rest/issues/issues#get-an-issue")


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


def _label_names(req: Req) -> list[str] | None:
    """GitHub accepts {"labels": [...]}, a bare array of names, or [{"name": ...}] (PyGithub sends an array)."""
    try:
        body = json.loads(req.raw.get_data() or b"{}")
    except ValueError:
        raise BadRequest("Problems parsing JSON") from None
    new = body.get("labels", []) if isinstance(body, dict) else body if isinstance(body, list) else None
    if not isinstance(new, list) or not all(isinstance(x, str) or isinstance(x, dict) and isinstance(
            x.get("name"), str) for x in new):
        return None
    return [x if isinstance(x, str) else x["name"] for x in new]


@router.add("POST", REPO + r"/issues/(?P<n>\d+)/labels", "github.labels_add")
def labels_add(sb, req: Req, m: dict) -> Resp:
    i, e = _lookup(sb, req, _repo(m), int(m["n"]))
    if e:
        return e
    names = _label_names(req)
    if not names:  # None (bad body) or empty
        return gh_error(422, "Invalid request.\n\nNo subschema in \"anyOf\" matched.",
                        "https://docs.github.com/rest/issues/labels#add-labels-to-an-issue")
    sb.update_github_issue(i.repo, i.number, labels=list(dict.fromkeys(i.labels + names)))
    return json_resp([label_obj(sb, i.repo, n, req.base) for n in i.labels])


@router.add("PUT", REPO + r"/issues/(?P<n>\d+)/labels", "github.labels_set")
def labels_set(sb, req: Req, m: dict) -> Resp:
    i, e = _lookup(sb, req, _repo(m), int(m["n"]))
    if e:
        return e
    names = _label_names(req)
    if names is None:
        return gh_error(422, "Invalid request.", "https://docs.github.com/rest/issues/labels#set-labels-for-an-issue")
    sb.update_github_issue(i.repo, i.number, labels=list(dict.fromkeys(names)))
    return json_resp([label_obj(sb, i.repo, n, req.base) for n in i.labels])


@router.add("GET", REPO + r"/labels", "github.repo_labels")
def repo_labels(sb, req: Req, m: dict) -> Resp:
    repo = _repo(m)
    if repo not in sb.state.repos:
        return not_found()
    chunk, headers = _page(req, sorted(sb.state.repos[repo]["labels"]))
    return json_resp([label_obj(sb, repo, n, req.base) for n in chunk], headers=headers)


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


@router.add("GET", r"/rate_limit", "github.rate_limit")
def rate_limit(sb, req: Req, m: dict) -> Resp:
    core = sb.gh_budget(req.raw.headers.get("Authorization", ""))
    search = {"limit": 30, "remaining": 30, "reset": core["reset"], "used": 0, "resource": "search"}
    from .github_graphql import points  # GraphQL's own points budget, as the /graphql answers spend it

    spent = points(sb, req.raw.headers.get("Authorization", "").partition(" ")[2])
    graphql = {k: spent[k] for k in ("limit", "remaining", "reset", "used")} | {"resource": "graphql"}
    return json_resp({"resources": {"core": core, "search": search, "graphql": graphql}, "rate": core})


def etag(body: bytes) -> str:
    return 'W/"' + hashlib.sha256(body).hexdigest() + '"'
